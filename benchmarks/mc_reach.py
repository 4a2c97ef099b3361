"""Monte Carlo study of the reach rules (geo.radiation.reach) on the 337 real units (SYNTHETIC outcomes).

    nice -n 10 python benchmarks/mc_reach.py [--reps 25] [--out benchmarks/results/mc_reach]
    python benchmarks/mc_reach.py --fast        # 3 replications per design

Data-generating process: benchmarks/mc_radiation.py's (zones at the equal-area centroids of 15 host units drawn
once per design, approval years 2004-2016; y_it = a_i + g_t + tau_it + AR(1) noise, innovation sd 0.05), with
the effect of a unit-year set by the ring of its nearest approved zone:

* reach200: host +0.10, 0-100 km +0.05, 100-200 km +0.03, beyond 200 km 0 (true reach 200 km)
* reach100: host +0.10, 0-100 km +0.05, beyond 100 km 0 (true reach 100 km)
* none:     host +0.10, no spillover (true reach 0 km)

Per replication: Clarke's CV reach (bin widths 50, 100, ... 300 km, 5 folds by unit), the distance curve (rings of
50 km to 300 km, pointwise clustered intervals, uniform band from 999 Webb draws of the studentized wild
cluster bootstrap) and the rings rule
of the band-DID (rings 100/200/300 km, clustered intervals).  Reported: share of replications in which each rule
gives the true reach, the spread of the CV choice, coverage of the uniform band (the whole curve at once) and
of the pointwise intervals (each ring).  Pointwise intervals are clustered here (the wild bootstrap's test
inversion for every ring of every replication would take hours on the shared machine).
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

import mc_radiation as mc  # noqa: E402  (the DGP's zones and noise)

YEARS = mc.YEARS
COARSE = (100.0, 200.0, 400.0)
DESIGNS = {
    "reach200": dict(effects={"host": 0.10, "0-100 km": 0.05, "100-200 km": 0.03, "200-400 km": 0.0}, reach=200.0,
                     seed=101),
    "reach100": dict(effects={"host": 0.10, "0-100 km": 0.05, "100-200 km": 0.0, "200-400 km": 0.0}, reach=100.0,
                     seed=202),
    "none": dict(effects={"host": 0.10, "0-100 km": 0.0, "100-200 km": 0.0, "200-400 km": 0.0}, reach=0.0, seed=303),
}


def ring_truth(table, effects):
    out = []
    for hi in table["upper_km"]:
        out.append(effects["0-100 km"] if hi <= 100 else effects["100-200 km"] if hi <= 200 else 0.0)
    return np.array(out)


def run_design(name, spec, reps, units, log=None):
    from geo import radiation as rad

    zones = mc.make_zones(units, 15, spec["seed"])
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=COARSE)
    tau = {lab: spec["effects"][lab] * ex.table[lab].to_numpy() for lab in ex.labels}
    rows = []
    for r in range(reps):
        seed = spec["seed"] * 1000 + r
        df = mc.simulate(units, ex, tau, seed)
        cv = rad.cv_reach(df, "y_synthetic", units=units, zones=zones, step_km=50, max_km=300, folds=5, seed=seed)
        c = rad.distance_curve(df, "y_synthetic", units=units, zones=zones, step_km=50, max_km=300,
                               inference="cluster", draws=999, seed=seed)
        rings = rad.band_did(df, "y_synthetic", rad.exposure(units, years=YEARS, zones=zones,
                                                             bands=(100.0, 200.0, 300.0)), inference="cluster")
        truth = ring_truth(c.table, spec["effects"])
        t = c.table
        rows.append({
            "design": name, "rep": r, "cv_reach": cv.reach_km, "cv_h": cv.h_km, "curve_reach": c.reach_km,
            "rings_reach": float(rings.reach_km),
            "band_covers": bool(((t["band_lower"] <= truth) & (truth <= t["band_upper"])).all()),
            "point_cover": float(((t["ci_lower"] <= truth) & (truth <= t["ci_upper"])).mean()),
            "any_point_miss": bool(not ((t["ci_lower"] <= truth) & (truth <= t["ci_upper"])).all()),
            "c_band": c.critical_value, "c_point": c.pointwise_critical, "n_rings": len(t),
        })
        if log:
            log(f"{name} rep {r}: cv {cv.reach_km:g} (h {cv.h_km:g}), curve {c.reach_km:g}, rings "
                f"{float(rings.reach_km):g}, band covers {rows[-1]['band_covers']}")
    return rows


def summarise(rows):
    df = pd.DataFrame(rows)
    out = []
    for name, g in df.groupby("design", sort=False):
        true = DESIGNS[name]["reach"]
        n = len(g)
        share = lambda col: float((g[col] == true).mean())  # noqa: E731
        picks = g["cv_reach"].value_counts().sort_index()
        band = float(g["band_covers"].mean())
        out.append({
            "design": name, "true_reach_km": true, "reps": n,
            "cv_true": share("cv_reach"),
            "cv_true_mc_se": float(np.sqrt(share("cv_reach") * (1 - share("cv_reach")) / n)),
            "cv_picks": {f"{k:g}": int(v) for k, v in picks.items()},
            "curve_true": share("curve_reach"), "rings_true": share("rings_reach"),
            "band_coverage": band, "band_coverage_mc_se": float(np.sqrt(0.95 * 0.05 / n)),
            "pointwise_coverage": float(g["point_cover"].mean()),
            "all_pointwise_cover": float(1 - g["any_point_miss"].mean()),
            "c_band": float(g["c_band"].mean()), "c_point": float(g["c_point"].mean()),
            "n_rings": int(g["n_rings"].iat[0]),
        })
    return out


def markdown(summary, reps, seconds):
    lines = [
        f"SYNTHETIC outcomes on the 337 real units, 15 centroid zones, {reps} replications per design "
        f"({seconds / 60:.1f} min, one nice'd core shared with other jobs).",
        "",
        "| design | true reach | CV (Clarke) picks it | CV choices (km: count) | curve rule | rings rule "
        "| uniform band covers the whole curve | pointwise coverage per ring | all pointwise cover "
        "| c band / c point |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summary:
        picks = ", ".join(f"{k}: {v}" for k, v in s["cv_picks"].items())
        lines.append(
            f"| {s['design']} | {s['true_reach_km']:g} km | {s['cv_true']:.2f} (±{s['cv_true_mc_se']:.2f}) "
            f"| {picks} | {s['curve_true']:.2f} | {s['rings_true']:.2f} "
            f"| {s['band_coverage']:.2f} (±{s['band_coverage_mc_se']:.2f}) "
            f"| {s['pointwise_coverage']:.3f} | {s['all_pointwise_cover']:.2f} "
            f"| {s['c_band']:.2f} / {s['c_point']:.2f} ({s['n_rings']} rings) |"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=25)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--designs", default="reach200,none,reach100")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mc_reach"))
    a = ap.parse_args(argv)
    reps = 3 if a.fast else a.reps
    from geo import boundaries

    units = boundaries.china()
    t0 = time.time()
    rows = []
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in a.designs.split(","):  # results written after each design: a long run stopped early keeps them
        rows += run_design(name, DESIGNS[name], reps, units, log=lambda m: print(m, file=sys.stderr, flush=True))
        seconds = time.time() - t0
        summary = summarise(rows)
        out.with_suffix(".json").write_text(json.dumps({"reps": reps, "seconds": seconds, "summary": summary,
                                                        "replications": rows}, indent=1))
        md = markdown(summary, reps, seconds)
        out.with_suffix(".md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
