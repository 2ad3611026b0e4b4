"""Box selection benchmark: choosing boxes for a 20-unit shipment among 5 standard boxes (pure Python).

    python scripts/bench/box_selection_bench.py [--shipments 200] [--units 20] [--seed 7]

Scenarios, each timed per selection (``packing.domain.select_boxes``: unfitted units set aside, the
cheapest single box, greedy fills shrunk and merged, then the cost-ordered walk over box combinations):

- ``fits-one``: 20 small units (mugs, books, tees) that one box holds;
- ``must-split``: 20 bulky or heavy units that need several boxes (weight and volume both bind);
- ``random``: ``--shipments`` random shipments of ``--units`` units drawn from a 12-SKU catalogue
  (sizes 20-420 mm, 50 g-6 kg, 1-4 units per SKU), including some units too long for any box.

Prints median, p95, p99 and max wall-clock milliseconds per selection (and the median CPU time, which
stays meaningful on a busy machine), packings tried, boxes and cost. Every
answer is then checked (outside the timing): nothing overlaps, sticks out or overweights its box.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from itertools import combinations

from oms_api.fulfillment.packing.domain import Box, Item, Selection, select_boxes

BOXES = [  # inner mm, content weight g, cost in cents
    Box("XS", 220, 160, 80, 2_000, 65),
    Box("S", 300, 220, 120, 5_000, 95),
    Box("M", 400, 300, 200, 12_000, 150),
    Box("L", 500, 400, 300, 20_000, 240),
    Box("XL", 600, 500, 400, 30_000, 360),
]


def units(spec: list[tuple[str, int, int, int, int, int]]) -> list[Item]:
    """(sku, count, length, width, height, grams) rows as individual units."""
    return [Item(f"{sku}#{n}", sku, length, width, height, grams) for sku, count, length, width, height, grams in spec
            for n in range(count)]  # fmt: skip


def fits_one() -> list[Item]:
    return units(
        [
            ("mug", 6, 100, 80, 95, 320),
            ("book", 4, 235, 155, 30, 550),
            ("tee", 6, 250, 180, 20, 180),
            ("candle", 4, 80, 80, 100, 400),
        ]
    )


def must_split() -> list[Item]:
    return units(
        [
            ("kettle", 4, 250, 200, 260, 1_400),
            ("pan", 4, 420, 280, 90, 2_100),
            ("dumbbell", 6, 300, 110, 110, 5_000),
            ("mug", 6, 100, 80, 95, 320),
        ]
    )


def random_shipment(rng: random.Random, size: int) -> list[Item]:
    catalogue = [
        (f"sku{n}", rng.randint(20, 420), rng.randint(20, 350), rng.randint(10, 300), rng.randint(50, 6_000))
        for n in range(12)
    ]
    catalogue.append(("ski", 1_700, 100, 40, 2_000))  # never fits: reported, not forced
    items: list[Item] = []
    while len(items) < size:
        sku, length, width, height, grams = rng.choice(catalogue)
        for _ in range(min(rng.randint(1, 4), size - len(items))):
            items.append(Item(f"{sku}#{len(items)}", sku, length, width, height, grams))
    return items


def check(selection: Selection, items: list[Item]) -> None:
    """Independent validity check of one answer."""
    keys = sorted(
        [p.item.key for b in selection.boxes for p in b.placements] + [u.item.key for u in selection.unfitted]
    )
    assert keys == sorted(i.key for i in items), "every unit exactly once"
    for packed in selection.boxes:
        box = packed.box
        assert packed.weight <= box.max_weight, "overweight"
        cuboids = []
        for p in packed.placements:
            assert sorted((p.dx, p.dy, p.dz)) == sorted(p.item.dims)
            assert p.x + p.dx <= box.length, "sticks out"
            assert p.y + p.dy <= box.width, "sticks out"
            assert p.z + p.dz <= box.height, "sticks out"
            cuboids.append((p.x, p.y, p.z, p.x + p.dx, p.y + p.dy, p.z + p.dz))
        for a, b in combinations(cuboids, 2):
            assert not all(a[k] < b[k + 3] and b[k] < a[k + 3] for k in range(3)), "overlap"


def run(name: str, shipments: list[list[Item]], repeat: int) -> None:
    timings: list[float] = []
    cpu: list[float] = []
    results: list[Selection] = []
    for items in shipments:
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            selection = select_boxes(items, BOXES)
            timings.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        results.append(selection)
    for selection, items in zip(results, shipments, strict=True):
        check(selection, items)
    timings.sort()

    def pct(p: float) -> float:
        return timings[min(len(timings) - 1, int(p * len(timings)))]

    tried = statistics.mean(s.candidates_tried for s in results)
    boxes = statistics.mean(len(s.boxes) for s in results)
    cost = statistics.mean(s.cost for s in results) / 100
    unfitted = sum(len(s.unfitted) for s in results)
    first = results[0]
    layout = "+".join(b.box.key for b in first.boxes) or "-"
    print(
        f"{name:<11} n={len(timings):<5} median {statistics.median(timings):6.2f} ms  p95 {pct(0.95):6.2f}  "
        f"p99 {pct(0.99):6.2f}  max {timings[-1]:6.2f}  (cpu median {statistics.median(cpu):5.2f}, "
        f"p99 {sorted(cpu)[min(len(cpu) - 1, int(0.99 * len(cpu)))]:6.2f})  "
        f"| packings tried {tried:5.1f}  boxes {boxes:4.2f}  "
        f"cost {cost:5.2f}  unfitted {unfitted}  (first: {layout})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=200, help="random shipments")
    parser.add_argument("--units", type=int, default=20, help="units per random shipment")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each fixed scenario")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scenarios: list[tuple[str, Callable[[], list[list[Item]]], int]] = [
        ("fits-one", lambda: [fits_one()], args.repeat),
        ("must-split", lambda: [must_split()], args.repeat),
        ("random", lambda: [random_shipment(rng, args.units) for _ in range(args.shipments)], 1),
    ]
    print(f"box selection: {len(BOXES)} box types, {args.units} units per shipment")
    for name, make, repeat in scenarios:
        run(name, make(), repeat)


if __name__ == "__main__":
    main()
