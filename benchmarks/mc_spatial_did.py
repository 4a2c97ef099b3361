"""Monte Carlo study of the ring spatial DID on the 337 real units (SYNTHETIC outcomes, known effects, a siphon ring).

    nice -n 10 python benchmarks/mc_spatial_did.py [--reps 100] [--draws 1000] [--designs balanced,unbalanced]
    python benchmarks/mc_spatial_did.py --fast        # 3 replications of the balanced design (the tests run this)

Data-generating process (every draw labelled synthetic; seeds fixed per design and replication):

* units: the 337 embedded prefecture-level units, years 2000-2023; W = ``idw:1:300km`` (inverse geodesic
  distance between centroids within 300 km, islands linked, row-standardised) — the estimator's default W.
* zones: 15 points at the equal-area centroids of host units drawn once (``default_rng(101)``), approval
  years uniform in 2004-2016 (``mc_radiation.make_zones``: the zones of the radiation study's static
  design); geo's time-varying ``nearest`` exposure with rings 0-100, 100-200, 200-300 km.
* y_t = (I - rho W)^-1 (a + g_t + b h_t + g_wd W h_t + sum_k theta_k R_k,t + e_t), rho = 0.3,
  b = 0.10, g_wd = 0.05, theta = (+0.04, -0.03 (the siphon ring), 0.0), a_i ~ N(0, 0.3^2),
  g_t = 0.04 (t - 2000), e_it ~ N(0, 0.05^2) iid — the estimator's model (its sampling properties, not
  robustness to another model).
* designs: ``balanced`` (every unit-year; Lee-Yu two-way panel) and ``unbalanced`` (25 % of the outcomes
  removed at random, every unit keeps >= 2 years; exact ML on the observed cells, ``balance="ml"``).
* truth of ``direct`` = mean of Delta y = (I - rho W)^-1 (b h_t + g_wd W h_t + sum_k theta_k R_k,t) over
  the host unit-years of the sample; ``indirect[ring]`` over the sample's non-host unit-years of that ring;
  ``indirect[all]`` over every exposed non-host unit-year (the estimands of ``ring_spatial_did``).

Reported per design and effect (direct, indirect per ring and all, and the coefficients rho, b, g_wd,
theta_k): bias, RMSE, Monte Carlo sd, mean reported se, and coverage of the 95 % interval (percentiles of
``draws`` simulations from the ML covariance for the effects; estimate +/- 1.96 se for the coefficients).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # shared cores: threads only contend
    os.environ.setdefault(_v, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mc_radiation import BANDS, YEARS, make_zones  # noqa: E402  (the radiation study's zones and years)

RINGS = ("0-100 km", "100-200 km", "200-300 km")
TRUTH = {"rho": 0.3, "host": 0.10, "W host": 0.05, "0-100 km": 0.04, "100-200 km": -0.03, "200-300 km": 0.0}
DESIGNS = {"balanced": dict(missing=0.0), "unbalanced": dict(missing=0.25)}
ZONE_SEED = 101


class World:
    """The fixed part of the design: units, W, zones, exposure matrices and the effects Delta y."""

    def __init__(self, units=None, truth=TRUTH, *, years=YEARS, n_zones=15, zone_seed=ZONE_SEED):
        import scipy.sparse as sp

        from geo import radiation as rad
        from geo.boundaries import china
        from geo.radiation.spatial_rings import zone_effects
        from geo.weights import build

        self.units = china() if units is None else units
        self.truth = dict(truth)
        g = build("idw:1:300km", self.units)
        self.W = sp.csr_matrix(g.sparse)
        self.ids = list(map(str, g.unique_ids))
        self.years = list(years)
        self.zones = make_zones(self.units, n_zones, zone_seed)
        self.ex = rad.exposure(self.units, years=self.years, zones=self.zones, bands=BANDS)
        tab = self.ex.table.set_index(["year", "id"])
        mat = lambda c: tab[c].unstack("id")[self.ids].to_numpy(float)  # noqa: E731
        self.H = mat("host")
        self.R = np.stack([mat(c) for c in RINGS])
        t = self.truth
        self.dy = zone_effects(self.W, t["rho"], t["host"], [t[r] for r in RINGS], self.H, self.R, g=t["W host"])

    def effects_truth(self, obs):
        """Mean Delta y over the sample's host unit-years and non-host ring unit-years (obs: T x n bool)."""
        hm = (self.H > 0) & obs
        out = {"direct": self.dy[hm].mean()}
        for k, lab in enumerate(RINGS):
            out[lab] = self.dy[(self.R[k] > 0) & (self.H == 0) & obs].mean()
        out["all"] = self.dy[(self.R.sum(axis=0) > 0) & (self.H == 0) & obs].mean()
        return out

    def simulate(self, seed, missing=0.0):
        """(SYNTHETIC long panel, obs mask T x n) for one replication."""
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        rng = np.random.default_rng(seed)
        T, n = self.H.shape
        rhs = 0.3 * rng.standard_normal(n)[None, :] + 0.04 * np.arange(T)[:, None] + 0.05 * rng.standard_normal((T, n))
        Y = splu(sp.csc_matrix(sp.identity(n) - self.truth["rho"] * self.W)).solve(rhs.T).T + self.dy
        obs = np.ones((T, n), bool)
        if missing:
            obs = rng.random((T, n)) >= missing
            for j in np.flatnonzero(obs.sum(axis=0) < 2):  # every unit keeps at least two years
                obs[rng.choice(T, 2, replace=False), j] = True
        df = pd.DataFrame({"adcode": np.tile(self.ids, T), "year": np.repeat(self.years, n), "y_synthetic": Y.ravel()})
        return df[obs.ravel()].reset_index(drop=True), obs


def one_rep(world, design, rep, draws):
    from geo import radiation as rad

    spec = DESIGNS[design]
    seed = 10_000 * (1 + list(DESIGNS).index(design)) + rep
    df, obs = world.simulate(seed, spec["missing"])
    t0 = time.process_time()
    f = rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, draws=draws, seed=rep)
    cpu = time.process_time() - t0
    truth = world.effects_truth(obs)
    rows = []
    for key, eff in (("direct", f.direct), *[(k, f.indirect[k]) for k in (*RINGS, "all")]):
        rows.append({"design": design, "rep": rep, "what": "effect", "name": key, "truth": truth[key],
                     "estimate": eff["estimate"], "se": eff["se"], "lower": eff["lower"], "upper": eff["upper"],
                     "cpu_s": cpu})
    for name, tv in TRUTH.items():
        est, se = float(f.coefficients.at[name, "estimate"]), float(f.coefficients.at[name, "se"])
        rows.append({"design": design, "rep": rep, "what": "coefficient", "name": name, "truth": tv,
                     "estimate": est, "se": se, "lower": est - 1.959964 * se, "upper": est + 1.959964 * se,
                     "cpu_s": cpu})
    return rows


def run(designs=("balanced",), reps=3, draws=200, world=None, log=None, checkpoint=None):
    """Replications in order; ``checkpoint(frame)`` is called every 5 (a long run keeps what it finished)."""
    world = world or World()
    rows = []
    for d in designs:
        for r in range(reps):
            rows += one_rep(world, d, r, draws)
            if log:
                print(f"{d} rep {r + 1}/{reps} ({rows[-1]['cpu_s']:.1f} s CPU)", file=log, flush=True)
            if checkpoint and (r + 1) % 5 == 0:
                checkpoint(pd.DataFrame(rows))
    return pd.DataFrame(rows)


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (d, w, name), g in res.groupby(["design", "what", "name"], sort=False):
        err = g["estimate"] - g["truth"]
        out.append({"design": d, "what": w, "name": name, "reps": len(g), "truth": g["truth"].mean(),
                    "bias": err.mean(), "rmse": float(np.sqrt((err ** 2).mean())), "mc_sd": g["estimate"].std(ddof=1),
                    "mean_se": g["se"].mean(),
                    "coverage": float(((g["lower"] <= g["truth"]) & (g["truth"] <= g["upper"])).mean()),
                    "cpu_s_per_fit": g["cpu_s"].mean()})
    return pd.DataFrame(out)


def to_markdown(s: pd.DataFrame, reps, draws) -> str:
    lines = [f"replications: {reps} per design; effect intervals from {draws} draws of the ML covariance; "
             "SYNTHETIC outcomes on the 337 real units (benchmarks/mc_spatial_did.py)", "",
             "| design | kind | name | truth | bias | RMSE | MC sd | mean se | coverage |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in s.itertuples():
        lines.append(f"| {r.design} | {r.what} | {r.name} | {r.truth:+.4f} | {r.bias:+.4f} | {r.rmse:.4f} | "
                     f"{r.mc_sd:.4f} | {r.mean_se:.4f} | {r.coverage:.2f} |")
    cpu = s.groupby("design")["cpu_s_per_fit"].first()
    lines += ["", "CPU seconds per fit (incl. the draws): " + ", ".join(f"{d} {v:.1f}" for d, v in cpu.items())]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--designs", default=",".join(DESIGNS))
    ap.add_argument("--fast", action="store_true", help="3 replications of the balanced design")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mc_spatial_did"))
    a = ap.parse_args(argv)
    designs = ["balanced"] if a.fast else [d for d in a.designs.split(",") if d]
    reps = 3 if a.fast else a.reps
    out = None if a.fast else Path(a.out)

    def write(res):
        s = summarise(res)
        done = int(res.groupby("design")["rep"].nunique().min())
        md = to_markdown(s, done, a.draws)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            payload = {"synthetic_data": True, "reps": done, "reps_asked": reps, "draws": a.draws, "truth": TRUTH,
                       "designs": DESIGNS, "summary": s.to_dict("records"), "replications": res.to_dict("records")}
            for suffix, text in ((".json", json.dumps(payload, indent=1)), (".md", md)):
                tmp = out.with_suffix(suffix + ".tmp")
                tmp.write_text(text)
                tmp.replace(out.with_suffix(suffix))
        return md

    res = run(designs, reps, a.draws, log=sys.stderr, checkpoint=write)
    print(write(res))


if __name__ == "__main__":
    main()
