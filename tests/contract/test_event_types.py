"""Every public event type has one owner: each prefix (``order.*``) is declared in one context's ``events``
module, so a partner's subscription to a prefix reaches exactly one context's story."""

from __future__ import annotations

from collections import defaultdict

from oms_api.bootstrap import EVENT_MODULES
from oms_api.kit.event_types import catalogue


def test_each_prefix_is_declared_by_one_events_module() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for event_type in catalogue().values():
        owners[event_type.name.split(".")[0]].add(event_type.owner)
    shared = {prefix: sorted(found) for prefix, found in owners.items() if len(found) > 1}
    assert shared == {}


def test_every_type_is_declared_in_a_module_named_events_that_bootstrap_imports() -> None:
    declared_in = {event_type.owner for event_type in catalogue().values()}
    assert all(owner.endswith(".events") for owner in declared_in), sorted(declared_in)
    assert declared_in == {module.__name__ for module in EVENT_MODULES}
