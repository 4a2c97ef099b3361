"""The imputation estimator and the inference of geo.radiation checked by hand, against diff-diff, and by simulation."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import radiation as rad
from geo.errors import GeoError, ModelError
from geo.radiation.design import design
from geo.radiation.geometry import unit_centroids

BANDS = (100.0, 200.0, 300.0)
TRUTH = {"host": 0.10, "0-100 km": 0.04, "100-200 km": -0.03, "200-300 km": 0.0}


def _zones(units, n, seed, kinds=False):
    rng = np.random.default_rng(seed)
    cents = unit_centroids(units)
    hosts = rng.choice(units.index.to_numpy(), n, replace=False)
    return gpd.GeoDataFrame(
        {"name": [f"z{i}" for i in range(n)], "approval_year": rng.integers(2004, 2017, n), "host_adcodes": hosts,
         "kind": np.where(np.arange(n) < n // 2, "a", "b") if kinds else "a"},
        geometry=gpd.points_from_xy(cents.loc[hosts, "lon"], cents.loc[hosts, "lat"]), crs="EPSG:4326",
    )


def _panel(ex, effects, seed, sigma=0.05):
    """SYNTHETIC: y = a_i + g_t + sum_l effects[l] D_l,it + sigma e_it, iid noise; rows of the exposure table."""
    rng = np.random.default_rng(seed)
    T = ex.table
    ids = pd.factorize(T["id"])[0]
    a = 0.3 * rng.standard_normal(ids.max() + 1)
    y = a[ids] + 0.04 * (T["year"].to_numpy() - 2000) + sigma * rng.standard_normal(len(T))
    for lab, eff in effects.items():
        y = y + eff * T[lab].to_numpy()
    return pd.DataFrame({"adcode": T["id"], "year": T["year"], "y_synthetic": y})


@pytest.fixture(scope="module")
def setup(china):
    zones = _zones(china, 15, 1)
    ex = rad.exposure(china, years=range(2000, 2024), zones=zones, bands=BANDS)
    return zones, ex, _panel(ex, TRUTH, 7)


def test_imputation_equals_a_dense_two_stage_with_gmm_variance(setup):
    """Hand computation with dense dummies: stage 1 on unexposed rows, stage 2, Gardner's GMM variance."""
    _, ex, df = setup
    rng = np.random.default_rng(3)
    df = df.drop(index=rng.choice(df.index, 800, replace=False)).reset_index(drop=True)  # unbalanced
    fit = rad.band_did(df, "y_synthetic", ex)
    d = design(df, "y_synthetic", ex)
    dd = d.df
    U = pd.get_dummies(dd["adcode"]).to_numpy(float)
    Y = pd.get_dummies(dd["year"]).to_numpy(float)[:, 1:]
    X1 = np.hstack([U, Y])
    X2 = dd[list(d.cols.values())].to_numpy(float)
    unt = dd["untreated"].to_numpy()
    y = dd["y_synthetic"].to_numpy()
    g1 = np.linalg.lstsq(X1[unt], y[unt], rcond=None)[0]
    yt = y - X1 @ g1
    tau = np.linalg.solve(X2.T @ X2, X2.T @ yt)
    e2 = yt - X2 @ tau
    e1 = np.where(unt, yt, 0.0)
    Binv = np.linalg.inv(X2.T @ X2)
    Gam = X2.T @ X1 @ np.linalg.pinv(X1[unt].T @ X1[unt])
    cl = pd.factorize(dd["adcode"])[0]
    meat = np.zeros((len(tau), len(tau)))
    for g in range(cl.max() + 1):
        m = cl == g
        s = X2[m].T @ e2[m] - Gam @ (X1[m] * unt[m, None]).T @ e1[m]
        meat += np.outer(s, s)
    G = cl.max() + 1
    V = Binv @ meat @ Binv * G / (G - 1)
    t = fit.table.set_index("band")
    np.testing.assert_allclose(t["estimate"].to_numpy(), tau, rtol=1e-8)
    np.testing.assert_allclose(t["se"].to_numpy(), np.sqrt(np.diag(V)), rtol=1e-8)
    assert fit.sample["balanced"] is False and fit.sample["obs"] == len(df)


def test_imputation_agrees_with_diff_diff_spillover(setup, china):
    """diff-diff's SpilloverDiD (Butts/Gardner) on centroid zones: same host and ring effects within 0.2 SE."""
    SpilloverDiD = pytest.importorskip("diff_diff").SpilloverDiD
    import warnings

    _, ex, df = setup
    fit = rad.band_did(df, "y_synthetic", ex).table.set_index("band")
    q = _mc().diff_diff_frame(df, china, ex)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = SpilloverDiD(rings=[0.0, *BANDS], conley_coords=("lat", "lon"), cluster="adcode").fit(
            q, outcome="y_synthetic", unit="adcode", time="year", first_treat="first_treat")
    assert abs(fit.at["host", "estimate"] - r.att) < 0.2 * fit.at["host", "se"]
    assert fit.at["host", "se"] == pytest.approx(r.se, rel=0.05)
    for (lab, row), (_, peer) in zip(fit.iloc[1:].iterrows(), r.spillover_effects.iterrows()):
        assert abs(row["estimate"] - peer["coef"]) < 0.2 * row["se"], lab


def test_estimators_recover_static_effects(setup):
    _, ex, df = setup
    for est in ("imputation", "stacked", "twfe"):
        t = rad.band_did(df, "y_synthetic", ex, estimator=est).table.set_index("band")
        for lab, v in TRUTH.items():
            assert abs(t.at[lab, "estimate"] - v) < 4 * t.at[lab, "se"] + 1e-3, (est, lab)


def test_wild_bootstrap_and_conley(setup):
    _, ex, df = setup
    cl = rad.band_did(df, "y_synthetic", ex).table.set_index("band")
    w1 = rad.band_did(df, "y_synthetic", ex, inference="wild", draws=199, seed=5)
    w2 = rad.band_did(df, "y_synthetic", ex, inference="wild", draws=199, seed=5)
    pd.testing.assert_frame_equal(w1.table, w2.table)  # seeded
    t = w1.table.set_index("band")
    assert (t["ci_lower"] < t["estimate"]).all() and (t["estimate"] < t["ci_upper"]).all()
    assert t.at["host", "p"] <= 0.01 and t.at["200-300 km", "p"] > 0.05  # 0.10 effect vs a zero ring
    # bootstrap intervals are close to the clustered ones with 337 clusters
    np.testing.assert_allclose(t["ci_upper"] - t["ci_lower"], cl["ci_upper"] - cl["ci_lower"], rtol=0.35)
    js = w1.to_json()
    assert js["inference"]["method"] == "wild" and js["inference"]["draws"] == 199
    json.dumps(js, allow_nan=False)
    # Conley with a cutoff shorter than any distance between units is the clustered covariance (same factor)
    from geo.radiation.imputation import fit as ifit

    lf, fs = ifit(design(df, "y_synthetic", ex))
    g = np.arange(lf.G)
    coords = np.column_stack([(g % 30) * 10.0 - 150.0, (g // 30) * 10.0 - 55.0])  # >= 500 km apart
    np.testing.assert_allclose(lf.conley_cov(coords, 1.0), lf.cov(), rtol=1e-12)
    wide = rad.band_did(df, "y_synthetic", ex, inference="conley:300").table.set_index("band")
    assert (wide["se"] > 0).all() and np.isfinite(wide["p"]).all()
    with pytest.raises(GeoError, match="conley"):
        rad.band_did(df, "y_synthetic", ex, inference="conley:-3")


def test_event_study_imputation_pretrends_and_uniform_bands(setup):
    _, ex, df = setup
    ev = rad.event_study(df, "y_synthetic", ex, window=(4, 3), draws=99, seed=1)
    tab = ev.table
    lags = tab[tab["rel_time"] >= 0]
    for r in lags.itertuples():
        assert abs(r.estimate - TRUTH[r.band]) < 4.5 * r.se + 1e-3
    assert (tab["band_lower"] <= tab["ci_lower"] + 1e-12).all() and (tab["band_upper"] >= tab["ci_upper"] - 1e-12).all()
    pre = ev.pretrend.set_index("band")
    assert pre.at["all", "p"] > 0.001 and 0 <= pre.at["all", "p_wild"] <= 1
    assert sorted(tab.loc[tab["rel_time"] < 0, "rel_time"].unique()) == [-4, -3, -2, -1]
    json.dumps(ev.to_json(), allow_nan=False)


def test_two_kinds_and_equality_test(china):
    zones = _zones(china, 20, 4, kinds=True)
    ex = rad.exposure(china, years=range(2000, 2024), zones=zones, bands=BANDS, kinds=("a", "b"))
    same = {"a:host": 0.1, "b:host": 0.1, "a:0-100 km": 0.04, "b:0-100 km": 0.04}
    diff = {"a:host": 0.1, "b:host": 0.0, "a:0-100 km": 0.04, "b:0-100 km": 0.04}
    f_same = rad.band_did(_panel(ex, same, 2), "y_synthetic", ex)
    f_diff = rad.band_did(_panel(ex, diff, 2), "y_synthetic", ex)
    assert list(f_same.table["band"])[:2] == ["a:host", "a:0-100 km"]
    ks, kd = f_same.kind_tests.set_index("group"), f_diff.kind_tests.set_index("group")
    assert ks.at["host", "p"] > 0.01 and kd.at["host", "p"] < 1e-4
    js = f_diff.to_json()
    assert js["kinds"] == ["a", "b"] and js["bands"][0]["kind"] == "a" and isinstance(js["reach_km"], dict)


def test_randomization_inference_from_placebo_zones(setup, china):
    zones, ex, df = setup
    res = rad.analyse(df, "y_synthetic", units=china, zones=zones, bands=BANDS, inference="ri", draws=19, seed=3)
    t = res.did.table.set_index("band")
    assert t.at["host", "p"] == pytest.approx(1 / 20)  # the real zones beat every placebo
    assert (t["p"] >= 1 / 20).all() and (t["p"] <= 1).all()
    assert res.to_json()["inference"]["placebo"] == "zones"


def test_degenerate_outcome_is_an_error(setup):
    _, ex, df = setup
    with pytest.raises(ModelError, match="constant"):
        rad.band_did(df.assign(y_synthetic=2.0), "y_synthetic", ex)


def _mc():
    """benchmarks/mc_radiation.py as a module."""
    import sys
    from pathlib import Path

    path = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if path not in sys.path:
        sys.path.insert(0, path)
    import mc_radiation

    return mc_radiation


@pytest.mark.slow
def test_monte_carlo_fast_mode(china):
    """benchmarks/mc_radiation.py in fast mode: the imputation estimator is unbiased within Monte Carlo error."""
    mc = _mc()
    res, pre = mc.run_design("static", mc.DESIGNS["static"], 4, 0, china, peer=False, pretrend=True)
    s = mc.summarise(res)
    imp = s[(s["estimator"] == "imputation")]
    for r in imp.itertuples():
        assert abs(r.bias) < 4 * r.mc_sd / np.sqrt(r.reps) + 0.004, r.group
    assert len(pre) == 4


def _sar_panel(china, ex, rho, b, theta, seed):
    """SYNTHETIC spatial lag panel y = (I - rho W)^-1 (a + g_t + b h_t + sum_k theta_k R_k,t + e_t), W idw:1:300km."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    from geo.weights import build

    g = build("idw:1:300km", china)
    W = sp.csr_matrix(g.sparse)
    ids = list(map(str, g.unique_ids))
    T = ex.table.set_index(["year", "id"])
    mat = lambda c: T[c].unstack("id")[ids].to_numpy(float)  # noqa: E731
    H = mat("host")
    R = np.stack([mat(c) for c in ("0-100 km", "100-200 km", "200-300 km")])
    rng = np.random.default_rng(seed)
    n, nt = len(ids), H.shape[0]
    rhs = 0.3 * rng.standard_normal(n)[None, :] + 0.04 * np.arange(nt)[:, None] + b * H
    rhs = rhs + np.tensordot(theta, R, axes=1) + 0.05 * rng.standard_normal((nt, n))
    Y = splu(sp.csc_matrix(sp.identity(n) - rho * W)).solve(rhs.T).T
    years = sorted(ex.table["year"].unique())
    df = pd.DataFrame({"adcode": np.tile(ids, nt), "year": np.repeat(years, n), "y_synthetic": Y.ravel()})
    from geo.radiation.spatial_rings import zone_effects

    dy = zone_effects(W, rho, b, theta, H, R)
    hm = H > 0
    truth = {"direct": dy[hm].mean()}
    for k, lab in enumerate(("0-100 km", "100-200 km", "200-300 km")):
        truth[lab] = dy[(R[k] > 0) & ~hm].mean()
    return df, truth


def test_ring_spatial_did_recovers_direct_and_siphon(setup, china):
    zones, ex, _ = setup
    df, truth = _sar_panel(china, ex, 0.3, 0.10, np.array([0.04, -0.03, 0.0]), 11)
    f = rad.ring_spatial_did(df, "y_synthetic", ex, units=china, draws=200, seed=2)
    assert abs(f.rho - 0.3) < 0.06
    assert abs(f.direct["estimate"] - truth["direct"]) < 3.5 * f.direct["se"]
    for lab in ("0-100 km", "100-200 km", "200-300 km"):
        assert abs(f.indirect[lab]["estimate"] - truth[lab]) < 3.5 * f.indirect[lab]["se"], lab
    assert f.indirect["100-200 km"]["upper"] < 0  # the siphon ring is found
    json.dumps(f.to_json(), allow_nan=False)
    from geo import scenario

    sc = scenario.new_zone(f, host="郑州", year=2025, units=china, draws=100, seed=1)
    t = sc.to_frame()
    assert t.at["410100", "band_after"] == "host" and t.at["410100", "lower"] < t.at["410100", "effect"]
    assert (t["lower"] <= t["effect"] + 1e-12).all() and (t["effect"] <= t["upper"] + 1e-12).all()
    with pytest.raises(ModelError, match="unbalanced panel: 5 of 8088 unit-years"):
        rad.ring_spatial_did(df.iloc[5:], "y_synthetic", ex, units=china, balance="error")


@pytest.mark.slow
def test_ring_spatial_did_coverage(setup, china):
    """Direct and indirect 95 % intervals cover the simulation truth (pooled over 10 panels x 4 effects)."""
    zones, ex, _ = setup
    hits = total = 0
    for seed in range(10):
        df, truth = _sar_panel(china, ex, 0.3, 0.10, np.array([0.04, -0.03, 0.0]), 100 + seed)
        f = rad.ring_spatial_did(df, "y_synthetic", ex, units=china, draws=200, seed=seed)
        for key, eff in (("direct", f.direct), *[(k, f.indirect[k]) for k in ("0-100 km", "100-200 km", "200-300 km")]):
            hits += eff["lower"] <= truth[key] <= eff["upper"]
            total += 1
    assert hits >= 33, f"coverage {hits}/{total}"


DEMO = ["radiation", "--data", "layers/demo_panel_synthetic.csv", "--y", "log_gdp_pc_synthetic", "--bands", "100,200,300"]


def _cli(args, capsys):
    from geo.cli import main

    rc = main(args)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_estimators_inference_and_kinds(capsys, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    rc, out, err = _cli([*DEMO, "--inference", "wild", "--draws", "49", "--seed", "3", "--json"], capsys)
    assert rc == 0, err
    js = json.loads(out)
    assert js["method"] == "imputation" and js["inference"]["method"] == "wild" and js["inference"]["draws"] == 49
    assert [b["band"] for b in js["bands"]] == ["host", "0-100 km", "100-200 km", "200-300 km"]
    assert {"reach_km", "event_study", "estimator", "exposure", "sample", "exposure_by_year"} <= set(js)
    rc, out, err = _cli([*DEMO, "--exposure", "count", "--estimator", "stacked", "--inference", "conley:250", "--json"],
                        capsys)
    assert rc == 0, err
    js = json.loads(out)
    assert js["exposure"] == "count" and js["inference"]["cutoff_km"] == 250 and js["method"] == "stacked"
    rc, out, err = _cli([*DEMO, "--zone-kind", "new-zone,high-tech", "--json"], capsys)
    assert rc == 0, err
    js = json.loads(out)
    labels = [b["band"] for b in js["bands"]]
    assert labels[0] == "new-zone:host" and "high-tech:host" in labels and js["kinds"] == ["new-zone", "high-tech"]
    assert js["kind_equality_tests"] and set(js["reach_km"]) == {"new-zone", "high-tech"}
    json.dumps(js, allow_nan=False)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--inference", "bootstrap"], "inference='bootstrap'"),
        (["--inference", "conley:-5"], "positive distance"),
        (["--zone-kind", "new-zone,bogus"], "--zone-kind"),
        (["--draws", "5"], "--draws 5"),
    ],
)
def test_cli_bad_options(capsys, monkeypatch, args, message):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    rc, out, err = _cli([*DEMO, *args], capsys)
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_count_exposure_recovers_per_zone_effects(china):
    zones = _zones(china, 30, 9)
    ex = rad.exposure(china, years=range(2000, 2024), zones=zones, bands=BANDS, mode="count")
    assert ex.table["100-200 km"].max() >= 2  # several zones per ring somewhere
    per_zone = {"host": 0.08, "0-100 km": 0.03, "100-200 km": -0.01, "200-300 km": 0.0}
    t = rad.band_did(_panel(ex, per_zone, 4), "y_synthetic", ex).table.set_index("band")
    for lab, v in per_zone.items():
        assert abs(t.at[lab, "estimate"] - v) < 4 * t.at[lab, "se"] + 1e-3, lab
    years = rad.analyse(_panel(ex, per_zone, 4), "y_synthetic", units=china, zones=zones, bands=BANDS,
                        exposure="count", inference="ri", placebo="years", draws=9, seed=2)
    assert years.did.inference["placebo"] == "years" and (years.did.table["p"] >= 0.1).all()


def test_cli_user_zone_file_with_kinds_and_late_zone(capsys, monkeypatch, tmp_path):
    """A user's zone file with a kind column: separate treatments; a zone approved after the data is noted."""
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    zones = tmp_path / "zones.csv"
    pd.DataFrame(
        {"name": ["郑州航空港", "武汉东湖", "成都天府", "西安未来"], "kind": ["港区", "高新区", "港区", "高新区"],
         "approval_date": ["2013-03-07", "2009-12-08", "2014-10-02", "2031-01-01"],
         "lon": [113.84, 114.42, 104.07, 108.95], "lat": [34.53, 30.47, 30.40, 34.27]}
    ).to_csv(zones, index=False)
    rc, out, err = _cli([*DEMO, "--zones", str(zones), "--inference", "cluster", "--json"], capsys)
    assert rc == 0, err
    js = json.loads(out)
    assert js["kinds"] == ["港区", "高新区"] and js["bands"][0]["band"] == "港区:host"
    assert any("after 2023" in n for n in js["notes"])


def test_imputation_by_cohort_averages_to_the_overall_effect(setup):
    """The overall group effect is the exposed-unit-year weighted mean of the cohort effects (same first stage)."""
    _, ex, df = setup
    fit = rad.band_did(df, "y_synthetic", ex)
    bc = fit.by_cohort
    d = design(df, "y_synthetic", ex)
    rows = d.df[d.df["D_host"] != 0]
    w = rows.groupby("first").size()
    host = bc[bc["band"] == "host"].set_index("cohort")
    assert set(host.index) == set(w.index.astype(int))
    avg = float((host["estimate"] * w.reindex(host.index).to_numpy()).sum() / w.sum())
    assert avg == pytest.approx(fit.table.set_index("band").at["host", "estimate"], rel=1e-10)
    assert fit.to_json()["by_cohort"][0]["band"] == "host"
