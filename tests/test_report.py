"""geo.report and `geo report`: one self-contained, escaped HTML report with provenance and commands."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pandas as pd
import pytest

import geo.viz as gv
from geo.errors import SchemaError
from geo.report import HTMLPage, build_report

EVIL = "<script>alert(1)</script>"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    return p


@dataclass(frozen=True)
class _Result:
    """Stands in for a geo result object (summary + to_frame), e.g. a Moran or Durbin result."""

    def summary(self) -> str:
        return f"Moran's I = 0.42 for {EVIL}"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"Ii": [0.5, -0.1]}, index=pd.Index([EVIL, "110000"], name="adcode"))


class _OnlyHTML:
    def to_html(self):
        return "<p>hi</p><script>parent.document.title='pwned'</script>"


@pytest.fixture(scope="module")
def small_map(columbus):
    units = columbus.set_crs("EPSG:4326", allow_override=True)
    return gv.choropleth(units, "CRIME", title="Crime")


def test_report_bundles_maps_tables_and_provenance(small_map):
    table = pd.DataFrame({"name": [EVIL, "北京市"], "gdp": [1.5, 2.25]}, index=["1", "2"])
    page = build_report(
        [("Crime map", small_map), ("Moran", _Result()), ("GDP", table), {"n": 337, "units": [{"id": EVIL}]},
         "A paragraph with " + EVIL, ("Foreign", _OnlyHTML())],
        title="Report " + EVIL,
        provenance={"synthetic": True, "sources": ["layers/demo_panel_synthetic.csv", EVIL]},
        commands=["geo map choropleth --data x.csv --var 'a<b' --out m.html"],
        generated="2026-01-01",
    )
    assert EVIL not in page
    doc = parse(page)
    tags = [t for t, _ in doc.tags]
    assert tags.count("script") == 0  # the report's own page runs no script; maps live in iframes
    assert not [a for t, a in doc.tags if a.get("src") or (t == "link" and a.get("href"))]  # nothing fetched
    text = "".join(doc.text)
    assert "Synthetic data" in text and EVIL in text  # shown as text
    assert "--var 'a<b'" in text and "北京市" in text and "Moran's I = 0.42" in text
    frames = [a for t, a in doc.tags if t == "iframe"]
    assert len(frames) == 2
    assert frames[0]["srcdoc"] == small_map.to_html()  # the map, whole, inside srcdoc
    # foreign HTML cannot run scripts; geo's map runs its own in an opaque origin (no allow-same-origin)
    assert frames[1]["sandbox"] == "" and frames[0]["sandbox"] == "allow-scripts"
    assert re.search(r"<title>Report &lt;script&gt;", page)


def test_report_is_deterministic_with_a_fixed_timestamp(small_map):
    args = dict(title="t", provenance={"synthetic": False, "sources": "NBS yearbooks"}, commands=["geo x"], generated="g")
    assert build_report([small_map], **args) == build_report([small_map], **args)
    assert "Real data" in build_report([small_map], **args)


def test_provenance_not_stated_is_said(small_map):
    page = build_report(["text"], title="t", provenance="where it came from")
    assert "was not stated" in page and "where it came from" in page


def test_bad_sections_and_provenance_raise(small_map):
    with pytest.raises(SchemaError, match="cannot be shown"):
        build_report([object()], title="t", provenance={"synthetic": True})
    with pytest.raises(SchemaError, match="true or false"):
        build_report([], title="t", provenance={"synthetic": "yes"})


def test_htmlpage_escapes_attribute():
    snip = HTMLPage('<p title="x">a & b</p>', title='"q"').snippet()
    m = re.search(r'srcdoc="([^"]*)"', snip)
    assert html.unescape(m.group(1)) == '<p title="x">a & b</p>' and 'title="&quot;q&quot;"' in snip


def test_cli_report_from_results_folder(tmp_path, capsys, small_map):
    from geo.cli import main

    run = tmp_path / "run"
    run.mkdir()
    small_map.save(run / "01_crime.html")
    (run / "02_moran.json").write_text(json.dumps({"statistic": "moran", "I": 0.42, "variable": EVIL}), encoding="utf-8")
    pd.DataFrame({"adcode": ["110000"], "effect": [0.1]}).to_csv(run / "03_effects.csv", index=False)
    (run / "provenance.json").write_text(json.dumps({"synthetic": True, "title": "Demo run", "sources": ["demo"]}))
    (run / "commands.txt").write_text("geo map choropleth --out run/01_crime.html\ngeo moran --json > run/02_moran.json\n")
    (run / "notes.md").write_text("ignored")
    out = tmp_path / "report.html"  # not inside --results: geo refuses an output in a folder it reads whole
    rc = main(["report", "--results", str(run), "--out", str(out), "--json"])
    assert rc == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out)
    assert info["sections"] == ["01_crime.html", "02_moran.json", "03_effects.csv"]
    page = out.read_text(encoding="utf-8")
    assert "<title>Demo run</title>" in page and "Synthetic data" in page and EVIL not in page
    assert "geo moran --json &gt; run/02_moran.json" in page
    assert [t for t, _ in parse(page).tags].count("iframe") == 1
    # running again replaces the report
    rc = main(["report", "--results", str(run), "--out", str(out), "--real", "--json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["sections"] == info["sections"]
    assert "Real data" in out.read_text(encoding="utf-8")


def test_cli_report_errors(tmp_path, capsys):
    from geo.cli import main

    res = tmp_path / "res"
    res.mkdir()
    rc = main(["report", "--results", str(res), "--out", str(tmp_path / "r.html")])
    assert rc == 2 and "no *.html, *.png, *.svg, *.json or *.csv" in capsys.readouterr().err
    (res / "bad.json").write_text("{not json")
    rc = main(["report", "--results", str(res), "--out", str(tmp_path / "r.html")])
    assert rc == 2 and "bad.json: not valid JSON" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_cli_report_non_utf8_page_is_skipped_and_listed(tmp_path, capsys):
    from geo.cli import main

    res = tmp_path / "res"
    res.mkdir()
    (res / "map.html").write_bytes("<html>北京</html>".encode("gbk"))
    rc = main(["report", "--results", str(res), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1 and "no *.html" in err
    assert not (tmp_path / "r.html").exists()
    (res / "x.json").write_text('{"a": 1}', encoding="utf-8")
    rc = main(["report", "--results", str(res), "--out", str(tmp_path / "r.html"), "--json"])
    info = json.loads(capsys.readouterr().out)
    assert rc == 0 and info["skipped"] == ["map.html"] and info["sections"] == ["x.json"]
    assert "map.html" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_report_shows_the_ring_spatial_did(tmp_path, capsys):
    """The default spatial DID (rings) has direct/indirect per ring and LeSage-Pace impacts, no 'total': the
    report shows both tables (it used to skip them, expecting the queen model's shape)."""
    from pathlib import Path

    from geo.cli import main

    demo = Path(__file__).resolve().parents[1] / "layers" / "demo_panel_synthetic.csv"
    assert main(["radiation", "--data", str(demo), "--y", "log_gdp_pc_synthetic", "--spatial", "--draws", "99",
                 "--inference", "cluster", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    sd = js["spatial_did"]
    assert "total" not in sd and set(sd["indirect"]) >= {"100-200 km", "200-300 km"}
    res = tmp_path / "res"
    res.mkdir()
    (res / "radiation.json").write_text(json.dumps(js), encoding="utf-8")
    assert main(["report", "--results", str(res), "--out", str(tmp_path / "r.html"), "--synthetic"]) == 0
    text = re.sub(r"<[^>]+>", " ", (tmp_path / "r.html").read_text(encoding="utf-8"))
    text = html.unescape(text)
    assert "direct (host units)" in text and "indirect (200-300 km)" in text and "LeSage-Pace impacts" in text
    row = re.search(r"indirect \(200-300 km\)\s+(-?[0-9.]+)", text)
    assert row and float(row.group(1)) == pytest.approx(sd["indirect"]["200-300 km"]["estimate"], abs=1e-3)
