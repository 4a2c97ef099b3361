"""geo.autocorr: hand-computable lattices, Columbus against esda, permutation engines, panels, the CLI."""

from __future__ import annotations

import itertools
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import autocorr as ac
from geo import weights as gw
from geo.errors import InputError, ModelError, OptionError, SchemaError

RTOL = 1e-8  # CLOSED_FORM_RTOL in conftest


def line(values, ids=None):
    """Unit squares in a row (rook = path graph) carrying ``values`` in column y."""
    n = len(values)
    ids = ids or [f"u{i}" for i in range(n)]
    geoms = [shapely.box(i, 0, i + 1, 1) for i in range(n)]
    return gpd.GeoDataFrame({"y": np.asarray(values, float)}, geometry=geoms, index=pd.Index(ids, name="id"),
                            crs="EPSG:3857")


# --------------------------------------------------------------------------- hand-computable answers


def test_global_statistics_on_a_path_by_hand():
    units = line([1, 2, 3, 4])
    b = gw.build("rook", units, transform="b")
    # z = (-1.5, -0.5, 0.5, 1.5), z'z = 5, S0 = 6, z'Wz = 2 (0.75 - 0.25 + 0.75) = 2.5
    m = ac.moran(units, "y", weights=b, permutations=0)
    assert m.I == pytest.approx(4 / 6 * 2.5 / 5, rel=1e-14)
    assert m.EI == pytest.approx(-1 / 3)
    # S1 = 12, S2 = (2*1)^2*2 + (2*2)^2*2 = 40; normality variance by the formula
    assert (m.S0, m.S1, m.S2) == (6.0, 12.0, 40.0)
    vn = (16 * 12 - 4 * 40 + 3 * 36) / (15 * 36) - 1 / 9
    assert m.VI_norm == pytest.approx(vn, rel=1e-14)
    # Geary: sum w (y_i - y_j)^2 = 6, C = 3 * 6 / (2 * 6 * 5)
    assert ac.geary(units, "y", weights=b, permutations=0).C == pytest.approx(0.3, rel=1e-14)
    # General G: sum_{i != j} w y_i y_j = 40, (sum y)^2 - sum y^2 = 70
    g = ac.general_g(units, "y", weights=b, permutations=0)
    assert g.G == pytest.approx(40 / 70, rel=1e-14) and g.EG == pytest.approx(6 / 12)


def test_local_moran_on_a_path_by_hand():
    units = line([1, 2, 3, 4])
    r = gw.build("rook", units)
    lm = ac.local_moran(units, "y", weights=r, permutations=0)
    # m2 = 5/4; unit 0: lag = z1 = -0.5 -> Ii = (-1.5 / 1.25)(-0.5) = 0.6; unit 1: lag = -0.5 -> 0.2
    assert lm.Ii.to_dict() == pytest.approx({"u0": 0.6, "u1": 0.2, "u2": 0.2, "u3": 0.6}, rel=1e-14)
    esda_conv = ac.local_moran(units, "y", weights=r, permutations=0, convention="esda")
    assert np.allclose(esda_conv.Ii, lm.Ii * 3 / 4, rtol=1e-14)
    assert np.allclose(esda_conv.z, lm.z, rtol=1e-12)  # z does not depend on the convention
    assert list(lm.frame["lag"]) == pytest.approx([-0.5, -0.5, 0.5, 0.5])


def test_local_g_on_a_path_by_hand():
    units = line([1, 2, 3, 4])
    b = gw.build("rook", units, transform="b")
    lg = ac.local_g(units, "y", weights=b, permutations=0)
    # G_i = sum_j w_ij y_j / sum_{j != i} y_j
    assert lg.G.to_dict() == pytest.approx({"u0": 2 / 9, "u1": 4 / 8, "u2": 6 / 7, "u3": 3 / 6}, rel=1e-14)
    gs = ac.local_g(units, "y", weights=b, star=True, permutations=0)
    assert gs.G.to_dict() == pytest.approx({"u0": 3 / 10, "u1": 6 / 10, "u2": 9 / 10, "u3": 7 / 10}, rel=1e-14)


def test_conditional_permutation_matches_exact_enumeration():
    """Unit 0 has 2 neighbours among 6 units: its null distribution has C(5, 2) = 10 equally likely lags."""
    values = [5.0, 1.0, 2.0, 4.0, 7.0, 3.0]
    units = line(values)
    ids = list(units.index)
    from geo.weights._info import _graph_from_positions

    heads = np.array([0, 0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
    tails = np.array([1, 3, 0, 0, 0, 0, 0, 2, 3, 4, 5, 1])
    g = _graph_from_positions(ids, heads, tails, np.ones(len(heads))).transform("R")
    y = np.asarray(values)
    z = y - y.mean()
    m2 = (z @ z) / len(z)
    obs = z[0] / m2 * (z[1] + z[3]) / 2
    others = [1, 2, 3, 4, 5]
    sims = [z[0] / m2 * (z[a] + z[b]) / 2 for a, b in itertools.combinations(others, 2)]
    ge = np.mean([s >= obs - 1e-12 for s in sims])
    assert ge == 0.8  # the observed pair is one of the 10 (ties count as "at least as large")
    exact_tail = min(ge, 1 - ge)  # the folded tail, as esda and GeoDa
    perms = 4999
    lm = ac.local_moran(units, "y", weights=g, permutations=perms, seed=3)
    p0 = lm.p_sim["u0"]
    # p_sim = (1 + M) / (1 + R) with M ~ Binomial(R, tail)
    sd = math.sqrt(exact_tail * (1 - exact_tail) / perms)
    assert abs(p0 - (1 + perms * exact_tail) / (1 + perms)) < 5 * sd + 1e-3


# --------------------------------------------------------------------------- Columbus against esda


@pytest.fixture(scope="module")
def col(columbus):
    return columbus.sample(frac=1.0, random_state=11)


@pytest.fixture(scope="module")
def esda_w(col):
    from libpysal.weights import Queen

    w = Queen.from_dataframe(col, use_index=True, silence_warnings=True)
    w.transform = "r"
    wb = Queen.from_dataframe(col, use_index=True, silence_warnings=True)
    wb.transform = "b"
    return w, wb


def _rel(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=0)


def test_columbus_global_against_esda(col, esda_w):
    import esda

    w, wb = esda_w
    y = col["CRIME"].to_numpy()
    g = gw.build("queen", col)
    m = ac.moran(col, "CRIME", weights=g, permutations=0)
    e = esda.Moran(y, w, permutations=0)
    _rel([m.I, m.EI, m.VI_norm, m.z_norm, m.p_norm, m.VI_rand, m.z_rand, m.p_rand],
         [e.I, e.EI, e.VI_norm, e.z_norm, e.p_norm, e.VI_rand, e.z_rand, e.p_rand])
    c = ac.geary(col, "CRIME", weights=g, permutations=0)
    ec = esda.Geary(y, w, permutations=0)
    _rel([c.C, c.EC, c.VC_norm, c.z_norm, c.VC_rand, c.z_rand], [ec.C, ec.EC, ec.VC_norm, ec.z_norm, ec.VC_rand,
                                                                   ec.z_rand])
    gg = ac.general_g(col, "CRIME", weights=gw.build("queen", col, transform="b"), permutations=0)
    eg = esda.G(y, wb, permutations=0)
    _rel([gg.G, gg.EG, gg.VG, gg.z_norm], [eg.G, eg.EG, eg.VG, eg.z_norm])
    bv = ac.moran_bv(col, "CRIME", "INC", weights=g, permutations=0)
    ebv = esda.Moran_BV(y, col["INC"].to_numpy(), w, permutations=0)
    _rel(bv.I, ebv.I)


def test_columbus_local_against_esda(col, esda_w):
    import esda

    w, wb = esda_w
    y = col["CRIME"].to_numpy()
    g = gw.build("queen", col)
    lm = ac.local_moran(col, "CRIME", weights=g, permutations=0, convention="esda")
    el = esda.Moran_Local(y, w, permutations=0)
    _rel(lm.Ii, el.Is)
    spdep_conv = ac.local_moran(col, "CRIME", weights=g, permutations=0)
    _rel(spdep_conv.Ii * (len(y) - 1) / len(y), el.Is)
    # local G with binary weights: esda is right there
    gb = gw.build("queen", col, transform="b")
    for star in (False, True):
        lg = ac.local_g(col, "CRIME", weights=gb, star=star, permutations=0)
        eg = esda.G_Local(y, wb, transform="B", star=star, permutations=0)
        _rel(lg.G, eg.Gs)
        _rel(lg.z, eg.Zs)
    # with row-standardised weights esda's z uses the binary variance (known defect); ours differs
    lr = ac.local_g(col, "CRIME", weights=g, permutations=0)
    er = esda.G_Local(y, w, transform="R", permutations=0)
    _rel(lr.G, er.Gs)
    assert np.max(np.abs(lr.z.to_numpy() / er.Zs - 1)) > 0.1


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_permutation_pvalues_agree_with_esda_in_distribution(col, esda_w):
    import esda

    w, _ = esda_w
    y = col["HOVAL"].to_numpy()
    g = gw.build("queen", col)
    lm = ac.local_moran(col, "HOVAL", weights=g, permutations=999, seed=2, convention="esda")
    el = esda.Moran_Local(y, w, permutations=999, seed=2)
    ours, theirs = lm.p_sim.to_numpy(), el.p_sim
    p = np.clip((ours + theirs) / 2, 1e-3, 0.5)
    sd = np.sqrt(2 * p * (1 - p) / 1000)
    assert np.all(np.abs(ours - theirs) <= 4.5 * sd + 2e-3)
    assert not np.array_equal(ours, theirs)
    # global: an uncorrelated variable has a mid-range pseudo p; both estimate the same tail probability
    rng = np.random.default_rng(5)
    frame = col.assign(noise=rng.normal(size=len(col)))
    m = ac.moran(frame, "noise", weights=g, permutations=2999, seed=1)
    e = esda.Moran(frame["noise"].to_numpy(), w, permutations=2999)
    sd = math.sqrt(2 * e.p_sim * (1 - e.p_sim) / 3000)
    assert abs(m.p_sim - e.p_sim) < 5 * sd
    assert abs(m.EI_sim - m.EI) < 5 * m.seI_sim / 100 and m.seI_sim == pytest.approx(math.sqrt(m.VI_rand), rel=0.1)


# --------------------------------------------------------------------------- engines, seeds


def test_seeds_and_engines(col):
    g = gw.build("queen", col)
    a = ac.local_moran(col, "CRIME", weights=g, seed=7, engine="numba")
    b = ac.local_moran(col, "CRIME", weights=g, seed=7, engine="numpy")
    c = ac.local_moran(col, "CRIME", weights=g, seed=8)
    assert np.array_equal(a.p_sim, b.p_sim) and np.allclose(a.frame["z_sim"], b.frame["z_sim"], rtol=1e-12)
    assert not np.array_equal(a.p_sim, c.p_sim)
    gb = gw.build("queen", col, transform="b")
    ga = ac.local_g(col, "CRIME", weights=gb, star=True, seed=7, engine="numba")
    gn = ac.local_g(col, "CRIME", weights=gb, star=True, seed=7, engine="numpy")
    assert np.array_equal(ga.p_sim, gn.p_sim)
    m1 = ac.moran(col, "CRIME", weights=g, seed=5)
    m2 = ac.moran(col, "CRIME", weights=g, seed=5)
    assert (m1.p_sim, m1.EI_sim, m1.seI_sim) == (m2.p_sim, m2.EI_sim, m2.seI_sim)


def test_global_engines_give_the_same_permutations(col):
    import scipy.sparse as sp

    from geo._numba import HAVE_NUMBA, permuted_forms

    W = sp.csr_array(gw.build("queen", col).sparse)
    z = col["CRIME"].to_numpy() - col["CRIME"].mean()
    x = col["INC"].to_numpy()
    rc = np.asarray(W.sum(axis=0)).ravel() + np.asarray(W.sum(axis=1)).ravel()
    for kwargs in ({}, {"rc": rc}, {"fixed": x}):
        qa, sa = permuted_forms(z, W, 50, np.random.default_rng(1), engine="numba", **kwargs)
        qb, sb = permuted_forms(z, W, 50, np.random.default_rng(1), engine="numpy", **kwargs)
        np.testing.assert_allclose(qa, qb, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(sa, sb, rtol=1e-10, atol=1e-12)
    assert HAVE_NUMBA
    # every draw is a permutation: the sum of squares is invariant
    _, s = permuted_forms(z, W, 20, np.random.default_rng(2), rc=np.ones(len(z)))
    np.testing.assert_allclose(s, z @ z, rtol=1e-12)


# --------------------------------------------------------------------------- LISA labels, adjustments


def test_adjust_pvalues_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    bh = ac.adjust_pvalues(p, "fdr")
    np.testing.assert_allclose(bh[:4], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2], rtol=1e-14)
    assert np.isnan(bh[4])
    np.testing.assert_allclose(ac.adjust_pvalues(p, "bonferroni")[:4], [0.04, 0.16, 0.12, 0.8])
    with pytest.raises(OptionError):
        ac.adjust_pvalues(p, "holm")


def test_quadrants_and_significance(col):
    g = gw.build("queen", col)
    lm = ac.local_moran(col, "CRIME", weights=g, seed=1)
    f = lm.frame
    sig = f["p"] <= 0.05
    assert set(f.loc[~sig, "quadrant"]) <= {"ns"}
    hh = f["quadrant"] == "HH"
    assert hh.any() and (f.loc[hh, "value"] > f["value"].mean()).all() and (f.loc[hh, "lag"] > 0).all()
    ll = f["quadrant"] == "LL"
    assert ll.any() and (f.loc[ll, "value"] < f["value"].mean()).all() and (f.loc[ll, "lag"] < 0).all()
    fdr = ac.local_moran(col, "CRIME", weights=g, seed=1, adjust="fdr")
    bon = ac.local_moran(col, "CRIME", weights=g, seed=1, adjust="bonferroni")
    n_sig = [int((r.quadrant != "ns").sum()) for r in (lm, fdr, bon)]
    assert n_sig[0] >= n_sig[1] >= n_sig[2]
    assert sum(lm.counts().values()) == len(col)
    out = lm.to_frame()
    assert isinstance(out, gpd.GeoDataFrame) and list(out.index) == list(col.index)
    js = lm.to_json()
    json.dumps(js, allow_nan=False)
    assert {"id", "Ii", "z", "p_sim", "quadrant"} <= set(js["local"][0])


def test_islands_kept_get_no_local_test():
    units = pd.concat([line([1, 5, 2, 8, 3]), line([9.0], ids=["far"]).set_geometry([shapely.box(50, 0, 51, 1)])])
    units = units.set_crs("EPSG:3857", allow_override=True)
    g = gw.build("rook", units, islands="keep")
    lm = ac.local_moran(units, "y", weights=g, seed=1)
    assert lm.Ii["far"] == 0 and np.isnan(lm.p_sim["far"]) and lm.quadrant["far"] == "ns"
    m = ac.moran(units, "y", weights=g, permutations=0)
    assert m.n == 6 and m.islands_policy == "keep"
    dropped = gw.build("rook", units, islands="drop")
    md = ac.moran(units, "y", weights=dropped, permutations=0)
    assert md.n == 5 and md.excluded == ("far",)


# --------------------------------------------------------------------------- panels


def test_moran_by_year(col):
    g = gw.build("queen", col)
    panel = pd.concat([
        pd.DataFrame({"v": col["CRIME"], "year": 2001}, index=col.index),
        pd.DataFrame({"v": col["HOVAL"], "year": 2002}, index=col.index),
    ])
    res = ac.moran_by_year(panel, "v", weights=g, permutations=99, seed=4)
    assert res.years == (2001, 2002)
    assert res[2001].I == pytest.approx(ac.moran(col, "CRIME", weights=g, permutations=0).I, rel=1e-14)
    assert res[2002].I == pytest.approx(ac.moran(col, "HOVAL", weights=g, permutations=0).I, rel=1e-14)
    again = ac.moran_by_year(panel, "v", weights=g, permutations=99, seed=4)
    assert res.to_frame().equals(again.to_frame())
    assert list(res.to_frame().columns[:3]) == ["n", "I", "EI"]
    json.dumps(res.to_json(), allow_nan=False)
    # also from a (id, year) MultiIndex
    mi = panel.set_index("year", append=True)
    assert ac.moran_by_year(mi, "v", weights=g, permutations=0)[2002].I == pytest.approx(res[2002].I)
    with pytest.raises(SchemaError, match="year 2002"):
        ac.moran_by_year(panel[~((panel.index == col.index[0]) & (panel["year"] == 2002))], "v", weights=g)


# --------------------------------------------------------------------------- bad input


def test_bad_inputs(col):
    g = gw.build("queen", col)
    with pytest.raises(SchemaError, match="no column 'nope'"):
        ac.moran(col, "nope", weights=g)
    bad = col.copy()
    bad.loc[bad.index[3], "CRIME"] = np.nan
    with pytest.raises(SchemaError, match=bad.index[3]):
        ac.moran(bad, "CRIME", weights=g)
    with pytest.raises(ModelError, match="constant"):
        ac.moran(col.assign(c=1.0), "c", weights=g)
    with pytest.raises(InputError, match="geometry"):
        ac.moran(pd.DataFrame(col.drop(columns="geometry")), "CRIME", weights="queen")
    with pytest.raises(SchemaError, match="no row"):
        ac.local_moran(col.iloc[1:], "CRIME", weights=g)
    with pytest.raises(OptionError):
        ac.moran(col, "CRIME", weights=g, permutations=-1)
    with pytest.raises(OptionError):
        ac.local_moran(col, "CRIME", weights=g, alpha=1.5)
    with pytest.raises(SchemaError, match="non-negative"):
        ac.general_g(col.assign(neg=-col["CRIME"]), "neg", weights=g)
    with pytest.raises(OptionError, match="G\\*"):
        ac.local_g(col, "CRIME", weights=gw.build("queen", col, transform="v"), star=True)


def test_inputs_are_not_mutated(col):
    before = col.copy()
    ac.local_moran(col, "CRIME", weights="queen", seed=1)
    ac.moran(col, "CRIME", weights="knn:4" if col.crs else "rook", seed=1)
    pd.testing.assert_frame_equal(col, before)


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def china_csv(tmp_path_factory, china):
    from geo.boundaries import to_metric

    path = tmp_path_factory.mktemp("moran") / "area.csv"
    pd.DataFrame({"adcode": china.index, "log_area": np.log(to_metric(china).area.to_numpy() / 1e6)}).to_csv(
        path, index=False)
    return path


def test_cli_moran_json_global_and_local(china_csv, china, capsys):
    from geo.cli import main

    assert main(["moran", "--data", str(china_csv), "--var", "log_area", "--seed", "1", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    for key in ("I", "EI", "VI_norm", "z_norm", "p_norm", "VI_rand", "z_rand", "p_rand", "p_sim", "n"):
        assert key in js
    frame = pd.read_csv(china_csv, dtype={"adcode": str}).set_index("adcode")
    ref = ac.moran(frame, "log_area", weights=gw.build("queen", china), permutations=999, seed=1)
    assert js["I"] == pytest.approx(ref.I, rel=1e-12) and js["p_sim"] == ref.p_sim and js["n"] == 337
    assert main(["moran", "--data", str(china_csv), "--var", "log_area", "--seed", "1", "--local",
                 "--permutations", "99", "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert len(js["local"]) == 337
    assert set(js["local"][0]) >= {"id", "Ii", "z", "p_sim", "quadrant"}
    assert {r["quadrant"] for r in js["local"]} <= {"HH", "LL", "HL", "LH", "ns"}
    assert main(["moran", "--data", str(china_csv), "--var", "log_area", "--permutations", "0"]) == 0
    assert "Moran's I of log_area" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--weights", "knn:-1"], "knn:-1"),
    (["--weights", "idw:2:300"], "idw:2:300"),
    (["--var", "missing"], "missing"),
])
def test_cli_moran_errors(china_csv, capsys, args, needle):
    from geo.cli import main

    argv = ["moran", "--data", str(china_csv), "--var", "log_area", "--permutations", "0"]
    if "--var" in args:
        argv = ["moran", "--data", str(china_csv), "--permutations", "0"] + args
    else:
        argv += args
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err


def test_cli_moran_panel_with_economic_weights_on_another_column(tmp_path, china, capsys):
    """economic:VAR on a panel uses VAR's mean per unit even when VAR is not the tested variable."""
    from geo.cli import main

    rng = np.random.default_rng(3)
    ids = list(china.index)
    rows = pd.DataFrame({"adcode": ids * 2, "year": [2010] * len(ids) + [2011] * len(ids),
                         "v": rng.normal(size=2 * len(ids)), "gdp": rng.uniform(1, 2, size=2 * len(ids))})
    path = tmp_path / "panel.csv"
    rows.to_csv(path, index=False)
    assert main(["moran", "--data", str(path), "--var", "v", "--weights", "economic:gdp", "--permutations", "0",
                 "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    graph = gw.build("economic:gdp", china, data=rows.set_index("adcode"))
    for year, got in zip((2010, 2011), js["years"]):
        frame = rows[rows["year"] == year].set_index("adcode")
        assert got["I"] == pytest.approx(ac.moran(frame, "v", weights=graph, permutations=0).I, rel=1e-12)
