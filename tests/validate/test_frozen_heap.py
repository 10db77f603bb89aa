"""Validation leaves older objects out of its collections, and hands them back after."""

from __future__ import annotations

import gc

import pytest

from pipeline.validate import run


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_objects_made_during_validation_are_still_collected() -> None:
    older = _Cycle()
    with run._older_objects_frozen():
        assert gc.get_freeze_count() > 0  # the older objects, ``older`` among them
        made = _Cycle()
        del made
        assert gc.collect() > 0  # the cycle made inside is freed by ``_let_go``'s collect
    assert gc.get_freeze_count() == 0
    del older
    assert gc.collect() > 0  # handed back: the older cycle is collectable again


def test_the_heap_is_handed_back_when_validation_raises() -> None:
    with pytest.raises(RuntimeError), run._older_objects_frozen():
        raise RuntimeError("a suite crashed")
    assert gc.get_freeze_count() == 0
