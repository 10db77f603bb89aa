"""End-to-end benchmark: the real ``pipeline run`` on a synthetic corpus of N documents.

The corpus is the dedup benchmark's (``dedup.synthetic``: originals recombined from the seed
sentences with re-drawn numbers and names, 5 % exact and 15 % near copies planted), each
document written as a file with a title, a dateline and website chrome lines around its
paragraphs, as scraped pages have. ``pipeline run`` runs in a child process exactly as a user
starts it (``--json``), so its own figures (seconds per stage, peak RSS of the run and its
worker processes) are what a user would see; this module adds the corpus figures and the
duplicate precision and recall against the planted copies.

Modes: ``full`` (one run on a fresh output), ``noop`` (then a second run with nothing
changed), ``change`` (then a run after re-drawing the numbers of ``change_fraction`` of the
documents), ``add`` (then a run after adding that share of new documents, each named to
sort right after a random existing one, as an archive's new files fall among its old ones)
and ``all`` (the no-op rerun, the change rerun, then the add rerun, keyed by mode). The
same seed gives the same corpus and the same changed and added documents.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.bench import redraw_numbers
from pipeline.dedup.minhash import MinHashParams, jaccard, shingle_set
from pipeline.dedup.synthetic import Corpus, corpus_from

MODES = ("full", "noop", "change", "add", "all")
# The reruns after the full run, per mode: "all" measures both on one full run (at
# 100,000 documents a full run is what costs).
_RERUNS: dict[str, tuple[str, ...]] = {
    "full": (),
    "noop": ("noop",),
    "change": ("change",),
    "add": ("add",),
    "all": ("noop", "change", "add"),
}
_MONTHS = ("January", "March", "May", "July", "September", "November")
_CHROME = ("Share this page", "Print", "Back to top", "Subscribe to updates", "Related Articles")


def file_name(index: int) -> str:
    return f"doc-{index:07d}.txt"


def page_text(body: str, index: int, rng: random.Random) -> str:
    """``body`` as a scraped page: chrome, a title, a dateline, the paragraphs, chrome."""
    first = body.split(". ")[0][:90].strip()
    date = f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(2005, 2025)}"
    head = [rng.choice(_CHROME), "", f"Statement {index}: {first}", "", f"WASHINGTON, {date}"]
    tail = ["", rng.choice(_CHROME), rng.choice(_CHROME)]
    return "\n".join([*head, "", body, *tail]) + "\n"


def write_corpus(corpus: Corpus, folder: Path, seed: int) -> int:
    """Write every document of ``corpus`` under ``folder``; the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total = 0
    for i, text in enumerate(corpus.texts):
        data = page_text(text, i, rng).encode("utf-8")
        (folder / file_name(i)).write_bytes(data)
        total += len(data)
    return total


def change_documents(folder: Path, n_docs: int, fraction: float, seed: int) -> list[str]:
    """Re-draw the numbers of ``fraction`` of the documents (at least one); their names."""
    rng = random.Random(seed + 1)
    chosen = sorted(rng.sample(range(n_docs), max(1, round(n_docs * fraction))))
    for i in chosen:
        path = folder / file_name(i)
        text = path.read_text(encoding="utf-8")
        changed = redraw_numbers(text, rng)
        if changed == text:
            changed = text + "\nUpdated: the figures above were revised.\n"
        path.write_text(changed, encoding="utf-8")
    return [file_name(i) for i in chosen]


def add_documents(folder: Path, seeds: Path, n_docs: int, fraction: float, seed: int) -> list[str]:
    """Write ``fraction`` of ``n_docs`` new documents (at least one), made as the corpus is
    (from ``seeds``), each named after a random existing document so that it sorts right
    after it; their names."""
    rng = random.Random(seed + 2)
    count = max(1, round(n_docs * fraction))
    after = sorted(rng.sample(range(n_docs), count))
    added = corpus_from(seeds, count, seed + 2)
    names = []
    for n, (i, text) in enumerate(zip(after, added.texts, strict=True)):
        name = f"doc-{i:07d}_new.txt"  # "_" sorts after ".": right after doc i
        (folder / name).write_text(page_text(text, n_docs + n, rng), encoding="utf-8")
        names.append(name)
    return names


def run_pipeline(
    input_dir: Path,
    output_dir: Path,
    workers: int,
    extra_env: dict[str, str] | None = None,
    runner: str = "local",
) -> dict[str, Any]:
    """``pipeline run --json`` in a child process: its JSON line, plus the wall clock."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--json"]
    command += ["--input", str(input_dir), "--output", str(output_dir)]
    command += ["--workers", str(workers), "--runner", runner]
    env = {**os.environ, **(extra_env or {})}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    # A run the gate refused still measured every stage: keep its figures (exit 1).
    refused = done.returncode == 1 and lines and '"validation_failed"' in lines[-1]
    if (done.returncode != 0 and not refused) or not lines:
        raise RuntimeError(f"pipeline run exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall_seconds"] = round(wall, 3)
    return result


def dedup_scores(corpus: Corpus, release: Path) -> dict[str, Any]:
    """Precision and recall of the release's document duplicates against the planted copies.

    A link (document → its ``duplicate_of``) is right when both come from one original; a
    planted copy is found when it and its original end in the same group.

    ``recall_jaccard_ge_0_8`` is the recall the target speaks of: over the copies whose
    word-shingle Jaccard with their original (dedup's own shingles, on the generated
    texts: the page chrome the writer adds is what cleaning removes) is at least 0.8.
    ``recall_edit_rate_le_10pct`` is kept for comparison with earlier runs.
    """
    docs = pq.read_table(
        release / "documents.parquet", columns=["doc_id", "source_path", "duplicate_of"]
    ).to_pydict()
    index = {d: _index(p) for d, p in zip(docs["doc_id"], docs["source_path"], strict=True)}
    group = {
        index[d]: index[c]
        for d, c in zip(docs["doc_id"], docs["duplicate_of"], strict=True)
        if c is not None
    }
    family, kind = corpus.family, corpus.kind
    originals = {f: i for i, (f, k) in enumerate(zip(family, kind, strict=True)) if k == "original"}
    links = list(group.items())
    right = sum(family[a] == family[b] for a, b in links)

    def recall(chosen: Sequence[int]) -> float | None:
        found = sum(
            group.get(i, i) == group.get(originals[family[i]], originals[family[i]]) for i in chosen
        )
        return round(found / len(chosen), 4) if chosen else None

    copies = [i for i, k in enumerate(kind) if k != "original"]
    similar = [i for i in copies if corpus.edit_rate[i] <= 0.10]
    close = [
        i for i in copies if copy_similarity(corpus, i, originals[family[i]]) >= TARGET_SIMILARITY
    ]
    return {
        "planted": len(copies),
        "planted_jaccard_ge_0_8": len(close),
        "links": len(links),
        "precision": round(right / len(links), 4) if links else None,
        "recall": recall(copies),
        "recall_jaccard_ge_0_8": recall(close),
        "recall_edit_rate_le_10pct": recall(similar),
    }


TARGET_SIMILARITY = 0.8  # the dedup target: copies at least this similar


def copy_similarity(corpus: Corpus, copy: int, original: int) -> float:
    """Word-shingle Jaccard of two texts of the corpus, as dedup measures it."""
    k = MinHashParams().shingle
    return jaccard(shingle_set(corpus.texts[copy], k), shingle_set(corpus.texts[original], k))


def _index(source_path: str) -> int:
    return int(Path(source_path).stem.removeprefix("doc-"))


def bench_run(
    input_dir: Path,
    *,
    docs: int = 1000,
    seed: int = 0,
    mode: str = "full",
    change_fraction: float = 0.01,
    workers: int = 2,
    work_dir: Path | None = None,
    runner: str = "local",
) -> dict[str, Any]:
    """Build the corpus, run the pipeline (and rerun it in ``noop``/``change`` mode)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-", dir=work_dir) as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        corpus = corpus_from(input_dir, docs, seed)
        size = write_corpus(corpus, root / "input", seed)
        build_seconds = time.perf_counter() - started
        full = run_pipeline(root / "input", root / "output", workers, runner=runner)
        report: dict[str, Any] = {
            "bench": "run",
            "mode": mode,
            "seed": seed,
            "documents": docs,
            "mb": round(size / 1_000_000, 3),
            "workers": workers,
            "runner": runner,
            "corpus_build_seconds": round(build_seconds, 3),
            "full": _figures(full, docs, size),
            "dedup": dedup_scores(corpus, Path(full["path"])),
        }
        if full.get("status") != "published":
            report["reruns_skipped"] = f"the full run did not publish: {done_reason(full)}"
        for rerun_mode in _RERUNS[mode] if full.get("status") == "published" else ():
            changed, added = [], []
            if rerun_mode == "change":
                changed = change_documents(root / "input", docs, change_fraction, seed)
            if rerun_mode == "add":
                added = add_documents(root / "input", input_dir, docs, change_fraction, seed)
            rerun = run_pipeline(root / "input", root / "output", workers, runner=runner)
            figures = {
                "changed_documents": len(changed),
                "added_documents": len(added),
                **_figures(rerun, docs, size),
            }
            figures["share_of_full"] = round(
                figures["seconds"] / max(report["full"]["seconds"], 1e-9), 4
            )
            # One rerun keeps the short names scripts already read; "all" names each.
            key = "rerun" if len(_RERUNS[mode]) == 1 else rerun_mode
            report[key] = figures
            if key == "rerun":
                report["rerun_share_of_full"] = figures["share_of_full"]
        return report


def done_reason(result: dict[str, Any]) -> str:
    return f"status {result.get('status')}, report under {result.get('path')}"


def _figures(result: dict[str, Any], docs: int, size: int) -> dict[str, Any]:
    seconds = float(result["wall_seconds"])
    return {
        "status": result.get("status"),
        "seconds": round(seconds, 3),
        "docs_per_second": round(docs / seconds, 1) if seconds else None,
        "mb_per_second": round(size / 1_000_000 / seconds, 3) if seconds else None,
        "stages": result.get("stages", {}),
        "peak_rss_mb": result.get("peak_rss_mb"),
    }
