"""Executes every notebook headless at the quick scale, in temporary
directories, with the debug binary: a notebook whose cells raise (a failed
NumPy cross-check is an assertion) fails the test."""
import os
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, infoplane, tmp_path, monkeypatch):
    monkeypatch.setenv("INFOPLANE", infoplane)
    monkeypatch.setenv("INFOPLANE_SCALE", "quick")
    monkeypatch.setenv("INFOPLANE_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("INFOPLANE_FIGURES", str(tmp_path / "figures"))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
