"""The stored explanation of a sourcing run (pure): the engine's, with SKU codes, every line of the order and,
for a re-allocation, the parts that did not move. This JSON document is what ``GET …/allocation`` shows and
what ``order.allocation_changed`` summarises."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from oms_api.allocation.domain.model import LineToSource, Plan


def _distance(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def document(
    plan: Plan,
    lines: Sequence[LineToSource],
    unchanged: Mapping[int, list[dict[str, Any]]] | None = None,
    prefix: str | None = None,
) -> dict[str, Any]:
    """The stored (JSON) explanation: the engine's with SKU codes, every line of the order and, for a
    re-allocation, the parts that did not move (rule ``unchanged``)."""
    explanation = plan.explanation
    assert explanation is not None
    sourced: dict[int, list[dict[str, Any]]] = {}
    for line in explanation.lines:
        sourced[line.line_no] = [
            {
                "warehouse": p.code,
                "warehouse_id": str(p.warehouse_id),
                "quantity": p.quantity,
                "distance_km": _distance(p.distance_km),
                "rule": p.rule,
            }
            for p in line.parts
        ]
    out_lines: list[dict[str, Any]] = [
        {
            "line_no": line.line_no,
            "sku": line.sku,
            "quantity": line.quantity,
            "allocations": [*(unchanged or {}).get(line.line_no, []), *sourced.get(line.line_no, [])],
        }
        for line in sorted(lines, key=lambda item: item.line_no)
    ]
    shipments = len({p["warehouse_id"] for line in out_lines for p in line["allocations"]})
    dest = explanation.destination
    return {
        "strategy": explanation.strategy,
        "rules": list(explanation.rules),
        "decision": explanation.decision,
        "summary": f"{prefix}; {explanation.summary.replace(' every line', ' them', 1)}"
        if prefix
        else explanation.summary,
        "shipments": shipments,
        "destination": {
            "country": dest.country,
            "latitude": dest.latitude,
            "longitude": dest.longitude,
            "precision": dest.precision,
            "place": dest.place,
        },
        "lines": out_lines,
        "warehouses": [
            {
                "warehouse": v.code,
                "warehouse_id": str(v.warehouse_id),
                "status": v.status,
                "reason": v.reason,
                "detail": v.detail,
                "priority": v.priority,
                "distance_km": _distance(v.distance_km),
            }
            for v in explanation.warehouses
        ],
        "notes": list(explanation.notes),
    }


def unchanged_parts(
    previous: Mapping[str, Any] | None,
    left: Mapping[tuple[int, uuid.UUID], int],
    codes: Mapping[uuid.UUID, str],
) -> dict[int, list[dict[str, Any]]]:
    """The parts a re-allocation leaves in place, with the distance the plan before them knew."""
    distances: dict[tuple[int, str], float | None] = {}
    before: list[dict[str, Any]] = list((previous or {}).get("lines") or [])
    for line in before:
        for part in line.get("allocations", []):
            distances[(line["line_no"], part["warehouse_id"])] = part.get("distance_km")
    parts: dict[int, list[dict[str, Any]]] = {}
    for (line_no, wid), quantity in sorted(left.items(), key=lambda item: (item[0][0], codes.get(item[0][1], ""))):
        if quantity > 0:
            parts.setdefault(line_no, []).append(
                {
                    "warehouse": codes.get(wid, str(wid)),
                    "warehouse_id": str(wid),
                    "quantity": quantity,
                    "distance_km": distances.get((line_no, str(wid))),
                    "rule": "unchanged",
                }
            )
    return parts


def reallocation_prefix(plan: Plan, reason: str | None) -> str | None:
    """What a re-allocation's summary says first: how many units moved away from which warehouses, and why."""
    if plan.explanation is None:
        return None
    away = ", ".join(v.code for v in plan.explanation.warehouses if v.reason == "excluded")
    moved = sum(a.quantity for a in plan.allocations)
    return f"{moved} unit(s) moved away from {away}" + (f" ({reason})" if reason else "")
