"""The report for papers: figures embedded as images (pandoc and copy/paste keep them), interactive maps after
their image in sandboxed iframes, only pages geo wrote, results as tables and figures (no raw JSON), and a
Word version with real tables, pictures and captions, in Chinese with --lang zh."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

EVIL = "<script>alert(1)</script>"


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(page):
    p = _Tags()
    p.feed(page)
    return p.tags


def _sdm_json():
    coef = {"estimate": 0.78, "se": 0.02, "z": 39.0, "p": 0.0}
    return {"model": "sdm", "effects": "twoways", "n": 30, "t": 5, "y": "y", "coefficients": {"x": coef, "W_x": coef},
            "rho": {"estimate": 0.4, "se": 0.01, "z": 40.0, "p": 0.0}, "loglik": 10.0, "aic": -12.0,
            "aic_convention": "AIC = -2 logL + 2k",
            "impacts": {"x": {k: {"estimate": v, "se": 0.01, "p": 0.2, "lower": v - 0.1, "upper": v + 0.1}
                              for k, v in (("direct", 0.8), ("indirect", 1e-19), ("total", 0.8))}}}


def _radiation_json():
    bands = [{"band": "host", "lower_km": 0, "upper_km": 0, "estimate": 0.13, "se": 0.01, "p": 1e-9},
             {"band": "0-100 km", "lower_km": 0, "upper_km": 100, "estimate": 0.05, "se": 0.01, "p": 1e-4}]
    coefs = [{"band": b, "rel_time": r, "estimate": 0.01 * r, "se": 0.01, "ci_lower": 0.01 * r - 0.02,
              "ci_upper": 0.01 * r + 0.02} for b in ("host", "0-100 km") for r in (-2, 0, 1)]
    return {"y": "y", "method": "twfe", "estimator": "TWFE band DID", "bands": bands, "n_obs": 150, "n_units": 30,
            "synthetic_data": True, "event_study": {"coefficients": coefs, "reference_period": -1, "level": 0.95}}


@pytest.fixture()
def run(tmp_path, columbus):
    import geo.viz as gv

    col = columbus.set_crs("EPSG:4326", allow_override=True)
    folder = tmp_path / "run"
    folder.mkdir()
    values = pd.Series(np.arange(len(col), dtype=float), index=col.index)
    gv.choropleth(col, values, title="Crime").save(folder / "01_crime.html")
    from geo import figures

    figures.choropleth_print(col, values, title="Crime").save(folder / "01_crime.png", dpi=60)
    (folder / "02_sdm.json").write_text(json.dumps(_sdm_json()), encoding="utf-8")
    (folder / "03_radiation.json").write_text(json.dumps(_radiation_json()), encoding="utf-8")
    (folder / "04_foreign.html").write_text(f"<html><head></head><body>{EVIL}</body></html>", encoding="utf-8")
    (folder / "provenance.json").write_text(json.dumps({"synthetic": True, "title": f"Run {EVIL}"}), encoding="utf-8")
    return folder


def test_html_report_images_first_and_only_geo_pages(run, capsys):
    from geo.cli import main

    out = run.parent / "report.html"
    assert main(["report", "--results", str(run), "--out", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["skipped"] == ["04_foreign.html"]
    page = out.read_text(encoding="utf-8")
    tags = _tags(page)
    imgs = [a for t, a in tags if t == "img"]
    frames = [a for t, a in tags if t == "iframe"]
    # the print map + impacts + decay + event study: all embedded as data URIs
    assert len(imgs) == 4 and all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    assert len(frames) == 1 and frames[0]["sandbox"] == "allow-scripts"
    # the map's image comes before its interactive version
    assert page.index("data:image/png") < page.index("<iframe")
    assert EVIL not in page and "04_foreign.html" in page
    # no raw JSON: no key names, no 1e-19
    for raw in ("aic_convention", "e-19", '"estimate"', "lower_km"):
        assert raw not in page
    assert "Spatial Durbin model (panel): y" in page and "~0" in page and "Figure 2." in page
    assert '<meta name="generator" content="geo">' in page


def test_docx_report_tables_images_captions(run):
    import docx

    from geo.cli import main

    out = run.parent / "report.docx"
    assert main(["report", "--results", str(run), "--out", str(out)]) == 0
    d = docx.Document(str(out))
    # provenance box + coefficients + impacts + radiation table
    assert len(d.tables) == 4
    assert len(d.inline_shapes) == 4
    text = "\n".join(p.text for p in d.paragraphs)
    assert "Figure 1. Crime" in text and "Table 1. Coefficients" in text
    box = d.tables[0].cell(0, 0).text
    assert "Synthetic data" in box
    assert d.core_properties.title == f"Run {EVIL}"  # user text as text
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "Spatial Durbin model (panel): y" in headings and "Files not embedded" in headings


def test_docx_report_in_chinese(run):
    import docx

    from geo.cli import main

    out = run.parent / "report_zh.docx"
    assert main(["report", "--results", str(run), "--out", str(out), "--lang", "zh"]) == 0
    d = docx.Document(str(out))
    words = "\n".join(p.text for p in d.paragraphs) + "\n".join(c.text for t in d.tables for r in t.rows for c in r.cells)
    for en in ("Figure", "Table ", "Synthetic data", "Variable", "Direct", "Observations", "Files not embedded",
               "Standard errors", "interactive map"):
        assert en not in words, en
    assert "模拟数据" in words and "图 1" in words and "表 1" in words and "直接效应" in words


def test_map_pages_carry_the_marker(columbus):
    import geo.viz as gv
    from geo.report import is_geo_page

    col = columbus.set_crs("EPSG:4326", allow_override=True)
    page = gv.choropleth(col, pd.Series(1.0, index=col.index)).to_html()
    assert is_geo_page(page) and page.count('content="geo"') == 1
    assert not is_geo_page("<html><head></head><body><meta name=\"generator\" content=\"geo\"></body></html>")
    assert re.search(r"<head>\s*<meta", page)


def test_html_report_in_chinese_has_no_english_labels(run):
    from geo.cli import main

    out = run.parent / "report_zh.html"
    assert main(["report", "--results", str(run), "--out", str(out), "--lang", "zh"]) == 0
    page = out.read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S))
    text = re.sub(r"srcdoc=\"[^\"]*\"", " ", text)
    for en in ("Figure ", "Synthetic data", "Variable", "Direct", "Observations", "Files not embedded",
               "Standard errors", "Interactive map", "generated"):
        assert en not in text, en
    assert "图 1" in text and "模拟数据" in text and "交互地图" in text and 'lang="zh-CN"' in page
