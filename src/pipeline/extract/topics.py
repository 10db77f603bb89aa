"""Topics of a passage from the documented taxonomy (resources/topics.yaml)."""

from __future__ import annotations


def passage_topics(text: str, heading: str | None = None) -> tuple[str, ...]:
    """Topic ids of the passage, in taxonomy order (the heading counts as context)."""
    return ()
