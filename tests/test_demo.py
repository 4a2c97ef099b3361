"""The main job (README command 1) end to end, with fewer draws and permutations."""

import json
import re

import pytest

from geo.cli import main


@pytest.mark.slow
def test_demo_writes_the_gallery(tmp_path, capsys):
    out = tmp_path / "gallery"
    rc = main(["demo", "--out", str(out), "--draws", "100", "--permutations", "99", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    files = json.loads(captured.out)["files"]
    for name in ("choropleth.html", "choropleth_years.html", "lisa.html", "spillover.html", "radiation.html", "report.html"):
        assert name in files
        html = (out / name).read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=[\"']https?:", html), name  # nothing loaded from a CDN
        assert not re.search(r"<link[^>]+href=[\"']https?:", html), name
    # publication outputs: print maps (PNG and PDF), figures, the multi-model table, the Word report
    for name in ("choropleth.png", "lisa.pdf", "spillover.png", "radiation.pdf", "event_study.png", "distance_decay.pdf",
                 "models_table.docx", "models_table.tex", "report.docx"):
        assert name in files, name
    for name in ("sdm.json", "moran_by_year.json", "radiation.json", "scenario.json", "join_report.json"):
        assert json.loads((out / "results" / name).read_text(encoding="utf-8"))
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in report.upper() and "geo demo --out maps" in report
    assert "SYNTHETIC" in (out / "choropleth.html").read_text(encoding="utf-8")
    join = json.loads((out / "results" / "join_report.json").read_text(encoding="utf-8"))
    assert join["matched"] == 8088 and join["unmatched"] == []
    sdm = json.loads((out / "results" / "sdm.json").read_text(encoding="utf-8"))
    assert sdm["model"] == "sdm" and sdm["effects"] == "twoways" and sdm["n"] == 337 and sdm["t"] == 24
    # geo compare in the main job: 3 weights x 3 forms, posterior probabilities summing to 1, its table and section
    cmp = json.loads((out / "results" / "compare.json").read_text(encoding="utf-8"))
    assert [(f["weights"], f["model"]) for f in cmp["fits"]] == [
        (w, m) for w in ("queen", "knn:6", "distance:200km") for m in ("sdm", "sar", "sem")]
    assert sum(f["posterior_probability"] for f in cmp["fits"]) == pytest.approx(1.0, abs=1e-12)
    queen_sdm = cmp["fits"][0]
    assert queen_sdm["loglik"] == pytest.approx(sdm["loglik"], rel=1e-10)  # the same fit as the SDM of the demo
    assert queen_sdm["rho"]["estimate"] == pytest.approx(sdm["rho"]["estimate"], rel=1e-8)
    assert len(cmp["lr_tests"]) == 6 and all(0 <= t["p"] <= 1 for t in cmp["lr_tests"])
    for name in ("compare_table.docx", "compare_table.tex", "compare_table.html", "compare_table.md"):
        assert name in files, name
    import docx

    tab = docx.Document(str(out / "compare_table.docx")).tables[0]
    assert len(tab.rows) == 10 and tab.cell(0, 0).text == "Weights" and tab.cell(1, 1).text == "SDM"
    assert tab.cell(1, 2).text == f"{queen_sdm['loglik']:,.1f}"
    assert "Choosing W and the model" in report and "Models and weights compared" in report
    assert "geo compare --data layers/demo_panel_synthetic.csv" in report
    word = "\n".join(p.text for p in docx.Document(str(out / "report.docx")).paragraphs)
    assert "Choosing W and the model" in word
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gallery")]  # no temp folder left


def test_demo_output_parent_missing(tmp_path, capsys):
    rc = main(["demo", "--out", str(tmp_path / "no" / "such")])
    assert rc == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_is_reproducible(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert main(["demo", "--out", str(out), "--draws", "50", "--permutations", "49", "--seed", "7"]) == 0
    capsys.readouterr()
    for f in sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
