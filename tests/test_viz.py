"""geo.viz: offline, small, escaped, deterministic maps whose legends say what mapclassify computed."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import shapely

import geo.viz as gv
from geo.errors import GeoError, InputError, JoinError, OptionError, SchemaError

EVIL_NAME = "<script>alert(1)</script>"
EVIL_TITLE = '<img src=x onerror="alert(2)"> {{ 7*7 }} {% if 1 %}x{% endif %}'


# ------------------------------------------------------------------ helpers


class _Resources(HTMLParser):
    """Every external resource a page would fetch: <script src>, <link href>, <img src>, <iframe src>."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if tag in ("script", "link", "img", "iframe", "source", "embed") and a.get(key):
                self.urls.append(a[key])


def resources(page: str) -> tuple[list[str], int]:
    p = _Resources()
    p.feed(page)
    css_urls = re.findall(r"url\((['\"]?)(https?:|//)", page) + re.findall(r"@import", page)
    return p.urls + [str(u) for u in css_urls], p.scripts


def legend_uppers(page: str) -> list[float]:
    """The data-upper attributes of the legend rows (the legend markup is a JSON string in the page)."""
    return [float(v) for v in re.findall(r'data-upper=\\"([^\\"]+)\\"', page)]


def values_for(units, seed=0, missing=5):
    rng = np.random.default_rng(seed)
    v = pd.Series(rng.lognormal(9, 0.8, len(units)), index=units.index, name="gdp_pc")
    v.iloc[:missing] = np.nan
    return v


@pytest.fixture(scope="module")
def col(columbus):
    """Columbus with its coordinates declared as degrees (they are small planar numbers; fine for drawing)."""
    return columbus.set_crs("EPSG:4326", allow_override=True)


@pytest.fixture(scope="module")
def china_map(china):
    values = values_for(china)
    result = gv.choropleth(china, values, title="GDP per person", units_label="yuan")
    return result, values, result.to_html()


# ------------------------------------------------------------------ offline and small


def test_choropleth_requests_nothing_and_inlines_leaflet(china_map):
    _, _, page = china_map
    urls, scripts = resources(page)
    assert urls == []
    assert "Leaflet 1.9.4" in page  # the pinned copy, inlined
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page and "bootstrapcdn" not in page
    assert scripts >= 3


def test_tiles_are_the_only_network_option(col):
    page = gv.choropleth(col, "CRIME", tiles=True).to_html()
    assert "tile.openstreetmap.org" in page  # the tile template: requested only because tiles=True
    urls, _ = resources(page)
    assert urls == []  # still no script/css from a CDN


def test_china_choropleth_under_one_megabyte(china_map):
    _, _, page = china_map
    size = len(page.encode("utf-8"))
    assert size <= 1_000_000, size


def test_same_input_same_bytes(china, china_map):
    _, values, page = china_map
    again = gv.choropleth(china, values, title="GDP per person", units_label="yuan").to_html()
    assert again == page
    assert not re.search(r"[0-9a-f]{32}", page.split("</script>", 3)[-1])  # no folium random ids left


# ------------------------------------------------------------------ simplification


def _rook_pairs(geoms) -> set:
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.intersection(geoms[a], geoms[b])
    length = shapely.length(shapely.boundary(shared)) + shapely.length(shared)
    edge = shapely.get_dimensions(shared) >= 1
    return {(int(i), int(j)) for i, j, e, n in zip(a, b, edge, length) if e and n > 0}


def test_simplification_keeps_the_coverage(china):
    web = gv.web_geometry(china)
    geoms = web.geometry.to_numpy()
    assert web.method == "coverage"
    assert web.vertices_out < web.vertices_in / 3
    assert shapely.coverage_is_valid(geoms)  # no overlaps, shared edges identical on both sides
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    # every pair of units sharing an edge still shares one (no gaps opened between neighbours)
    assert _rook_pairs(china.geometry.to_numpy()) <= _rook_pairs(geoms)
    # coordinates are on the rounding grid
    coords = shapely.get_coordinates(geoms) * 10**web.decimals
    assert np.abs(coords - np.rint(coords)).max() < 1e-6


def test_unit_by_unit_simplification_would_break_it(china):
    """The check above can fail: simplifying each unit on its own opens gaps and overlaps."""
    web = gv.web_geometry(china, simplify="each", tolerance=0.05)
    assert not shapely.coverage_is_valid(web.geometry.to_numpy())


def test_encoding_round_trips(col):
    web = gv.web_geometry(col, tolerance=0)
    enc = web.encoded()
    first = web.geometry.iloc[0]
    ring = np.cumsum(np.asarray(enc[0][0][0]).reshape(-1, 2), axis=0) / web.scale
    exterior = np.asarray(shapely.get_exterior_ring(shapely.get_geometry(first, 0)).coords)[:-1]
    np.testing.assert_allclose(ring, exterior, atol=0.5 / web.scale)


# ------------------------------------------------------------------ classification and legend


@pytest.mark.parametrize(
    "scheme, make",
    [
        ("quantiles", lambda y, k: __import__("mapclassify").Quantiles(y, k=k)),
        ("equal", lambda y, k: __import__("mapclassify").EqualInterval(y, k=k)),
        ("jenks", lambda y, k: __import__("mapclassify").FisherJenks(y, k=k)),
        ("breaks:5000,10000,20000", lambda y, k: __import__("mapclassify").UserDefined(y, bins=[5000, 10000, 20000])),
    ],
)
def test_legend_values_are_mapclassify_bins(col, scheme, make):
    values = values_for(col, seed=3)
    result = gv.choropleth(col, values, scheme=scheme, k=4)
    expected = make(values.dropna().to_numpy(), 4)
    np.testing.assert_array_equal(result.legend["bins"], expected.bins)
    np.testing.assert_array_equal(legend_uppers(result.to_html()), expected.bins)
    counts = [int(c) for c in re.findall(r'data-count=\\"(\d+)\\"', result.to_html())]
    assert counts == list(expected.counts)


def test_missing_values_are_shown_as_no_data(china_map):
    result, values, page = china_map
    assert result.legend["n_missing"] == int(values.isna().sum()) == 5
    assert 'data-nodata=\\"5\\"' in page and "no data  (5)" in page
    assert "url(#geo-hatch)" in page and 'id="geo-hatch"' in page
    assert "yuan" in result.legend["heading"] and "quantiles" in result.legend["scheme"]


def test_bad_options_raise_clear_errors(col):
    with pytest.raises(OptionError, match="scheme='bogus'"):
        gv.choropleth(col, "CRIME", scheme="bogus")
    with pytest.raises(OptionError, match="strictly increasing"):
        gv.choropleth(col, "CRIME", scheme="breaks:30,20")
    with pytest.raises(SchemaError, match="no column 'nope'"):
        gv.choropleth(col, "nope")
    with pytest.raises(JoinError, match="ids are text"):
        gv.choropleth(col, pd.Series([1.0, 2.0], index=[1, 2]))
    text = pd.Series("x", index=col.index, name="label")
    with pytest.raises(SchemaError, match="not a number"):
        gv.choropleth(col, text)


def test_inputs_are_not_modified(col):
    before = col.copy()
    gv.choropleth(col, "CRIME")
    pd.testing.assert_frame_equal(col, before)


# ------------------------------------------------------------------ escaping


def test_user_text_is_escaped_everywhere(col):
    units = col.copy()
    units["name"] = units["POLYID"].astype(str)
    units.iloc[0, units.columns.get_loc("name")] = EVIL_NAME
    values = units["CRIME"].rename(EVIL_TITLE)
    page = gv.choropleth(units, values, title=EVIL_TITLE, units_label="<b>u</b>").to_html()
    assert EVIL_NAME not in page and "<img src=x" not in page and "<b>u</b>" not in page
    # jinja did not evaluate user text a second time
    assert "{{ 7*7 }}" in page and "{% if 1 %}" in page
    # the name reaches the page escaped for innerHTML, inside a JSON string
    assert "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;" in page
    _, scripts = resources(page)
    _, scripts_plain = resources(gv.choropleth(col, "CRIME").to_html())
    assert scripts == scripts_plain  # no script element was injected


def test_layer_names_are_escaped(col):
    table = pd.DataFrame(
        {"POLYID": np.repeat(col.index, 2), "year": [2000, 2001] * len(col), "v": np.arange(2 * len(col))}
    )
    page = gv.choropleth_years(col, table, "v", title=EVIL_TITLE).to_html()
    assert EVIL_TITLE not in page
    assert '"2000"' in page and '"2001"' in page


# ------------------------------------------------------------------ LISA


def test_lisa_labels_match_esda(col):
    """esda's quadrant codes (Moran_Local.q: 1 HH, 2 LH, 3 LL, 4 HL) become the right labels."""
    import esda
    from libpysal.weights import Queen

    w = Queen.from_dataframe(col, use_index=False)
    w.transform = "r"
    lm = esda.Moran_Local(col["CRIME"].to_numpy(), w, permutations=0)  # q only: no numba compilation
    p_sim = np.random.default_rng(5).uniform(0, 0.1, len(col))
    frame = pd.DataFrame({"Ii": lm.Is, "p_sim": p_sim, "quadrant": lm.q}, index=col.index)
    result = gv.lisa_map(col, frame, alpha=0.05)
    # the same quadrants from first principles: sign of the deviation and of its spatial lag
    z = col["CRIME"].to_numpy() - col["CRIME"].mean()
    lag = w.sparse @ z
    quad = np.where(z > 0, np.where(lag > 0, "HH", "HL"), np.where(lag > 0, "LH", "LL"))
    expected = np.where(p_sim <= 0.05, quad, "ns")
    counts = {k: int((expected == k).sum()) for k in ("HH", "LL", "LH", "HL", "ns")}
    assert result.legend["counts"] == counts
    assert counts["HH"] > 0 and counts["LL"] > 0 and counts["ns"] > 0
    page = result.to_html()
    assert "no multiple-testing correction" in page and "0.05" in result.legend["note"]


def test_lisa_corrections(col):
    from scipy.stats import false_discovery_control

    from geo.viz.lisa import lisa_clusters

    rng = np.random.default_rng(7)
    n = len(col)
    p = np.concatenate([rng.uniform(0, 0.002, 10), rng.uniform(0, 1, n - 10)])
    frame = pd.DataFrame({"Ii": 0.0, "p_sim": p, "quadrant": "HH"}, index=col.index)
    lab_none, cut = lisa_clusters(frame, alpha=0.05)
    assert cut == 0.05 and ((lab_none == "HH") == (p <= 0.05)).all()
    lab_bonf, cut = lisa_clusters(frame, alpha=0.05, correction="bonferroni")
    assert cut == pytest.approx(0.05 / n) and ((lab_bonf == "HH") == (p <= 0.05 / n)).all()
    lab_fdr, cut = lisa_clusters(frame, alpha=0.05, correction="fdr")
    assert ((lab_fdr == "HH") == (false_discovery_control(p) <= 0.05)).all()
    with pytest.raises(OptionError):
        lisa_clusters(frame, correction="holm")


def test_lisa_from_geo_autocorr(col):
    autocorr = pytest.importorskip("geo.autocorr")
    lm = autocorr.local_moran(col, "CRIME", weights="queen", permutations=199, seed=1, adjust="fdr", alpha=0.1)
    result = gv.lisa_map(col, lm, alpha=0.1, correction="fdr")
    theirs = lm.to_frame()["quadrant"].value_counts()
    assert result.legend["counts"] == {k: int(theirs.get(k, 0)) for k in ("HH", "LL", "LH", "HL", "ns")}
    assert "Benjamini-Hochberg" in result.legend["note"]


def test_lisa_rejects_bad_quadrants(col):
    frame = pd.DataFrame({"Ii": 0.0, "p_sim": 0.01, "quadrant": 7}, index=col.index)
    with pytest.raises(SchemaError, match="quadrant value 7"):
        gv.lisa_map(col, frame)


# ------------------------------------------------------------------ spillover, radiation, years


def test_spillover_colours_centred_on_zero(col):
    effect = pd.Series(np.linspace(-2, 1, len(col)), index=col.index, name="indirect")
    effect.iloc[3] = 0.0
    result = gv.spillover_map(col, effect, zones=[col.index[0]], k=3, scale="equal")
    leg = result.legend
    assert leg["bins"][:3] == pytest.approx([-4 / 3, -2 / 3, 0.0]) and leg["bins"][3] == 0.0
    assert leg["bins"][-1] == pytest.approx(2.0)  # symmetric: up to max |effect|
    colors = leg["colors"]
    assert colors[3] == "#f7f7f7" and colors[0] != colors[-1]
    from geo.viz._classify import diverging

    codes = diverging(effect, k=3).codes
    assert (codes[effect < 0] < 3).all() and (codes[effect > 0] > 3).all() and codes.iloc[3] == 3
    page = result.to_html()
    assert "geo-zone-unit" in page and "zone host unit (1)" in page


def test_spillover_log_scale_classes_by_decade(col):
    from geo.viz._classify import diverging

    values = [-2.0, -0.5, -0.05, -0.001, 0.0, 1e-4, 0.0015, 0.03, 0.7, 2.0]
    effect = pd.Series(values + [0.0] * (len(col) - len(values)), index=col.index)
    classes = diverging(effect, k=3, scale="log")
    # decades of max|effect| = 2: (0.2, 2], (0.02, 0.2], (0.002, 0.02]; about 0 below 0.002
    assert list(classes.codes.iloc[: len(values)]) == [0, 0, 1, 3, 3, 3, 3, 5, 6, 6]
    assert classes.bins == pytest.approx((-0.2, -0.02, -0.002, 0.002, 0.02, 0.2, 2.0))
    assert classes.labels[3] == "about 0 (|value| ≤ 0.002)"
    result = gv.spillover_map(col, effect, k=3)
    assert result.legend["bins"] == pytest.approx(list(classes.bins))
    with pytest.raises(OptionError, match="scale='cubic'"):
        diverging(effect, scale="cubic")


def test_spillover_zone_ids_must_exist(col):
    effect = pd.Series(1.0, index=col.index)
    with pytest.raises(SchemaError, match="'nope'"):
        gv.spillover_map(col, effect, zones=["nope"])


def test_radiation_map_bands_zones_rings(china):
    from geo import radiation, zones

    z = zones.registry("new-zone").head(4)
    asg = radiation.assign_bands(china, zones=z, bands=(100, 200))
    rings = radiation.rings(z, bands=(100, 200))
    result = gv.radiation_map(china, values=asg, zones=z, rings=rings, corridor=radiation.corridor())
    leg = result.legend
    assert leg["bands"][0] == "host" and leg["bands"][-1] == "outside"
    assert leg["bands"][1:-1] == ["0-100 km", "100-200 km"]
    page = result.to_html()
    assert len(page.encode()) <= 1_000_000
    for needle in ("geo-ring", "geo-corridor", "geo-zone", "distance ring (2)", "zone (4)", "approved"):
        assert needle in page
    assert z["name"].iloc[0] in page


def test_years_map_pools_classes(col):
    import mapclassify

    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {"POLYID": np.tile(col.index, 3), "year": np.repeat([2001, 2002, 2003], len(col)),
         "v": rng.normal(size=3 * len(col)) + np.repeat([0, 1, 2], len(col))}
    )
    result = gv.choropleth_years(col, table, "v", k=4)
    np.testing.assert_array_equal(result.legend["bins"], mapclassify.Quantiles(table["v"].to_numpy(), k=4).bins)
    assert result.legend["years"] == [2001, 2002, 2003]
    page = result.to_html()
    assert page.count("geoViz.units(") == 3 and page.count("geoViz.decode(") == 1  # geometry written once
    assert "base_layers" in page and "all years pooled" in page


# ------------------------------------------------------------------ outputs


def test_save_is_atomic_and_snippet_embeds(tmp_path, col):
    result = gv.choropleth(col, "CRIME")
    out = result.save(tmp_path / "m.html")
    assert out.read_text(encoding="utf-8") == result.to_html()
    assert [p.name for p in tmp_path.iterdir()] == ["m.html"]
    with pytest.raises(InputError, match="does not exist"):
        result.save(tmp_path / "missing" / "m.html")
    snip = result.snippet(height=400)
    m = re.fullmatch(
        r'<iframe class="geo-map" title="[^"]*" sandbox="allow-scripts" srcdoc="([^"]*)" style="[^"]*" loading="lazy">'
        r"</iframe>",
        snip,
    )
    assert m and html.unescape(m.group(1)) == result.to_html()
    assert json.loads(json.dumps(result.to_json()))["kind"] == "choropleth"


# ------------------------------------------------------------------ CLI


DEMO = "layers/demo_panel_synthetic.csv"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    """Two years of the demo panel (keeps the CLI tests quick)."""
    from geo._paths import ROOT

    d = pd.read_csv(ROOT / DEMO, dtype={"adcode": str})
    f = tmp_path_factory.mktemp("demo") / "demo_panel_synthetic.csv"
    d[d["year"].isin([2019, 2020])].to_csv(f, index=False)
    return str(f)


def test_cli_choropleth(tmp_path, capsys, demo_path):
    from geo.cli import main

    out = tmp_path / "gdp.html"
    rc = main(["map", "choropleth", "--data", demo_path, "--var", "gdp_pc_synthetic", "--year", "2020",
               "--scheme", "breaks:20000,40000,80000", "--units-label", "yuan", "--out", str(out), "--json"])
    assert rc == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out)
    assert info["legend"]["bins"][:3] == [20000.0, 40000.0, 80000.0] and info["out"] == str(out)
    assert out.stat().st_size <= 1_000_000 and resources(out.read_text(encoding="utf-8"))[0] == []


def test_cli_errors_are_one_line(tmp_path, capsys, demo_path):
    from geo.cli import main

    rc = main(["map", "choropleth", "--data", demo_path, "--var", "nope", "--year", "2020", "--out", str(tmp_path / "x.html")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "nope" in err and not (tmp_path / "x.html").exists()
    rc = main(["map", "choropleth", "--data", demo_path, "--var", "gdp_pc_synthetic", "--year", "2020",
               "--scheme", "median", "--out", str(tmp_path / "x.html")])
    assert rc == 2 and "scheme='median'" in capsys.readouterr().err


def test_cli_spillover_and_lisa(tmp_path, capsys, demo_path):
    from geo.cli import main

    d = pd.read_csv(demo_path, dtype={"adcode": str})
    d = d[d["year"] == 2020][["adcode", "zone_effect_synthetic", "gdp_pc_synthetic"]]
    d["effect"] = d["zone_effect_synthetic"] - d["zone_effect_synthetic"].mean()
    f = tmp_path / "effects.csv"
    d.to_csv(f, index=False)
    rc = main(["map", "spillover", "--data", str(f), "--var", "effect", "--host", "410100", "--out", str(tmp_path / "s.html")])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "zone host unit (1)" in (tmp_path / "s.html").read_text(encoding="utf-8")
    pytest.importorskip("geo.autocorr")
    rc = main(["map", "lisa", "--data", str(f), "--var", "gdp_pc_synthetic", "--permutations", "99", "--seed", "1",
               "--correction", "fdr", "--out", str(tmp_path / "l.html"), "--json"])
    assert rc == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out)
    assert info["legend"]["correction"] == "fdr" and sum(info["legend"]["counts"].values()) > 300


def test_cli_radiation(tmp_path, capsys):
    from geo.cli import main

    rc = main(["map", "radiation", "--zone-kind", "new-zone", "--bands", "100,200", "--out", str(tmp_path / "r.html"), "--json"])
    assert rc == 0, capsys.readouterr().err
    info = json.loads(capsys.readouterr().out)
    assert info["legend"]["bands"][0] == "host" and info["n_units"] == 337
    assert any(o.startswith("zone (") for o in info["legend"]["overlays"])


def test_geo_error_hierarchy():
    assert issubclass(OptionError, GeoError)


def test_overlapping_units_fall_back_to_unit_by_unit_and_say_so():
    import geopandas as gpd
    from shapely.geometry import box

    units = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]},
        geometry=[box(0, 0, 1, 1), box(0.5, 0, 1.5, 1), None],  # a and b overlap; c has no geometry
        index=pd.Index(["1", "2", "3"], name="id"),
        crs="EPSG:4326",
    )
    result = gv.choropleth(units, pd.Series([1.0, 2.0, 3.0], index=units.index, name="v"), k=2)
    assert result.simplification["method"] == "each" and "each simplification" in result.summary()
    assert result.n_units == 2
    with pytest.raises(GeoError, match="not a valid coverage"):
        gv.web_geometry(units, simplify="coverage")


def test_cli_maps_of_synthetic_data_say_so(tmp_path, capsys):
    from geo.cli import main

    from geo._paths import LAYERS_DIR

    demo = str(LAYERS_DIR / "demo_panel_synthetic.csv")
    out = tmp_path / "g.html"
    assert main(["map", "choropleth", "--data", demo, "--var", "gdp_pc_synthetic", "--year", "2023", "--out", str(out)]) == 0
    # the year stays in the title (as the README's tour shows) and the synthetic mark is added
    assert "gdp_pc_synthetic (2023) (SYNTHETIC data)" in out.read_text(encoding="utf-8")
    assert "choropleth map: gdp_pc_synthetic (2023) (SYNTHETIC data)" in capsys.readouterr().out
    lisa = tmp_path / "l.html"
    assert main(["map", "lisa", "--data", demo, "--var", "gdp_pc_synthetic", "--year", "2023", "--permutations", "99",
                 "--seed", "1", "--out", str(lisa)]) == 0
    assert "gdp_pc_synthetic (2023) (SYNTHETIC data)" in lisa.read_text(encoding="utf-8")
    effects = tmp_path / "effects.csv"
    assert main(["scenario", "--data", demo, "--y", "log_gdp_pc_synthetic", "--host", "郑州", "--year", "2024",
                 "--out", str(effects)]) == 0
    assert pd.read_csv(effects)["synthetic"].all()
    spill = tmp_path / "s.html"
    assert main(["map", "spillover", "--data", str(effects), "--id", "adcode", "--var", "effect", "--out", str(spill)]) == 0
    assert "effect (SYNTHETIC data)" in spill.read_text(encoding="utf-8")
    capsys.readouterr()
