"""notebooks/explore_results.ipynb: committed without outputs, and runs against a small results tree."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
from helpers.report_inputs import parallel_inputs
from nbclient import NotebookClient
from PIL import Image

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore_results.ipynb"


def test_committed_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert any("parameters" in c["metadata"].get("tags", []) for c in code)


def test_notebook_runs_on_fixture_results(tmp_path):
    inp = parallel_inputs()
    study = inp["study"].id
    tables = tmp_path / "out" / study / "tables"
    processed = tmp_path / "processed" / study
    tables.mkdir(parents=True)
    processed.mkdir(parents=True)
    inp["results"].to_csv(tables / "results.csv", index=False, float_format="%.10g")
    inp["analysis"].to_parquet(processed / "analysis.parquet", index=False)
    inp["outcomes"].to_parquet(processed / "outcomes.parquet", index=False)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    # what papermill would inject: a cell after the parameters cell that overrides them
    injected = nbformat.v4.new_code_cell(
        f'study = "{study}"\nresults_dir = "out"\nprocessed_dir = "processed"\noutcome = "tug_time"'
    )
    nb.cells.insert(nb.cells.index(params) + 1, injected)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert (
        f"{study}: {len(inp['results'])} result rows; outcome 'tug_time' = Timed Up and Go (s, lower = better)"
        in printed
    )
    pngs = [
        o["data"]["image/png"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(pngs) == 1
    image = Image.open(io.BytesIO(base64.b64decode(pngs[0])))
    assert image.width > 100 and len(image.convert("RGB").getcolors(1 << 20)) > 10
    tables_html = [
        o["data"].get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "data" in o
    ]
    assert any("ancova" in h for h in tables_html)
