from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.ingest.decode import DecodeError, decode_bytes

TEXT = "Peru’s “partnership” — $5 million, año 2024."


def test_utf8_without_bom() -> None:
    decoded = decode_bytes(TEXT.encode("utf-8"))
    assert (decoded.text, decoded.encoding) == (TEXT, "utf-8")


def test_utf8_bom_is_removed() -> None:
    decoded = decode_bytes(codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    assert decoded.text == TEXT
    assert decoded.encoding == "utf-8-bom"


@pytest.mark.parametrize(
    "codec, bom",
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
)
def test_utf16_and_utf32_with_bom(codec: str, bom: bytes) -> None:
    decoded = decode_bytes(bom + TEXT.encode(codec))
    assert decoded.text == TEXT
    assert decoded.encoding == f"{codec}-bom"


def test_latin1_detected() -> None:
    text = "La cooperación entre el Perú y los Estados Unidos creció en el año 2012. " * 5
    decoded = decode_bytes(text.encode("cp1252"))
    assert decoded.text == text


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"   \n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"%PDF-1.7\n%\xe2\xe3", "binary"),
        (b"text\x00with\x00nul\x00bytes", "binary"),
    ],
)
def test_unusable_bytes_are_rejected_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(data)
    assert info.value.reason == reason


@given(st.text(min_size=1).filter(lambda t: t.strip() and "\x00" not in t))
def test_any_utf8_text_round_trips(text: str) -> None:
    try:
        decoded = decode_bytes(text.encode("utf-8"))
    except DecodeError as err:  # control-character heavy strings are binary by design
        assert err.reason in {"binary", "empty"}
    else:
        assert decoded.text == text
