"""flows.orchestrate.memory: the garbage collector kept off imported objects."""

from __future__ import annotations

import gc
import weakref

from flows.orchestrate import memory


class _Node:
    pass


def test_freeze_imports_collects_garbage_first_and_keeps_what_is_alive_out_of_later_collections():
    garbage, kept = _Node(), _Node()
    garbage.self = garbage  # a cycle: only a collection frees it
    kept.self = kept
    gone = weakref.ref(garbage)
    del garbage
    was_frozen = gc.get_freeze_count()
    try:
        memory.freeze_imports()
        assert gone() is None, "garbage must be collected before the freeze, not frozen with the rest"
        assert gc.get_freeze_count() > was_frozen
        assert not any(o is kept for o in gc.get_objects()), "what was alive is left out of collections"
        later = _Node()
        later.self = later
        later_ref = weakref.ref(later)
        del later
        gc.collect()
        assert later_ref() is None, "objects made after the freeze are still collected"
    finally:
        gc.unfreeze()
