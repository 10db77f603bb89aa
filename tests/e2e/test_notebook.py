"""notebooks/explore.ipynb runs as written against a release of seeds/."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

NOTEBOOK = PROJECT_ROOT / "notebooks" / "explore.ipynb"


def test_the_stored_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_the_notebook_runs_and_draws_its_chart(
    seeds_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel must be this interpreter (the venv's, where pipeline is installed):
    # jupyter_client starts the "python3" kernelspec with sys.executable
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    monkeypatch.setenv("PIPELINE_OUTPUT", str(seeds_release))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # Jupyter's working folder
    )
    client.execute()  # raises CellExecutionError naming the cell when one fails

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no chart drawn"
    marked = [
        o.data["text/html"] for o in outputs if "<mark>" in o.get("data", {}).get("text/html", "")
    ]
    assert len(marked) == 1 and "<blockquote>" in marked[0]
    assert notebook.cells[-1].outputs[0].text.strip() == sys.executable
