"""Benchmark: cross-section spatial Durbin model with impacts, geo vs spreg vs R (same run).

    .venv/bin/python benchmarks/bench_durbin.py [--sizes 3080,50000] [--elect80] [--no-r] [--no-spreg]

Data: queen-contiguity lattices (row-standardised) with y simulated from an SDM
(rho = 0.4, two regressors); with ``--elect80`` also the real 1980 US county turnout data
(spData ``elect80``, N = 3,107, queen ``e80_queen`` with 3 islands), exported by Rscript:
log(turnout) ~ log(college) + log(homeownership) + log(income). For each data set:

* geo: ``geo.durbin.fit(model="sdm", draws=1000)`` - ML, covariance, LR/Wald tests of
  SDM vs SAR/SEM (two extra fits) and impacts with 1,000 simulation draws;
* spreg: ``spreg.ML_Lag(..., slx_lags=1, method="LU")`` with its default impacts
  (``spat_impacts="simple"``, point values only: spreg has no simulated inference);
  skipped above 10,000 units because its covariance step inverts I - rho W
  (``spinv``), which is dense (N^2 memory);
* R: ``lagsarlm(..., Durbin=TRUE, method="LU")`` + ``impacts(tr=trW(type="MC"), R=1000)``.

BLAS is pinned to one thread (the machine is shared; the comparison is per core).
Prints a Markdown table; the ratios go into BENCHMARKS.md ("Spatial Durbin models").
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

SPREG_MAX_N = 10_000


def lattice_queen(nrow, ncol):
    idx = np.arange(nrow * ncol).reshape(nrow, ncol)
    rows, cols = [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = idx[max(0, -dr) : nrow - max(0, dr), max(0, -dc) : ncol - max(0, dc)]
        b = idx[max(0, dr) : nrow + min(0, dr) or None, max(0, dc) : ncol + min(0, dc) or None]
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(nrow * ncol,) * 2)


def simulate(C, seed=0):
    n = C.shape[0]
    W = sp.csr_matrix(sp.diags(1.0 / np.asarray(C.sum(axis=1)).ravel()) @ C)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    mu = 1.0 + X @ [1.0, -0.5] + (W @ X) @ [0.5, 0.3]
    y = spla.spsolve(sp.csc_matrix(sp.identity(n) - 0.4 * W), mu + rng.normal(size=n))
    return W, pd.DataFrame({"y": y, "x1": X[:, 0], "x2": X[:, 1]})


R_ELECT80 = r"""
suppressPackageStartupMessages({library(spdep); library(spData)})
dir <- commandArgs(trailingOnly = TRUE)[1]
data(elect80, package = "spData"); a <- as.data.frame(elect80)
d <- data.frame(y = log(a$pc_turnout), x1 = log(a$pc_college), x2 = log(a$pc_homeownership), x3 = log(a$pc_income))
e <- do.call(rbind, lapply(seq_along(e80_queen), function(i)
  if (e80_queen[[i]][1] == 0) NULL else data.frame(from = i, to = e80_queen[[i]])))
write.csv(d, file.path(dir, "data.csv"), row.names = FALSE); write.csv(e, file.path(dir, "edges.csv"), row.names = FALSE)
"""


def load_elect80():
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "x.R").write_text(R_ELECT80)
        subprocess.run(["Rscript", str(Path(tmp) / "x.R"), tmp], check=True, capture_output=True)
        df = pd.read_csv(Path(tmp) / "data.csv")
        e = pd.read_csv(Path(tmp) / "edges.csv")
    n = len(df)
    C = sp.csr_matrix((np.ones(len(e)), (e["from"] - 1, e["to"] - 1)), shape=(n, n))
    rs = np.asarray(C.sum(axis=1)).ravel()
    W = sp.csr_matrix(sp.diags(np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)) @ C)
    return C, W, df


def _xs(df):
    return [c for c in df.columns if c != "y"]


def run_geo(W, df):
    import geo.durbin as gd

    t0 = time.perf_counter()
    res = gd.fit(df, "y", _xs(df), weights=W, model="sdm", draws=1000, seed=1)
    return time.perf_counter() - t0, res


def run_spreg(C, df):
    import libpysal
    import spreg

    w = libpysal.weights.WSP(sp.csr_matrix(C)).to_W(silence_warnings=True)
    w.transform = "r"
    y = df[["y"]].to_numpy()
    X = df[_xs(df)].to_numpy()
    t0 = time.perf_counter()
    m = spreg.ML_Lag(y, X, w=w, slx_lags=1, method="LU")
    return time.perf_counter() - t0, m


R_CODE = r"""
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(file.path(args[1], "data.csv")); e <- read.csv(file.path(args[1], "edges.csv")); n <- nrow(d)
nb <- lapply(split(e$to, factor(e$from, levels = seq_len(n))), function(v) if (length(v)) sort(as.integer(v)) else 0L)
attr(nb, "region.id") <- as.character(seq_len(n)); class(nb) <- "nb"
lw <- nb2listw(nb, style = "W", zero.policy = TRUE)
t0 <- proc.time()[["elapsed"]]
f <- lagsarlm(as.formula(paste("y ~", paste(setdiff(names(d), "y"), collapse = " + "))), data = d, listw = lw,
  Durbin = TRUE, method = "LU", zero.policy = TRUE)
tr <- trW(as(lw, "CsparseMatrix"), type = "MC")
set.seed(1)
im <- summary(impacts(f, tr = tr, R = 1000), zstats = TRUE)
el <- proc.time()[["elapsed"]] - t0
cat(toJSON(list(seconds = el, rho = unname(f$rho), coef = unname(f$coefficients), loglik = as.numeric(logLik(f))),
  digits = NA, auto_unbox = TRUE))
"""


def run_r(C, df, timeout):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        df.to_csv(tmp / "data.csv", index=False)
        coo = sp.coo_matrix(C)
        pd.DataFrame({"from": coo.row + 1, "to": coo.col + 1}).to_csv(tmp / "edges.csv", index=False)
        (tmp / "bench.R").write_text(R_CODE)
        try:
            proc = subprocess.run(["Rscript", str(tmp / "bench.R"), str(tmp)], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "note": f"timed out after {timeout} s"}
        if proc.returncode != 0:
            return {"seconds": None, "note": proc.stderr[-300:]}
        return json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="3080,50000")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-spreg", action="store_true")
    ap.add_argument("--r-timeout", type=int, default=900)
    ap.add_argument("--elect80", action="store_true", help="also the real elect80 counties (needs Rscript + spData)")
    args = ap.parse_args()
    rows = []
    cases = []
    if args.elect80:
        cases.append(("elect80", *load_elect80()))
    for n_target in [int(s) for s in args.sizes.split(",") if s]:
        nrow = int(round(np.sqrt(n_target)))
        ncol = int(round(n_target / nrow))
        C = lattice_queen(nrow, ncol)
        W, df = simulate(C)
        cases.append(("lattice", C, W, df))
    for label, C, W, df in cases:
        n = W.shape[0]
        t_geo, res = run_geo(W, df)
        line = {"data": label, "n": n, "geo_s": t_geo, "geo_logdet": res.logdet_method, "geo_rho": res.rho}
        if not args.no_spreg and n <= SPREG_MAX_N:
            t_sp, m = run_spreg(C, df)
            line.update(spreg_s=t_sp, spreg_rho=float(m.rho),
                        max_rel_diff_coef=float(np.max(np.abs(np.ravel(m.betas)[:-1] - res.params.to_numpy())
                                                       / np.abs(res.params.to_numpy()))))
        if not args.no_r:
            r = run_r(C, df, args.r_timeout)
            if r is not None:
                line.update(r_s=r.get("seconds"), r_rho=r.get("rho"), r_note=r.get("note"))
        rows.append(line)
        print(json.dumps(line), flush=True)
    print()
    print("| data | N | geo (s) | spreg ML_Lag slx_lags=1 LU (s) | spreg / geo | R lagsarlm LU + impacts (s) | R / geo | rho geo / spreg / R |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        sp_s = r.get("spreg_s")
        r_s = r.get("r_s")
        print(
            f"| {r['data']} | {r['n']:,} | {r['geo_s']:.2f} | {'%.2f' % sp_s if sp_s else 'not run (dense inverse)'} | "
            f"{'%.1fx' % (sp_s / r['geo_s']) if sp_s else '-'} | {'%.2f' % r_s if r_s else r.get('r_note', '-')} | "
            f"{'%.1fx' % (r_s / r['geo_s']) if r_s else '-'} | "
            f"{r['geo_rho']:.6f} / {r.get('spreg_rho', float('nan')):.6f} / {r.get('r_rho') or float('nan'):.6f} |"
        )


if __name__ == "__main__":
    main()
