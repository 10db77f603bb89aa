"""The run plan's inputs are opaque to Prefect's parameter walks and survive pickling."""

from __future__ import annotations

import pickle

from prefect.utilities.collections import visit_collection

from pipeline.publish.fingerprint import InputRecord
from pipeline.stages import Inputs


def _records(n: int) -> list[InputRecord]:
    return [InputRecord(f"doc-{i:05d}.txt", f"{i:064x}", i) for i in range(n)]


def test_prefect_does_not_walk_the_input_records() -> None:
    visited: list[object] = []
    inputs = Inputs(_records(1000))
    visit_collection({"inputs": inputs}, visited.append, return_data=False)
    assert not any(isinstance(v, InputRecord) for v in visited)  # a list would give 1,000


def test_inputs_behave_as_a_sequence_and_pickle() -> None:
    records = _records(5)
    inputs = Inputs(records)
    assert list(inputs) == records and len(inputs) == 5 and inputs[1:3] == tuple(records[1:3])
    assert inputs.sha256_of()["doc-00002.txt"] == records[2].sha256
    copy = pickle.loads(pickle.dumps(inputs))
    assert copy == inputs and hash(copy) == hash(inputs)
    assert copy.sha256_of() == inputs.sha256_of()
