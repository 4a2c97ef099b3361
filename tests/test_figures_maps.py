"""Print maps (geo.figures): exports open with the requested size and dpi, the whole territory and the South
China Sea inset are drawn (polygons counted in the SVG, the nine-dash line's 10 parts in the inset), text
stays text, --lang zh writes no English UI words, and the CLI gives one-line errors."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from geo import figures
from geo.errors import OptionError
from geo.territory import nine_dash_line, territory
from geo.figures._style import cjk_font

SVG = "{http://www.w3.org/2000/svg}"


def _gaps(units, seed=5, share=0.25):
    rng = np.random.default_rng(seed)
    v = pd.Series(rng.lognormal(9, 0.5, len(units)), index=units.index, name="gdp")
    v.iloc[rng.choice(len(units), int(round(share * len(units))), replace=False)] = np.nan
    return v


def _groups(svg_text: str) -> dict[str, list]:
    """id -> list of elements with that id (matplotlib writes gid as the <g> id)."""
    root = ET.fromstring(svg_text)
    out: dict[str, list] = {}
    for el in root.iter():
        gid = el.get("id")
        if gid and gid.startswith("geo-"):
            out.setdefault(gid, []).append(el)
    return out


def _n_paths(el) -> int:
    return sum(1 for e in el.iter(f"{SVG}path"))


def _parts(geoms) -> int:
    return int(sum(len(g.geoms) if hasattr(g, "geoms") else 1 for g in geoms if g is not None and not g.is_empty))


@pytest.fixture(scope="module")
def gdp(china):
    return _gaps(china)


@pytest.fixture(scope="module")
def whole_svg(china, gdp, tmp_path_factory):
    pm = figures.choropleth_print(china, gdp, title="GDP <script>alert(1)</script>", credit="test & co")
    path = tmp_path_factory.mktemp("svg") / "map.svg"
    pm.save(path)
    return pm, path.read_text(encoding="utf-8")


def test_png_has_requested_size_and_dpi(china, gdp, tmp_path):
    from PIL import Image

    pm = figures.choropleth_print(china, gdp, size="16x12cm")
    out = pm.save(tmp_path / "m.png", dpi=150)
    with Image.open(out) as im:
        # matplotlib truncates: 16 cm at 150 dpi = 944.9 px -> 944
        assert im.size == (int(16 / 2.54 * 150), int(12 / 2.54 * 150))
        dpi = im.info["dpi"]
        assert abs(dpi[0] - 150) < 0.5 and abs(dpi[1] - 150) < 0.5


def test_pdf_page_size_and_embedded_truetype(china, gdp, tmp_path):
    pm = figures.choropleth_print(china, gdp, size="6.5x5in", lang="zh")
    data = pm.save(tmp_path / "m.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", data)
    assert box and abs(float(box.group(1)) - 6.5 * 72) < 0.5 and abs(float(box.group(2)) - 5 * 72) < 0.5
    assert b"/FontFile2" in data  # TrueType embedded (pdf.fonttype 42), text selectable
    assert b"/Subtype /Type3" not in data
    if cjk_font():
        assert cjk_font().replace(" ", "").encode() in data.replace(b" ", b"")


def test_whole_territory_polygons_are_all_drawn(china, gdp, whole_svg):
    pm, svg = whole_svg
    groups = _groups(svg)
    terr = territory()
    context = terr[~terr.index.isin(china.index)]
    assert pm.n_context == len(context) == 35  # Taiwan, HK, Macao and the 32 province-governed county-level units
    assert {"710000", "810000", "820000", "429004", "469005"} <= set(context.index)
    main_context, inset_context = groups["geo-context"]
    # every context unit is drawn in the main map (the islands of 三沙 belong to the data units)
    assert _n_paths(main_context) >= len(context)
    main_units = groups["geo-units"][0]
    main_nodata = groups["geo-nodata"][0]
    n_missing = int(gdp.isna().sum())
    assert pm.n_nodata == n_missing == 84
    # the units with data and without: at least one polygon each, in their own groups
    assert _n_paths(main_units) >= len(china) - n_missing
    assert _n_paths(main_nodata) >= n_missing
    assert "geo-provinces" in groups and "geo-nation" in groups


def test_inset_holds_the_nine_dash_line(whole_svg):
    pm, svg = whole_svg
    assert pm.inset
    groups = _groups(svg)
    (inset,) = groups["geo-inset"]
    dashes = [g for g in inset.iter() if g.get("id") == "geo-nine-dash"]
    assert len(dashes) == 1
    n_dash = _parts(nine_dash_line().geometry)
    assert n_dash == 10
    assert _n_paths(dashes[0]) == n_dash
    label = [g for g in inset.iter() if g.get("id") == "geo-inset-label"]
    assert label and "South China Sea Islands" in ET.tostring(label[0], encoding="unicode")


def test_text_is_text_and_user_text_escaped(whole_svg):
    _pm, svg = whole_svg
    root = ET.fromstring(svg)  # parses: the user's <script> is escaped
    texts = " ".join("".join(e.itertext()) for e in root.iter(f"{SVG}text"))
    assert "GDP <script>alert(1)</script>" in texts  # selectable text (svg.fonttype none), shown as typed
    assert "<script>" not in svg
    assert "test & co" in texts and "no data" in texts and "outside the analysis" in texts


def test_inset_none_and_regional_extent(china, gdp, tmp_path):
    off = figures.choropleth_print(china, gdp, inset="none")
    assert not off.inset
    svg = off.save(tmp_path / "a.svg").read_text(encoding="utf-8")
    assert "geo-inset" not in svg
    anhui = figures.choropleth_print(china, gdp, extent="province:34")
    assert not anhui.inset and anhui.extent is not None
    on = figures.choropleth_print(china, gdp, extent="province:34", inset="on")
    assert on.inset
    zone = figures.choropleth_print(china, gdp, extent="zone:合肥:300km")
    x0, y0, x1, y1 = zone.extent
    assert abs((x1 - x0) - 600_000) < 1 and abs((y1 - y0) - 600_000) < 1
    svg = zone.save(tmp_path / "z.svg").read_text(encoding="utf-8")
    # clipped to the view: far fewer unit polygons than the whole map
    assert _n_paths(_groups(svg)["geo-units"][0]) < 200


@pytest.mark.parametrize("kind", ["lisa", "spillover", "radiation", "scenario"])
def test_every_kind_with_missing_units(kind, china, gdp, tmp_path):
    from geo import radiation, zones
    from geo.autocorr import local_moran

    if kind == "lisa":
        frame = china.assign(y=np.log(gdp))
        lisa = local_moran(frame.dropna(subset=["y"]), "y", weights="queen", permutations=99, seed=1)
        pm = figures.lisa_print(china, lisa, lang="zh")
        assert any(r.label == "高-高" for r in pm.legend)
    elif kind == "spillover":
        pm = figures.spillover_print(china, (gdp - gdp.mean()) / 1e4, zones=["410100"], lang="zh")
    elif kind == "radiation":
        z = zones.registry("new-zone")
        asg = radiation.assign_bands(china, zones=z, bands=(100, 200))
        bands = asg.to_frame()["band"].where(gdp.notna())
        pm = figures.radiation_print(china, values=bands, zones=z, rings=radiation.rings(z, bands=(100, 200)), lang="zh")
        assert any(r.label == "所在城市" for r in pm.legend)
    else:
        pm = figures.scenario_print(china, (gdp - gdp.mean()).rename("effect"), host="410100", lang="zh")
    nodata = [r for r in pm.legend if r.kind == "nodata"]
    assert nodata and nodata[0].count == int(gdp.isna().sum()) and nodata[0].label == "无数据"
    svg = pm.save(tmp_path / f"{kind}.svg").read_text(encoding="utf-8")
    texts = " ".join("".join(e.itertext()) for e in ET.fromstring(svg).iter(f"{SVG}text"))
    for word in ("no data", "High-High", "Not significant", "outside", "South China Sea", "host", "km", "Source",
                 "Boundaries", "Albers equal-area", "zone", "distance"):
        assert word not in texts, (kind, word)
    assert "南海诸岛" in texts and "北" in texts


def test_options_are_checked():
    from geo.figures import parse_size

    assert parse_size("16x12cm") == pytest.approx((16 / 2.54, 12 / 2.54))
    assert parse_size("160x120mm") == pytest.approx((16 / 2.54, 12 / 2.54))
    assert parse_size("6.5x5in") == (6.5, 5.0)
    for bad in ("16x12", "big", "0x1cm", "500x500in"):
        with pytest.raises(OptionError):
            parse_size(bad)
    from geo.figures._china import parse_extent

    for bad in ("province:99", "zone:nowhere:100km", "zone:合肥:far", "bbox:1,2,3", "bbox:10,10,5,5", "planet:x"):
        with pytest.raises(OptionError):
            parse_extent(bad)


def test_cli_print_maps(tmp_path, capsys):
    from geo.cli import main

    demo = "layers/demo_panel_synthetic.csv"
    out = tmp_path / "lisa.pdf"
    code = main(["map", "lisa", "--data", demo, "--var", "log_gdp_pc_synthetic", "--year", "2023", "--out", str(out),
                 "--lang", "zh", "--review-number", "GS(2024)0650号", "--permutations", "99", "--seed", "1"])
    assert code in (0, None) and out.read_bytes().startswith(b"%PDF")
    capsys.readouterr()
    code = main(["map", "choropleth", "--data", demo, "--var", "gdp_pc_synthetic", "--year", "2020",
                 "--out", str(tmp_path / "c.png"), "--size", "10x8"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:") and "10x8cm" in err[0]
    code = main(["map", "choropleth", "--data", demo, "--var", "gdp_pc_synthetic", "--year", "2020",
                 "--out", str(tmp_path / "c.png"), "--extent", "zone:nowhere:100km"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "nowhere" in err[0]
    assert not (tmp_path / "c.png").exists()


def test_same_input_same_svg_bytes(china, gdp, tmp_path):
    a = figures.choropleth_print(china, gdp).save(tmp_path / "a.svg").read_bytes()
    b = figures.choropleth_print(china, gdp).save(tmp_path / "b.svg").read_bytes()
    assert a == b


def test_user_boundaries_without_china_context(columbus, tmp_path):
    col = columbus.set_crs("EPSG:4326", allow_override=True)
    values = pd.Series(np.arange(len(col), dtype=float), index=col.index)
    values.iloc[:5] = np.nan
    pm = figures.choropleth_print(col, values)
    assert pm.n_context == 0 and not pm.inset and pm.n_nodata == 5
    with pytest.raises(OptionError):
        figures.choropleth_print(col, values, extent="province:34")
