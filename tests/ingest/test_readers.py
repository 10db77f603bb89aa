from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from pipeline.document import Document, Rejection
from pipeline.ingest.readers import discover, parse_document, read_inputs


def _read_all(root: Path) -> dict[str, Document | Rejection]:
    return {item.source_path: item for item in read_inputs(discover(root), 10_000_000)}


def test_front_matter_is_parsed_safely_and_body_starts_after_it() -> None:
    text = "---\ntitle: A Fact Sheet\ndate: 2024-05-09\ntags: [a, b]\n---\nBody text here.\n"
    doc = parse_document("fs.md", text.encode())
    assert isinstance(doc, Document)
    assert doc.front_matter == {"title": "A Fact Sheet", "date": "2024-05-09", "tags": ["a", "b"]}
    assert doc.text[doc.body_start :] == "Body text here.\n"


def test_malformed_front_matter_keeps_document_and_records_problem() -> None:
    text = "---\ntitle: [unclosed\n---\nThe body stays.\n"
    doc = parse_document("bad.md", text.encode())
    assert isinstance(doc, Document)
    assert doc.front_matter is None
    assert doc.front_matter_error is not None and "malformed YAML" in doc.front_matter_error
    assert doc.text[doc.body_start :] == "The body stays.\n"


def test_hostile_yaml_tag_is_not_executed() -> None:
    text = "---\nx: !!python/object/apply:os.system ['echo pwned']\n---\nBody.\n"
    doc = parse_document("hostile.md", text.encode())
    assert isinstance(doc, Document)
    assert doc.front_matter is None and doc.front_matter_error


def test_txt_with_front_matter_is_markdown_and_html_is_sniffed() -> None:
    md = parse_document("a.txt", b"---\ntitle: x\n---\nSee [the page](https://e.org).\n")
    html = parse_document("b.txt", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>")
    assert isinstance(md, Document) and md.format == "markdown"
    assert isinstance(html, Document) and html.format == "html"


def test_mixed_folder_every_file_accounted_for(tmp_path: Path) -> None:
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "a.txt").write_text("The United States provided $5 million in 2012.\n")
    (tmp_path / "sub dir" / "a.txt").write_text("Same name, other folder.\n")
    (tmp_path / "página.md").write_text("# Título\n\nTexto.\n", encoding="utf-8")
    (tmp_path / "u16.txt").write_bytes(codecs.BOM_UTF16_LE + "UTF-16 text.".encode("utf-16-le"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    found = _read_all(tmp_path)
    assert sorted(found) == [
        "a.txt",
        "empty.txt",
        "image.txt",
        "notes.pdf",
        "página.md",
        "sub dir/a.txt",
        "u16.txt",
    ]
    reasons = {p: r.reason for p, r in found.items() if isinstance(r, Rejection)}
    assert reasons == {"empty.txt": "empty", "image.txt": "binary", "notes.pdf": "unsupported_type"}
    assert isinstance(found["u16.txt"], Document)
    assert found["u16.txt"].text == "UTF-16 text."
    assert found["a.txt"].doc_id != found["sub dir/a.txt"].doc_id  # type: ignore[union-attr]


def test_symlink_outside_input_is_quarantined_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "in"
    root.mkdir()
    (root / "ok.txt").write_text("Fine text.")
    os.symlink(outside, root / "link.txt")
    found = _read_all(root)
    link = found["link.txt"]
    assert isinstance(link, Rejection) and link.reason == "symlink_outside_input"
    assert "outside the input folder" in link.message and "link.txt" in link.message


def test_unreadable_file_is_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("x")
    real_read = Path.read_bytes

    def deny(self: Path) -> bytes:  # root ignores file modes, so simulate EACCES
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    found = _read_all(tmp_path)
    assert isinstance(found["locked.txt"], Rejection)
    assert found["locked.txt"].reason == "unreadable"
    assert "Permission denied" in found["locked.txt"].message


def test_discover_walks_folders_skips_hidden_entries_and_judges_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for path in ("x.txt", "a/y.md", "a/b/z.txt", ".hidden/h.txt", "a/.dot.txt"):
        (root / path).write_text("text")
    (tmp_path / "out.txt").write_text("outside")
    os.symlink(root / "x.txt", root / "a" / "inside.txt")
    os.symlink(tmp_path / "out.txt", root / "outside.txt")
    os.symlink(root / "a" / "b", root / "folder_inside")
    os.symlink(tmp_path, root / "a" / "folder_outside")
    found = {f.path: f.problem.reason if f.problem else None for f in discover(root)}
    assert found == {
        "a/b/z.txt": None,
        "a/folder_outside": "symlink_outside_input",
        "a/inside.txt": None,
        "a/y.md": None,
        "folder_inside": "unsupported_type",
        "outside.txt": "symlink_outside_input",
        "x.txt": None,
    }
    assert list(found) == sorted(found)
    assert all(f.absolute == root / f.path for f in discover(root))
