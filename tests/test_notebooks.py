"""The three notebooks in notebooks/ run top to bottom (marker ``slow``) and are committed without outputs.

Each notebook is executed by nbclient in a fresh kernel of *this* interpreter: a kernelspec pointing at
``sys.executable`` is written into a temporary Jupyter data folder (``JUPYTER_PATH``), so the test works from a
fresh clone's ``.venv`` without touching the user's or the venv's Jupyter configuration.  The kernel's working
directory is a temporary folder, and the notebooks write their outputs to ``GEO_NOTEBOOK_OUT``; the test then
checks that the key outputs exist there, that they are what they claim to be (HTML pages that say the data are
synthetic, real PNG files), and that nothing was written into the working directory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL_NAME = "geo-notebook-test"
CELL_TIMEOUT = 600  # seconds per cell (the notebooks take well under a minute each)

#: notebook -> files it must write into its output folder
EXPECTED = {
    "choropleth_and_spillover_maps.ipynb": [
        "choropleth.html", "choropleth_years.html", "lisa.html", "spillover.html",
    ],
    "radiation_of_a_new_zone.ipynb": [
        "zones.html", "rings.html", "g60.html", "band_effects.html", "event_study.png", "scenario.html",
        "scenario.csv",
    ],
    "maps_in_reports.ipynb": [
        "choropleth.html", "choropleth.png", "article.html", "report.html", "report_cli.html",
        "sdm_table.tex", "sdm_table.html", "impacts.xlsx", "paper.tex",
    ],
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _notebook_paths():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_is_listed():
    assert sorted(p.name for p in _notebook_paths()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_committed_without_outputs(name):
    nb = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{name} has no code cells"
    for c in code:
        assert c["outputs"] == [], f"{name}: a code cell has outputs; clear them before committing"
        assert c["execution_count"] is None, f"{name}: a code cell has an execution count"
    source = nb["cells"][0]["source"]
    first = source if isinstance(source, str) else "".join(source)
    assert "SYNTHETIC" in first, f"{name}: the first cell must say the demo data are synthetic"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A Jupyter data folder holding one kernelspec that runs this interpreter's ipykernel."""
    from ipykernel.kernelspec import write_kernel_spec

    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(
        root / "kernels" / KERNEL_NAME,
        overrides={"display_name": "geo tests", "argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                                         "{connection_file}"]},
    )
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name, kernel_dir, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "work"
    out = tmp_path / "out"
    work.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("GEO_NOTEBOOK_OUT", str(out))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT, allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError naming the cell on any error

    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    assert list(work.iterdir()) == [], f"{name} wrote into its working directory: {list(work.iterdir())}"
    for fname in EXPECTED[name]:
        path = out / fname
        assert path.is_file() and path.stat().st_size > 0, f"{name} did not write {fname}"
        if fname.endswith(".png"):
            assert path.read_bytes()[:8] == PNG_MAGIC, f"{fname} is not a PNG"
        if fname.endswith(".html"):
            text = path.read_text(encoding="utf-8")
            assert "</html>" in text.lower() or "<table" in text, f"{fname} is not an HTML page or table"
            # every map/report of the synthetic panel says so (the registry and G60 maps show real data only)
            if fname not in ("zones.html", "rings.html", "g60.html"):
                assert "SYNTHETIC" in text.upper(), f"{fname} does not say the data are synthetic"
