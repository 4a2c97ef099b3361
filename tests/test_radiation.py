"""Rings, corridors, band assignment, band-DID, event study, stacked DID and spatial DID."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo import radiation as rad
from geo.errors import GeoError, InputError, OptionError
from geo.synthetic import simulate

R_KM = 6371.0088  # mean Earth radius for the hand computations on a sphere
TRUE = {"host": 0.10, "0-100 km": 0.05, "100-200 km": 0.02, "200-300 km": -0.03, "300-400 km": 0.0}


# --------------------------------------------------------------------------- hand computations


def _vec(lon, lat):
    lon, lat = np.radians(lon), np.radians(lat)
    return np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _arc_km(p, q):
    return R_KM * np.arctan2(np.linalg.norm(np.cross(p, q)), np.dot(p, q))


def _segment_km(lon, lat, a, b):
    """Distance from a point to the great-circle segment a-b on a sphere (cross-track or end point)."""
    p, A, B = _vec(lon, lat), _vec(*a), _vec(*b)
    n = np.cross(A, B)
    n /= np.linalg.norm(n)
    foot = p - np.dot(p, n) * n
    foot /= np.linalg.norm(foot)
    if abs(_arc_km(A, foot) + _arc_km(foot, B) - _arc_km(A, B)) < 1e-6:
        return R_KM * abs(np.arcsin(np.dot(p, n)))
    return min(_arc_km(p, A), _arc_km(p, B))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def new_zones():
    from geo.zones import registry

    return registry(kind="new-zone")


@pytest.fixture(scope="module")
def asg400(china, new_zones):
    return rad.assign_bands(china, zones=new_zones, bands=(100, 200, 300, 400))


@pytest.fixture(scope="module")
def sim(asg400):
    bands = {k: v for k, v in TRUE.items() if k != "host"}
    return simulate(asg400, host_effect=TRUE["host"], band_effects=bands, sigma=0.05, seed=7)


# --------------------------------------------------------------------------- bands and geometry


def test_parse_bands():
    assert rad.parse_bands("50,100, 200km") == (50.0, 100.0, 200.0)
    assert rad.parse_bands([100, 300]) == (100.0, 300.0)
    for bad in ("100,50", "a,b", "", "-5,10", "50,50"):
        with pytest.raises(OptionError):
            rad.parse_bands(bad)


def test_ring_areas_are_geodesic_circles():
    from geo.boundaries import EQUAL_AREA_CRS

    zone = gpd.GeoDataFrame(
        {"name": ["z"], "approval_year": [2010]}, geometry=gpd.points_from_xy([105.0], [35.0]), crs="EPSG:4326"
    )
    r = rad.rings(zone, bands=(50, 100, 300)).to_crs(EQUAL_AREA_CRS)
    areas = r.geometry.area.to_numpy() / 1e6
    expect = np.pi * np.array([50**2, 100**2 - 50**2, 300**2 - 100**2])
    np.testing.assert_allclose(areas, expect, rtol=2e-3)
    assert list(r["band"]) == ["0-50 km", "50-100 km", "100-300 km"]


def test_zone_distances_match_hand_computed_great_circles(china, new_zones, asg400):
    from geo.boundaries import centroids

    c = centroids(china)
    zpts = {z.zone_id: (z.geometry.x, z.geometry.y) for z in new_zones.itertuples()}
    t = asg400.table
    for code in ("131000", "130100", "320500", "330600", "620200"):  # 廊坊 石家庄 苏州 绍兴 嘉峪关
        row = t.loc[code]
        p = _vec(c[code].x, c[code].y)
        hand = {zid: _arc_km(p, _vec(*xy)) for zid, xy in zpts.items()}
        nearest = min(hand, key=hand.get)
        assert row["zone_id"] == nearest
        assert row["distance_km"] == pytest.approx(hand[nearest], rel=5e-3)
        k = int(np.searchsorted([100, 200, 300, 400], row["distance_km"], side="right"))
        expect = "outside" if k == 4 else ["0-100 km", "100-200 km", "200-300 km", "300-400 km"][k]
        assert row["band"] == expect
    # hosts: registry host units, treatment year = earliest approval year
    assert t.loc["130600", "band"] == "host" and t.loc["130600", "treatment_year"] == 2017
    assert t.loc["610400", "host"] and t.loc["610400", "zone_id"] == "NZ07"
    assert t.loc["310000", "treatment_year"] == 1992
    assert t.loc["650100", "band"] == "outside" and pd.isna(t.loc["650100", "treatment_year"])


def test_corridor_distances_hand_computed(china):
    from geo.boundaries import centroids, great_circle_km

    g60 = rad.corridor(units=china)
    m = g60.members.set_index("name")
    songjiang = tuple(m.loc["上海市松江区", ["lon", "lat"]])
    assert china.loc["310000"].geometry.contains(shapely.Point(songjiang))  # the Songjiang node lies in Shanghai
    hangzhou = tuple(m.loc["杭州市", ["lon", "lat"]])
    seg = rad.corridor(pd.DataFrame({"name": ["松江", "杭州"], "lon": [songjiang[0], hangzhou[0]],
                                     "lat": [songjiang[1], hangzhou[1]], "year": [2016, 2017]}), units=china)
    c = centroids(china)
    asg = rad.assign_bands(china, corridor=seg, bands=(25, 50, 100, 200))
    jx = c["330400"]
    hand_jx = _segment_km(jx.x, jx.y, songjiang, hangzhou)
    # Jiaxing is a member (host) of this corridor: its raw distance is checked on a copy without hosts
    raw, _ = rad.geometry.corridor_distances(pd.DataFrame({"lon": [jx.x], "lat": [jx.y]}), seg)
    assert raw[0] == pytest.approx(hand_jx, rel=5e-3, abs=0.2)
    assert hand_jx < 25
    jh = c["330700"]  # Jinhua, beyond the Hangzhou end
    hand_jh = _segment_km(jh.x, jh.y, songjiang, hangzhou)
    assert asg.table.loc["330700", "distance_km"] == pytest.approx(hand_jh, rel=5e-3)
    assert hand_jh == pytest.approx(float(great_circle_km(jh.x, jh.y, *hangzhou)), rel=5e-3)
    k = int(np.searchsorted([25, 50, 100, 200], hand_jh, side="right"))
    assert asg.table.loc["330700", "band"] == ["0-25 km", "25-50 km", "50-100 km", "100-200 km", "outside"][k]
    assert 50 < hand_jh < 100
    assert asg.table.loc["330100", "band"] == "host" and asg.table.loc["330100", "treatment_year"] == 2017
    # the full G60 corridor: nine members, hosts and joining years
    full = rad.assign_bands(china, corridor=g60, bands=(50, 100, 200))
    hosts = full.table[full.table["host"]]
    assert set(hosts.index) == {"310000", "330400", "330100", "330700", "320500", "330500", "341800", "340200", "340100"}
    assert hosts.loc["310000", "treatment_year"] == 2016 and hosts.loc["341800", "treatment_year"] == 2018


def test_area_assignment_differs_from_centroid_when_it_should():
    """A unit with most of its area within 50 km but a long arm pulling its centroid beyond 50 km."""
    lon0, lat0 = 116.0, 40.0
    local = rad.geometry._aeqd(lon0, lat0)
    km = 1000.0
    square = box(0, -20 * km, 40 * km, 20 * km)
    arm = box(40 * km, -1 * km, 300 * km, 1 * km)
    a = shapely.union_all([square, arm])
    b = box(120 * km, 0, 160 * km, 40 * km)  # wholly in 100-200 km
    units = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[a, b], crs=local, index=pd.Index(["A", "B"], name="id"))
    units = units.to_crs("EPSG:4326")
    zone = gpd.GeoDataFrame({"name": ["z"], "approval_year": [2010]}, geometry=gpd.points_from_xy([lon0], [lat0]),
                            crs="EPSG:4326")
    by_c = rad.assign_bands(units, zones=zone, bands=(50, 100, 200), assign="centroid").table
    by_a = rad.assign_bands(units, zones=zone, bands=(50, 100, 200), assign="area").table
    assert by_c.loc["A", "band"] == "50-100 km"
    assert by_a.loc["A", "band"] == "0-50 km"
    share = (1600 - _outside_disk_share() + 10 * 2) / 2120  # the square plus the arm from 40 to 50 km
    assert by_a.loc["A", "area_share"] == pytest.approx(share, rel=0.01)
    assert by_c.loc["B", "band"] == by_a.loc["B", "band"] == "100-200 km"
    assert by_a.loc["B", "area_share"] == pytest.approx(1.0, abs=1e-3)


def _outside_disk_share():
    """Area (km²) of the 40x40 km square [0,40]x[-20,20] lying beyond 50 km of the origin (numerically)."""
    xs = np.linspace(0, 40, 801)[:-1] + 0.025
    ys = np.linspace(-20, 20, 801)[:-1] + 0.025
    X, Y = np.meshgrid(xs, ys)
    return float(((X**2 + Y**2) > 50**2).sum() * 0.05**2)


def test_resolve_unit_names_and_errors(china):
    assert rad.resolve_unit(china, "郑州") == "410100"
    assert rad.resolve_unit(china, "郑州市") == "410100"
    assert rad.resolve_unit(china, "410100") == "410100"
    assert rad.resolve_unit(china, "Zhengzhou") == "410100"
    with pytest.raises(InputError, match="郑州市"):
        rad.resolve_unit(china, "郑洲")


# --------------------------------------------------------------------------- band-DID


def test_band_did_recovers_known_effects_with_siphon(sim, asg400):
    fit = rad.band_did(sim, "y_synthetic", asg400)
    t = fit.table.set_index("band")
    for band, true in TRUE.items():
        assert abs(t.at[band, "estimate"] - true) < 3 * t.at[band, "se"], band
    assert fit.reach_km == 200.0
    assert t.at["200-300 km", "ci_upper"] < 0  # the siphon band is detected
    assert t.at["300-400 km", "ci_lower"] < 0 < t.at["300-400 km", "ci_upper"]
    assert fit.always_treated and "310000" in fit.always_treated  # Pudong 1992: no pre-period
    assert t.at["host", "n_units"] == 22
    d = fit.decay()
    assert list(d["mid_km"]) == [50.0, 150.0, 250.0, 350.0]
    js = fit.to_json()
    json.dumps(js, allow_nan=False)
    assert {"band", "lower_km", "upper_km", "estimate", "se", "p", "n_units"} <= set(js["bands"][0])
    assert js["bands"][0]["band"] == "host" and js["bands"][1]["band"] == "0-100 km"


def test_band_did_interval_coverage(asg400):
    """Nominal 95 % intervals cover the truth in repeated simulations (pooled over groups)."""
    bands = {k: v for k, v in TRUE.items() if k != "host"}
    hits = total = 0
    for seed in range(10):
        p = simulate(asg400, host_effect=TRUE["host"], band_effects=bands, years=range(2008, 2020), seed=100 + seed)
        t = rad.band_did(p, "y_synthetic", asg400).table.set_index("band")
        for band, true in TRUE.items():
            hits += t.at[band, "ci_lower"] <= true <= t.at[band, "ci_upper"]
            total += 1
    assert hits >= 42, f"coverage {hits}/{total}"


def test_stacked_recovers_known_effects(sim, asg400):
    fit = rad.band_did(sim, "y_synthetic", asg400, estimator="stacked")
    t = fit.table.set_index("band")
    for band, true in TRUE.items():
        assert abs(t.at[band, "estimate"] - true) < 3 * t.at[band, "se"], band
    assert "stacked" in fit.estimator.lower() or "Cengiz" in fit.estimator


def test_stacked_handles_growing_effects_twfe_does_not_average_correctly(china):
    """Effects that grow with exposure: the stacked estimate equals the mean post-window effect."""
    rng = np.random.default_rng(3)
    ids = [f"{i:06d}" for i in range(1, 241)]
    years = np.arange(2000, 2021)
    cohort = np.where(np.arange(240) < 80, 2005, np.where(np.arange(240) < 160, 2012, np.nan))
    tab = pd.DataFrame({"name": ids, "band": np.where(np.isnan(cohort), "outside", "host"),
                        "host": ~np.isnan(cohort), "treatment_year": pd.array(cohort, dtype="Float64").astype("Int64"),
                        "distance_km": 0.0, "lower_km": 0.0, "upper_km": 0.0, "zone_id": "z", "zone_name": "z",
                        "lon": 0.0, "lat": 0.0}, index=pd.Index(ids, name="adcode"))
    asg = rad.BandAssignment(table=tab, edges=(100.0,), assign="centroid", target="toy")
    rel = years[None, :] - cohort[:, None]
    effect = np.where(rel >= 0, 0.02 * (rel + 1), 0.0)  # 0.02, 0.04, ... grows each year
    y = rng.normal(0, 0.3, 240)[:, None] + 0.03 * (years - 2000)[None, :] + effect + rng.normal(0, 0.02, (240, len(years)))
    df = pd.DataFrame({"adcode": np.repeat(ids, len(years)), "year": np.tile(years, 240), "y": y.ravel()})
    st = rad.band_did(df, "y", asg, estimator="stacked", window=(4, 4)).table.set_index("band")
    truth = np.mean(0.02 * (np.arange(0, 5) + 1))  # average effect over event times 0..4
    assert abs(st.at["host", "estimate"] - truth) < 3 * st.at["host", "se"]


def test_event_study_pretrends_near_zero_under_null(asg400):
    p = simulate(asg400, host_effect=0.0, band_effects={}, seed=11)
    ev = rad.event_study(p, "y_synthetic", asg400, window=(4, 4), estimator="twfe")
    leads = ev.table[ev.table["rel_time"] < -1]
    assert len(leads) == 5 * 3
    assert (leads["estimate"].abs() < 4 * leads["se"]).all()
    assert leads["estimate"].abs().max() < 0.03
    allrow = ev.pretrend.set_index("band").loc["all"]
    assert allrow["df"] == 15 and allrow["p"] > 0.01
    ref = ev.table[ev.table["rel_time"] == -1]
    assert (ref["estimate"] == 0).all()
    json.dumps(ev.to_json(), allow_nan=False)


def test_event_study_lags_recover_effects(sim, asg400):
    ev = rad.event_study(sim, "y_synthetic", asg400, window=(3, 3))
    lags = ev.table[ev.table["rel_time"] >= 0]
    for r in lags.itertuples():
        assert abs(r.estimate - TRUE[r.band]) < 4 * r.se + 1e-9, (r.band, r.rel_time)


def test_band_summary(sim, asg400):
    s = rad.band_summary(sim, "y_synthetic", asg400).set_index("band")
    assert s.loc["host", "n_units"] == 23 and s.loc["outside", "n_units"] == asg400.counts()["outside"]
    assert np.isnan(s.loc["outside", "mean_before"]) and np.isfinite(s.loc["outside", "mean_all"])
    host_rows = sim[sim["adcode"].isin(asg400.table.index[asg400.table["host"]])]
    ty = asg400.table["treatment_year"].astype(float).reindex(host_rows["adcode"]).to_numpy()
    assert s.loc["host", "mean_after"] == pytest.approx(host_rows.loc[host_rows["year"].to_numpy() >= ty, "y_synthetic"].mean())


def test_demo_panel_band_did_covers_implied_effects(china, new_zones):
    from geo.synthetic import DEMO_BANDS, demo_panel, implied_effects

    panel = demo_panel()
    asg = rad.assign_bands(china, zones=new_zones, bands=DEMO_BANDS)
    fit = rad.band_did(panel, "log_gdp_pc_synthetic", asg,
                       controls=["invest_share_synthetic", "log_pop_density_synthetic"])
    implied = implied_effects(panel, asg)
    t = fit.table.set_index("band")
    for g, v in implied.items():
        assert t.at[g, "ci_lower"] <= v <= t.at[g, "ci_upper"], g


def test_bad_inputs(sim, asg400):
    with pytest.raises(GeoError, match="no column"):
        rad.band_did(sim, "nope", asg400)
    bad = sim.copy()
    bad.loc[3, "y_synthetic"] = np.nan
    with pytest.raises(GeoError, match="empty or non-numeric"):
        rad.band_did(bad, "y_synthetic", asg400)
    with pytest.raises(OptionError):
        rad.band_did(sim, "y_synthetic", asg400, estimator="did2s")
    with pytest.raises(OptionError):
        rad.assign_bands(asg400.table, zones=None, corridor=None, assign="nearest")
    dup = pd.concat([sim, sim.iloc[:1]])
    with pytest.raises(GeoError, match="duplicate"):
        rad.band_did(dup, "y_synthetic", asg400)


# --------------------------------------------------------------------------- spatial DID


def test_spatial_did_recovers_direct_and_indirect(china, new_zones):
    import scipy.sparse as sp

    asg = rad.assign_bands(china, zones=new_zones, bands=(100,))
    W = rad.queen_weights(china)
    rho, b, t = 0.3, 0.12, 0.06
    p = simulate(asg, host_effect=b, wd_effect=t, rho=rho, weights=W, years=range(2006, 2020), sigma=0.05, seed=5)
    fit = rad.spatial_did(p, "y_synthetic", asg, units=china, draws=300, seed=1)
    n = W.shape[0]
    S = np.linalg.inv(np.eye(n) - rho * W.toarray())
    M = S @ (b * np.eye(n) + t * W.toarray())
    direct = np.trace(M) / n
    total = (b + t) / (1 - rho)
    for kind, true in (("direct", direct), ("indirect", total - direct), ("total", total)):
        d = getattr(fit, kind)
        assert d["lower"] <= true <= d["upper"], kind
        assert abs(d["estimate"] - true) < 3 * d["se"], kind
    assert abs(fit.rho - rho) < 3 * fit.durbin.spatial["se"]
    assert sp.issparse(fit.weights)
    js = fit.to_json()
    json.dumps(js, allow_nan=False)
    assert set(js["direct"]) == {"estimate", "se", "p", "lower", "upper"}


def test_queen_weights_links_islands(china):
    W = rad.queen_weights(china)
    ids = list(china.index)
    rs = np.asarray(W.sum(axis=1)).ravel()
    np.testing.assert_allclose(rs, 1.0)
    zs = ids.index("330900")  # Zhoushan: an island linked to its nearest unit
    row = W[[zs], :]  # a 1 x n sparse array (geo's weights are scipy csr_arrays)
    assert row.nnz == 1
    j = row.indices[0]
    assert W[j, zs] > 0  # and back


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def sim_csv(tmp_path_factory, sim, china):
    path = tmp_path_factory.mktemp("rad") / "sim_synthetic.csv"
    sim.drop(columns="synthetic").to_csv(path, index=False)
    return path


def test_cli_radiation_json(sim_csv, capsys):
    from geo.cli import main

    rc = main(["radiation", "--data", str(sim_csv), "--y", "y_synthetic", "--bands", "100,200,300,400",
               "--event-study", "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    js = json.loads(out)
    assert js["estimator"].startswith("imputation DID") and js["method"] == "imputation"  # the new default
    assert js["inference"]["method"] == "wild" and js["inference"]["seed"] == 0 and js["exposure"] == "nearest"
    assert [b["band"] for b in js["bands"]] == ["host", "0-100 km", "100-200 km", "200-300 km", "300-400 km"]
    b = {r["band"]: r for r in js["bands"]}
    assert b["100-200 km"]["lower_km"] == 100 and b["100-200 km"]["upper_km"] == 200
    for band, true in TRUE.items():
        assert abs(b[band]["estimate"] - true) < 3 * b[band]["se"]
    assert js["event_study"]["pretrend_tests"]
    assert js["synthetic_data"] is True


def test_cli_radiation_corridor_and_output(sim_csv, tmp_path, capsys):
    from geo.cli import main

    out = tmp_path / "bands.csv"
    rc = main(["radiation", "--data", str(sim_csv), "--y", "y_synthetic", "--corridor", "上海,嘉兴,杭州,金华",
               "--corridor-year", "2012", "--bands", "50,100,200", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "corridor" in text and "radiation reach" in text
    t = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert t.loc["330700", "band"] == "host" and t.loc["330600", "band"] != "outside"
    assert "inf" not in out.read_text(encoding="utf-8").lower()  # the open outer band: an empty upper_km
    outside = t[t["band"] == "outside"]
    assert len(outside) and outside["upper_km"].isna().all() and (outside["lower_km"] == 200).all()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--corridor", "上海,嘉兴,杭洲"], "unknown city '杭洲'"),
        (["--bands", "100,50"], "strictly increasing"),
        (["--zone-kind", "new-zone", "--corridor", "G60"], "only one of"),
        (["--controls", "missing_col"], "missing_col"),
        (["--corridor", "上海,嘉兴"], "--corridor-year"),
    ],
)
def test_cli_radiation_bad_inputs(sim_csv, capsys, args, message):
    from geo.cli import main

    rc = main(["radiation", "--data", str(sim_csv), "--y", "y_synthetic", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    if "杭洲" in message:
        assert "杭州市" in err  # close candidates listed


# --------------------------------------------------------------------------- peer: R lm + Stata-convention clustered SEs

R_TWFE = r"""
d <- read.csv(commandArgs(TRUE)[1], colClasses = c(adcode = "character"))
regs <- strsplit(commandArgs(TRUE)[2], ",")[[1]]
m <- lm(as.formula(paste("y ~", paste(regs, collapse = " + "), "+ factor(adcode) + factor(year)")), data = d)
b <- coef(m)[regs]
# balanced panel: two-way demeaning removes both sets of effects exactly (FWL)
dm <- function(v) v - ave(v, d$adcode) - ave(v, d$year) + mean(v)
Xt <- sapply(regs, function(v) dm(d[[v]]))
u <- resid(m)
B <- solve(crossprod(Xt))
meat <- Reduce(`+`, lapply(split(seq_len(nrow(d)), d$adcode), function(i) {
  s <- crossprod(Xt[i, , drop = FALSE], u[i]); s %*% t(s) }))
G <- length(unique(d$adcode)); N <- nrow(d); K <- length(regs) + length(unique(d$year))
V <- B %*% meat %*% B * G / (G - 1) * (N - 1) / (N - K)
cat(jsonlite::toJSON(list(b = unname(b), se = unname(sqrt(diag(V)))), digits = NA))
"""


@pytest.mark.peer
def test_band_did_matches_r_lm_with_clustered_se(rscript, tmp_path, china, new_zones):
    import subprocess

    from geo.synthetic import DEMO_BANDS, demo_panel

    panel = demo_panel()
    asg = rad.assign_bands(china, zones=new_zones, bands=DEMO_BANDS)
    controls = ["invest_share_synthetic", "log_pop_density_synthetic"]
    fit = rad.band_did(panel, "log_gdp_pc_synthetic", asg, controls=controls, estimator="twfe")
    keep = ~panel["adcode"].isin(fit.always_treated)
    d = panel[keep].reset_index(drop=True)
    t = asg.table
    ty = t["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    post = d["year"].to_numpy() >= pd.Series(ty, index=t.index).reindex(d["adcode"]).to_numpy()
    group = t["band"].reindex(d["adcode"]).to_numpy()
    out = pd.DataFrame({"adcode": d["adcode"], "year": d["year"], "y": d["log_gdp_pc_synthetic"]})
    regs = []
    for k, g in enumerate(["host", *asg.bands]):
        out[f"D{k}"] = ((group == g) & post).astype(float)
        regs.append(f"D{k}")
    for k, c in enumerate(controls):
        out[f"X{k}"] = d[c]
        regs.append(f"X{k}")
    path = tmp_path / "twfe.csv"
    out.to_csv(path, index=False)
    script = tmp_path / "twfe.R"
    script.write_text(R_TWFE)
    r = subprocess.run([rscript, str(script), str(path), ",".join(regs)], capture_output=True, text=True, check=True)
    ref = json.loads(r.stdout)
    ours = list(fit.table["estimate"]) + list(fit.controls_table["estimate"])
    ours_se = list(fit.table["se"]) + list(fit.controls_table["se"])
    np.testing.assert_allclose(ours, ref["b"], rtol=1e-8)
    np.testing.assert_allclose(ours_se, ref["se"], rtol=1e-8)


def test_cli_radiation_user_zones_stacked(sim_csv, tmp_path, capsys):
    from geo.cli import main

    zones = tmp_path / "my_zones.csv"
    pd.DataFrame(
        {"name": ["郑州航空港", "武汉东湖"], "approval_date": ["2013-03-07", "2009-12-08"],
         "lon": [113.84, 114.42], "lat": [34.53, 30.47]}
    ).to_csv(zones, index=False)
    rc = main(["radiation", "--data", str(sim_csv), "--y", "y_synthetic", "--zones", str(zones), "--bands", "100,200",
               "--estimator", "stacked", "--assign", "area", "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    js = json.loads(captured.out)
    assert js["target"] == "2 zones" and js["assign"] == "area" and js["method"] == "stacked"
    host = js["bands"][0]
    assert host["band"] == "host" and host["n_units"] == 2
    a = {u["id"]: u for u in js["assignment"]}
    assert a["410100"]["band"] == "host" and a["410100"]["treatment_year"] == 2013
    assert a["420100"]["band"] == "host" and a["420100"]["treatment_year"] == 2009


@pytest.mark.peer
def test_event_study_matches_r_lm(rscript, tmp_path, sim, asg400):
    import subprocess

    ev = rad.event_study(sim, "y_synthetic", asg400, window=(3, 2), estimator="twfe")
    always = set(ev.always_treated)
    d = sim[~sim["adcode"].isin(always)].reset_index(drop=True)
    t = asg400.table
    ty = t["treatment_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    rel = d["year"].to_numpy() - pd.Series(ty, index=t.index).reindex(d["adcode"]).to_numpy()
    rel = np.clip(rel, -3, 2)
    group = t["band"].reindex(d["adcode"]).to_numpy()
    out = pd.DataFrame({"adcode": d["adcode"], "year": d["year"], "y": d["y_synthetic"]})
    regs, keys = [], []
    for gi, g in enumerate(["host", *asg400.bands]):
        for k in (-3, -2, 0, 1, 2):
            col = f"E{gi}_{k + 3}"
            out[col] = ((group == g) & (rel == k)).astype(float)
            regs.append(col)
            keys.append((g, k))
    path = tmp_path / "es.csv"
    out.to_csv(path, index=False)
    script = tmp_path / "es.R"
    script.write_text(R_TWFE)
    r = subprocess.run([rscript, str(script), str(path), ",".join(regs)], capture_output=True, text=True, check=True)
    ref = json.loads(r.stdout)
    tab = ev.table.set_index(["band", "rel_time"])
    ours = [tab.loc[k, "estimate"] for k in keys]
    ours_se = [tab.loc[k, "se"] for k in keys]
    np.testing.assert_allclose(ours, ref["b"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours_se, ref["se"], rtol=1e-8)


def test_few_treated_units_are_flagged(sim, china):
    from geo.zones import registry

    one = registry(kind="new-zone").query("name == '河北雄安新区'")  # one zone, one host unit
    asg = rad.assign_bands(china, zones=one, bands=(100, 200))
    fit = rad.band_did(sim, "y_synthetic", asg)
    assert fit.table.set_index("band").at["host", "n_units"] == 1
    assert any(w.startswith("host: only 1 treated units") for w in fit.warnings)
    assert fit.to_json()["warnings"] == list(fit.warnings)
    assert "warning: host: only 1 treated units" in fit.summary()
    many = rad.band_did(sim, "y_synthetic", rad.assign_bands(china, zones=registry(kind="new-zone"), bands=(100, 200)))
    assert not [w for w in many.warnings if w.startswith("host")]
