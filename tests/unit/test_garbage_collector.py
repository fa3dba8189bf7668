"""A server process settles its garbage collector once started (``seatledger.api.app``): what
start-up built is frozen out of the collector's sight, and young objects are collected less
often, so that no full collection walks the whole application in the middle of requests."""

from __future__ import annotations

import gc

from seatledger.api.app import GC_YOUNG_THRESHOLD, settle_garbage_collector


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
