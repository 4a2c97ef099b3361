"""Plots for papers from results' JSON: the drawn points are the JSON's numbers, the Moran scatter's slope is
Moran's I, exports open with the requested size, and --lang zh writes no English labels."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from geo.errors import SchemaError
from geo.figures import plots

SVG = "{http://www.w3.org/2000/svg}"


def _radiation():
    coefs = []
    for band, effect in (("host", 0.13), ("0-100 km", 0.07), ("100-200 km", 0.03)):
        for rt in (-3, -2, 0, 1, 2):
            est = effect if rt >= 0 else 0.001 * rt
            coefs.append({"band": band, "rel_time": rt, "estimate": est, "se": 0.01,
                          "ci_lower": est - 0.02, "ci_upper": est + 0.02, "p": 0.5})
    bands = [
        {"band": "host", "lower_km": 0.0, "upper_km": 0.0, "estimate": 0.13, "se": 0.005, "p": 1e-9,
         "ci_lower": 0.12, "ci_upper": 0.14},
        {"band": "0-100 km", "lower_km": 0.0, "upper_km": 100.0, "estimate": 0.07, "se": 0.006, "p": 1e-9,
         "ci_lower": 0.058, "ci_upper": 0.082},
        {"band": "100-200 km", "lower_km": 100.0, "upper_km": 200.0, "estimate": 0.03, "se": 0.003, "p": 1e-9},
    ]
    return {"y": "y", "bands": bands,
            "event_study": {"y": "y", "reference_period": -1, "level": 0.95, "coefficients": coefs}}


def _texts(svg: str) -> str:
    return " ".join("".join(e.itertext()) for e in ET.fromstring(svg).iter(f"{SVG}text"))


def test_event_study_draws_every_ring_with_the_reference_at_zero(tmp_path):
    p = plots.event_study_plot(_radiation())
    assert p.series == ("host", "0-100 km", "100-200 km")
    ax = p.figure.axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("host", "0-100 km", "100-200 km")]
    assert len(lines) == 3
    host = lines[0]
    x, y = host.get_xdata(), host.get_ydata()
    # 5 estimates + the reference period (-1) at 0, in event-time order, dodged by less than 0.1
    assert len(x) == 6 and np.allclose(np.round(x), [-3, -2, -1, 0, 1, 2])
    assert y[2] == 0.0 and y[3] == pytest.approx(0.13)
    assert len(ax.collections) >= 3  # one confidence band per ring
    out = p.save(tmp_path / "es.svg")
    text = _texts(out.read_text(encoding="utf-8"))
    assert "Event time" in text and "95% confidence band" in text


def test_decay_points_are_band_midpoints(tmp_path):
    p = plots.decay_plot(_radiation())
    line = p.figure.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [0.0, 50.0, 150.0]
    assert list(line.get_ydata()) == [0.13, 0.07, 0.03]
    from PIL import Image

    out = p.save(tmp_path / "d.png", dpi=100)
    with Image.open(out) as im:
        assert im.size == (int(14 / 2.54 * 100), int(9 / 2.54 * 100))


def test_moran_scatter_slope_is_morans_i(china):
    from geo import autocorr

    rng = np.random.default_rng(4)
    cent = china.to_crs("EPSG:3857").geometry.centroid
    y = pd.Series(cent.y.to_numpy() / 1e6 + rng.normal(size=len(china)), index=china.index, name="y")
    frame = china.assign(y=y)
    lisa = autocorr.local_moran(frame, "y", weights="queen", permutations=99, seed=2)
    moran = autocorr.moran(frame, "y", weights="queen", permutations=0)
    p = plots.moran_scatter(lisa)
    assert float(p.series[0].split("=")[1]) == pytest.approx(moran.I, abs=5e-7)
    labels = [t.get_label() for t in p.figure.axes[0].collections]
    assert any(lab.startswith("High-High") for lab in labels)


def test_impacts_whiskers_use_the_json_interval():
    res = {"impacts": {"x": {k: {"estimate": 1.0, "se": 0.1, "lower": 0.7, "upper": 1.5}
                             for k in ("direct", "indirect", "total")}}}
    p = plots.impacts_plot(res)
    ax = p.figure.axes[0]
    seg = ax.collections[0].get_segments()[0]
    assert seg[0][0] == pytest.approx(0.7) and seg[1][0] == pytest.approx(1.5)


def test_zh_labels_and_pdf(tmp_path):
    for p in (plots.event_study_plot(_radiation(), lang="zh"), plots.decay_plot(_radiation(), lang="zh")):
        svg = p.save(tmp_path / f"{p.kind}.svg").read_text(encoding="utf-8")
        text = _texts(svg)
        for word in ("Event", "Distance", "Effect", "host", "km", "confidence"):
            assert word not in text, (p.kind, word)
        assert "千米" in text
        pdf = p.save(tmp_path / f"{p.kind}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf


def test_bad_json_is_a_schema_error():
    with pytest.raises(SchemaError):
        plots.decay_plot({"model": "sdm"})
    with pytest.raises(SchemaError):
        plots.event_study_plot({"event_study": {"coefficients": []}})
    with pytest.raises(SchemaError):
        plots.impacts_plot({"impacts": {"x": {"direct": {}}}})


def test_cli_figure(tmp_path, capsys):
    from geo.cli import main

    src = tmp_path / "rad.json"
    src.write_text(json.dumps(_radiation()), encoding="utf-8")
    out = tmp_path / "es.pdf"
    assert main(["figure", "event-study", "--from", str(src), "--out", str(out), "--size", "12x8cm"]) in (0, None)
    assert out.read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    assert main(["figure", "impacts", "--from", str(src), "--out", str(tmp_path / "i.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
