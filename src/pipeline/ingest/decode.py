"""Bytes to text: BOMs first, then strict UTF-8, then a maintained detector."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Leading bytes of formats that are never documents of this genre.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "ELF executable"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Share of control characters above which decoded "text" is really binary.
_MAX_CONTROL_SHARE = 0.01
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


class DecodeError(ValueError):
    """The bytes are not usable text; ``reason`` is a quarantine reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # what was used; with '-sig' / '-bom' when a BOM was removed


def decode_bytes(data: bytes) -> Decoded:
    """Decode a file's bytes, or raise DecodeError naming the problem."""
    if not data:
        raise DecodeError("empty", "file is empty (0 bytes)")
    bom_decoded = _decode_with_bom(data)
    if bom_decoded is not None:
        return _checked(bom_decoded)
    _reject_binary(data)
    try:
        return _checked(Decoded(data.decode("utf-8"), "utf-8"))
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DecodeError("undecodable", "bytes are not valid UTF-8 and no encoding fits")
    if _is_single_byte(best.encoding):
        # Detectors cannot tell Western from Central European code pages on short
        # texts; documents of this genre are English/Spanish, so cp1252 comes first.
        try:
            return _checked(Decoded(data.decode("cp1252"), "cp1252"))
        except UnicodeDecodeError:
            pass
    return _checked(Decoded(str(best), best.encoding))


def _is_single_byte(encoding: str) -> bool:
    name = encoding.lower().replace("-", "_")
    return name.startswith(("cp125", "iso8859", "latin", "windows_125", "mac_"))


def _decode_with_bom(data: bytes) -> Decoded | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom) :].decode(encoding), f"{encoding}-bom")
            except UnicodeDecodeError as err:
                raise DecodeError(
                    "undecodable", f"starts with a {encoding} BOM but does not decode: {err}"
                ) from err
    return None


def _reject_binary(data: bytes) -> None:
    head = data[:16]
    for magic, kind in _BINARY_MAGIC:
        if kind and head.startswith(magic):
            raise DecodeError("binary", f"binary file ({kind} signature)")
    if b"\x00" in data[:65536]:
        raise DecodeError("binary", "binary file (NUL bytes and no UTF-16/32 byte-order mark)")


def _checked(decoded: Decoded) -> Decoded:
    text = decoded.text
    if not text.strip():
        raise DecodeError("empty", f"file decodes ({decoded.encoding}) to whitespace only")
    sample = text[:65536]
    controls = len(_CONTROL_RE.findall(sample))
    if controls > _MAX_CONTROL_SHARE * len(sample):
        raise DecodeError("binary", f"{controls} control characters in the first {len(sample)}")
    return decoded
