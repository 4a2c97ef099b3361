"""Monte Carlo study of the radiation estimators on the 337 real units (SYNTHETIC outcomes, known effects).

    nice -n 10 python benchmarks/mc_radiation.py --designs static,five --estimators imputation --reps 200 \
        --wild-draws 399 --out benchmarks/results/mc_radiation_imp_a      # effects (checkpointed every replication)
    nice -n 10 python benchmarks/mc_radiation.py --part pretrend --reps 200 --pretrend-draws 199 --out ...
    python benchmarks/mc_radiation.py --combine benchmarks/results/mc_radiation_*_rows.csv --out benchmarks/results/mc_radiation
    python benchmarks/mc_radiation.py --fast        # a few replications (the test suite runs run_design directly)
    python benchmarks/mc_radiation.py --part variance   # exact sd vs expected clustered / jackknife SE, no draws

Data-generating process (every draw labelled synthetic; seeds fixed per design and replication):

* units: the 337 embedded prefecture-level units; years 2000-2023; zones are points at the equal-area
  centroids of host units drawn once per design (``default_rng(design seed)``) with approval years
  uniform in 2004-2016 (so they are "centroid zones", which diff-diff's SpilloverDiD also supports).
* exposure: geo's time-varying ``nearest`` exposure (host from the first approval; otherwise the ring of the
  nearest zone already approved), rings 0-100, 100-200, 200-300 km.
* y_it = a_i + g_t + tau_it + 0.2 x_it (control design only) + u_it, a_i ~ N(0, 0.3^2),
  g_t = 0.05 (t-2000) - 0.001 (t-2000)^2, u_it AR(1) within unit (rho 0.5, innovation sd 0.05, stationary start).
* tau_it = tau_l(e) for the unit's group l in year t, e = t - first exposure year:
  static: tau_l; dynamic: tau_l (0.6 + 0.08 e) (grows with exposure); host 0.10, 0-100 km +0.04,
  100-200 km -0.03 (siphon), 200-300 km 0.
* designs: static (15 zones), dynamic (15 zones), overlapping (40 zones: rings switch as nearer zones open),
  five (5 zones), two_kinds (15 zones of kind A with the effects above + 15 of kind B with host 0.05,
  0-100 km +0.02, 100-200 km 0, 200-300 km 0), unbalanced (static, 25 % of unit-years missing completely at
  random, redrawn each replication), control (static, plus a control x_it = 0.5 c_i (t-2000)/23 + 0.1 v_it,
  c_i = 1 for units ever exposed and 0 otherwise, v_it ~ N(0,1): without x the exposed units trend apart,
  so x must be controlled for; x is not affected by the treatment), overlapping_iid (overlapping with serially
  independent errors of the same variance, rho 0: isolates the serial correlation).
* truth of a group = mean of its own effect over its exposed unit-years in the estimation sample (the
  imputation estimand; TWFE and stacked are judged against the same number); with two kinds the effects of
  the two kinds add up and each label is judged on its own part.

Reported per design x estimator x inference x group: bias, RMSE, Monte Carlo sd, coverage of the 95 % interval
(``cluster``: clustered by unit, t(G-1), as ``band_did(inference="cluster")``; ``wild``: the restricted wild
cluster bootstrap with Webb weights, the CLI's default for imputation; covered = the bootstrap test of the
true value has p > 0.05, i.e. the truth lies in the test-inversion interval) with Monte Carlo standard errors;
the size at 5 % of the pre-trend tests (``--part pretrend``: imputation BJS test and TWFE event study, the
small-G F, the wild bootstrap and, for comparison, the old tests: F(q, G-1) / chi-square); seconds per fit.
diff-diff's SpilloverDiD (Butts/Gardner) is run on the single-kind designs without controls.
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
SD_U = 0.05 / np.sqrt(1 - 0.25)  # stationary sd of the errors' AR(1) with rho 0.5, kept for every rho
BANDS = (100.0, 200.0, 300.0)
EFFECTS_A = {"host": 0.10, "0-100 km": 0.04, "100-200 km": -0.03, "200-300 km": 0.0}
EFFECTS_B = {"host": 0.05, "0-100 km": 0.02, "100-200 km": 0.0, "200-300 km": 0.0}
DESIGNS = {
    "static": dict(n_zones=15, dynamic=False, seed=101),
    "dynamic": dict(n_zones=15, dynamic=True, seed=101),
    "overlapping": dict(n_zones=40, dynamic=False, seed=202),
    "five": dict(n_zones=5, dynamic=False, seed=303),
    "two_kinds": dict(n_zones=30, dynamic=False, seed=404, kinds=True),
    "unbalanced": dict(n_zones=15, dynamic=False, seed=101, missing=0.25),
    "control": dict(n_zones=15, dynamic=False, seed=101, control=True),
    "overlapping_iid": dict(n_zones=40, dynamic=False, seed=202, rho=0.0),
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


def simulate(units, ex, tau, seed, *, missing=0.0, control=False, rho=0.5):
    rng = np.random.default_rng(seed)
    n, nt = len(units), len(YEARS)
    a = 0.3 * rng.standard_normal(n)
    tt = np.arange(nt)
    g = 0.05 * tt - 0.001 * tt**2
    u = np.zeros((nt, n))
    sd = SD_U
    u[0] = sd * rng.standard_normal(n)
    for k in range(1, nt):
        u[k] = rho * u[k - 1] + sd * np.sqrt(1 - rho**2) * rng.standard_normal(n)
    y = a[None, :] + g[:, None] + u  # year-major, as the exposure table
    df = ex.table[["id", "year"]].rename(columns={"id": "adcode"}).copy()
    df["y_synthetic"] = y.ravel() + sum(tau.values())
    if control:
        ever = ex.table.groupby("id")["first_year"].transform(lambda s: s.notna().any()).to_numpy(float)
        x = 0.5 * ever * (df["year"].to_numpy() - 2000) / 23 + 0.1 * rng.standard_normal(len(df))
        df["x_synthetic"] = x
        df["y_synthetic"] += 0.2 * x
    if missing:
        df = df[rng.random(len(df)) >= missing].reset_index(drop=True)
    return df


def truths(ex, tau, df, controls=()):
    """Truth of each label: mean of its own effect over its exposed unit-years in the estimation sample."""
    from geo.radiation.design import design

    d = design(df, "y_synthetic", ex, controls=controls)
    key = pd.MultiIndex.from_frame(ex.table[["id", "year"]])
    rows = pd.MultiIndex.from_frame(d.df[["adcode", "year"]])
    out = {}
    for lab, c in d.cols.items():
        t = pd.Series(tau[lab], index=key).reindex(rows).to_numpy()
        out[lab] = float(t[d.df[c].to_numpy() != 0].mean())
    return out, d


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


def _imputation_rows(d, truth, name, r, wild_draws):
    """The imputation estimator's clustered and wild-bootstrap coverage (the functions band_did uses)."""
    from geo.radiation._common import critical_value
    from geo.radiation.imputation import fit as ifit

    t0 = time.perf_counter()
    lf, _ = ifit(d)
    V = lf.cov()
    sec = time.perf_counter() - t0
    z = critical_value(0.95, lf.dof)
    rows = []
    for lab, c in d.cols.items():
        if lab not in truth or c not in lf.names:
            continue
        j = lf.names.index(c)
        b, se = float(lf.theta[j]), float(np.sqrt(V[j, j]))
        rows.append({"design": name, "estimator": "imputation", "inference": "cluster", "group": lab, "rep": r,
                     "truth": truth[lab], "estimate": b, "cover": abs(b - truth[lab]) <= z * se, "seconds": sec})
        if wild_draws:
            t1 = time.perf_counter()
            pv = lf.wild_pvalue(j, draws=wild_draws, weights="webb", seed=[r, j])(truth[lab])
            rows.append({"design": name, "estimator": "imputation", "inference": "wild", "group": lab, "rep": r,
                         "truth": truth[lab], "estimate": b, "cover": pv > 0.05,
                         "seconds": sec + time.perf_counter() - t1})
    return rows


def run_design(name, spec, reps, wild_draws, units, peer=True, log=None, on_rep=None,
               estimators=("imputation", "stacked", "twfe"), pretrend=False, pretrend_draws=0, first_rep=0,
               effects=True):
    """Replications first_rep..first_rep+reps-1 of one design: (effect rows, pre-trend rows)."""
    import warnings

    from geo import radiation as rad

    zones = make_zones(units, spec["n_zones"], spec["seed"], spec.get("kinds", False))
    kinds = ("A", "B") if spec.get("kinds") else None
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=BANDS, kinds=kinds)
    tau = true_effects(ex, spec["dynamic"], bool(kinds))
    controls = ("x_synthetic",) if spec.get("control") else ()
    peer = peer and not kinds and not controls
    rows, pre = [], []
    for r in range(first_rep, first_rep + reps):
        df = simulate(units, ex, tau, seed=spec["seed"] * 1000 + r, missing=spec.get("missing", 0.0),
                      control=bool(controls), rho=spec.get("rho", 0.5))
        truth, d = truths(ex, tau, df, controls)
        for est in estimators if effects else ():
            if est == "imputation":
                rows += _imputation_rows(d, truth, name, r, wild_draws)
                continue
            t0 = time.perf_counter()
            fit = rad.band_did(df, "y_synthetic", ex, estimator=est, controls=controls)
            sec = time.perf_counter() - t0
            for row in fit.table.itertuples():
                if row.band not in truth:
                    continue
                tr = truth[row.band]
                rows.append({"design": name, "estimator": est, "inference": "cluster", "group": row.band, "rep": r,
                             "truth": tr, "estimate": row.estimate, "cover": row.ci_lower <= tr <= row.ci_upper,
                             "seconds": sec})
        if peer and effects:
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
            except Exception as exc:  # noqa: BLE001 - a peer that refuses a design is reported, not fatal
                if log:
                    print(f"{name}: diff-diff failed ({type(exc).__name__}: {exc}); peer skipped", file=log)
                peer = False
        if pretrend:
            pre.append(_pretrend_row(df, ex, controls, name, r, pretrend_draws))
        if log:
            print(f"{name} rep {r + 1 - first_rep}/{reps}", file=log, flush=True)
        if on_rep is not None:  # keep what is done if the run is stopped
            on_rep(pd.DataFrame(rows), pd.DataFrame(pre), r + 1 - first_rep)
    return pd.DataFrame(rows), pd.DataFrame(pre)


def _pretrend_row(df, ex, controls, name, r, draws):
    """Rejections at 5 % of the pre-trend tests ("all" leads) under the null (no pre-trends in the process)."""
    from geo.radiation._common import p_chi2, p_f
    from geo.radiation.did import pretrend_test

    out = {"design": name, "rep": r}
    t0 = time.perf_counter()
    n_units = df["adcode"].nunique()
    for est in ("imputation", "twfe"):  # the tests of event_study(), without its coefficients
        pre = pretrend_test(df, "y_synthetic", ex, window=(5, 5), draws=draws, seed=r, estimator=est,
                            controls=controls)
        a = pre.set_index("band").loc["all"]
        out[f"{est}_F"] = float(a["p_f"] < 0.05) if pd.notna(a["p_f"]) else np.nan
        out[f"{est}_wild"] = float(a["p_wild"] < 0.05) if draws and pd.notna(a["p_wild"]) else np.nan
        # the tests geo reported before: F(q, G-1) (imputation) and chi-square (TWFE) on the clustered Wald
        old = p_f(a["wald"] / a["df"], a["df"], n_units - 1) if est == "imputation" else p_chi2(a["wald"], a["df"])
        out[f"{est}_old"] = float(old < 0.05)
    out["seconds"] = time.perf_counter() - t0
    return out


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE, MC sd and coverage per design x estimator x inference x group, with Monte Carlo s.e."""
    g = res.groupby(["design", "estimator", "inference", "group"], sort=False)

    def one(s):
        err = s["estimate"] - s["truth"]
        n = len(s)
        cov = float(s["cover"].astype(float).mean())
        truth = s["truth"].mean()
        return pd.Series({
            "truth": truth,
            "bias": err.mean(),
            "bias_mcse": err.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "rel_bias": err.mean() / truth if abs(truth) > 1e-9 else np.nan,
            "rmse": np.sqrt((err**2).mean()),
            "mc_sd": s["estimate"].std(ddof=1) if n > 1 else np.nan,
            "coverage": cov,
            "coverage_mcse": np.sqrt(cov * (1 - cov) / n),
            "reps": n,
            "seconds": s["seconds"].mean(),
        })

    return g.apply(one, include_groups=False).reset_index()


def pretrend_size(pre: pd.DataFrame) -> pd.DataFrame:
    """Rejection rate at 5 % under the null per design and test, with its Monte Carlo s.e."""
    cols = [c for c in ("imputation_F", "imputation_wild", "imputation_old", "twfe_F", "twfe_wild", "twfe_old")
            if c in pre]
    out = []
    for name, sub in pre.groupby("design", sort=False):
        row = {"design": name, "reps": len(sub), "seconds": sub["seconds"].mean() if "seconds" in sub else np.nan}
        for c in cols:
            v = sub[c].dropna()
            rate = float(v.mean()) if len(v) else np.nan
            row[c] = rate
            row[c + "_mcse"] = np.sqrt(rate * (1 - rate) / len(v)) if len(v) else np.nan
            row[c + "_n"] = len(v)
        out.append(row)
    return pd.DataFrame(out)


def ar1_cov_apply(M, unit, year, rho, sd):
    """Sigma M for the process's errors: AR(1) within unit (stationary sd ``sd``, correlation rho^|t-s|),
    independent across units; M is n x m in the estimation rows' order."""
    M = np.asarray(M, float)
    out = np.zeros_like(M)
    order = np.argsort(unit, kind="stable")
    bounds = np.flatnonzero(np.diff(unit[order])) + 1
    for r in np.split(order, bounds):
        t = year[r]
        out[r] = sd**2 * rho ** np.abs(t[:, None] - t[None, :]) @ M[r]
    return out


def exact_variance(lf, year, rho, sd):
    """{name: (exact variance, exact expectation of the clustered variance)} of the imputation coefficients.

    theta = A y is linear in y and the fixed effects absorb a_i and g_t, so Var(theta_j) = a_j' Sigma a_j
    exactly.  The clustered estimate is c sum_g (w_g' e)^2 with w_g = a_j on unit g's rows and e = R u the
    residuals used (first-stage residuals on untreated rows, second-stage on treated rows; R = (I - X B^-1 X')
    (I - H)), so its expectation is c sum_g (R'w_g)' Sigma (R'w_g).  No simulation: the ratio says whether the
    clustered variance is biased for this design (a property of the design and the error process)."""
    from geo.radiation._fe import indicator

    X = lf.Xt
    Binv = np.linalg.pinv(X.T @ X)
    C = indicator(lf.cluster, lf.G)
    out = {}
    for j, name in enumerate(lf.names):
        a = lf.A[j]
        v_true = float(a @ ar1_cov_apply(a[:, None], lf.cluster, year, rho, sd)[:, 0])
        W = C.T.multiply(a[:, None]).toarray()  # n x G: a_j restricted to each unit
        RtW = lf.Tt(W - X @ (Binv @ (X.T @ W)))
        e_cl = float(lf.factor * np.einsum("ng,ng->", RtW, ar1_cov_apply(RtW, lf.cluster, year, rho, sd)))
        out[name] = (v_true, e_cl)
    return out


def jackknife_maps(d, lf, fs) -> np.ndarray:
    """G x k x n array D with D_g y = theta_(-g) - mean_h theta_(-h): the leave-one-unit-out estimates (each refitted
    without unit g, stage 1 included; zero weight on unit g's rows) as linear maps of y, centred."""
    import dataclasses
    from types import SimpleNamespace

    from geo.radiation.imputation import FirstStageFit, second_stage

    names = list(lf.names)
    key = fs.df[d.id].to_numpy()
    Ag = np.zeros((lf.G, len(names), len(key)))
    for g, uid in enumerate(pd.unique(key)):  # the order of the cluster codes (factorized in row order)
        keep = key != uid
        sub_df = fs.df[keep].reset_index(drop=True)
        if dataclasses.is_dataclass(d):
            sub_d = dataclasses.replace(d, df=sub_df)
        else:  # a plain namespace (the hand-built test design)
            sub_d = SimpleNamespace(**{**vars(d), "df": sub_df})
        sub = FirstStageFit(sub_d)
        lg = second_stage(sub, sub.df[names].to_numpy(float), names)
        for jj, c in enumerate(lg.names):
            Ag[g, names.index(c), keep] = lg.A[jj]
    return Ag - Ag.mean(axis=0, keepdims=True)


def exact_jackknife_variance(d, lf, fs, rho, sd):
    """{name: exact expectation of the jackknife variance (G-1)/G sum_g (D_g y)^2} = (G-1)/G sum_g D_g' Sigma D_g
    (:func:`jackknife_maps`): a measured alternative to the clustered variance, G refits, no simulation."""
    D = jackknife_maps(d, lf, fs)
    G = lf.G
    return {name: float((G - 1) / G * np.einsum("ng,ng->", D[:, j, :].T,
                                                 ar1_cov_apply(D[:, j, :].T, lf.cluster, fs.year, rho, sd)))
            for j, name in enumerate(lf.names)}


VARIANCE_DESIGNS = ("static", "dynamic", "overlapping", "overlapping_iid", "five")


def variance_table(units, designs=VARIANCE_DESIGNS, *, jackknife=False) -> pd.DataFrame:
    """Exact sampling sd of the imputation estimates and the exact expectation of their clustered SE per design
    (balanced single-kind designs without controls: the estimation rows do not change across replications)."""
    from geo import radiation as rad
    from geo.radiation.imputation import fit as ifit

    rows = []
    for name in designs:
        spec = DESIGNS[name]
        zones = make_zones(units, spec["n_zones"], spec["seed"])
        ex = rad.exposure(units, years=YEARS, zones=zones, bands=BANDS)
        tau = true_effects(ex, spec["dynamic"], False)
        df = simulate(units, ex, tau, seed=spec["seed"] * 1000, rho=spec.get("rho", 0.5))
        _, d = truths(ex, tau, df)
        lf, fs = ifit(d)
        ev = exact_variance(lf, fs.year, spec.get("rho", 0.5), SD_U)
        jk = exact_jackknife_variance(d, lf, fs, spec.get("rho", 0.5), SD_U) if jackknife else {}
        for lab, c in d.cols.items():
            if c in ev:
                v, e = ev[c]
                row = {"design": name, "group": lab, "exact_sd": np.sqrt(v), "expected_clustered_se": np.sqrt(e),
                       "variance_ratio": e / v}
                if c in jk:
                    row["jackknife_ratio"] = jk[c] / v
                rows.append(row)
    return pd.DataFrame(rows)


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
    ap.add_argument("--first-rep", type=int, default=0, help="first replication index (to split a run)")
    ap.add_argument("--wild-draws", type=int, default=399, help="wild bootstrap draws for the effects (0: none)")
    ap.add_argument("--pretrend-draws", type=int, default=199, help="wild bootstrap draws for the pre-trend tests")
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--part", choices=("effects", "pretrend", "both", "variance"), default="effects",
                    help="variance: exact sampling sd vs the expected clustered and jackknife SEs (no simulation; "
                    "writes OUT_variance)")
    ap.add_argument("--fast", action="store_true", help="3 replications of the static and five-zone designs")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mc_radiation"))
    ap.add_argument("--timing", action="store_true", help="also time one fit from a cold process against diff-diff")
    ap.add_argument("--estimators", default="imputation,stacked,twfe")
    ap.add_argument("--no-peer", action="store_true", help="skip diff-diff")
    ap.add_argument("--combine", nargs="*", help="raw *_rows.csv / *_pre.csv files to summarise into --out")
    a = ap.parse_args(argv)
    if a.combine is not None:
        files = [Path(f) for f in a.combine if Path(f).stat().st_size > 1]  # a part without rows writes an empty file
        res = pd.concat([pd.read_csv(f) for f in files if f.name.endswith("_rows.csv")] or [pd.DataFrame()])
        pre = pd.concat([pd.read_csv(f) for f in files if f.name.endswith("_pre.csv")] or [pd.DataFrame()])
        # split runs may overlap (same design and seed): keep each replication once
        if len(res):
            res = res.drop_duplicates(["design", "estimator", "inference", "group", "rep"])
        if len(pre):
            pre = pre.drop_duplicates(["design", "rep"])
        timing = json.loads(Path(a.out + "_timing.json").read_text()) if Path(a.out + "_timing.json").exists() else None
        _write(a.out, res, pre, timing, a.wild_draws, a.pretrend_draws, raw=False)
        return None
    from geo.boundaries import china

    units = china()
    if a.part == "variance":
        names = VARIANCE_DESIGNS if a.designs == ",".join(DESIGNS) else tuple(x.strip() for x in a.designs.split(","))
        tab = variance_table(units, names, jackknife=True)
        out = Path(a.out + "_variance")
        out.with_suffix(".json").write_text(json.dumps({"synthetic_data": True, "rows": tab.to_dict("records")},
                                                       indent=1, default=float))
        lines = ["SYNTHETIC process. Imputation estimator: exact sampling sd (a' Sigma a under the process's AR(1) "
                 "errors) vs the exact expectation of the two-stage GMM clustered variance (factor G/(G-1)) and of "
                 "the leave-one-unit-out jackknife variance; ratios = expected variance / exact variance; no "
                 "simulation", "",
                 "| design | group | exact sd | E[clustered var]^0.5 | clustered ratio | jackknife ratio |",
                 "| --- | --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r.design} | {r.group} | {r.exact_sd:.5f} | {r.expected_clustered_se:.5f} | "
                  f"{r.variance_ratio:.3f} | {r.jackknife_ratio:.3f} |" for r in tab.itertuples()]
        out.with_suffix(".md").write_text("\n".join(lines) + "\n")
        print(tab.to_string(index=False))
        return tab
    designs = ["static", "five"] if a.fast else [d.strip() for d in a.designs.split(",")]
    reps = 3 if a.fast else a.reps
    res, pre = [], []
    for name in designs:
        done_r, done_p = list(res), list(pre)

        def partial(rr, pp, k, done_r=done_r, done_p=done_p):
            if not a.fast:
                _write(a.out, pd.concat([*done_r, rr]), pd.concat([*done_p, pp]), None, a.wild_draws, a.pretrend_draws)

        r, p = run_design(name, DESIGNS[name], reps, a.wild_draws, units, log=sys.stderr, on_rep=partial,
                          estimators=tuple(a.estimators.split(",")), pretrend=a.part in ("pretrend", "both"),
                          effects=a.part in ("effects", "both"), pretrend_draws=a.pretrend_draws,
                          peer=not a.no_peer, first_rep=a.first_rep)
        res.append(r)
        pre.append(p)
    timing = cold_timing() if a.timing and not a.fast else None
    if timing:
        Path(a.out + "_timing.json").write_text(json.dumps(timing, indent=1))
    summ = _write(a.out, pd.concat(res), pd.concat(pre), timing, a.wild_draws, a.pretrend_draws, raw=not a.fast)
    print(summ.to_string(index=False))
    return summ


def _write(out, res, pre, timing, wild_draws, pretrend_draws, raw=True):
    """Summary .json and .md at ``out``; with ``raw`` also the replications (_rows.csv, _pre.csv), written whole."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def atomic(path, text):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)

    if raw:
        atomic(out.with_name(out.name + "_rows.csv"), res.to_csv(index=False))
        atomic(out.with_name(out.name + "_pre.csv"), pre.to_csv(index=False))
    summ = summarise(res) if len(res) else pd.DataFrame()
    size = pretrend_size(pre) if len(pre) else pd.DataFrame()
    payload = {
        "synthetic_data": True,
        "wild_draws": wild_draws,
        "pretrend_wild_draws": pretrend_draws,
        "summary": summ.to_dict("records"),
        "pretrend_size": size.to_dict("records"),
        "cold_seconds_per_fit": timing,
    }
    atomic(out.with_suffix(".json"), json.dumps(payload, indent=1, default=float))
    lines = [f"SYNTHETIC outcomes on the real units; wild bootstrap draws: {wild_draws} (effects), "
             f"{pretrend_draws} (pre-trend tests); ± = Monte Carlo standard error", ""]
    if len(summ):
        lines += ["| design | estimator | inference | group | reps | truth | bias (± MC se) | RMSE | MC sd | "
                  "coverage (± MC se) | s/fit |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in summ.itertuples():
            lines.append(f"| {r.design} | {r.estimator} | {r.inference} | {r.group} | {int(r.reps)} | {r.truth:.4f} | "
                         f"{r.bias:+.4f} ± {r.bias_mcse:.4f} | {r.rmse:.4f} | {r.mc_sd:.4f} | "
                         f"{r.coverage:.3f} ± {r.coverage_mcse:.3f} | {r.seconds:.2f} |")
    if len(size):
        tests = [c for c in ("imputation_F", "imputation_wild", "imputation_old", "twfe_F", "twfe_wild", "twfe_old")
                 if c in size]
        lines += ["", "Pre-trend tests, rejection rate at 5 % under the null (± MC se); _F = small-G F, _wild = "
                  "restricted wild bootstrap, _old = the previous F(q, G-1) / chi-square", "",
                  "| design | reps | " + " | ".join(tests) + " | s/rep |", "| --- | ---: |" + " ---: |" * (len(tests) + 1)]
        for r in size.to_dict("records"):
            cells = [("—" if not np.isfinite(r[c]) else f"{r[c]:.3f} ± {r[c + '_mcse']:.3f}") for c in tests]
            lines.append(f"| {r['design']} | {int(r['reps'])} | " + " | ".join(cells) + f" | {r['seconds']:.1f} |")
    if timing:
        lines += ["", "| one fit from a cold process (median of 3) | seconds |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.2f} |" for k, v in timing.items() if not k.startswith("load")]
        if "load_average_1min" in timing:
            lines.append(f"\nmachine load (1 min) during the timing: {timing['load_average_1min']:.1f} on 2 cores: "
                         "read the ratio, not the seconds")
    atomic(out.with_suffix(".md"), "\n".join(lines) + "\n")
    return summ


if __name__ == "__main__":
    main()
