"""The same input and code give the same tables in any process.

Python salts string hashes per process, so anything that follows a set's or a dict of
sets' iteration order (a float summed in set order, rows emitted from a set) can differ
between two runs of one input. Two processes with different hash seeds must agree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.bench_run import write_corpus
from pipeline.dedup.synthetic import corpus_from
from pipeline.schemas import TABLES

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

_BUILD = """
import sys
from pathlib import Path
import pyarrow.parquet as pq
from pipeline.plan import make_plan
from pipeline.settings import Settings
from pipeline.stages import assemble, count_short_lines, process_batch, repeated_from_counts

inputs, out = Path(sys.argv[1]), Path(sys.argv[2])
plan = make_plan(Settings(inputs, out / "output", batch_size=60))
batches = plan.batches()
repeated = repeated_from_counts([count_short_lines(plan, b) for b in batches])
for name, table in assemble([process_batch(plan, b, repeated) for b in batches]).items():
    pq.write_table(table, out / f"{name}.parquet")
"""


def test_two_hash_seeds_build_the_same_tables(tmp_path: Path) -> None:
    inputs = tmp_path / "input"
    write_corpus(corpus_from(SEEDS, 150, 3), inputs, 3)
    for seed_file in SEEDS.iterdir():
        (inputs / seed_file.name).write_bytes(seed_file.read_bytes())
    runs = {}
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash-seed-{hash_seed}"
        out.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [sys.executable, "-c", _BUILD, str(inputs), str(out)]
        runs[out] = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    for process in runs.values():
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-2000:]
    first, second = runs
    for name in TABLES:
        a, b = pq.read_table(first / f"{name}.parquet"), pq.read_table(second / f"{name}.parquet")
        assert a.num_rows == b.num_rows and a.equals(b), name
    assert pq.read_table(first / "claims.parquet").num_rows > 100
