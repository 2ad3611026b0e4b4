"""The sourcing engine: one order's plan under the rules of the package docstring, with its explanation.

One algorithm in one class (``_Run``): the search (eligible warehouses, fewest shipments, ranking) and the
explanation it gives of every warehouse are read together, so the file stays whole at about 450 lines.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence

from oms_api.allocation.domain.model import (
    RULES,
    Allocation,
    Destination,
    Explanation,
    Holding,
    LineExplanation,
    LineRequest,
    Part,
    Plan,
    Policy,
    Shortage,
    Site,
    Strategy,
    Verdict,
    great_circle,
    trig_of,
)

Stock = dict[int, dict[int, int]]
"""Sourceable units by SKU, then by warehouse, keyed by ``UUID.int`` (the engine's working picture)."""

_FAR = math.inf


def stock_of(holdings: Iterable[Holding]) -> Stock:
    """The working picture of some holdings (safety stock already taken off)."""
    stock: Stock = {}
    for h in holdings:
        per = stock.setdefault(h.sku_id.int, {})
        wid = h.warehouse_id.int
        per[wid] = per.get(wid, 0) + max(h.available - max(h.safety_stock, 0), 0)  # = h.sourceable, inlined
    return stock


def source(
    lines: Sequence[LineRequest],
    sites: Iterable[Site],
    holdings: Iterable[Holding],
    destination: Destination | None = None,
    policy: Policy | None = None,
    *,
    labels: Mapping[uuid.UUID, str] | None = None,
    explain: bool = True,
) -> Plan:
    """Source one order. ``labels`` (SKU codes by id) only make the explanation read better."""
    return _Run(lines, {s.key: s for s in sites}, stock_of(holdings), destination, policy, labels).plan(explain)


_COMPONENTS: dict[Strategy, tuple[str, ...]] = {
    Strategy.NEAREST: ("kept", "distance", "priority", "code"),
    Strategy.PRIORITY: ("kept", "priority", "distance", "code"),
    Strategy.NEAREST_PER_LINE: ("kept", "distance", "priority", "code"),
}
"""What a warehouse's rank is made of, most significant first (``kept``: already ships part of the order)."""

Rules = dict[tuple[int, int], str]

MAX_LISTED = 5
"""Eligible warehouses an explanation details beyond the chosen ones (rejected ones are always listed)."""


class _Run:
    """One sourcing run over a stock picture that it reads but never changes."""

    def __init__(
        self,
        lines: Sequence[LineRequest],
        sites: Mapping[int, Site],
        stock: Stock,
        destination: Destination | None,
        policy: Policy | None,
        labels: Mapping[uuid.UUID, str] | None,
        known_distances: dict[int, float | None] | None = None,
    ) -> None:
        self.lines = lines
        self.known_distances = {} if known_distances is None else known_distances
        """Distances (km) from this destination by warehouse, shared by the orders of a batch going there."""
        self.sites = sites
        self.stock = stock
        self.destination = destination or Destination()
        self.policy = policy or Policy()
        self.labels = labels or {}
        self.kept = {w.int for w in self.policy.kept}
        self.excluded = {w.int for w in self.policy.excluded}
        self.pickup = self.policy.pickup.int if self.policy.pickup is not None else None
        self.sku_ids: dict[int, uuid.UUID] = {}
        self.wanted: dict[int, int] = {}
        for line in lines:
            sku = line.sku_id.int
            self.sku_ids[sku] = line.sku_id
            self.wanted[sku] = self.wanted.get(sku, 0) + line.quantity
        self.per = {sku: stock.get(sku) or {} for sku in self.wanted}
        """The stock of each wanted SKU by warehouse (the same dicts as ``stock``)."""
        self.components = _COMPONENTS[self.policy.strategy]
        self.rejected: dict[int, tuple[str, str]] = {}
        self.distance: dict[int, float | None] = {}
        self.rank: dict[int, tuple[int | float | str, ...]] = {}
        self.holders = self._holders()
        self.eligible = self._eligible()

    # -- hard constraints and ranking ------------------------------------------------------------------------

    def _holders(self) -> list[Site]:
        """The known warehouses holding any SKU of the order."""
        ids: dict[int, None] = {}
        for sku_id in self.wanted:
            ids.update(dict.fromkeys(self.per[sku_id]))
        sites = self.sites
        return [sites[w] for w in ids if w in sites]

    def _eligible(self) -> list[Site]:
        dest, policy = self.destination, self.policy
        here = (
            trig_of(dest.latitude, dest.longitude) if dest.latitude is not None and dest.longitude is not None else None
        )
        eligible = []
        known = self.known_distances
        for site in self.holders:
            wid = site.key
            if wid in known:
                km = known[wid]
            else:
                km = None
                if here is not None and site.trig is not None:
                    km = round(great_circle(here, site.trig), 1)
                known[wid] = km
            self.distance[wid] = km
            if not site.active:
                self.rejected[wid] = ("inactive", "the warehouse is not active")
            elif self.pickup is not None and wid != self.pickup:
                self.rejected[wid] = ("not_pickup_warehouse", "the customer collects the order at another warehouse")
            elif wid in self.excluded:
                self.rejected[wid] = ("excluded", "excluded from this allocation (it cannot ship the part)")
            elif policy.allowed_warehouses and site.code not in policy.allowed_warehouses:
                self.rejected[wid] = ("not_allowed_by_channel", "the channel does not ship from this warehouse")
            elif (
                self.pickup is None
                and site.serves_countries
                and dest.country is not None  # a cart: where it will ship is not known yet
                and dest.country not in site.serves_countries
            ):
                self.rejected[wid] = ("does_not_serve_country", f"does not ship to {dest.country}")
            elif not any(self.per[sku].get(wid, 0) > 0 for sku in self.wanted):
                self.rejected[wid] = ("no_stock", "holds none of the order's SKUs above its safety stock")
            else:
                far = math.inf if km is None else float(round(km))
                kept = 0 if wid in self.kept else 1
                if policy.strategy is Strategy.PRIORITY:
                    self.rank[wid] = (kept, -site.priority, far, site.code)
                else:
                    self.rank[wid] = (kept, far, -site.priority, site.code)
                eligible.append(site)
        eligible.sort(key=lambda s: self.rank[s.key])
        return eligible

    def _left(self, sku_id: int, wid: int) -> int:
        return self.per[sku_id].get(wid, 0)

    # -- planning ----------------------------------------------------------------------------------------------

    def plan(self, explain: bool, note: str | None = None) -> Plan:
        notes = [note] if note else []
        shortages = self._shortages(self.eligible)
        if shortages:
            return self._refused(shortages, "out_of_stock", "not enough stock for every line", explain, notes)
        max_new = max(self.policy.max_warehouses - len(self.kept), 0)
        if self.policy.strategy is Strategy.NEAREST_PER_LINE:
            allocations, rules = self._nearest_per_line()
            if len({a.warehouse_id.int for a in allocations} - self.kept) <= max_new:
                return self._done(allocations, rules, "nearest_per_line", explain, notes)
            notes.append(
                f"the nearest warehouse per line would mean more than {self.policy.max_warehouses} shipments: "
                "fewest shipments instead"
            )
        chosen = self._choose(max_new)
        if chosen is None:
            gathered = self._greedy(max_new, partial=True) or []
            short = self._shortages(gathered) or tuple(Shortage(self.sku_ids[k], q, 0) for k, q in self.wanted.items())
            detail = f"no way to ship every line from at most {self.policy.max_warehouses} warehouse(s)"
            return self._refused(short, "split_limit", detail, explain, notes)
        allocations, rules = self._assign(chosen)
        decision = "single_warehouse" if len({a.warehouse_id.int for a in allocations}) == 1 else "split"
        return self._done(allocations, rules, decision, explain, notes)

    def _shortages(self, pool: Sequence[Site]) -> tuple[Shortage, ...]:
        found = []
        for sku_id, quantity in self.wanted.items():
            per = self.per[sku_id]
            total = sum(per.get(s.key, 0) for s in pool)
            if total < quantity:
                found.append(Shortage(self.sku_ids[sku_id], quantity, total))
        return tuple(found)

    def _residual(self, sites: Iterable[Site]) -> dict[int, int]:
        residual = dict(self.wanted)
        for site in sites:
            for sku_id in residual:
                residual[sku_id] -= self._left(sku_id, site.key)
        return {k: v for k, v in residual.items() if v > 0}

    def _covers(self, site: Site, residual: Mapping[int, int]) -> bool:
        wid = site.key
        per = self.per
        return all(per[sku].get(wid, 0) >= need for sku, need in residual.items())

    def _choose(self, max_new: int) -> list[Site] | None:
        """The fewest new warehouses that, with the kept ones, hold every unit; None past the limit."""
        kept = [s for s in self.eligible if s.key in self.kept]
        fresh = [s for s in self.eligible if s.key not in self.kept]
        residual = self._residual(kept)
        if not residual:
            return kept
        if max_new >= 1:
            single = next((s for s in fresh if self._covers(s, residual)), None)
            if single is not None:
                return [*kept, single]
        if max_new >= 2:
            pair = self._best_pair(fresh, residual)
            if pair is not None:
                return [*kept, *pair]
        if max_new >= 3:
            return self._greedy(max_new)
        return None

    def _best_pair(self, fresh: Sequence[Site], residual: Mapping[int, int]) -> list[Site] | None:
        """The feasible pair whose worse member ranks best, then whose better member does (exact).

        A pair can only work if between them they hold every missing SKU: a bit mask per warehouse rules
        out most pairs with one integer OR before any quantity is added up.
        """
        needs = list(residual.items())
        every = (1 << len(needs)) - 1
        holds = []
        masks = []
        for site in fresh:
            has = [self.per[sku].get(site.key, 0) for sku, _ in needs]
            holds.append(has)
            masks.append(sum(1 << k for k, units in enumerate(has) if units > 0))
        for j in range(1, len(fresh)):
            mask_j, has_j = masks[j], holds[j]
            for i in range(j):
                if masks[i] | mask_j != every:
                    continue
                has_i = holds[i]
                if all(has_i[k] + has_j[k] >= need for k, (_, need) in enumerate(needs)):
                    return [fresh[i], fresh[j]]
        return None

    def _greedy(self, max_new: int, *, partial: bool = False) -> list[Site] | None:
        """Add the warehouse covering the most missing units until none is missing (set-cover heuristic)."""
        chosen = [s for s in self.eligible if s.key in self.kept]
        fresh = [s for s in self.eligible if s.key not in self.kept]
        residual = self._residual(chosen)
        for _ in range(max_new):
            if not residual:
                break
            best, best_cover = None, 0
            for site in fresh:  # in rank order: a tie goes to the better-ranked warehouse
                cover = sum(min(self._left(sku, site.key), need) for sku, need in residual.items())
                if cover > best_cover:
                    best, best_cover = site, cover
            if best is None:
                break
            chosen.append(best)
            fresh.remove(best)
            residual = self._residual(chosen)
        if residual and not partial:
            return None
        return chosen

    def _assign(self, chosen: Sequence[Site]) -> tuple[list[Allocation], Rules]:
        """Each line whole from the best-ranked chosen warehouse that can, else split biggest holding first."""
        ordered = sorted(chosen, key=lambda s: self.rank[s.key])
        single = len(ordered) == 1
        taken: dict[tuple[int, int], int] = {}
        allocations: list[Allocation] = []
        rules: Rules = {}
        for line in self.lines:
            sku = line.sku_id.int
            left = {s.key: self._left(sku, s.key) - taken.get((sku, s.key), 0) for s in ordered}
            whole = next((s for s in ordered if left[s.key] >= line.quantity), None)
            parts: list[tuple[Site, int]] = []
            if whole is not None:
                parts.append((whole, line.quantity))
            else:
                need = line.quantity
                for s in sorted(ordered, key=lambda s: -left[s.key]):  # stable: rank breaks ties
                    take = min(need, left[s.key])
                    if take > 0:
                        parts.append((s, take))
                        need -= take
                    if need == 0:
                        break
            for site, qty in parts:
                wid = site.key
                taken[(sku, wid)] = taken.get((sku, wid), 0) + qty
                allocations.append(Allocation(line.line_no, line.sku_id, site.warehouse_id, qty))
                if single:
                    rules[(line.line_no, wid)] = "single_warehouse"
                elif wid in self.kept:
                    rules[(line.line_no, wid)] = "already_shipping"
                else:
                    rules[(line.line_no, wid)] = "split_line" if whole is None else "split_order"
        return allocations, rules

    def _nearest_per_line(self) -> tuple[list[Allocation], Rules]:
        """Each line whole from the best-ranked warehouse that can, else from the nearest holders in turn."""
        taken: dict[tuple[int, int], int] = {}
        allocations: list[Allocation] = []
        rules: Rules = {}
        for line in self.lines:
            sku = line.sku_id.int
            left = {s.key: self._left(sku, s.key) - taken.get((sku, s.key), 0) for s in self.eligible}
            whole = next((s for s in self.eligible if left[s.key] >= line.quantity), None)
            need = line.quantity
            for site in [whole] if whole is not None else self.eligible:
                take = min(need, left[site.key])
                if take <= 0:
                    continue
                wid = site.key
                taken[(sku, wid)] = taken.get((sku, wid), 0) + take
                need -= take
                allocations.append(Allocation(line.line_no, line.sku_id, site.warehouse_id, take))
                rules[(line.line_no, wid)] = "nearest_per_line"
                if need == 0:
                    break
        return allocations, rules

    # -- explanations ------------------------------------------------------------------------------------------

    def _label(self, sku: int) -> str:
        sku_id = self.sku_ids[sku]
        return self.labels.get(sku_id, str(sku_id))

    def _notes(self, extra: list[str]) -> tuple[str, ...]:
        notes = []
        if not self.destination.located:
            notes.append("the destination could not be located: warehouses are ranked by priority, not distance")
        elif any(self.distance.get(s.key) is None for s in self.eligible):
            notes.append("warehouses without coordinates rank after those with a known distance")
        if self.destination.precision == "country":
            notes.append(f"the destination is located only by its country's centre ({self.destination.country})")
        return tuple(notes + extra)

    def _verdict(self, site: Site, status: str, reason: str, detail: str) -> Verdict:
        wid = site.key
        return Verdict(site.warehouse_id, site.code, status, reason, detail, site.priority, self.distance.get(wid))

    def _explanation(
        self,
        decision: str,
        summary: str,
        shipments: int,
        lines: tuple[LineExplanation, ...],
        verdicts: list[Verdict],
        notes: list[str],
    ) -> Explanation:
        return Explanation(
            strategy=self.policy.strategy.value,
            rules=RULES[self.policy.strategy],
            destination=self.destination,
            decision=decision,
            summary=summary,
            shipments=shipments,
            lines=lines,
            warehouses=tuple(verdicts),
            notes=self._notes(notes),
        )

    def _refused(
        self, shortages: tuple[Shortage, ...], decision: str, detail: str, explain: bool, notes: list[str]
    ) -> Plan:
        if not explain:
            return Plan((), shortages)
        listing = ", ".join(f"{self._label(s.sku_id.int)} ({s.available} of {s.requested})" for s in shortages)
        verdicts, more = self._listed(set(), lambda site: self._verdict(site, "not_chosen", decision, detail))
        summary = f"not sourced: {detail}; short: {listing}"
        return Plan((), shortages, self._explanation(decision, summary, 0, (), verdicts, notes + more))

    def _done(
        self, allocations: list[Allocation], rules: Rules, decision: str, explain: bool, notes: list[str]
    ) -> Plan:
        if not explain:
            return Plan(tuple(allocations), ())
        used = list(dict.fromkeys(a.warehouse_id.int for a in allocations))
        by_line: dict[int, list[Part]] = {}
        for a in allocations:
            wid = a.warehouse_id.int
            part = Part(
                a.warehouse_id,
                self.sites[wid].code,
                a.quantity,
                self.distance.get(wid),
                rules[(a.line_no, wid)],
            )
            by_line.setdefault(a.line_no, []).append(part)
        lines = tuple(
            LineExplanation(line.line_no, line.sku_id, line.quantity, tuple(by_line.get(line.line_no, ())))
            for line in self.lines
        )
        codes = ", ".join(self.sites[w].code for w in used)
        if decision == "single_warehouse":
            chosen = self.sites[used[0]]
            summary = f"{chosen.code} ships every line: {self._why_single(chosen)}"
        elif decision == "nearest_per_line":
            summary = f"each line ships from the nearest warehouse holding it ({codes})"
        else:
            summary = (
                f"no single allowed warehouse holds every line: split across {len(used)} ({codes}), "
                f"the fewest that can, preferred by {self._ranking_word()}"
            )
        verdicts, more = self._verdicts(set(used), decision)
        explanation = self._explanation(decision, summary, len(used), lines, verdicts, notes + more)
        return Plan(tuple(allocations), (), explanation)

    def _ranking_word(self) -> str:
        if not self.destination.located:
            return "priority"
        return "priority, then distance" if self.policy.strategy is Strategy.PRIORITY else "distance, then priority"

    def _why_single(self, chosen: Site) -> str:
        if chosen.key in self.kept:
            return "it already ships part of the order"
        runner = next((s for s in self.eligible if s.key != chosen.key and self._covers(s, self.wanted)), None)
        if runner is None:
            return "the only allowed warehouse that holds every line"
        reason, _ = self._lost_to(runner, chosen)
        of = "of the warehouses that can ship the whole order"
        if reason == "farther":
            there = self.distance.get(runner.key)
            runner_at = "an unknown distance" if there is None else f"{there} km"
            return f"nearest ({self.distance.get(chosen.key)} km) {of}; next: {runner.code} at {runner_at}"
        if reason == "lower_priority":
            return f"highest priority ({chosen.priority}) {of}; next: {runner.code} with {runner.priority}"
        return f"first by code among equally ranked warehouses {of}"

    def _verdicts(self, used: set[int], decision: str) -> tuple[list[Verdict], list[str]]:
        single = decision == "single_warehouse"
        best = self.sites[next(iter(used))] if single else None

        def loser(site: Site) -> Verdict:
            wid = site.key
            if best is not None and not self._covers(site, self.wanted):
                missing = ", ".join(self._label(k) for k, q in self.wanted.items() if self._left(k, wid) < q)
                return self._verdict(site, "not_chosen", "cannot_ship_whole_order", f"short of {missing}")
            if best is not None:
                return self._verdict(site, "not_chosen", *self._lost_to(site, best))
            detail = "the chosen warehouses ship every unit in as few shipments, better ranked"
            return self._verdict(site, "not_chosen", "not_needed", detail)

        return self._listed(used, loser, decision)

    def _listed(
        self, used: set[int], loser: Callable[[Site], Verdict], decision: str = ""
    ) -> tuple[list[Verdict], list[str]]:
        """Chosen warehouses, then the best-ranked others (at most ``MAX_LISTED``), then every rejected one."""
        chosen = [
            self._verdict(s, "chosen", decision, "ships its lines of this order")
            for s in self.eligible
            if s.key in used
        ]
        others = [s for s in self.eligible if s.key not in used]
        listed = [loser(s) for s in others[:MAX_LISTED]]
        rejected = [
            self._verdict(s, "rejected", *self.rejected[s.key])
            for s in sorted(self.holders, key=lambda site: site.code)
            if s.key in self.rejected
        ]
        more = [f"{len(others) - MAX_LISTED} more eligible warehouses ranked lower (not listed)"]
        return chosen + listed + rejected, more if len(others) > MAX_LISTED else []

    def _lost_to(self, site: Site, best: Site) -> tuple[str, str]:
        """Why ``site`` ranks after ``best``: the first component of their ranks that differs."""
        mine, theirs = self.rank[site.key], self.rank[best.key]
        component = next((c for c, a, b in zip(self.components, mine, theirs, strict=True) if a != b), "code")
        if component == "distance":
            km = self.distance.get(site.key)
            there = "distance unknown" if km is None else f"{km} km away"
            return "farther", f"{there}; {best.code} is {self.distance.get(best.key)} km away"
        if component == "priority":
            return "lower_priority", f"priority {site.priority}; {best.code} has {best.priority}"
        if component == "kept":
            return "not_needed", f"{best.code} already ships part of the order"
        return "tie_break", f"ranks equal to {best.code}, which comes first by code"
