"""geo.weights: spec strings, builders on hand-made layouts, islands, files, the China boundaries, the CLI."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import weights as gw
from geo.boundaries import great_circle_km
from geo.errors import CRSError, GeometryError, InputError, OptionError, SchemaError

# --------------------------------------------------------------------------- helpers


def grid(nrows, ncols, *, order=None, crs="EPSG:4326", size=0.1):
    """Unit squares (size degrees) with string ids 'r{row}c{col}', optionally in a shuffled order."""
    cells = [(r, c) for r in range(nrows) for c in range(ncols)]
    if order is not None:
        cells = [cells[i] for i in order]
    geoms = [shapely.box(c * size, r * size, (c + 1) * size, (r + 1) * size) for r, c in cells]
    return gpd.GeoDataFrame(geometry=geoms, index=pd.Index([f"r{r}c{c}" for r, c in cells], name="id"), crs=crs)


def points(lons, lats=None, ids=None):
    lats = np.zeros(len(lons)) if lats is None else lats
    ids = ids or [f"p{i}" for i in range(len(lons))]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(lons, lats), index=pd.Index(ids, name="id"), crs="EPSG:4326")


def neighbours(graph, uid):
    W = graph.sparse.tocsr()
    ids = list(graph.unique_ids)
    r = ids.index(uid)
    return {ids[j]: W.data[k] for k, j in enumerate(W.indices[W.indptr[r] : W.indptr[r + 1]], start=W.indptr[r])
            if W.data[k] != 0}


# --------------------------------------------------------------------------- spec strings


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("queen", "queen"),
        (" Rook ", "rook"),
        ("knn:6", "knn:6"),
        ("distance:150km", "distance:150km"),
        ("distance:150000m", "distance:150km"),
        ("idw:2", "idw:2"),
        ("idw:1.5:300km", "idw:1.5:300km"),
        ("kernel:triangular:8", "kernel:triangular:8"),
        ("kernel:Epanechnikov:120km", "kernel:quadratic:120km"),
        ("economic:gdp_pc", "economic:gdp_pc:queen"),
        ("economic:gdp_pc:idw:1:500km", "economic:gdp_pc:idw:1:500km"),
        ("queen:order2", "queen:order2"),
        ("rook:upto3", "rook:upto3"),
        ("knn:4:order2", "knn:4:order2"),
        ("w.GAL", "w.GAL"),
    ],
)
def test_spec_examples(text, canonical):
    assert str(gw.parse_spec(text)) == canonical


@pytest.mark.parametrize(
    "text",
    ["", "queens", "knn", "knn:0", "knn:2.5", "distance:150", "distance:-5km", "distance:0km", "idw:0", "idw:x",
     "idw:2:300", "kernel:triangular", "kernel:cosine:8", "queen:order1", "idw:2:order2", "economic",
     "economic:gdp:economic:x", "queen:5", "knn:6:7", "rook::", "economic:a b"],
)
def test_bad_specs_raise_one_option_error(text):
    with pytest.raises(OptionError) as exc:
        gw.parse_spec(text)
    msg = str(exc.value)
    assert "\n" not in msg and repr(text) in msg and "queen" in msg


_pos = st.floats(min_value=1e-3, max_value=1e5, allow_nan=False, allow_infinity=False)
_base = st.one_of(
    st.sampled_from([gw.Spec("queen"), gw.Spec("rook")]),
    st.builds(lambda k: gw.Spec("knn", k=k), st.integers(1, 50)),
    st.builds(lambda km: gw.Spec("distance", km=km), _pos),
    st.builds(lambda p, km: gw.Spec("idw", power=p, km=km), _pos, st.one_of(st.none(), _pos)),
    st.builds(lambda name, k: gw.Spec("kernel", kernel=name, k=k), st.sampled_from(gw.KERNELS), st.integers(1, 30)),
    st.builds(lambda name, km: gw.Spec("kernel", kernel=name, km=km), st.sampled_from(gw.KERNELS), _pos),
)


def _with_order(spec, order, cumulative):
    if spec.kind in ("queen", "rook", "knn", "distance") and order > 1:
        return gw.Spec(**{**spec.__dict__, "order": order, "cumulative": cumulative})
    return spec


_specs = st.one_of(
    st.builds(_with_order, _base, st.integers(1, 4), st.booleans()),
    st.builds(lambda var, base: gw.Spec("economic", variable=var, base=base),
              st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), _base),
)


@settings(max_examples=300, deadline=None)
@given(_specs)
def test_spec_round_trip(spec):
    text = str(spec)
    assert gw.parse_spec(text) == spec
    assert str(gw.parse_spec(text.upper() if spec.kind != "economic" else text)) == text


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="queniobrkmdstawlp:0123456789.-e ", max_size=25))
def test_parser_accepts_or_raises_option_error_only(text):
    try:
        spec = gw.parse_spec(text)
    except OptionError:
        return
    assert gw.parse_spec(str(spec)) == spec


# --------------------------------------------------------------------------- hand-built layouts


def test_queen_and_rook_on_a_3x3_grid_with_shuffled_ids():
    units = grid(3, 3, order=[4, 8, 0, 6, 2, 7, 1, 5, 3])
    q = gw.build("queen", units, transform="b")
    r = gw.build("rook", units, transform="b")
    assert list(q.unique_ids) == list(units.index)  # the contract: the order of units.index
    card_q = {i: len(neighbours(q, i)) for i in units.index}
    card_r = {i: len(neighbours(r, i)) for i in units.index}
    assert card_q == {"r0c0": 3, "r0c1": 5, "r0c2": 3, "r1c0": 5, "r1c1": 8, "r1c2": 5, "r2c0": 3, "r2c1": 5, "r2c2": 3}
    assert card_r == {"r0c0": 2, "r0c1": 3, "r0c2": 2, "r1c0": 3, "r1c1": 4, "r1c2": 3, "r2c0": 2, "r2c1": 3, "r2c2": 2}
    s = gw.summarize(q)
    assert (s.n, s.links, s.min_neighbors, s.max_neighbors, s.components, s.islands) == (9, 40, 3, 8, 1, ())
    assert gw.summarize(r).links == 24
    # row-standardised (the default): rows sum to 1, weights 1/k
    rw = gw.build("rook", units)
    assert np.allclose(rw.sparse.sum(axis=1), 1.0)
    assert set(neighbours(rw, "r1c1").values()) == {0.25}
    # variance-stabilising: w_ij proportional to 1/sqrt(k_i), scaled so all weights sum to n
    vw = gw.build("rook", units, transform="v")
    assert vw.sparse.sum() == pytest.approx(9.0)
    c = 9.0 / sum(k * k ** -0.5 for k in card_r.values())
    assert set(np.round(list(neighbours(vw, "r1c1").values()), 12)) == {round(c / 2, 12)}
    assert gw.summarize(vw).transform == "v"


def test_higher_orders_on_a_grid():
    units = grid(3, 3)
    o2 = gw.build("rook:order2", units, transform="b")
    assert set(neighbours(o2, "r1c1")) == {"r0c0", "r0c2", "r2c0", "r2c2"}
    assert set(neighbours(o2, "r0c0")) == {"r0c2", "r1c1", "r2c0"}
    u2 = gw.build("rook:upto2", units, transform="b")
    assert set(neighbours(u2, "r0c0")) == {"r0c1", "r1c0", "r0c2", "r1c1", "r2c0"}
    # agrees with libpysal's higher_order
    base = gw.build("rook", units, transform="b")
    ref = base.higher_order(k=2)
    assert (abs(o2.sparse - ref.sparse) > 0).nnz == 0


def test_distance_kinds_on_points_along_the_equator():
    # along the equator the WGS-84 geodesic is proportional to the longitude difference
    lons = [0.0, 1.0, 3.0, 6.0, 10.0]
    units = points(lons)
    deg = great_circle_km(0, 0, 1, 0)
    assert deg == pytest.approx(111.3195, abs=1e-3)
    k1 = gw.build("knn:1", units, transform="b")
    assert {i: set(neighbours(k1, i)) for i in units.index} == {
        "p0": {"p1"}, "p1": {"p0"}, "p2": {"p1"}, "p3": {"p2"}, "p4": {"p3"}}
    band = gw.build(f"distance:{2.5 * deg:.6f}km", units, transform="b", islands="keep")
    assert set(neighbours(band, "p1")) == {"p0", "p2"}
    assert gw.summarize(band).isolates == ("p3", "p4")
    idw = gw.build("idw:2", units, transform="o")
    nb = neighbours(idw, "p0")
    assert nb["p2"] == pytest.approx((3 * deg) ** -2, rel=1e-9)
    assert len(nb) == 4
    cut = gw.build(f"idw:1:{4.5 * deg:.6f}km", units, transform="o", islands="keep")
    assert set(neighbours(cut, "p3")) == {"p2", "p4"}
    assert neighbours(cut, "p3")["p4"] == pytest.approx(1 / (4 * deg), rel=1e-9)


def test_adaptive_and_fixed_kernels():
    units = points([0.0, 1.0, 2.0, 3.0, 4.0])
    deg = great_circle_km(0, 0, 1, 0)
    tri = gw.build("kernel:triangular:2", units, transform="o")
    # p0: neighbours at 1 and 2 degrees, bandwidth = distance to the 3rd nearest (3 degrees)
    nb = neighbours(tri, "p0")
    assert nb == pytest.approx({"p1": 1 - 1 / 3, "p2": 1 - 2 / 3}, rel=1e-9)
    gau = gw.build(f"kernel:gaussian:{2.5 * deg:.6f}km", units, transform="o")
    nb = neighbours(gau, "p2")
    u = 1 / 2.5
    assert nb["p1"] == pytest.approx(math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi), rel=1e-6)
    assert set(nb) == {"p0", "p1", "p3", "p4"}
    assert all(tri.sparse.diagonal() == 0)


def test_economic_weights_scale_by_inverse_gap():
    units = grid(1, 4)
    data = pd.DataFrame({"gdp": [1.0, 3.0, 4.0, 8.0]}, index=units.index)
    g = gw.build("economic:gdp", units, data=data, transform="o")
    assert neighbours(g, "r0c1") == pytest.approx({"r0c0": 1 / 2, "r0c2": 1 / 1})
    assert neighbours(g, "r0c3") == pytest.approx({"r0c2": 1 / 4})
    # a long panel: the mean per unit is used
    panel = pd.concat([data.assign(year=2000), (data * 3).assign(year=2001)])
    gp = gw.build("economic:gdp", units, data=panel, transform="o")
    assert neighbours(gp, "r0c1")["r0c0"] == pytest.approx(1 / 4)
    with pytest.raises(InputError, match="equal values"):
        gw.build("economic:gdp", units, data=data.assign(gdp=[1.0, 1.0, 2.0, 3.0]))
    with pytest.raises(SchemaError, match="no column 'gdp_pc'"):
        gw.build("economic:gdp_pc", units, data=data)


# --------------------------------------------------------------------------- islands


@pytest.fixture
def with_island():
    block = grid(2, 2)
    far = gpd.GeoDataFrame(geometry=[shapely.box(1.0, 0.0, 1.1, 0.1)], index=pd.Index(["far"], name="id"),
                           crs="EPSG:4326")
    return pd.concat([block.iloc[:2], far, block.iloc[2:]])


def test_islands_policies(with_island):
    units = with_island
    linked = gw.build("queen", units)
    s = gw.summarize(linked)
    assert s.islands == ("far",) and s.isolates == () and s.islands_policy == "link:1"
    assert s.components == 1 and s.symmetric
    # nearest by centroid: r0c1 and r1c1 are equally far in longitude, r0c1 is nearer (same latitude)
    assert set(neighbours(linked, "far")) == {"r0c1"} and "far" in neighbours(linked, "r0c1")
    assert s.linked[0][:2] == ("far", "r0c1")
    assert s.linked[0][2] == pytest.approx(great_circle_km(0.15, 0.05, 1.05, 0.05), rel=1e-3)
    two = gw.summarize(gw.build("queen", units, islands="link:2"))
    assert two.links == s.links + 2
    kept = gw.build("queen", units, islands="keep")
    ks = gw.summarize(kept)
    assert ks.isolates == ("far",) and ks.components == 2 and ks.min_neighbors == 0
    assert kept.sparse.sum(axis=1)[list(kept.unique_ids).index("far")] == 0
    dropped = gw.build("queen", units, islands="drop")
    assert "far" not in set(dropped.unique_ids) and len(dropped.unique_ids) == 4
    assert gw.summarize(dropped).dropped == ("far",)
    with pytest.raises(InputError, match="far"):
        gw.build("queen", units, islands="error")
    with pytest.raises(OptionError):
        gw.build("queen", units, islands="bridge")
    assert "islands policy: link:1" in s.summary() and s.to_json()["islands"] == ["far"]


# --------------------------------------------------------------------------- the embedded China boundaries


def test_jinan_queen_neighbours(china):
    g = gw.build("queen", china, transform="b")
    nb = set(neighbours(g, "370100"))
    # 济南 borders 德州, 聊城, 泰安, 淄博, 滨州 (莱芜 merged into 济南 in 2019)
    assert nb == {"371400", "371500", "370900", "370300", "371600"}
    assert set(china.loc[sorted(nb), "name"]) == {"德州市", "聊城市", "泰安市", "淄博市", "滨州市"}
    assert list(g.unique_ids) == list(china.index)


def test_china_islands_default_and_documented(china):
    s = gw.summarize(gw.build("queen", china))
    assert s.islands == ("330900", "460100", "460200", "460300", "460400")
    assert s.isolates == () and s.islands_policy == "link:1" and s.n == 337
    links = {a: b for a, b, _ in s.linked}
    assert links["330900"] == "330200"  # 舟山 -> 宁波
    assert links["460100"] == "460400" and links["460200"] == "460400"  # 海口, 三亚 -> 儋州
    # Hainan's four units form their own component
    assert s.components == 2
    js = s.to_json()
    assert {"n", "links", "islands", "components", "mean_neighbors", "islands_policy", "transform", "kind"} <= set(js)
    json.dumps(js, allow_nan=False)
    keep = gw.summarize(gw.build("queen", china, islands="keep"))
    assert keep.isolates == s.islands and keep.components == 6


def test_china_knn_and_distance(china):
    g = gw.build("knn:6", china)
    s = gw.summarize(g)
    assert s.min_neighbors == s.max_neighbors == 6 and s.isolates == ()
    assert not s.symmetric
    band = gw.build("distance:300km", china, transform="b", islands="keep")
    W = band.sparse.tocsr()
    W.eliminate_zeros()  # libpysal stores islands as explicit 0-weight self loops
    ids = list(band.unique_ids)
    from geo.boundaries import centroids

    c = centroids(china).reindex(ids)
    i, j = W.nonzero()
    d = great_circle_km(c.x.values[i], c.y.values[i], c.x.values[j], c.y.values[j])
    assert d.max() <= 300.0
    # and no pair within 300 km is missing
    a = np.repeat(np.arange(len(ids)), len(ids))
    b = np.tile(np.arange(len(ids)), len(ids))
    dd = great_circle_km(c.x.values[a], c.y.values[a], c.x.values[b], c.y.values[b])
    assert int(((dd <= 300.0) & (a != b)).sum()) == W.nnz
    proj = gw.build("distance:300km", china, metric="projected", islands="keep")
    assert abs(gw.summarize(proj).links - W.nnz) < 0.05 * W.nnz


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("suffix", [".gal", ".gwt", ".parquet"])
def test_save_and_read_round_trip_with_leading_zero_ids(tmp_path, suffix):
    units = grid(3, 4, order=list(np.random.default_rng(1).permutation(12)))
    units.index = pd.Index([f"0{i}{j}" for i, j in enumerate(units.index.str[1:])], name="id")
    g = gw.build("queen", units, transform="o" if suffix == ".gal" else "r")
    path = tmp_path / f"w{suffix}"
    gw.save(g, path)
    back = gw.read(path, ids=units.index, transform="r")
    assert list(back.unique_ids) == list(units.index)
    expected = gw.build("queen", units)
    assert np.allclose(back.sparse.toarray(), expected.sparse.toarray(), rtol=1e-15, atol=0)
    # reordering: a file written in another order reads back in the order asked for
    rev = gw.read(path, ids=list(units.index[::-1]), transform="r")
    assert list(rev.unique_ids) == list(units.index[::-1])
    # a file spec in build()
    via_spec = gw.build(str(path), units)
    assert np.allclose(via_spec.sparse.toarray(), expected.sparse.toarray())
    assert gw.summarize(via_spec).kind == "file"


def test_gal_is_readable_by_libpysal(tmp_path):
    from libpysal.io import open as ps_open

    units = grid(3, 3)
    g = gw.build("queen", units)
    gw.save(g, tmp_path / "w.gal")
    w = ps_open(str(tmp_path / "w.gal")).read()
    assert {str(k): sorted(map(str, v)) for k, v in w.neighbors.items()} == {
        i: sorted(neighbours(g, i)) for i in units.index}


def test_read_errors(tmp_path):
    units = grid(2, 2)
    g = gw.build("queen", units)
    gw.save(g, tmp_path / "w.gal")
    with pytest.raises(InputError, match="not in the weights file"):
        gw.read(tmp_path / "w.gal", ids=list(units.index) + ["zzz"])
    with pytest.raises(InputError, match="not in the table"):
        gw.read(tmp_path / "w.gal", ids=list(units.index)[:3])
    (tmp_path / "bad.gal").write_text("0 2 x id\na 1\nb c\n")
    with pytest.raises(InputError, match="bad.gal"):
        gw.read(tmp_path / "bad.gal")
    with pytest.raises(InputError, match="no such file"):
        gw.read(tmp_path / "missing.gwt")
    with pytest.raises(InputError, match="unknown weights format"):
        gw.save(g, tmp_path / "w.txt")


# --------------------------------------------------------------------------- bad input


def test_bad_inputs():
    units = grid(2, 2)
    with pytest.raises(GeometryError, match="polygons"):
        gw.build("queen", points([0.0, 1.0, 2.0]))
    with pytest.raises(OptionError, match="knn:4 needs more than 4"):
        gw.build("knn:4", units)
    with pytest.raises(CRSError):
        gw.build("knn:1", units.set_crs(None, allow_override=True))
    with pytest.raises(InputError):
        gw.build("queen", pd.DataFrame({"a": [1, 2]}))
    dup = pd.concat([units, units.iloc[:1]])
    with pytest.raises(SchemaError, match="duplicate"):
        gw.build("queen", dup)
    with pytest.raises(OptionError, match="transform"):
        gw.build("queen", units, transform="x")


def test_complete_idw_is_limited(monkeypatch):
    monkeypatch.setattr(gw._build, "IDW_MAX_COMPLETE", 3)  # where the builder reads it
    with pytest.raises(OptionError, match="cutoff"):
        gw.build("idw:2", points([0.0, 1.0, 2.0, 3.0]))


def test_build_does_not_mutate_units(china):
    before = china.copy()
    gw.build("economic:name_len:knn:4", china, data=pd.DataFrame({"name_len": np.arange(len(china))},
                                                                  index=china.index))
    pd.testing.assert_frame_equal(china, before)


# --------------------------------------------------------------------------- CLI


def test_cli_weights_json_and_out(tmp_path, capsys):
    from geo.cli import main

    out = tmp_path / "q.gal"
    assert main(["weights", "--spec", "queen", "--out", str(out), "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["n"] == 337 and js["islands"] == ["330900", "460100", "460200", "460300", "460400"]
    assert js["components"] == 2 and js["islands_policy"] == "link:1" and js["out"] == str(out)
    assert js["links"] == 1796 and js["mean_neighbors"] == pytest.approx(1796 / 337)
    assert out.exists() and out.read_text().startswith("0 337 ")
    assert main(["weights", "--spec", str(out), "--islands", "keep", "--json"]) == 0
    js2 = json.loads(capsys.readouterr().out)
    assert js2["links"] == 1796 and js2["kind"] == "file"
    assert main(["weights", "--spec", "knn:6"]) == 0
    assert "knn:6" in capsys.readouterr().out


@pytest.mark.parametrize("spec", ["knn:zero", "hexagon", "distance:150"])
def test_cli_weights_bad_spec(spec, capsys):
    from geo.cli import main

    assert main(["weights", "--spec", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and repr(spec) in err
