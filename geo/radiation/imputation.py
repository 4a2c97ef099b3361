"""Imputation (two-stage) DID with rings: Borusyak, Jaravel & Spiess (2024), Gardner (2021), Butts (2023).

Stage 1: unit and year effects (and controls) are fitted by OLS on the
untreated *and unexposed* unit-years only (no hosting, no approved zone within
the last ring; the "never-yet-treated" rows):

    y_it = a_i + g_t + X_it b + e_it          (rows with every treatment column = 0)

Stage 2: on all rows, y~_it = y_it - a^_i - g^_t - X_it b^ is regressed on the
treatment columns; with the mutually exclusive 0/1 columns of ``nearest``
exposure each coefficient is the average of y~ over that group's exposed
unit-years, i.e. the average of the imputed effects tau^_it (BJS's estimator
with equal weights); with ``count`` exposure it is the per-zone effect.  The
same first stage serves aggregations by group x event time and by group x
cohort (first exposure year).

Variance: the two-stage GMM cluster-robust variance of Gardner (2021) (as in
R's did2s): influence of unit g = sum_i A_i e_i with first-stage residuals on
untreated rows and second-stage residuals on treated rows (see
:mod:`geo.radiation.inference`), times G/(G-1); t with G-1 df.  It accounts for
the estimation of the unit and year effects; it is not BJS's conservative
variance (which needs their auxiliary-model choice).

Pre-trends (BJS Test 1): on the untreated rows only, y on unit and year
effects, controls and lead indicators 1[t - first_i = k, entry group l] for
k = -pre..-1; the tests that the leads are zero are those of
:func:`geo.radiation.inference.pretrend_tests` (small-G F with the group's own
treated units as clusters, and by default the restricted wild cluster
bootstrap, which is then the reported p).  Using untreated rows only keeps the test from being
contaminated by the effects (BJS 2024, section 4.4).

Units exposed in their first year with data have no untreated year and are
dropped (listed); treated rows in a year without any untreated row cannot be
imputed and are dropped (noted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import ModelError
from geo.radiation._fe import FirstStage
from geo.radiation.design import entry_labels
from geo.radiation.inference import LinearFit
from geo.radiation.twfe import fit_fe_ols

__all__ = ["TEXT", "FirstStageFit", "first_stage", "fit", "second_stage", "event_columns", "pretrend"]

TEXT = (
    "imputation DID with rings (Borusyak, Jaravel & Spiess 2024; Gardner 2021; Butts 2023): unit and year "
    "effects (and controls) fitted on unexposed unit-years only, host and ring effects = averages of the imputed "
    "effects over exposed unit-years; two-stage GMM cluster-robust SEs (did2s) with G/(G-1), t(G-1)"
)


class FirstStageFit:
    """The rows kept, the first stage and y~ (see the module docstring)."""

    def __init__(self, d):
        df = d.df
        untreated = df["untreated"].to_numpy()
        years_ok = set(df.loc[untreated, d.time])
        keep = df[d.time].isin(years_ok).to_numpy()
        self.dropped_rows = int((~keep).sum())
        self.notes = []
        if self.dropped_rows:
            bad = sorted(set(df.loc[~keep, d.time]))
            self.notes.append(
                f"{self.dropped_rows} exposed unit-years in {bad[0]}-{bad[-1]} were dropped: no unexposed unit "
                "is left in those years to impute their counterfactual"
            )
        df = df[keep].reset_index(drop=True)
        self.df = df
        self.unit = pd.factorize(df[d.id])[0]
        self.year = pd.factorize(df[d.time], sort=True)[0]
        ctl = df[list(d.controls)].to_numpy(dtype=float) if d.controls else None
        self.fs = FirstStage(self.unit, self.year, ctl, df["untreated"].to_numpy())
        self.y = df[d.y].to_numpy(dtype=float)
        self.yt = self.y - self.fs.H(self.y)
        self.G = int(self.unit.max()) + 1


def first_stage(d) -> FirstStageFit:
    return FirstStageFit(d)


def second_stage(fs: FirstStageFit, X: np.ndarray, names) -> LinearFit:
    """Stage 2 of y~ on the columns X (zero on untreated rows) with its linear representation."""
    X = np.asarray(X, float)
    keep = np.abs(X).sum(axis=0) > 0
    X = X[:, keep]
    names = [n for n, k in zip(names, keep) if k]
    if not names:
        raise ModelError("no exposed unit-year can be imputed; nothing to estimate")
    B = X.T @ X
    Binv = np.linalg.pinv(B)
    theta = Binv @ (X.T @ fs.yt)
    M = X @ Binv  # n x k
    A = (M - fs.fs.Ht(M)).T
    resid = fs.yt - X @ theta
    G = fs.G
    return LinearFit(
        names=tuple(names), theta=theta, A=A, Xt=X, yt=fs.yt, y=fs.y, resid=resid, cluster=fs.unit,
        Tt=lambda Z: Z - fs.fs.Ht(Z), T=lambda Z: Z - fs.fs.H(Z), factor=G / (G - 1),
        convention="two-stage GMM cluster-robust (Gardner 2021 / did2s), clustered by unit, factor G/(G-1); t(G-1)",
    )


def fit(d):
    fs = first_stage(d)
    cols = list(d.cols.values())
    return second_stage(fs, fs.df[cols].to_numpy(float), cols), fs


def event_columns(fs: FirstStageFit, d, post: int):
    """(X, [(label, k)]) for the lags k = 0..post (binned at post) of each label."""
    df = fs.df
    rel = np.clip((df[d.time] - df["first"]).to_numpy(), None, post)
    cols, meta = [], []
    for lab, c in d.cols.items():
        D = df[c].to_numpy(float)
        for k in range(0, post + 1):
            x = D * (rel == k)
            if x.any():
                cols.append(x)
                meta.append((lab, k))
    return (np.column_stack(cols) if cols else np.zeros((len(df), 0))), meta


def cohort_columns(fs: FirstStageFit, d):
    df = fs.df
    cols, meta = [], []
    for lab, c in d.cols.items():
        D = df[c].to_numpy(float)
        for g in sorted(df.loc[D != 0, "first"].dropna().unique()):
            x = D * (df["first"].to_numpy() == g)
            cols.append(x)
            meta.append((lab, int(g)))
    return (np.column_stack(cols) if cols else np.zeros((len(df), 0))), meta


def pretrend(d, pre: int):
    """BJS test regression on untreated rows: (LinearFit, [(label, k)], {label: units with a lead row}) with
    leads k = -pre..-1 (the last: the number of treated clusters behind each group's leads)."""
    df = d.df
    unt = df[df["untreated"]].reset_index(drop=True)
    rel = (unt[d.time] - unt["first"]).to_numpy()
    ent = unt[d.id].map(entry_labels(d)).to_numpy(dtype=object)
    cols, meta = [], []
    for lab in d.cols:
        for k in range(-pre, 0):
            x = ((ent == lab) & (rel == k)).astype(float)
            if x.any():
                name = f"lead_{len(cols)}"
                unt[name] = x
                cols.append(name)
                meta.append((lab, k))
    if not cols:
        return None, [], {}
    u = pd.factorize(unt[d.id])[0]
    t = pd.factorize(unt[d.time], sort=True)[0]
    lf, kept = fit_fe_ols(unt, d.y, cols + list(d.controls), [u, t], u, int(unt[d.time].nunique()))
    meta = [m for m, c in zip(meta, cols) if c in kept]
    has_lead = unt[cols].to_numpy().any(axis=1) & (rel < 0)
    support = unt.loc[has_lead].assign(_e=ent[has_lead]).groupby("_e")[d.id].nunique().to_dict()
    return lf, meta, {lab: int(n) for lab, n in support.items()}
