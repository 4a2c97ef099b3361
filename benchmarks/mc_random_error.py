"""Monte Carlo of the random-effects spatial error panel (KKP form) on the real China prefecture graph.

Design (documented data-generating process; every outcome is synthetic):
W = row-standardised queen contiguity of the 337 embedded prefecture-level units
(``geo.weights.build("queen", geo.boundaries.load())``, islands linked to their nearest unit).
For t = 1..T:

    y_t = 1 + 2 x_t + u_t,   u_t = lambda W u_t + mu + v_t,   lambda = 0.5,

x_t ~ N(0, 1), mu ~ N(0, 0.7^2) (s2_mu = 0.49), v_t ~ N(0, 1) (s2 = 1), independent of x
(H0 of the Hausman test holds).

Reported per parameter: bias, RMSE and the coverage of the nominal 95 % interval (estimate +- 1.96 se);
for s2_mu and s2 bias and RMSE; the Hausman test's rejection rate at 5 %.

    nice -n 10 python benchmarks/mc_random_error.py --reps 100 --T 5 --out benchmarks/mc_random_error_results.md
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import pandas as pd

TRUE = {"lambda": 0.5, "(Intercept)": 1.0, "x": 2.0, "sigma2_mu": 0.49, "sigma2": 1.0}


def run(reps: int, T: int, *, seed: int = 20261127) -> dict:
    from geo import boundaries, weights
    from geo.durbin.random import fit_random

    g = weights.build("queen", boundaries.load())
    W = g.sparse.toarray()
    ids = list(g.unique_ids)
    N = W.shape[0]
    B_inv = np.linalg.inv(np.eye(N) - TRUE["lambda"] * W)
    recs, t0 = [], time.time()
    for r in range(reps):
        rng = np.random.default_rng(seed + r)
        mu = rng.normal(scale=math.sqrt(TRUE["sigma2_mu"]), size=N)
        frames = []
        for t in range(T):
            x = rng.normal(size=N)
            y = TRUE["(Intercept)"] + TRUE["x"] * x + B_inv @ (mu + rng.normal(size=N))
            frames.append(pd.DataFrame({"id": ids, "t": t, "y": y, "x": x}))
        res = fit_random(pd.concat(frames), "y", ["x"], weights=g, id="id", time="t", model="sem", draws=0)
        c = res.coefficients
        recs.append({
            "lambda": (res.lam, res.spatial["se"]),
            "(Intercept)": (c.loc["(Intercept)", "estimate"], c.loc["(Intercept)", "se"]),
            "x": (c.loc["x", "estimate"], c.loc["x", "se"]),
            "sigma2_mu": (res.extra["sigma2_mu"], None),
            "sigma2": (res.sigma2, None),
            "hausman_p": res.tests["hausman"]["p"],
        })
    out = {"design": {"N": N, "T": T, "reps": reps, "seed": seed, "truth": TRUE, "graph": "queen, China 337 units"},
           "seconds": time.time() - t0, "parameters": {}}
    for k, truth in TRUE.items():
        est = np.array([r[k][0] for r in recs])
        row = {"truth": truth, "mean": float(est.mean()), "bias": float(est.mean() - truth),
               "rmse": float(np.sqrt(np.mean((est - truth) ** 2))), "mc_se_of_mean": float(est.std(ddof=1) / math.sqrt(reps))}
        if recs[0][k][1] is not None:
            se = np.array([r[k][1] for r in recs])
            row["coverage95"] = float(np.mean(np.abs(est - truth) <= 1.96 * se))
            row["mean_se_over_sd"] = float(se.mean() / est.std(ddof=1))
        out["parameters"][k] = row
    out["hausman_rejection_5pct"] = float(np.mean([r["hausman_p"] < 0.05 for r in recs]))
    return out


def to_markdown(out: dict) -> str:
    d = out["design"]
    lines = [f"Random-effects spatial error panel (KKP), {d['graph']}, N = {d['N']}, T = {d['T']}, "
             f"{d['reps']} replications (seed {d['seed']}); synthetic outcomes.", "",
             "| parameter | truth | mean | bias | RMSE | coverage 95 % | mean SE / SD |", "|---|---|---|---|---|---|---|"]
    for k, r in out["parameters"].items():
        cov = f"{r['coverage95']:.3f}" if "coverage95" in r else ""
        ratio = f"{r['mean_se_over_sd']:.3f}" if "mean_se_over_sd" in r else ""
        lines.append(f"| {k} | {r['truth']:g} | {r['mean']:.4f} | {r['bias']:+.4f} | {r['rmse']:.4f} | {cov} | {ratio} |")
    lines += ["", f"Hausman test (H0 true) rejection rate at 5 %: {out['hausman_rejection_5pct']:.3f}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--T", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    out = run(a.reps, a.T, seed=a.seed)
    md = to_markdown(out)
    print(md)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(md)
        with open(a.out.rsplit(".", 1)[0] + ".json", "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
