"""Panel fixed-effects ML against R's spatialreg, run by the test on files it writes.

Debian has no ``splm``, so the panel models are posed to ``spatialreg`` as the
stacked cross-sections they are equivalent to, on the real China prefecture queen
graph (islands linked; N = 337) with T = 3 simulated periods:

* individual effects (direct approach): the individual-demeaned data with the
  block-diagonal I_T kron W (``lagsarlm(..., Durbin = TRUE)``) gives the same rho,
  beta, theta, sigma2, log-likelihood and standard errors (Elhorst 2014);
* two-way effects, direct approach (``bias_correction="none"``): the exact ML with
  the effects as parameters, i.e. ``lagsarlm``/``errorsarlm`` with ``factor(id) +
  factor(year)`` on the raw stacked data (only X lagged: ``Durbin = ~ x1 + x2``).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_durbin_panel import arrays, fit, simulate  # noqa: E402

pytestmark = [pytest.mark.peer, pytest.mark.usefixtures("one_blas_thread")]

ML_RTOL = 1e-5

R_SCRIPT = r"""
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(file.path(args[1], "stacked.csv"))
e <- read.csv(file.path(args[1], "edges.csv"))
n <- nrow(d)
nb <- split(e$to, factor(e$from, levels = seq_len(n)))
nb <- lapply(nb, function(v) sort(as.integer(v)))
attr(nb, "region.id") <- as.character(seq_len(n))
class(nb) <- "nb"
lw <- nb2listw(nb, style = "W")
# eigenvalues of I_T kron W are those of W repeated T times: computed once on the first block
nT <- as.integer(args[2])
nb1 <- nb[seq_len(n / nT)]
attr(nb1, "region.id") <- as.character(seq_len(n / nT))
class(nb1) <- "nb"
ev <- rep(eigenw(nb2listw(nb1, style = "W")), nT)
ctl <- list(pre_eig = ev)
out <- list()
fit_out <- function(f, spatial) {
  se <- f$rest.se
  names(se) <- sub("^I\\(x - lambda \\* WX\\)", "", names(se))  # errorsarlm's prefix
  list(coef = as.list(coef(f)), se = as.list(se), spatial = unname(f[[spatial]]),
       spatial_se = unname(f[[paste0(spatial, ".se")]]), s2 = f$s2, loglik = as.numeric(logLik(f)))
}
d$id <- factor(d$id); d$year <- factor(d$year)
f1 <- lagsarlm(yd ~ x1d + x2d, data = d, listw = lw, Durbin = TRUE, method = "eigen", control = ctl)
out$individual_sdm <- fit_out(f1, "rho")
f2 <- lagsarlm(y ~ x1 + x2 + id + year, data = d, listw = lw, Durbin = ~ x1 + x2, method = "eigen", control = ctl)
out$twoways_sdm <- fit_out(f2, "rho")
f3 <- errorsarlm(y ~ x1 + x2 + id + year, data = d, listw = lw, method = "eigen", control = ctl)
out$twoways_sem <- fit_out(f3, "lambda")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path(args[1], "out.json"))
"""


@pytest.fixture(scope="module")
def graph(china):
    from geo import weights

    return weights.build("queen", china)


@pytest.fixture(scope="module")
def r_results(graph, rscript, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("panel_r")
    frame = simulate(graph, T=3, seed=42)
    y, X = arrays(frame, graph)
    T, N = y.shape
    ids = np.asarray(graph.unique_ids)
    yd = y - y.mean(axis=0)
    Xd = X - X.mean(axis=0)
    pd.DataFrame(
        {
            "id": np.tile(ids, T),
            "year": np.repeat(np.arange(T), N),
            "y": y.ravel(),
            "x1": X[..., 0].ravel(),
            "x2": X[..., 1].ravel(),
            "yd": yd.ravel(),
            "x1d": Xd[..., 0].ravel(),
            "x2d": Xd[..., 1].ravel(),
        }
    ).to_csv(tmp / "stacked.csv", index=False, float_format="%.17g")
    W = graph.transform("b").sparse.tocoo()  # nb2listw(style = "W") row-standardises the binary links
    rows = [(t * N + i + 1, t * N + j + 1) for t in range(T) for i, j in zip(W.row, W.col)]
    pd.DataFrame(rows, columns=["from", "to"]).to_csv(tmp / "edges.csv", index=False)
    (tmp / "panel.R").write_text(R_SCRIPT)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run([rscript, str(tmp / "panel.R"), str(tmp), str(T)], check=True, capture_output=True, timeout=600,
                   env=env)
    return frame, json.loads((tmp / "out.json").read_text())


def _check(res, ref, names, *, se=False):
    np.testing.assert_allclose(res.spatial["estimate"], ref["spatial"], rtol=ML_RTOL)
    est = np.array([ref["coef"][k] for k in names])
    np.testing.assert_allclose(res.coefficients["estimate"].to_numpy(), est, rtol=ML_RTOL)
    np.testing.assert_allclose(res.sigma2, ref["s2"], rtol=ML_RTOL)
    np.testing.assert_allclose(res.loglik, ref["loglik"], rtol=ML_RTOL)
    if se:
        np.testing.assert_allclose(res.coefficients["se"].to_numpy(), [ref["se"][k] for k in names], rtol=ML_RTOL)
        np.testing.assert_allclose(res.spatial["se"], ref["spatial_se"], rtol=ML_RTOL)


def test_individual_effects_sdm_equals_lagsarlm_on_demeaned_stack(graph, r_results):
    frame, ref = r_results
    res = fit(frame, graph, model="sdm", effects="individual", bias_correction="none")
    _check(res, ref["individual_sdm"], ["x1d", "x2d", "lag.x1d", "lag.x2d"], se=True)
    # Lee-Yu changes only sigma2 (x T/(T-1)) with individual effects
    ly = fit(frame, graph, model="sdm", effects="individual", bias_correction="lee-yu")
    np.testing.assert_allclose(ly.rho, ref["individual_sdm"]["spatial"], rtol=ML_RTOL)
    np.testing.assert_allclose(ly.sigma2, ref["individual_sdm"]["s2"] * 3 / 2, rtol=ML_RTOL)


def test_two_way_direct_sdm_equals_lagsarlm_with_dummies(graph, r_results):
    frame, ref = r_results
    res = fit(frame, graph, model="sdm", effects="twoways", bias_correction="none")
    # standard errors too: the information with time effects profiled out equals R's with the dummies
    _check(res, ref["twoways_sdm"], ["x1", "x2", "lag.x1", "lag.x2"], se=True)


def test_two_way_direct_sem_equals_errorsarlm_with_dummies(graph, r_results):
    frame, ref = r_results
    res = fit(frame, graph, model="sem", effects="twoways", bias_correction="none")
    _check(res, ref["twoways_sem"], ["x1", "x2"], se=True)
