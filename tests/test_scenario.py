"""The new-zone / new-corridor scenario from a fitted band-DID or spatial DID."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo import radiation as rad
from geo import scenario as sc
from geo.errors import InputError, OptionError
from geo.synthetic import simulate

TRUE = {"host": 0.10, "0-100 km": 0.05, "100-200 km": 0.02, "200-300 km": -0.03}


@pytest.fixture(scope="module")
def asg(china):
    from geo.zones import registry

    return rad.assign_bands(china, zones=registry(kind="new-zone"), bands=(100, 200, 300))


@pytest.fixture(scope="module")
def panel(asg):
    bands = {k: v for k, v in TRUE.items() if k != "host"}
    return simulate(asg, host_effect=TRUE["host"], band_effects=bands, seed=21)


@pytest.fixture(scope="module")
def fit(panel, asg):
    return rad.band_did(panel, "y_synthetic", asg)


def test_band_scenario_contrasts(fit, asg, china):
    from geo.boundaries import centroids, great_circle_km

    s = sc.new_zone(fit, host="郑州", year=2025, units=china)
    t = s.table
    coef = fit.table.set_index("band")["estimate"].to_dict()
    coef["outside"] = 0.0
    V = fit.cov
    c = centroids(china)
    zz = c["410100"]
    for code, row in t.iterrows():
        d_new = 0.0 if code == "410100" else float(great_circle_km(c[code].x, c[code].y, zz.x, zz.y))
        assert row["distance_km"] == pytest.approx(d_new, abs=1e-6)
        old = asg.table.loc[code]
        if code == "410100":
            new = "host"
        elif old["host"] or d_new >= old["distance_km"]:
            new = old["band"]
        else:
            k = int(np.searchsorted([100, 200, 300], d_new, side="right"))
            new = ["0-100 km", "100-200 km", "200-300 km", "outside"][k]
        assert row["band_after"] == new, code
        expect = coef[new] - coef[old["band"]] if new != old["band"] else 0.0
        assert row["effect"] == pytest.approx(expect, abs=1e-12), code
        if new != old["band"]:
            a = pd.Series(0.0, index=V.index)
            if new in a.index:
                a[new] += 1
            if old["band"] in a.index:
                a[old["band"]] -= 1
            se = float(np.sqrt(a @ V @ a))
            from scipy.stats import t as tdist

            crit = tdist.ppf(0.975, fit.n_clusters - 1)
            assert row["upper"] - row["effect"] == pytest.approx(crit * se, rel=1e-9)
    # Zhengzhou was outside every band: it gains the host effect; the siphon band loses
    assert t.index[0] == "410100"
    assert t.loc["410100", "lower"] <= TRUE["host"] <= t.loc["410100", "upper"]
    assert (t["effect"].diff().dropna() <= 1e-15).all()  # sorted by effect
    assert len(s.losers()) and (s.losers()["band_after"] == "200-300 km").all()
    js = s.to_json()
    json.dumps(js, allow_nan=False)
    assert {"id", "name", "distance_km", "effect", "lower", "upper"} <= set(js["units"][0])


def test_scenario_existing_host_and_nearer_zone(fit, china):
    # a new zone in Shanghai: Shanghai already hosts Pudong, so nothing changes there
    s = sc.new_zone(fit, host="310000", year=2025, units=china)
    assert s.table.loc["310000", "effect"] == 0.0
    # at a lon/lat: the host is the unit containing the point
    s2 = sc.new_zone(fit, at=(113.65, 34.76), year=2025, units=china)
    assert s2.host == "410100"
    with pytest.raises(InputError, match="no unit"):
        sc.new_zone(fit, at=(150.0, 10.0), year=2025, units=china)
    with pytest.raises(OptionError):
        sc.new_zone(fit, host="郑州", at=(113.6, 34.7), year=2025, units=china)
    with pytest.raises(InputError, match="郑州市"):
        sc.new_zone(fit, host="郑洲", year=2025, units=china)


def test_new_corridor(fit, china):
    s = sc.new_corridor(fit, ["郑州", "开封"], year=2025, units=china)
    t = s.table
    assert t.loc["410100", "band_after"] == "host" and t.loc["410200", "band_after"] == "host"
    coef = fit.table.set_index("band")["estimate"]
    assert t.loc["410100", "effect"] == pytest.approx(coef["host"])
    far = t[t["band_after"] == "outside"]
    assert (far["effect"] == 0).all()


def test_sdm_scenario_matches_dense_computation(china, asg):
    W = rad.queen_weights(china)
    p = simulate(asg, host_effect=0.12, wd_effect=0.05, rho=0.3, weights=W, years=range(2008, 2020), seed=4)
    fit = rad.spatial_did(p, "y_synthetic", asg, units=china, draws=0)
    s = sc.new_zone(fit, host="郑州", year=2025, units=china, draws=100, seed=3)
    res = fit.durbin
    rho, b, t = res.rho, res.params["zone_D"], res.params["W_zone_D"]
    n = W.shape[0]
    d = np.zeros(n)
    h = list(china.index).index("410100")
    d[h] = 1.0
    expect = np.linalg.solve(np.eye(n) - rho * W.toarray(), b * d + t * (W @ d))
    got = s.table["effect"].reindex(china.index).to_numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-12)
    assert s.table.index[0] == "410100"
    # the host's prediction is within 3 simulated se of its true effect [(I - rho W)^-1 (b d + t W d)]_h
    true = np.linalg.solve(np.eye(n) - 0.3 * W.toarray(), 0.12 * d + 0.05 * (W @ d))
    row = s.table.loc["410100"]
    se = (row["upper"] - row["lower"]) / (2 * 1.959964)
    assert abs(row["effect"] - true[h]) < 3 * se
    assert (s.table["lower"] <= s.table["effect"] + 1e-12).all() and (s.table["effect"] <= s.table["upper"] + 1e-12).all()
    # seeded: same seed, same intervals
    s2 = sc.new_zone(fit, host="郑州", year=2025, units=china, draws=100, seed=3)
    pd.testing.assert_frame_equal(s.table, s2.table)


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory, panel):
    path = tmp_path_factory.mktemp("sc") / "panel.csv"
    panel.drop(columns="synthetic").rename(columns={"adcode": "code", "year": "yr"}).to_csv(path, index=False)
    return path


def test_cli_scenario_json(panel_csv, capsys, tmp_path):
    from geo.cli import main

    out = tmp_path / "scenario.csv"
    rc = main(["scenario", "--data", str(panel_csv), "--id", "code", "--time", "yr", "--y", "y_synthetic",
               "--host", "郑州市", "--year", "2025", "--bands", "100,200,300", "--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    js = json.loads(captured.out)
    units = js["units"]
    assert units[0]["id"] == "410100" and units[0]["name"] == "郑州市"
    effects = [u["effect"] for u in units]
    assert effects == sorted(effects, reverse=True)
    assert set(units[0]) >= {"id", "name", "distance_km", "effect", "lower", "upper"}
    saved = pd.read_csv(out, dtype={"code": str})
    assert len(saved) == 337


@pytest.mark.parametrize(
    "args, message",
    [
        (["--host", "郑洲", "--year", "2025"], "unknown city '郑洲'"),
        (["--host", "郑州", "--at", "113,34", "--year", "2025"], "exactly one of"),
        (["--at", "34.7", "--year", "2025"], "LON,LAT"),
        (["--at", "200,34", "--year", "2025"], "out of range"),
    ],
)
def test_cli_scenario_bad_inputs(panel_csv, capsys, args, message):
    from geo.cli import main

    rc = main(["scenario", "--data", str(panel_csv), "--id", "code", "--time", "yr", "--y", "y_synthetic", *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and message in err
    if "郑洲" in message:
        assert "郑州市" in err


@pytest.fixture(scope="module")
def ring_world(china):
    """benchmarks/mc_spatial_did.py's SYNTHETIC world: idw W, 15 dated zones, a siphon ring in the truth."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import mc_spatial_did as mc

    return mc.World(china)


def test_ring_scenario_interval_covers_point_and_widens_with_fewer_data(ring_world, china):
    w = ring_world
    df, _ = w.simulate(7)
    full = rad.ring_spatial_did(df, "y_synthetic", w.ex, units=china, draws=20, seed=0)
    few = rad.ring_spatial_did(df[df["year"].between(2010, 2016)], "y_synthetic", w.ex, units=china, draws=20, seed=0)
    s_full = sc.new_zone(full, host="郑州", year=2025, units=china, draws=300, seed=4)
    s_few = sc.new_zone(few, host="郑州", year=2025, units=china, draws=300, seed=4)
    for s in (s_full, s_few):
        t = s.table
        assert s.model == "sar-rings" and t.index[0] == "410100"
        assert (t["lower"] <= t["effect"] + 1e-12).all() and (t["effect"] <= t["upper"] + 1e-12).all()
        assert t.at["410100", "lower"] < t.at["410100", "effect"] < t.at["410100", "upper"]
        moved = t[t["band_before"] != t["band_after"]]
        assert len(moved) > 1 and (moved["upper"] > moved["lower"]).all()
    width = lambda s: (s.table["upper"] - s.table["lower"])  # noqa: E731
    moved = s_full.table.index[s_full.table["band_before"] != s_full.table["band_after"]]
    # 7 years instead of 24: wider intervals at the host and for the typical unit the new zone moves
    assert width(s_few)["410100"] > 1.3 * width(s_full)["410100"]
    assert width(s_few)[moved].median() > 1.3 * width(s_full)[moved].median()
    js = s_full.to_json()
    assert js["draws"] == 300 and js["seed"] == 4 and js["model"] == "sar-rings" and "g W dh" in js["method"]
    json.dumps(js, allow_nan=False)
    again = sc.new_zone(full, host="郑州", year=2025, units=china, draws=300, seed=4)
    pd.testing.assert_frame_equal(again.table, s_full.table)  # seeded


def test_cli_scenario_rings_model_json(panel_csv, capsys):
    from geo.cli import main

    rc = main(["scenario", "--data", str(panel_csv), "--id", "code", "--time", "yr", "--y", "y_synthetic",
               "--host", "郑州", "--year", "2025", "--bands", "100,200,300", "--model", "rings", "--draws", "50",
               "--seed", "2", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    js = json.loads(captured.out)
    assert js["model"] == "sar-rings" and js["draws"] == 50 and js["seed"] == 2
    u = {r["id"]: r for r in js["units"]}
    assert u["410100"]["lower"] <= u["410100"]["effect"] <= u["410100"]["upper"]
    rc = main(["scenario", "--data", str(panel_csv), "--id", "code", "--time", "yr", "--y", "y_synthetic",
               "--host", "郑州", "--year", "2025", "--model", "rings", "--exposure", "static"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "--exposure nearest" in err
