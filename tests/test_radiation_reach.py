"""Reach chosen from the data (geo.radiation.reach): the distance curve and Clarke's (2017) cross-validated reach.

Every panel here is SYNTHETIC: the 337 real units, zones at the equal-area centroids of 15 host units drawn with a
seed, approval years 2004-2016, outcomes from benchmarks/mc_radiation.py's process (unit and year effects, AR(1)
noise) with a known reach: host +0.10, 0-100 km +0.05, 100-200 km +0.03, nothing beyond 200 km.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo import radiation as rad
from geo.errors import ModelError, OptionError
from geo.radiation.design import design
from geo.radiation.inference import sup_t_critical, wild_sup_t_critical

EFFECTS = {"host": 0.10, "0-100 km": 0.05, "100-200 km": 0.03, "200-400 km": 0.0}
TRUE_REACH = 200.0
YEARS = list(range(2000, 2024))


def _mc():
    path = str(Path(__file__).resolve().parents[1] / "benchmarks")
    if path not in sys.path:
        sys.path.insert(0, path)
    import mc_radiation

    return mc_radiation


def known_reach_panel(units, seed, zone_seed=1, n_zones=15):
    """(zones, panel) with the effects of EFFECTS by the ring of the nearest approved zone (SYNTHETIC)."""
    mc = _mc()
    zones = mc.make_zones(units, n_zones, zone_seed)
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=(100.0, 200.0, 400.0))
    tau = {lab: EFFECTS[lab] * ex.table[lab].to_numpy() for lab in ex.labels}
    return zones, mc.simulate(units, ex, tau, seed)


def ring_truth(table):
    """Effect of each narrow ring of a curve: EFFECTS of the coarse ring holding it (rings align with 100/200)."""
    out = []
    for lo, hi in zip(table["lower_km"], table["upper_km"]):
        out.append(0.05 if hi <= 100 else 0.03 if hi <= 200 else 0.0)
    return np.array(out)


@pytest.fixture(scope="module")
def setup(china):
    return known_reach_panel(china, seed=11)


@pytest.fixture(scope="module")
def curve(setup, china):
    zones, df = setup
    return rad.distance_curve(df, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300,
                              inference="cluster", draws=999, seed=3)


# --------------------------------------------------------------------------- the curve


def test_curve_with_step_equal_to_ring_width_is_the_ring_estimator(setup, china):
    zones, df = setup
    c = rad.distance_curve(df, "y_synthetic", units=china, zones=zones, step_km=100, max_km=300,
                           inference="cluster", seed=1)
    ex = rad.exposure(china, years=YEARS, zones=zones, bands=(100.0, 200.0, 300.0))
    fit = rad.band_did(df, "y_synthetic", ex, inference="cluster")
    rings = fit.table[fit.table["band"] != "host"]
    assert list(c.table["band"]) == ["0-100 km", "100-200 km", "200-300 km"]
    for col in ("estimate", "se", "p", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(c.table[col].to_numpy(), rings[col].to_numpy(), rtol=0, atol=1e-10)
    host = fit.table.set_index("band").loc["host"]
    assert abs(c.host["estimate"] - host["estimate"]) < 1e-10 and abs(c.host["se"] - host["se"]) < 1e-10
    assert list(c.table["n_units"]) == list(rings["n_units"])


def test_curve_recovers_the_truth_and_its_band_is_uniform(curve):
    t = curve.table
    # no prefecture centroid lies within 50 km of a zone: the first narrow ring is merged, and said so
    assert t["band"].iat[0] == "0-100 km" and any("first ring is 0-100 km" in n for n in curve.notes)
    assert list(t["upper_km"]) == [100.0, 150.0, 200.0, 250.0, 300.0]
    truth = ring_truth(t)
    assert ((t["band_lower"] <= truth) & (truth <= t["band_upper"])).all()  # the band covers the whole curve
    # (pointwise coverage is a rate: the slow simulation test checks it)
    # the uniform band is wider than the pointwise interval by c / t_crit; c stays below the Bonferroni value
    # of a t with as few df as the sparsest ring has exposed units (the studentized bootstrap's tails)
    from scipy.special import stdtrit

    k, dof = len(t), int(t["n_units"].min()) - 1
    assert curve.pointwise_critical + 0.3 < curve.critical_value < stdtrit(dof, 1 - 0.025 / k)
    np.testing.assert_allclose(t["band_upper"] - t["estimate"], curve.critical_value * t["se"], rtol=1e-12)
    assert curve.reach_km == TRUE_REACH
    assert abs(curve.host["estimate"] - 0.10) < 3 * curve.host["se"]


def test_curve_json_and_frame(curve):
    js = curve.to_json()
    json.dumps(js, allow_nan=False)
    assert js["rule"] == "curve" and js["reach_km"] == TRUE_REACH and js["step_km"] == 50
    assert [r["band"] for r in js["curve"]] == list(curve.table["band"])
    assert set(js["curve"][0]) >= {"lower_km", "upper_km", "mid_km", "estimate", "ci_lower", "band_lower",
                                   "band_upper", "n_units"}
    assert js["band_method"].startswith("studentized wild cluster bootstrap") and "seed 3" in js["band_method"]
    assert curve.to_frame() is not curve.table and "uniform band" in curve.summary()


def test_wild_curve_band_holds_the_pointwise_intervals(setup, china):
    zones, df = setup
    c = rad.distance_curve(df, "y_synthetic", units=china, zones=zones, step_km=100, max_km=300,
                           inference="wild", draws=99, seed=4)
    t = c.table
    assert c.inference["method"] == "wild" and c.inference["draws"] == 99
    assert (t["band_lower"] <= t["ci_lower"] + 1e-12).all() and (t["band_upper"] >= t["ci_upper"] - 1e-12).all()
    assert (t["ci_lower"] < t["estimate"]).all() and (t["estimate"] < t["ci_upper"]).all()


def test_curve_figure(curve):
    from geo.figures.plots import decay_plot

    plot = decay_plot(curve.to_json())
    assert plot.kind == "distance-decay" and plot.series == tuple(curve.table["band"])
    ax = plot.figure.axes[0]
    assert len(ax.collections) >= 2  # the pointwise ribbon and the uniform band


def test_curve_does_not_depend_on_row_order(setup, china, curve):
    zones, df = setup
    shuffled = df.sample(frac=1.0, random_state=5).reset_index(drop=True)
    c2 = rad.distance_curve(shuffled, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300,
                            inference="cluster", draws=999, seed=3)
    np.testing.assert_allclose(c2.table["estimate"], curve.table["estimate"], atol=1e-10)
    np.testing.assert_allclose(c2.table["band_upper"], curve.table["band_upper"], atol=1e-10)


def test_wild_sup_t_matches_the_gaussian_one_with_many_clusters(setup, china):
    """With 300+ clusters the fixed-SE multiplier bootstrap of the influences approaches N(0, V): same sup-t."""
    zones, df = setup
    from geo.radiation import imputation

    ex = rad.exposure(china, years=YEARS, zones=zones, bands=(100.0, 200.0, 300.0))
    lf, _ = imputation.fit(design(df, "y_synthetic", ex))
    idx = [1, 2, 3]
    c_wild = wild_sup_t_critical(lf, idx, 0.95, draws=20_000, weights="rademacher", seed=1, studentize=False)
    c_norm = sup_t_critical(lf.cov()[np.ix_(idx, idx)], 0.95, draws=20_000, seed=1)
    assert abs(c_wild - c_norm) < 0.08
    one = wild_sup_t_critical(lf, [0], 0.95, draws=20_000, weights="webb", seed=2, studentize=False)
    assert 1.85 < one < 2.1  # one parameter: the |t| quantile
    # the studentized value: the same by cluster chunks and by one solve over all draws; wider than the fixed-SE
    # one (the clustered SE of a ring is itself noisy: 20-40 exposed units)
    fi = imputation.first_stage(design(df, "y_synthetic", ex))
    slow = wild_sup_t_critical(lf, idx, 0.95, draws=49, seed=3)
    fast = wild_sup_t_critical(lf, idx, 0.95, draws=49, seed=3, T=lambda Z: Z - fi.fs.H(Z))
    assert abs(slow - fast) < 1e-9
    c_stud = wild_sup_t_critical(lf, idx, 0.95, draws=2000, seed=1, T=lambda Z: Z - fi.fs.H(Z))
    assert c_stud > wild_sup_t_critical(lf, idx, 0.95, draws=2000, seed=1, studentize=False)
    with pytest.raises(OptionError, match="choose one of"):
        wild_sup_t_critical(lf, idx, 0.95, weights="mammen")


# --------------------------------------------------------------------------- Clarke's cross-validation


@pytest.fixture(scope="module")
def cv(setup, china):
    zones, df = setup
    return rad.cv_reach(df, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300, folds=5, seed=2)


def test_cv_picks_the_true_reach(cv):
    t = cv.table
    assert list(t["h_km"]) == [50.0, 100.0, 150.0, 200.0, 250.0, 300.0]
    assert (t["reach_km"] == t["h_km"] * t["n_rings"]).all()
    # widths that tile 200 km (50, 100, 200) keep exactly the affected rings
    assert set(t.loc[t["h_km"].isin([50.0, 100.0, 200.0]), "reach_km"]) == {TRUE_REACH}
    assert t["chosen"].sum() == 1 and t.loc[t["chosen"], "rmse"].iat[0] == t["rmse"].min()
    assert cv.reach_km == TRUE_REACH and cv.h_km in (50.0, 100.0, 200.0)
    # the model without the spillover rings predicts worse out of sample than the chosen one
    assert (t["rmse"] > 0).all() and t["n_eval"].nunique() == 1


def test_cv_json(cv):
    js = cv.to_json()
    json.dumps(js, allow_nan=False)
    assert js["rule"] == "cv" and js["fold_unit"] == "unit" and js["folds"] == 5 and js["seed"] == 2
    assert js["grid_km"] == [50.0, 100.0, 150.0, 200.0, 250.0, 300.0]
    assert sum(r["chosen"] for r in js["cv"]) == 1 and "Clarke" in js["description"]
    assert "reach (cv): 200 km" in cv.summary()


def test_cv_folds_are_seeded(setup, china, cv):
    zones, df = setup
    again = rad.cv_reach(df, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300, folds=5, seed=2)
    np.testing.assert_array_equal(again.table["rmse"].to_numpy(), cv.table["rmse"].to_numpy())


# --------------------------------------------------------------------------- the one call and the CLI


def test_analyse_reports_the_rule(setup, china):
    zones, df = setup
    kw = dict(units=china, zones=zones, bands=(100.0, 200.0, 300.0), inference="cluster")
    base = rad.analyse(df, "y_synthetic", **kw).to_json()
    assert base["reach_rule"] == "rings" and base["reach"]["rule"] == "rings"
    assert base["reach_km"] == base["reach"]["reach_km"] == TRUE_REACH
    res = rad.analyse(df, "y_synthetic", **kw, reach="cv", reach_step_km=100, reach_folds=4)
    js = res.to_json()
    assert js["reach_rule"] == "cv" and js["reach"]["rule"] == "cv" and js["reach_km"] == res.reach.reach_km
    assert js["reach"]["grid_km"] == [100.0, 200.0, 300.0]  # max defaults to the last band edge
    assert [b["band"] for b in js["bands"]] == [b["band"] for b in base["bands"]]  # the bands keep their shape
    with pytest.raises(OptionError, match="reach"):
        rad.analyse(df, "y_synthetic", **kw, reach="smooth")
    with pytest.raises(OptionError, match="time-varying"):
        rad.analyse(df, "y_synthetic", **kw, exposure="static", reach="curve")


@pytest.mark.parametrize(
    "step, top, message",
    [(0, 300, "positive"), (-25, 300, "positive"), (100, 50, "below the ring width"), (float("nan"), 300, "positive"),
     (1, 500, "at most 200")],
)
def test_bad_steps(step, top, message):
    with pytest.raises(OptionError, match=message):
        rad.ring_edges(step, top)


def test_a_ring_with_no_unit_is_an_error(setup, china):
    zones, df = setup
    # 5-km rings: the first ring becomes 0-80 km (10 units); the 85-90 km ring holds no unit
    with pytest.raises(ModelError, match=r"no exposed unit-year in the ring 85-90 km"):
        rad.distance_curve(df, "y_synthetic", units=china, zones=zones, step_km=5, max_km=300, inference="cluster")
    with pytest.raises(ModelError, match="fewer than 10 units are exposed within 100 km"):
        rad.distance_curve(df, "y_synthetic", units=china, zones=zones.iloc[:3], step_km=10, max_km=100,
                           inference="cluster")


@pytest.fixture(scope="module")
def reach_csv(tmp_path_factory, setup, china):
    from geo.radiation.geometry import unit_centroids

    zones, df = setup
    root = tmp_path_factory.mktemp("reach")
    data = root / "reach_synthetic.csv"
    df.to_csv(data, index=False)
    cents = unit_centroids(china)
    zfile = root / "zones.csv"
    pd.DataFrame({"name": zones["name"], "approval_date": [f"{y}-06-01" for y in zones["approval_year"]],
                  "lon": cents.loc[zones["host_adcodes"], "lon"].to_numpy(),
                  "lat": cents.loc[zones["host_adcodes"], "lat"].to_numpy()}).to_csv(zfile, index=False)
    return data, zfile


def test_cli_reach_curve_json(reach_csv, capsys):
    from geo.cli import main

    data, zfile = reach_csv
    rc = main(["radiation", "--data", str(data), "--y", "y_synthetic", "--zones", str(zfile), "--bands", "100,200,300",
               "--inference", "cluster", "--reach", "curve", "--reach-step", "50", "--draws", "199", "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    js = json.loads(cap.out)
    assert js["reach_rule"] == "curve" and js["reach"]["step_km"] == 50 and js["reach"]["max_km"] == 300
    assert js["reach_km"] == js["reach"]["reach_km"] == TRUE_REACH
    assert [b["band"] for b in js["bands"]][0] == "host"
    from geo.figures.plots import decay_plot

    plot = decay_plot(js)  # geo figure decay --from rad.json draws the curve, not the coarse bands
    assert plot.series == tuple(r["band"] for r in js["reach"]["curve"])


@pytest.mark.parametrize(
    "args, message",
    [(["--reach", "curve", "--reach-step", "0"], "positive"),
     (["--reach", "cv", "--reach-step", "400"], "below the ring width"),
     (["--reach", "cv", "--reach-folds", "1"], "folds 1")],
)
def test_cli_reach_bad_inputs(reach_csv, capsys, args, message):
    from geo.cli import main

    data, zfile = reach_csv
    rc = main(["radiation", "--data", str(data), "--y", "y_synthetic", "--zones", str(zfile), "--inference", "cluster",
               *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


# --------------------------------------------------------------------------- by simulation (slow)


@pytest.mark.slow
def test_cv_and_band_by_simulation(china):
    """Over 6 seeded panels: CV picks the true reach (measured 0.88 over 25 panels in BENCHMARKS.md; P(≥ 4 of 6)
    = 0.97 at 0.88); the uniform band covers the whole curve (measured 0.95 over 75 panels, nominal 0.95; P(≥ 5 of 6)
    = 0.97 at 0.95 — the seeds are fixed, so the test is deterministic) and the pointwise intervals cover each ring
    (measured 0.94 per ring; require ≥ 0.85 over 6 × 5 rings)."""
    picked, band_ok, point = 0, 0, []
    for r in range(6):
        zones, df = known_reach_panel(china, seed=500 + r)
        cvr = rad.cv_reach(df, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300, folds=5, seed=r)
        picked += cvr.reach_km == TRUE_REACH
        c = rad.distance_curve(df, "y_synthetic", units=china, zones=zones, step_km=50, max_km=300,
                               inference="cluster", draws=999, seed=r)
        truth = ring_truth(c.table)
        band_ok += bool(((c.table["band_lower"] <= truth) & (truth <= c.table["band_upper"])).all())
        point += list((c.table["ci_lower"] <= truth) & (truth <= c.table["ci_upper"]))
    assert picked >= 4, picked
    assert band_ok >= 5, band_ok
    assert np.mean(point) >= 0.85, np.mean(point)


def test_an_untestable_nearest_ring_is_unbounded_and_passed_over(capsys):
    """The demo's 0-50 km ring holds two units: the wild bootstrap cannot reject any value there. The interval
    is shown as unbounded (null in JSON, never a huge finite number) and the rings rule starts at the next ring."""
    from geo.cli import main

    demo = Path(__file__).resolve().parents[1] / "layers" / "demo_panel_synthetic.csv"
    args = ["radiation", "--data", str(demo), "--y", "log_gdp_pc_synthetic", "--bands", "50,100,200,300",
            "--draws", "199"]
    assert main([*args, "--json"]) == 0
    js = json.loads(capsys.readouterr().out)
    near = next(b for b in js["bands"] if b["band"] == "0-50 km")
    assert near["n_units"] == 2 and near["ci_lower"] is None and near["ci_upper"] is None
    assert near["estimate"] is not None and near["se"] is not None
    bounded = [b for b in js["bands"][2:] if b["ci_lower"] is not None]
    assert len(bounded) == 3 and all(abs(b["ci_lower"]) < 1 and abs(b["ci_upper"]) < 1 for b in bounded)
    assert js["reach_rule"] == "rings" and js["reach_km"] >= 100  # not 0 because of the untestable 0-50 km ring
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "unbounded (too few units)" in out and not re.search(r"\b(inf|nan)\b", out, re.I)
