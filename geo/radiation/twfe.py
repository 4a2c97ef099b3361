"""Two-way fixed effects band-DID and event study (the classic estimator).

    y_it = a_i + g_t + sum_l delta_l D_l,it + X_it b + e_it

with D the treatment columns of the :class:`~geo.radiation.design.Design`
(host x post and ring x post; time-varying with an Exposure).  Exact FWL on
the sparse fixed effects (:mod:`geo.radiation._fe`), clustered by unit with
Stata's factor G/(G-1)·(N-1)/(N-K) (``xtreg, fe vce(cluster)`` / ``reghdfe``):
K counts the regressors and the year effects with the constant; the unit
effects are nested in the clusters and not counted.

Caveat (stated in every result): with staggered adoption and effects that
change over time, TWFE averages 2x2 comparisons that use already-treated units
as controls, with possibly negative weights (Goodman-Bacon 2021; de
Chaisemartin & D'Haultfoeuille 2020): biased under dynamic effects.  Prefer
the imputation estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import ModelError
from geo.radiation._fe import Projector
from geo.radiation.design import entry_labels
from geo.radiation.inference import LinearFit

__all__ = ["TEXT", "fit_fe_ols", "fit", "event_columns"]

TEXT = (
    "two-way fixed effects (unit and year) OLS of y on the host and ring exposure indicators (and controls), "
    "exact FWL on sparse fixed effects; the classic estimator, BIASED under dynamic or heterogeneous effects with "
    "staggered timing (Goodman-Bacon 2021): compare with the imputation estimator"
)


def fit_fe_ols(df, y, cols, codes, cluster, n_second: int, *, convention: str | None = None):
    """OLS of df[y] on df[cols] with the fixed effects of ``codes`` (list of integer arrays).

    Columns absorbed by the fixed effects (or collinear) are dropped.  Returns (LinearFit, kept columns).
    """
    X = df[list(cols)].to_numpy(dtype=float)
    yv = df[y].to_numpy(dtype=float)
    proj = Projector(codes)
    Xt = proj(X)
    yt = proj(yv)
    norms = np.linalg.norm(X, axis=0)
    keep = np.linalg.norm(Xt, axis=0) > 1e-9 * np.maximum(norms, 1.0)
    # drop exactly collinear columns (pivoted QR)
    if keep.any():
        from scipy.linalg import qr

        idx = np.flatnonzero(keep)
        _, R, piv = qr(Xt[:, idx], mode="economic", pivoting=True)
        diag = np.abs(np.diag(R))
        rank = int((diag > 1e-10 * diag.max()).sum()) if len(diag) else 0
        good = np.sort(idx[piv[:rank]])
        keep = np.zeros_like(keep)
        keep[good] = True
    kept = [c for c, k in zip(cols, keep) if k]
    if not kept:
        raise ModelError("every treatment column is absorbed by the fixed effects; nothing to estimate")
    Xt = Xt[:, keep]
    B = Xt.T @ Xt
    A = np.linalg.solve(B, Xt.T)
    theta = A @ yv
    resid = yt - Xt @ theta
    N = len(yv)
    G = int(cluster.max()) + 1
    K = len(kept) + n_second
    factor = G / (G - 1) * (N - 1) / (N - K)
    conv = convention or "clustered by unit, factor G/(G-1)·(N-1)/(N-K) (Stata xtreg, fe vce(cluster)); t(G-1)"
    lf = LinearFit(
        names=tuple(kept), theta=theta, A=A, Xt=Xt, yt=yt, y=yv, resid=resid, cluster=cluster,
        Tt=proj, T=proj, factor=factor, convention=conv,
    )
    return lf, kept


def _codes(df, id, time):
    u = pd.factorize(df[id])[0]
    t = pd.factorize(df[time], sort=True)[0]
    return u, t


def fit(d):
    """The TWFE fit on a Design: (LinearFit, {label: column})."""
    df = d.df
    u, t = _codes(df, d.id, d.time)
    cols = list(d.cols.values()) + list(d.controls)
    lf, kept = fit_fe_ols(df, d.y, cols, [u, t], u, int(df[d.time].nunique()))
    return lf


def event_columns(d, pre: int, post: int):
    """Event-time columns: for each label, 1[label's exposure at t and t - first in k] for lags k = 0..post
    (binned at post) and 1[entry label = l and t - first = k] for leads k = -pre..-2 (binned at -pre)
    (entry label: the unit's group in its first exposed year).  Returns (df with columns, [(label, k, col)])."""
    df = d.df.copy()
    rel = (df[d.time] - df["first"]).to_numpy()
    relc = np.clip(rel, -pre, post)
    cols = list(d.cols.items())
    D = df[[c for _, c in cols]].to_numpy() != 0
    entry = df[d.id].map(entry_labels(d)).to_numpy(dtype=object)
    meta = []
    for j, (lab, c) in enumerate(cols):
        for k in range(-pre, post + 1):
            if k == -1:
                continue
            if k < 0:
                on = (entry == lab) & (relc == k) & ~np.isnan(rel)
            else:
                on = D[:, j] & (relc == k)
            name = f"{c}_r{k:+d}".replace("+", "p").replace("-", "m")
            col = on.astype(float)
            if col.any():
                df[name] = col
                meta.append((lab, k, name))
    return df, meta
