"""Monte Carlo study of the radiation estimators on the 337 real units (SYNTHETIC outcomes, known effects).

    nice -n 10 python benchmarks/mc_radiation.py [--reps 40] [--wild-draws 199] [--out benchmarks/results/mc_radiation]
    python benchmarks/mc_radiation.py --fast        # a few replications (the test suite runs this)

Data-generating process (every draw labelled synthetic; seeds fixed per design and replication):

* units: the 337 embedded prefecture-level units; years 2000-2023; zones are points at the equal-area
  centroids of host units drawn once per design (``default_rng(design seed)``) with approval years
  uniform in 2004-2016 (so they are "centroid zones", which diff-diff's SpilloverDiD also supports).
* exposure: geo's time-varying ``nearest`` exposure (host from the first approval; otherwise the ring of the
  nearest zone already approved), rings 0-100, 100-200, 200-300 km.
* y_it = a_i + g_t + tau_it + u_it, a_i ~ N(0, 0.3^2), g_t = 0.05 (t-2000) - 0.001 (t-2000)^2,
  u_it AR(1) within unit (rho 0.5, innovation sd 0.05, stationary start).
* tau_it = tau_l(e) for the unit's group l in year t, e = t - first exposure year:
  static: tau_l; dynamic: tau_l (0.6 + 0.08 e) (grows with exposure); host 0.10, 0-100 km +0.04,
  100-200 km -0.03 (siphon), 200-300 km 0.
* designs: static (15 zones), dynamic (15 zones), overlapping (40 zones: rings switch as nearer zones open),
  five (5 zones), two_kinds (15 zones of kind A with the effects above + 15 of kind B with host 0.05,
  0-100 km +0.02, 100-200 km 0, 200-300 km 0).
* truth of a group = mean of its own effect over its exposed unit-years in the estimation sample (the
  imputation estimand; TWFE and stacked are judged against the same number); with two kinds the effects of
  the two kinds add up and each label is judged on its own part.

Reported per design x estimator x group: bias, RMSE, coverage of the 95 % interval (clustered by unit; for
imputation in the few-zone design also the restricted wild cluster bootstrap, Webb weights), and the size
of the pre-trend test (imputation: BJS test on unexposed rows, F and wild bootstrap; TWFE event study:
chi-square) at 5 %.  diff-diff's SpilloverDiD (Butts/Gardner) is run on the single-kind designs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # shared cores: threads only contend
    os.environ.setdefault(_v, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

YEARS = list(range(2000, 2024))
BANDS = (100.0, 200.0, 300.0)
EFFECTS_A = {"host": 0.10, "0-100 km": 0.04, "100-200 km": -0.03, "200-300 km": 0.0}
EFFECTS_B = {"host": 0.05, "0-100 km": 0.02, "100-200 km": 0.0, "200-300 km": 0.0}
DESIGNS = {
    "static": dict(n_zones=15, dynamic=False, seed=101),
    "dynamic": dict(n_zones=15, dynamic=True, seed=101),
    "overlapping": dict(n_zones=40, dynamic=False, seed=202),
    "five": dict(n_zones=5, dynamic=False, seed=303),
    "two_kinds": dict(n_zones=30, dynamic=False, seed=404, kinds=True),
}


def make_zones(units, n_zones, seed, kinds=False):
    import geopandas as gpd

    from geo.radiation.geometry import unit_centroids

    rng = np.random.default_rng(seed)
    cents = unit_centroids(units)
    hosts = rng.choice(units.index.to_numpy(), n_zones, replace=False)
    years = rng.integers(2004, 2017, n_zones)
    kind = np.where(np.arange(n_zones) < n_zones // 2, "A", "B") if kinds else np.full(n_zones, "A")
    return gpd.GeoDataFrame(
        {"name": [f"zone {i}" for i in range(n_zones)], "kind": kind, "approval_year": years, "host_adcodes": hosts},
        geometry=gpd.points_from_xy(cents.loc[hosts, "lon"], cents.loc[hosts, "lat"]), crs="EPSG:4326",
    )


def true_effects(ex, dynamic, kinds):
    """{label: (n_rows,) effect of that exposure on y_it} in the exposure table's row order (they add up)."""
    T = ex.table
    e = np.nan_to_num((T["year"] - T["first_year"]).to_numpy(), nan=0.0)  # never-exposed rows have no effect
    scale = (0.6 + 0.08 * e) if dynamic else np.ones(len(T))
    out = {}
    for lab in ex.labels:
        kind, grp = lab.split(":", 1) if kinds else ("A", lab)
        eff = (EFFECTS_A if kind == "A" else EFFECTS_B)[grp]
        out[lab] = eff * T[lab].to_numpy() * scale
    return out


def simulate(units, ex, tau, seed):
    rng = np.random.default_rng(seed)
    n, nt = len(units), len(YEARS)
    a = 0.3 * rng.standard_normal(n)
    tt = np.arange(nt)
    g = 0.05 * tt - 0.001 * tt**2
    u = np.zeros((nt, n))
    u[0] = 0.05 / np.sqrt(1 - 0.25) * rng.standard_normal(n)
    for k in range(1, nt):
        u[k] = 0.5 * u[k - 1] + 0.05 * rng.standard_normal(n)
    y = a[None, :] + g[:, None] + u  # year-major, as the exposure table
    df = ex.table[["id", "year"]].rename(columns={"id": "adcode"}).copy()
    df["y_synthetic"] = y.ravel() + sum(tau.values())
    return df


def truths(ex, tau, df):
    """Truth of each label: mean of its own effect over its exposed unit-years in the estimation sample."""
    from geo.radiation.design import design

    d = design(df, "y_synthetic", ex)
    key = pd.MultiIndex.from_frame(ex.table[["id", "year"]])
    rows = pd.MultiIndex.from_frame(d.df[["adcode", "year"]])
    out = {}
    for lab, c in d.cols.items():
        t = pd.Series(tau[lab], index=key).reindex(rows).to_numpy()
        out[lab] = float(t[d.df[c].to_numpy() != 0].mean())
    return out


def diff_diff_frame(df, units, ex):
    """The panel as diff-diff's SpilloverDiD wants it: first_treat (first hosting year, 0 never), lat, lon."""
    from geo.radiation.geometry import unit_centroids

    cents = unit_centroids(units)
    d = df.copy()
    host = ex.table["host"].to_numpy() > 0
    first = ex.table.loc[host].groupby("id")["year"].min()
    d["first_treat"] = d["adcode"].map(first).fillna(0).astype(int)
    d["lat"] = cents.loc[d["adcode"], "lat"].to_numpy()
    d["lon"] = cents.loc[d["adcode"], "lon"].to_numpy()
    return d


def spillover_diff_diff(df, units, ex):
    from diff_diff import SpilloverDiD

    d = diff_diff_frame(df, units, ex)
    m = SpilloverDiD(rings=[0.0, *BANDS], conley_coords=("lat", "lon"), cluster="adcode")
    r = m.fit(d, outcome="y_synthetic", unit="adcode", time="year", first_treat="first_treat")
    out = {"host": (r.att, r.conf_int[0], r.conf_int[1])}
    lows = (0.0,) + BANDS[:-1]
    for (lo, hi), (_, row) in zip(zip(lows, BANDS), r.spillover_effects.iterrows()):
        out[f"{lo:g}-{hi:g} km"] = (row["coef"], row["ci_low"], row["ci_high"])
    return out


def run_design(name, spec, reps, wild_draws, units, peer=True, log=None, wild_pretrend=True, wild_estimates=None,
               on_rep=None, estimators=("imputation", "cs", "stacked", "twfe"), pretrend=True):
    import warnings

    from geo import radiation as rad

    zones = make_zones(units, spec["n_zones"], spec["seed"], spec.get("kinds", False))
    kinds = ("A", "B") if spec.get("kinds") else None
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=BANDS, kinds=kinds)
    tau = true_effects(ex, spec["dynamic"], bool(kinds))
    rows, pre = [], []
    few = (name == "five") if wild_estimates is None else wild_estimates
    for r in range(reps):
        df = simulate(units, ex, tau, seed=spec["seed"] * 1000 + r)
        truth = truths(ex, tau, df)
        for est in estimators:
            t0 = time.perf_counter()
            fit = rad.band_did(df, "y_synthetic", ex, estimator=est)
            sec = time.perf_counter() - t0
            for row in fit.table.itertuples():
                if row.band not in truth:
                    continue
                tr = truth[row.band]
                rows.append({"design": name, "estimator": est, "inference": "cluster", "group": row.band, "rep": r,
                             "truth": tr, "estimate": row.estimate, "cover": row.ci_lower <= tr <= row.ci_upper,
                             "seconds": sec})
            if est == "imputation" and few and wild_draws:
                from geo.radiation.design import design
                from geo.radiation.imputation import fit as ifit

                lf, _ = ifit(design(df, "y_synthetic", ex))
                for row in fit.table.itertuples():
                    if row.band not in truth:
                        continue
                    j = lf.names.index("D_" + "".join(ch if ch.isalnum() else "_" for ch in row.band))
                    pv = lf.wild_pvalue(j, draws=wild_draws, weights="webb", seed=r)(truth[row.band])
                    rows.append({"design": name, "estimator": est, "inference": "wild", "group": row.band, "rep": r,
                                 "truth": truth[row.band], "estimate": row.estimate, "cover": pv > 0.05,
                                 "seconds": np.nan})
        if peer and not kinds:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    dd = spillover_diff_diff(df, units, ex)
                    sec = time.perf_counter() - t0
                for g, (b, lo, hi) in dd.items():
                    if g in truth:
                        rows.append({"design": name, "estimator": "diff-diff SpilloverDiD", "inference": "cluster",
                                     "group": g, "rep": r, "truth": truth[g], "estimate": b,
                                     "cover": lo <= truth[g] <= hi, "seconds": sec})
            except ImportError:
                peer = False
        if pretrend:
            ev = rad.event_study(df, "y_synthetic", ex, window=(5, 5), draws=wild_draws if wild_pretrend else 0,
                                 seed=r)
            allrow = ev.pretrend.set_index("band").loc["all"]
            ev2 = rad.event_study(df, "y_synthetic", ex, window=(5, 5), estimator="twfe")
            all2 = ev2.pretrend.set_index("band").loc["all"]
            pre.append({"design": name, "rep": r, "imputation_F": allrow["p"] < 0.05,
                        "imputation_wild": float(allrow["p_wild"] < 0.05) if pd.notna(allrow["p_wild"]) else np.nan,
                        "twfe_chi2": all2["p"] < 0.05})
        if log:
            print(f"{name} rep {r + 1}/{reps}", file=log, flush=True)
        if on_rep is not None:  # keep what is done if the run is stopped
            on_rep(pd.DataFrame(rows), pd.DataFrame(pre), r + 1)
    return pd.DataFrame(rows), pd.DataFrame(pre)


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    g = res.groupby(["design", "estimator", "inference", "group"], sort=False)
    out = g.apply(lambda s: pd.Series({
        "truth": s["truth"].mean(),
        "bias": (s["estimate"] - s["truth"]).mean(),
        "rel_bias": (s["estimate"] - s["truth"]).mean() / s["truth"].mean() if abs(s["truth"].mean()) > 1e-9 else np.nan,
        "rmse": np.sqrt(((s["estimate"] - s["truth"]) ** 2).mean()),
        "mc_sd": s["estimate"].std(ddof=1),
        "coverage": s["cover"].mean(),
        "reps": len(s),
        "seconds": s["seconds"].mean(),
    }), include_groups=False)
    return out.reset_index()


def cold_timing(reps=3):
    """Seconds for one fit in a fresh process (imports included): geo imputation vs diff-diff SpilloverDiD."""
    code_geo = (
        "import time; t0=time.perf_counter(); import pandas as pd; from geo import radiation as rad; "
        "d=pd.read_pickle('{p}'); ex=pd.read_pickle('{e}'); rad.band_did(d,'y_synthetic',ex); "
        "print(time.perf_counter()-t0)"
    )
    code_dd = (
        "import time; t0=time.perf_counter(); import pandas as pd; import warnings; warnings.simplefilter('ignore'); "
        "from diff_diff import SpilloverDiD; d=pd.read_pickle('{q}'); "
        "SpilloverDiD(rings=[0.0,100.0,200.0,300.0], conley_coords=('lat','lon'), cluster='adcode').fit("
        "d, outcome='y_synthetic', unit='adcode', time='year', first_treat='first_treat'); print(time.perf_counter()-t0)"
    )
    import tempfile

    from geo import radiation as rad
    from geo.boundaries import china

    units = china()
    spec = DESIGNS["static"]
    zones = make_zones(units, spec["n_zones"], spec["seed"])
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=BANDS)
    df = simulate(units, ex, true_effects(ex, False, False), seed=1)
    q = diff_diff_frame(df, units, ex)
    tmp = Path(tempfile.mkdtemp())
    df.to_pickle(tmp / "d.pkl")
    pd.to_pickle(ex, tmp / "e.pkl")
    q.to_pickle(tmp / "q.pkl")
    out = {"geo imputation": [], "diff-diff SpilloverDiD": []}
    for _ in range(reps):
        for key, code in (("geo imputation", code_geo), ("diff-diff SpilloverDiD", code_dd)):
            c = code.format(p=tmp / "d.pkl", e=tmp / "e.pkl", q=tmp / "q.pkl")
            r = subprocess.run([sys.executable, "-c", c], capture_output=True, text=True, check=True, cwd=ROOT)
            out[key].append(float(r.stdout.strip().splitlines()[-1]))
    return {k: float(np.median(v)) for k, v in out.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--wild-draws", type=int, default=199)
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--wild-pretrend", default="static,five", help="designs whose pre-trend test is bootstrapped")
    ap.add_argument("--wild-estimates", default="five", help="designs whose effects also get wild bootstrap tests")
    ap.add_argument("--fast", action="store_true", help="3 replications of the static and five-zone designs")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mc_radiation"))
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--estimators", default="imputation,cs,stacked,twfe")
    ap.add_argument("--no-pretrend", action="store_true", help="skip the event studies (pre-trend test size)")
    ap.add_argument("--no-peer", action="store_true", help="skip diff-diff")
    a = ap.parse_args(argv)
    from geo.boundaries import china

    units = china()
    designs = ["static", "five"] if a.fast else [d.strip() for d in a.designs.split(",")]
    reps = 3 if a.fast else a.reps
    res, pre = [], []
    for name in designs:
        done_r, done_p = list(res), list(pre)

        def partial(rr, pp, k, done_r=done_r, done_p=done_p):
            if not a.fast:
                _write(a.out, pd.concat([*done_r, rr]), pd.concat([*done_p, pp]), None, k, a.wild_draws)

        r, p = run_design(name, DESIGNS[name], reps, a.wild_draws, units, log=sys.stderr, on_rep=partial,
                          wild_pretrend=name in a.wild_pretrend.split(","),
                          wild_estimates=name in a.wild_estimates.split(","),
                          estimators=tuple(a.estimators.split(",")), pretrend=not a.no_pretrend,
                          peer=not a.no_peer)
        res.append(r)
        pre.append(p)
        if not a.fast:  # write what is done so far
            _write(a.out, pd.concat(res), pd.concat(pre), None, reps, a.wild_draws)
    timing = None if (a.fast or a.no_timing) else cold_timing()
    summ = _write(a.out, pd.concat(res), pd.concat(pre), timing, reps, a.wild_draws)
    print(summ.to_string(index=False))
    return summ


def _write(out, res, pre, timing, reps, wild_draws):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summ = summarise(res)
    cols = ["imputation_F", "imputation_wild", "twfe_chi2"]
    size = pre.groupby("design")[cols].mean().reset_index() if len(pre) else pd.DataFrame(columns=["design", *cols])
    payload = {
        "synthetic_data": True,
        "reps": reps,
        "wild_draws": wild_draws,
        "summary": summ.to_dict("records"),
        "pretrend_size": size.to_dict("records"),
        "cold_seconds_per_fit": timing,
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=float))
    lines = [f"reps per design: {reps}; wild bootstrap draws: {wild_draws} (SYNTHETIC outcomes on the real units)", "",
             "| design | estimator | inference | group | truth | bias | RMSE | MC sd | coverage |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in summ.itertuples():
        lines.append(f"| {r.design} | {r.estimator} | {r.inference} | {r.group} | {r.truth:.4f} | {r.bias:+.4f} | "
                     f"{r.rmse:.4f} | {r.mc_sd:.4f} | {r.coverage:.2f} |")
    lines += ["", "| design | pre-trend size: imputation F | imputation wild | TWFE chi2 |", "| --- | ---: | ---: | ---: |"]
    for r in size.itertuples():
        wild = "—" if not np.isfinite(r.imputation_wild) else f"{r.imputation_wild:.2f}"
        lines.append(f"| {r.design} | {r.imputation_F:.2f} | {wild} | {r.twfe_chi2:.2f} |")
    if timing:
        lines += ["", "| one fit from a cold process (median of 3) | seconds |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.2f} |" for k, v in timing.items()]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return summ


if __name__ == "__main__":
    main()
