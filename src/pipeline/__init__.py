"""Versioned, validated datasets of source-traceable facts from diplomatic documents.

``pipeline.read_table(name)`` and ``pipeline.connect()`` read a release (see
``pipeline.reader``); they are imported on first use, so ``import pipeline`` stays cheap.
"""

from typing import Any

__version__ = "0.1.0"

_READER_NAMES = frozenset({"read_table", "connect", "release_dir"})


def __getattr__(name: str) -> Any:
    if name in _READER_NAMES:
        from pipeline import reader

        return getattr(reader, name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
