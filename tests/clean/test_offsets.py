from __future__ import annotations

import pytest

from pipeline.clean.offsets import Edit, apply_edits


def test_copy_replace_delete_map_back_to_source() -> None:
    source = "a **$5\n   million** b"
    edits = [Edit(2, 4, ""), Edit(6, 10, " "), Edit(17, 19, "")]
    text, offsets = apply_edits(source, 0, len(source), edits)
    assert text == "a $5 million b"
    start = text.index("$5 million")
    src = offsets.to_source(start, start + len("$5 million"))
    assert source[src[0] : src[1]] == "$5\n   million"


def test_adjacent_spaces_collapse_and_ends_are_trimmed() -> None:
    source = "word ** more "
    text, offsets = apply_edits(source, 0, len(source), [Edit(5, 7, "")])
    assert text == "word more"
    assert offsets.to_source(5, 9) == (8, 12)


def test_overlapping_edits_first_and_longest_win() -> None:
    source = "see https://x.org/a_b_c now"
    url = source.index("https")
    edits = [
        Edit(url, url + 19, source[url : url + 19], priority=1),
        Edit(source.index("_"), source.index("_") + 1, "", priority=3),
    ]
    text, _ = apply_edits(source, 0, len(source), edits)
    assert text == source


def test_span_outside_cleaned_text_is_an_error() -> None:
    _, offsets = apply_edits("abc", 0, 3, [])
    with pytest.raises(ValueError):
        offsets.to_source(2, 5)
