"""Box selection (pure): the cheapest set of standard boxes that holds a shipment's units.

The geometry is the extreme-point heuristic (Crainic, Perboli and Tadei, 2008): a box starts with
one free corner; each unit goes to the first free corner (lowest, then furthest back, then leftmost)
where one of its six axis-aligned rotations fits without overlapping anything placed, choosing the
rotation that keeps the packed envelope smallest; placing it adds its three far corners and their
projections onto the items or walls behind and below as new corners. Dimensions are integer
millimetres and weights integer grams, so "fits" is exact.

The choice of boxes searches combinations and keeps the cheapest valid one:

1. one box for everything, cheapest type first (tried in several unit orders);
2. a greedy fill per unit order: open the type that packs the most volume per unit of cost (or the
   cheapest that takes everything left), then shrink each box to the cheapest type that still holds
   its contents, then merge pairs of boxes into one cheaper box where they fit;
3. one box per unit, each the cheapest that holds it (always valid: the upper bound).

Ties go to fewer boxes, then to less box volume. A unit that fits no box on its own (too long in
every rotation, or heavier than any box carries) is reported as unfitted, never forced in.
Support under each unit (stacking stability) is not modelled. The geometry and the search are one algorithm,
read together, so they share this file (about 500 lines).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import permutations

Dims = tuple[int, int, int]

#: Work bounds of the combination search (it stops earlier once the cheapest combination packs).
MAX_COMBINATIONS_SEEN = 5_000
MAX_COMBINATIONS_PACKED = 40


@dataclass(frozen=True, slots=True)
class Item:
    """One unit to pack. ``key`` is unique per unit; ``ref`` names what it is (a shipment line)."""

    key: str
    ref: str
    length: int
    width: int
    height: int
    weight: int

    @property
    def dims(self) -> Dims:
        return (self.length, self.width, self.height)

    @property
    def volume(self) -> int:
        return self.length * self.width * self.height


@dataclass(frozen=True, slots=True)
class Box:
    """A box type: inner dimensions (mm), content weight it carries (g) and its cost (minor units)."""

    key: str
    length: int
    width: int
    height: int
    max_weight: int
    cost: int

    @property
    def dims(self) -> Dims:
        return (self.length, self.width, self.height)

    @property
    def volume(self) -> int:
        return self.length * self.width * self.height


@dataclass(frozen=True, slots=True)
class Placement:
    """A unit in a box: its corner nearest the origin and its extent along the box's length, width, height."""

    item: Item
    x: int
    y: int
    z: int
    dx: int
    dy: int
    dz: int


@dataclass(frozen=True, slots=True)
class PackedBox:
    box: Box
    placements: tuple[Placement, ...]

    @property
    def weight(self) -> int:
        """Content weight in grams (the box's own weight excluded)."""
        return sum(p.item.weight for p in self.placements)

    @property
    def items_volume(self) -> int:
        return sum(p.item.volume for p in self.placements)

    @property
    def fill_ratio(self) -> float:
        return self.items_volume / self.box.volume if self.box.volume else 0.0


@dataclass(frozen=True, slots=True)
class Unfitted:
    item: Item
    reason: str  # too_large | too_heavy | no_boxes


@dataclass(frozen=True, slots=True)
class Selection:
    boxes: tuple[PackedBox, ...]
    unfitted: tuple[Unfitted, ...]
    candidates_tried: int

    @property
    def cost(self) -> int:
        return sum(b.box.cost for b in self.boxes)


# --- one box ---------------------------------------------------------------------------------------------------


def rotations(dims: Dims) -> list[Dims]:
    """The distinct axis-aligned orientations of a cuboid (6, fewer when sides are equal)."""
    return sorted({(a, b, c) for a, b, c in permutations(dims)})


def fits_dims(dims: Dims, box: Box) -> bool:
    """Whether a cuboid fits the empty box in some rotation (sorted sides compared pairwise)."""
    return all(a <= b for a, b in zip(sorted(dims), sorted(box.dims), strict=True))


def fits_alone(item: Item, box: Box) -> bool:
    """Whether the unit fits the empty box in some rotation and within its weight."""
    return item.weight <= box.max_weight and fits_dims(item.dims, box)


Cuboid = tuple[int, int, int, int, int, int]  # x1, y1, z1, x2, y2, z2


def _overlaps(c: Cuboid, placed: Sequence[Cuboid]) -> bool:
    x1, y1, z1, x2, y2, z2 = c
    for px1, py1, pz1, px2, py2, pz2 in placed:
        if x1 < px2 and px1 < x2 and y1 < py2 and py1 < y2 and z1 < pz2 and pz1 < z2:
            return True
    return False


def _project(point: Dims, axis: int, placed: Sequence[Cuboid]) -> Dims:
    """Slide ``point`` towards the origin along ``axis`` until it meets an item's face or the wall."""
    px, py, pz = point
    stop = 0
    if axis == 0:
        for _x1, y1, z1, x2, y2, z2 in placed:
            if stop < x2 <= px and y1 <= py < y2 and z1 <= pz < z2:
                stop = x2
        return (stop, py, pz)
    if axis == 1:
        for x1, _y1, z1, x2, y2, z2 in placed:
            if stop < y2 <= py and x1 <= px < x2 and z1 <= pz < z2:
                stop = y2
        return (px, stop, pz)
    for x1, y1, _z1, x2, y2, z2 in placed:
        if stop < z2 <= pz and x1 <= px < x2 and y1 <= py < y2:
            stop = z2
    return (px, py, stop)


def _inside_any(point: Dims, placed: Sequence[Cuboid]) -> bool:
    """Whether ``point`` lies inside (or on the near faces of) a placed item: no use as a corner."""
    px, py, pz = point
    for x1, y1, z1, x2, y2, z2 in placed:  # noqa: SIM110 - a plain loop is twice as fast here
        if x1 <= px < x2 and y1 <= py < y2 and z1 <= pz < z2:
            return True
    return False


class BoxFill:
    """One box being filled, unit by unit (extreme points; see the module docstring)."""

    def __init__(self, box: Box, *, tiling: bool = False) -> None:
        self.box = box
        self.tiling = tiling
        self.placements: list[Placement] = []
        self._placed: list[Cuboid] = []
        self._points: list[Dims] = [(0, 0, 0)]
        self._weight = 0
        self._free_volume = box.volume
        self._envelope = (0, 0, 0)

    def place(self, item: Item) -> bool:
        """Put ``item`` in at the first corner where a rotation fits; False (nothing changes) if none does."""
        length, width, height = self.box.dims
        if self._weight + item.weight > self.box.max_weight or item.volume > self._free_volume:
            return False
        orientations = [r for r in rotations(item.dims) if r[0] <= length and r[1] <= width and r[2] <= height]
        envelope = self._envelope
        for x, y, z in self._points:
            best: tuple[tuple[int, int], Dims] | None = None
            for dx, dy, dz in orientations:
                if x + dx > length or y + dy > width or z + dz > height:
                    continue
                if _overlaps((x, y, z, x + dx, y + dy, z + dz), self._placed):
                    continue
                if self.tiling:
                    repeats = ((length - x) // dx if dx else 1) * ((width - y) // dy if dy else 1)
                    score = (-repeats * ((height - z) // dz if dz else 1), dz)
                else:
                    grown = (max(envelope[0], x + dx), max(envelope[1], y + dy), max(envelope[2], z + dz))
                    score = (grown[0] * grown[1] * grown[2], dz)
                if best is None or score < best[0]:
                    best = (score, (dx, dy, dz))
            if best is not None:
                self._commit(item, (x, y, z), best[1])
                return True
        return False

    def _commit(self, item: Item, at: Dims, size: Dims) -> None:
        (x, y, z), (dx, dy, dz) = at, size
        length, width, height = self.box.dims
        self.placements.append(Placement(item, x, y, z, dx, dy, dz))
        cuboid = (x, y, z, x + dx, y + dy, z + dz)
        self._placed.append(cuboid)
        self._weight += item.weight
        self._free_volume -= item.volume
        e = self._envelope
        self._envelope = (max(e[0], x + dx), max(e[1], y + dy), max(e[2], z + dz))
        corners = [(x + dx, y, z), (x, y + dy, z), (x, y, z + dz)]
        fresh = set(corners)
        for corner_axis, corner in enumerate(corners):
            for axis in range(3):
                if axis != corner_axis:
                    fresh.add(_project(corner, axis, self._placed))
        x2, y2, z2 = x + dx, y + dy, z + dz
        kept = {p for p in self._points if not (x <= p[0] < x2 and y <= p[1] < y2 and z <= p[2] < z2)}
        for p in fresh:
            if p[0] < length and p[1] < width and p[2] < height and not _inside_any(p, self._placed):
                kept.add(p)
        self._points = sorted(kept, key=lambda p: (p[2], p[1], p[0]))

    def packed(self) -> PackedBox:
        return PackedBox(self.box, tuple(self.placements))


def pack_box(
    box: Box, items: Sequence[Item], *, all_or_nothing: bool = False, tiling: bool = False
) -> tuple[list[Placement], list[Item]]:
    """Place ``items`` (in this order) into one ``box``: the placements and the units that did not fit.

    The rotation at a corner is the one keeping the packed envelope smallest or, with ``tiling``, the
    one that would repeat most often in the space beyond the corner (good for many equal units).
    With ``all_or_nothing`` the packing stops at the first unit that does not fit (the caller only
    wants to know whether everything goes in).
    """
    fill = BoxFill(box, tiling=tiling)
    left: list[Item] = []
    for index, item in enumerate(items):
        if not fill.place(item):
            left.append(item)
            if all_or_nothing:
                return fill.placements, [*left, *items[index + 1 :]]
    return fill.placements, left


def pack_boxes(boxes: Sequence[Box], items: Sequence[Item], *, tiling: bool = False) -> list[PackedBox] | None:
    """First fit of ``items`` (in this order) over ``boxes`` (in this order), or None if some unit fits none.

    Boxes left empty are dropped from the answer.
    """
    fills = [BoxFill(box, tiling=tiling) for box in boxes]
    for item in items:
        if not any(fill.place(item) for fill in fills):
            return None
    return [fill.packed() for fill in fills if fill.placements]


# --- choosing boxes --------------------------------------------------------------------------------------------

Ordering = Callable[[Item], tuple[int, ...]]

#: Unit orders tried: biggest first, longest first, flattest footprint first, heaviest first.
ORDERINGS: tuple[Ordering, ...] = (
    lambda i: (-i.volume, -max(i.dims), -i.weight),
    lambda i: (-max(i.dims), -i.volume, -i.weight),
    lambda i: (-(sorted(i.dims)[1] * sorted(i.dims)[2]), -i.volume, -i.weight),
    lambda i: (-i.weight, -i.volume),
)


def _ordered(items: Sequence[Item], ordering: Ordering) -> list[Item]:
    return sorted(items, key=lambda i: (*ordering(i), i.key))


def _solution_key(boxes: Sequence[PackedBox]) -> tuple[int, int, int]:
    return (sum(b.box.cost for b in boxes), len(boxes), sum(b.box.volume for b in boxes))


class _Search:
    """One selection run: the box types (cheapest first) and a count of packings tried."""

    def __init__(self, boxes: Sequence[Box]) -> None:
        self.boxes = sorted(boxes, key=lambda b: (b.cost, b.volume, b.key))
        self.tried = 0

    def fit_all(self, box: Box, items: Sequence[Item]) -> PackedBox | None:
        """``items`` in ``box`` (trying each unit order), or ``None`` when they do not all fit."""
        if sum(i.weight for i in items) > box.max_weight or sum(i.volume for i in items) > box.volume:
            return None
        if not all(fits_alone(i, box) for i in items):
            return None
        for tiling in (False, True):
            for ordering in ORDERINGS:
                self.tried += 1
                placements, left = pack_box(box, _ordered(items, ordering), all_or_nothing=True, tiling=tiling)
                if not left:
                    return PackedBox(box, tuple(placements))
        return None

    def cheapest_single(self, items: Sequence[Item], below: int | None = None) -> PackedBox | None:
        """The cheapest box type (costing less than ``below``, if given) that holds all of ``items``."""
        for box in self.boxes:
            if below is not None and box.cost >= below:
                break
            packed = self.fit_all(box, items)
            if packed is not None:
                return packed
        return None

    def greedy(self, items: Sequence[Item], ordering: Ordering, tiling: bool) -> list[PackedBox]:
        remaining = _ordered(items, ordering)
        opened: list[PackedBox] = []
        while remaining:
            finishing: PackedBox | None = None
            best: tuple[PackedBox, list[Item]] | None = None
            for box in self.boxes:
                self.tried += 1
                placements, left = pack_box(box, remaining, tiling=tiling)
                if not placements:
                    continue
                packed = PackedBox(box, tuple(placements))
                if not left:
                    finishing = packed  # boxes are cheapest first: the first that takes everything wins
                    break
                if best is None or _better_value(packed, best[0]):
                    best = (packed, left)
            if finishing is not None:
                opened.append(finishing)
                break
            if best is None:  # cannot happen for units that fit some box alone; stop rather than loop
                break
            opened.append(best[0])
            remaining = best[1]
        return opened

    def shrink(self, boxes: list[PackedBox]) -> list[PackedBox]:
        """Each box replaced by the cheapest type that still holds its contents."""
        out: list[PackedBox] = []
        for packed in boxes:
            contents = [p.item for p in packed.placements]
            cheaper = self.cheapest_single(contents, below=packed.box.cost)
            out.append(cheaper or packed)
        return out

    def merge(self, boxes: list[PackedBox], max_rounds: int = 8) -> list[PackedBox]:
        """Merge two boxes into one cheaper box while some pair allows it."""
        for _ in range(max_rounds):
            if len(boxes) < 2 or len(boxes) > 8:
                return boxes
            merged = self._merge_once(boxes)
            if merged is None:
                return boxes
            boxes = merged
        return boxes

    def _merge_once(self, boxes: list[PackedBox]) -> list[PackedBox] | None:
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                pair_cost = boxes[i].box.cost + boxes[j].box.cost
                contents = [p.item for p in boxes[i].placements] + [p.item for p in boxes[j].placements]
                single = self.cheapest_single(contents, below=pair_cost)
                if single is not None:
                    return [b for k, b in enumerate(boxes) if k not in (i, j)] + [single]
        return None

    def fit_set(self, boxes: Sequence[Box], items: Sequence[Item]) -> list[PackedBox] | None:
        """``items`` spread over exactly these boxes (first fit, biggest box first), or None."""
        order = sorted(boxes, key=lambda b: (-b.volume, b.key))
        for tiling in (False, True):
            for ordering in ORDERINGS:
                self.tried += 1
                packed = pack_boxes(order, _ordered(items, ordering), tiling=tiling)
                if packed is not None:
                    return packed
        return None

    def cheapest_set(self, items: Sequence[Item], below: tuple[int, int, int]) -> list[PackedBox] | None:
        """Walk the combinations of box types from the cheapest up (then fewer boxes, then less volume),
        skipping those that cannot hold the units by volume, weight or shape, and pack the first that can.

        Stops before ``below`` (the best answer known) and after a bounded amount of work, so the answer
        is the cheapest combination among those tried.
        """
        types = self.boxes
        volume = sum(i.volume for i in items)
        weight = sum(i.weight for i in items)
        needs = {sum(1 << t for t, box in enumerate(types) if fits_alone(i, box)) for i in items}
        heap: list[tuple[int, int, int, tuple[int, ...]]] = [(0, 0, 0, ())]
        seen = checked = 0
        while heap and seen < MAX_COMBINATIONS_SEEN and checked < MAX_COMBINATIONS_PACKED:
            cost, count, box_volume, combo = heapq.heappop(heap)
            if (cost, count, box_volume) >= below:
                break
            seen += 1
            if combo and box_volume >= volume and sum(types[t].max_weight for t in combo) >= weight:
                mask = 0
                for t in combo:
                    mask |= 1 << t
                if all(need & mask for need in needs):
                    checked += 1
                    packed = self.fit_set([types[t] for t in combo], items)
                    if packed is not None and len(packed) == len(combo):
                        return packed
            if count < len(items):
                for t in range(combo[-1] if combo else 0, len(types)):
                    box = types[t]
                    heapq.heappush(heap, (cost + box.cost, count + 1, box_volume + box.volume, (*combo, t)))
        return None

    def one_per_item(self, items: Sequence[Item]) -> list[PackedBox]:
        out = []
        for item in items:
            box = next(b for b in self.boxes if fits_alone(item, b))
            out.append(PackedBox(box, (Placement(item, 0, 0, 0, *_upright(item, box)),)))
        return out


def _upright(item: Item, box: Box) -> Dims:
    """A rotation of ``item`` that fits ``box`` (exists when ``fits_alone``)."""
    return next(r for r in rotations(item.dims) if r[0] <= box.length and r[1] <= box.width and r[2] <= box.height)


def _better_value(a: PackedBox, b: PackedBox) -> bool:
    """More packed volume per unit of cost (free boxes are best), then more units, then more volume."""
    ca, cb = a.box.cost, b.box.cost
    va, vb = a.items_volume, b.items_volume
    if ca == 0 or cb == 0:
        if (ca == 0) != (cb == 0):
            return ca == 0
    elif va * cb != vb * ca:
        return va * cb > vb * ca
    return (len(a.placements), va) > (len(b.placements), vb)


def select_boxes(items: Sequence[Item], boxes: Sequence[Box]) -> Selection:
    """The cheapest combination of ``boxes`` (any number of each type) found for ``items``."""
    search = _Search(boxes)
    unfitted: list[Unfitted] = []
    fitting: list[Item] = []
    for item in sorted(items, key=lambda i: i.key):
        if any(fits_alone(item, b) for b in search.boxes):
            fitting.append(item)
        elif not search.boxes:
            unfitted.append(Unfitted(item, "no_boxes"))
        elif any(fits_dims(item.dims, box) for box in search.boxes):
            unfitted.append(Unfitted(item, "too_heavy"))
        else:
            unfitted.append(Unfitted(item, "too_large"))
    if not fitting:
        return Selection((), tuple(unfitted), 0)
    candidates: list[list[PackedBox]] = [search.one_per_item(fitting)]
    single = search.cheapest_single(fitting)
    if single is not None:
        candidates.append([single])
        if single.box.cost == search.boxes[0].cost:  # no combination can cost less than one cheapest box
            return Selection((single,), tuple(unfitted), search.tried)
    else:  # several boxes: a quick greedy answer bounds the search below
        for tiling in (False, True):
            for ordering in ORDERINGS[:2]:
                greedy = search.greedy(fitting, ordering, tiling)
                candidates.append(search.merge(search.shrink(greedy)))
    known = min(_solution_key(c) for c in candidates if sum(len(b.placements) for b in c) == len(fitting))
    cheaper = search.cheapest_set(fitting, below=known)
    if cheaper is not None:
        candidates.append(cheaper)
    valid = [c for c in candidates if sum(len(b.placements) for b in c) == len(fitting)]
    best = min(valid, key=_solution_key)
    ordered = sorted(best, key=lambda b: (-b.box.volume, b.box.key, b.placements[0].item.key))
    return Selection(tuple(ordered), tuple(unfitted), search.tried)
