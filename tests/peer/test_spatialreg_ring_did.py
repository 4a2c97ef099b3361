"""The ring spatial DID against R's spatialreg, run by the test on files it writes.

Debian has no ``splm``; the two-way fixed-effects panel is posed to ``spatialreg`` as
the stacked cross-sections it is (Elhorst's direct approach): ``lagsarlm`` on the raw
stacked panel with unit and year dummies, W = I_T kron W_idw (the estimator's
``idw:1:300km`` weights on the 337 China units, passed as a weighted listw, style
"W" — a no-op on already row-standardised rows), and only the zone dummy lagged:
``Durbin = ~ E_host``.  That is ``ring_spatial_did(..., bias_correction="none")``
(the Lee-Yu default differs from it by the O(1/N) bias correction of the two-way
direct approach; the unbalanced ML path equals it on a balanced panel, also checked).

Compared: rho, b, g (``lag.E_host``), theta_k, their standard errors, and the LeSage-Pace impacts of the zone dummy and of each ring term
(spatialreg's ``impacts()`` with the exact eigenvalues of I_T kron W; R's impacts of
``E_host`` combine b and g as geo's do).  The outcome is SYNTHETIC.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.peer, pytest.mark.usefixtures("one_blas_thread")]

ML_RTOL = 1e-5
YEARS = list(range(2010, 2016))
RINGS = ("0-100 km", "100-200 km", "200-300 km")

R_SCRIPT = r"""
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(file.path(args[1], "stacked.csv"))
e <- read.csv(file.path(args[1], "edges.csv"))
nT <- as.integer(args[2]); N <- nrow(d) / nT
# the N x N weights (first block) for the eigenvalues; I_T kron W for the model
W1 <- matrix(0, N, N)
e1 <- e[e$from <= N, ]
W1[cbind(e1$from, e1$to)] <- e1$w
ev <- rep(Re(eigen(W1, only.values = TRUE)$values), nT)
n <- nrow(d)
nb <- split(e$to, factor(e$from, levels = seq_len(n)))
gl <- split(e$w, factor(e$from, levels = seq_len(n)))
o <- lapply(seq_len(n), function(i) order(nb[[i]]))
nb <- lapply(seq_len(n), function(i) as.integer(nb[[i]][o[[i]]]))
gl <- lapply(seq_len(n), function(i) gl[[i]][o[[i]]])
attr(nb, "region.id") <- as.character(seq_len(n)); class(nb) <- "nb"
lw <- nb2listw(nb, glist = gl, style = "W")
d$id <- factor(d$id); d$year <- factor(d$year)
f <- lagsarlm(y ~ E_host + E_0_100_km + E_100_200_km + E_200_300_km + id + year, data = d, listw = lw,
              Durbin = ~ E_host, method = "eigen", control = list(pre_eig = ev))
im <- impacts(f, evalues = ev)
keep <- c("E_host", "E_0_100_km", "E_100_200_km", "E_200_300_km")
idx <- match(keep, attr(im, "bnames"))
out <- list(rho = unname(f$rho), rho_se = unname(f$rho.se), coef = as.list(coef(f)), se = as.list(f$rest.se),
            s2 = f$s2, direct = im$direct[idx], indirect = im$indirect[idx], total = im$total[idx])
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path(args[1], "out.json"))
"""


@pytest.fixture(scope="module")
def case(china):
    """(SYNTHETIC long panel, exposure, W, ids, H, R): benchmarks/mc_spatial_did.py's process on the 337 units,
    6 years (2010-2015), 15 zones approved 2004-2016 (zone seed 5: 9 of them within the panel years)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import mc_spatial_did as mc

    w = mc.World(china, years=YEARS, zone_seed=5)
    df, _ = w.simulate(1)
    return df, w.ex, w.W, w.ids, w.H, w.R


@pytest.fixture(scope="module")
def r_out(case, rscript, tmp_path_factory):
    df, ex, W, ids, H, R = case
    tmp = tmp_path_factory.mktemp("ring_did_r")
    T, n = H.shape
    frame = pd.DataFrame({"id": np.tile(ids, T), "year": np.repeat(YEARS, n), "y": df["y_synthetic"].to_numpy(),
                          "E_host": H.ravel()})
    for k, lab in enumerate(RINGS):
        frame["E_" + lab.replace("-", "_").replace(" ", "_")] = R[k].ravel()
    frame.to_csv(tmp / "stacked.csv", index=False, float_format="%.17g")
    C = W.tocoo()
    edges = pd.DataFrame({"from": np.concatenate([C.row + t * n + 1 for t in range(T)]),
                          "to": np.concatenate([C.col + t * n + 1 for t in range(T)]),
                          "w": np.tile(C.data, T)})
    edges.to_csv(tmp / "edges.csv", index=False, float_format="%.17g")
    (tmp / "ring.R").write_text(R_SCRIPT)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run([rscript, str(tmp / "ring.R"), str(tmp), str(T)], check=True, capture_output=True, timeout=900,
                   env=env)
    return json.loads((tmp / "out.json").read_text())


NAMES = {"host": "E_host", "W host": "lag.E_host", "0-100 km": "E_0_100_km", "100-200 km": "E_100_200_km",
         "200-300 km": "E_200_300_km"}


def _check(fit, ref):
    c = fit.coefficients
    np.testing.assert_allclose(fit.rho, ref["rho"], rtol=ML_RTOL)
    np.testing.assert_allclose(c.at["rho", "se"], ref["rho_se"], rtol=ML_RTOL)
    ours = c.loc[list(NAMES), "estimate"].to_numpy(float)
    theirs = np.array([ref["coef"][v] for v in NAMES.values()])
    np.testing.assert_allclose(ours, theirs, rtol=ML_RTOL, atol=1e-8)
    return c


def test_ring_spatial_did_equals_lagsarlm_durbin_on_the_zone_dummy(case, r_out):
    from geo import radiation as rad
    from geo.boundaries import china

    df, ex, W, ids, H, R = case
    fit = rad.ring_spatial_did(df, "y_synthetic", ex, units=china(), bias_correction="none", draws=50, seed=1)
    c = _check(fit, r_out)
    # standard errors: geo's information with the effects swept out equals R's with the dummies
    np.testing.assert_allclose(c.loc[list(NAMES), "se"].to_numpy(float),
                               [r_out["se"][v] for v in NAMES.values()], rtol=ML_RTOL)
    # LeSage-Pace impacts of D (b and g together) and of each ring term (theta_k), exact traces on both sides
    imp = fit.impacts.estimates.loc[["host", *RINGS]]
    for kind in ("direct", "indirect", "total"):
        np.testing.assert_allclose(imp[kind].to_numpy(float), r_out[kind], rtol=ML_RTOL, atol=1e-8)


def test_unbalanced_ml_engine_on_the_balanced_panel_equals_lagsarlm(case, r_out):
    """The engine of balance='ml' (exact ML on observed cells) with the ring DID's regressors, no gap: R's fit."""
    from geo.durbin.missing import fit_missing
    from geo.radiation.spatial_rings import _col

    df, ex, W, ids, H, R = case

    T, n = H.shape
    frame = df.copy()
    frame["E_host"] = H.ravel()
    frame["W_host"] = np.asarray(W @ H.T).T.ravel()
    for k, lab in enumerate(RINGS):
        frame[_col(lab)] = R[k].ravel()
    regs = ["E_host", "W_host", *[_col(lab) for lab in RINGS]]
    res = fit_missing(frame, "y_synthetic", regs, weights=W, weight_ids=ids, id="adcode", time="year", model="sar",
                      draws=0)
    np.testing.assert_allclose(res.rho, r_out["rho"], rtol=ML_RTOL)
    ref = [r_out["coef"][v] for v in ("E_host", "lag.E_host", "E_0_100_km", "E_100_200_km", "E_200_300_km")]
    np.testing.assert_allclose(res.coefficients["estimate"].to_numpy(float), ref, rtol=ML_RTOL, atol=1e-8)
