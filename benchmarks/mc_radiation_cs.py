"""Monte Carlo of the Callaway-Sant'Anna ring estimator (``estimator="cs"``) on the designs of mc_radiation.py.

    nice -n 10 python benchmarks/mc_radiation_cs.py [--reps 40] [--designs five,overlapping,static,dynamic]
        [--wild-draws 199] [--out benchmarks/results/mc_radiation_cs]

SYNTHETIC outcomes: the data-generating process, the designs, the zones and the truth (mean effect of each group
over its exposed unit-years in the estimation sample) are those of ``benchmarks/mc_radiation.py`` (imported, not
copied).  Per replication: cs with clustered intervals (t(G-1)), cs with the restricted wild cluster bootstrap
(Webb weights, ``--wild-draws``, interval by test inversion), and the imputation estimator (clustered) on the
same draw as a yardstick.  Coverage = share of replications whose 95 % interval contains the truth.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mc_radiation import BANDS, DESIGNS, YEARS, make_zones, simulate, summarise, true_effects, truths  # noqa: E402


def run(name, reps, draws, units, log):
    from geo import radiation as rad

    spec = DESIGNS[name]
    zones = make_zones(units, spec["n_zones"], spec["seed"], spec.get("kinds", False))
    kinds = ("A", "B") if spec.get("kinds") else None
    ex = rad.exposure(units, years=YEARS, zones=zones, bands=BANDS, kinds=kinds)
    tau = true_effects(ex, spec["dynamic"], bool(kinds))
    rows = []
    for r in range(reps):
        df = simulate(units, ex, tau, seed=spec["seed"] * 1000 + r)
        truth = truths(ex, tau, df)
        runs = [("cs", "cluster", {}), ("cs", "wild", {"draws": draws, "seed": r}), ("imputation", "cluster", {})]
        for est, inf, kw in runs:
            t0 = time.perf_counter()
            fit = rad.band_did(df, "y_synthetic", ex, estimator=est, inference=inf, **kw)
            sec = time.perf_counter() - t0
            for row in fit.table.itertuples():
                if row.band in truth and np.isfinite(row.estimate):
                    tr = truth[row.band]
                    rows.append({"design": name, "estimator": est, "inference": inf, "group": row.band, "rep": r,
                                 "truth": tr, "estimate": row.estimate, "cover": row.ci_lower <= tr <= row.ci_upper,
                                 "seconds": sec})
        print(f"{name} rep {r + 1}/{reps}", file=log, flush=True)
    return pd.DataFrame(rows)


def pretrend_size(name, reps, units, draws):
    """Shares of replications in which the cs event study's pre-trend test (all placebo effects e = -5..-2 of
    every group = 0: clustered Wald/q against F(q, G-1), and its wild cluster bootstrap p with ``draws`` Webb
    draws) rejects at 5 % -- the null holds in these designs."""
    from geo import radiation as rad

    spec = DESIGNS[name]
    ex = rad.exposure(units, years=YEARS, zones=make_zones(units, spec["n_zones"], spec["seed"]), bands=BANDS)
    tau = true_effects(ex, spec["dynamic"], False)
    rej = []
    for r in range(reps):
        df = simulate(units, ex, tau, seed=spec["seed"] * 1000 + r)
        ev = rad.event_study(df, "y_synthetic", ex, estimator="cs", window=(5, 5), draws=draws, seed=r)
        row = ev.pretrend.set_index("band").loc["all"]
        rej.append((float(row["p"] < 0.05), float(row["p_wild"] < 0.05)))
    return np.mean(rej, axis=0)


def timing(units, reps=5):
    """Median seconds per fit on the static design (337 units x 24 years, 15 zones): geo cs with rings (cells
    and the simple aggregation; the design is built once) against diff-diff's CallawaySantAnna (reg, not-yet
    treated, no bootstrap) on the same panel with every exposure collapsed into one treatment (it has no rings);
    both in this process, so the ratio is what to read."""
    import warnings

    from diff_diff import CallawaySantAnna

    from geo import radiation as rad
    from geo.radiation.design import design

    spec = DESIGNS["static"]
    ex = rad.exposure(units, years=YEARS, zones=make_zones(units, spec["n_zones"], spec["seed"]), bands=BANDS)
    df = simulate(units, ex, true_effects(ex, False, False), seed=1)
    d = design(df, "y_synthetic", ex)
    q = d.df[[d.id, d.time, d.y]].copy()
    q["first_treat"] = d.df["first"].fillna(0).astype(int)
    out = {"geo cs (4 groups)": [], "diff-diff CallawaySantAnna (1 group)": []}
    for _ in range(reps):
        t0 = time.perf_counter()
        rad.cs.fit(d)
        out["geo cs (4 groups)"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            CallawaySantAnna(control_group="not_yet_treated", estimation_method="reg").fit(
                q, outcome=d.y, unit=d.id, time=d.time, first_treat="first_treat")
        out["diff-diff CallawaySantAnna (1 group)"].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in out.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--wild-draws", type=int, default=199)
    ap.add_argument("--designs", default="five,overlapping,static,dynamic")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mc_radiation_cs"))
    ap.add_argument("--timing-only", action="store_true", help="only time one fit against diff-diff")
    ap.add_argument("--pretrend-only", action="store_true", help="only the size of the cs pre-trend test")
    a = ap.parse_args(argv)
    from geo.boundaries import china

    units = china()
    if a.pretrend_only:
        out = Path(a.out).with_name(Path(a.out).name + "_pretrend").with_suffix(".md")
        lines = [f"SYNTHETIC; {a.reps} replications per design; null true (no anticipation, parallel trends); "
                 f"wild: {a.wild_draws} Webb draws", "",
                 "| design | cs pre-trend test rejects at 5 %: analytic F | wild bootstrap |", "| --- | ---: | ---: |"]
        for name in a.designs.split(","):
            f_rej, w_rej = pretrend_size(name.strip(), a.reps, units, a.wild_draws)
            lines.append(f"| {name} | {f_rej:.2f} | {w_rej:.2f} |")
        out.write_text("\n".join(lines) + "\n")
        print(out.read_text())
        return
    if a.timing_only:
        tm = timing(units)
        out = Path(a.out).with_name(Path(a.out).name + "_timing").with_suffix(".md")
        lines = ["| one fit, static design, 337 x 24, median of 5, same process | seconds |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.3f} |" for k, v in tm.items()]
        out.write_text("\n".join(lines) + "\n")
        print(out.read_text())
        return
    res = []
    for name in a.designs.split(","):
        res.append(run(name.strip(), a.reps, a.wild_draws, units, sys.stderr))
        write(a.out, pd.concat(res), a.reps, a.wild_draws)
    print(Path(a.out).with_suffix(".md").read_text())


def write(out, res, reps, draws):
    out = Path(out)
    summ = summarise(res)
    out.with_suffix(".json").write_text(json.dumps(
        {"synthetic_data": True, "reps": reps, "wild_draws": draws, "summary": summ.to_dict("records")},
        indent=1, default=float))
    lines = [f"SYNTHETIC outcomes on the real units; reps per design: {reps}; wild bootstrap draws: {draws} (Webb)", "",
             "| design | estimator | inference | group | truth | bias | RMSE | MC sd | coverage | s/fit |",
             "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in summ.itertuples():
        lines.append(f"| {r.design} | {r.estimator} | {r.inference} | {r.group} | {r.truth:.4f} | {r.bias:+.4f} | "
                     f"{r.rmse:.4f} | {r.mc_sd:.4f} | {r.coverage:.2f} | {r.seconds:.2f} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
