"""Callaway & Sant'Anna (2021) group-time effects per ring (``estimator="cs"``).

Cells.  For each group l (host or a ring), cohort g (the unit's first
exposure year, of any group) and year t, with the universal base year g - 1
(without covariates; with them see below):

    ATT(l, g, t) = mean_{i in T(l,g,t)} (y_it - y_i,g-1) - mean_{j in C(g,t)} (y_jt - y_j,g-1)

* treated T(l, g, t), t >= g: the units of cohort g that **hold group l in
  year t** (and have data in t and g - 1).  Pre-period cells (t < g - 1, the
  placebo ATTs of the event study) use the unit's entry group (its group in
  year g).
* controls C(g, t): ``control="notyet"`` (default) the units never exposed or
  first exposed after max(t, g - 1), cohort g itself excluded;
  ``control="never"`` the never-exposed units only (as R's ``did`` and
  diff-diff's ``CallawaySantAnna``).

Why cells by the group held in t.  With the time-varying ``nearest`` exposure
a unit that enters the 100-200 km ring may move to the 0-100 km ring when a
nearer zone opens.  Defining cells by the *entry* group (geo before 2026-11)
attributed its later 0-100 km years to the 100-200 km effect and biased it
towards the nearer ring (Monte Carlo in BENCHMARKS.md).  Here those years
count for 0-100 km, so each group's estimand is the average effect over the
unit-years spent in that group -- the estimand of the imputation estimator
and the truth of the Monte Carlo -- still compared with never/not-yet exposed
units from a pre-exposure base year.  Years in which a unit holds several
groups at once (several kinds of zone) are left out of every cell (noted).
Without moves (and one kind) the two definitions coincide.  ``count``
exposure (per-zone counts, not exclusive groups) is refused.

Aggregations, each a weighted mean of cells with weights proportional to the
cell's treated units n(l, g, t): ``simple`` (per group, the post cells t >= g:
the band table's row; equal to the mean effect over the group's exposed
unit-years), ``dynamic`` (per group and e = t - g, including placebo e <= -2;
e = -1 is the reference) and ``group`` (per group and cohort, its post cells).
On a balanced panel without moves these are R ``did::aggte``'s simple,
dynamic and group aggregations (weights n_g).

Variance.  Unit influence functions: the cells' (treated mean and control
mean) plus the weight influence function of the estimated aggregation
weights (R's ``wif``): for weights n_k / sum n, unit i adds
sum_{k: i in T_k} (ATT_k - theta) / sum n.  That term carries the dispersion
of the treated units' effects, so cohorts with a single treated unit still
count in the SE (without it they added nothing and the host interval covered
0.10 with 5 zones).  ``V = G/(G-1) Psi'Psi`` (clustered by unit, CR1), t with
G - 1 df.  Everything is linear in y for fixed cells, which the wild cluster
bootstrap uses (:func:`wild_parts`; the engine is in
:mod:`geo.radiation.inference`).

Why not diff-diff's ``CallawaySantAnna``: it has no rings (one treatment
timing per unit), no units moving between groups and no geo exposure; it is
the peer in ``tests/test_radiation_cs.py`` (equal to 1e-8 on host-only designs).

Covariates (``controls``): the outcome-regression version of CS (2021) /
Sant'Anna & Zhao (2020, ``DRDID::reg_did_panel``): in each cell dy is
regressed on an intercept and the covariates **in the base year g - 1** over
the controls, and ATT = mean over the treated of (dy - x'b); the controls'
influence is -x_i'(Xc'Xc)^-1 xbar_T (dy_i - x_i'b) (the estimation effect of
b included).  Without covariates this is the difference in means above (one
code path: X is the intercept).  Rank-deficient control designs use the
pseudo-inverse.  The doubly robust and IPW versions are not implemented.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import ModelError, OptionError, check_choice

__all__ = [
    "TEXT", "CONTROLS", "Cells", "CsFit", "cells", "fit", "aggregate", "weights", "simple_weights", "linear_parts",
    "wild_parts", "wild_wald",
]

CONTROLS = ("notyet", "never")

TEXT = (
    "Callaway & Sant'Anna (2021) ATT(g,t) per group (host or ring) held in year t, {control} controls, base year "
    "g-1{cov}; simple aggregation weighted by treated units; influence functions with the weight term (R did's "
    "wif), clustered by unit, G/(G-1), t(G-1)"
)


@dataclass(frozen=True, eq=False)
class Cells:
    """The K estimable cells as arrays over K cells x G units (see the module docstring)."""

    labels: tuple  # group labels (codes index this)
    units: np.ndarray  # G unit ids
    years: np.ndarray  # the panel's years (columns of Y)
    Y: np.ndarray = field(repr=False)  # G x nT outcomes, NaN where missing
    lab: np.ndarray = field(repr=False)  # K label codes
    g: np.ndarray = field(repr=False)  # K cohorts
    t: np.ndarray = field(repr=False)  # K years
    tcol: np.ndarray = field(repr=False)  # K column of t in Y
    bcol: np.ndarray = field(repr=False)  # K column of g-1 in Y
    T: np.ndarray = field(repr=False)  # K x G treated indicators (float)
    C: np.ndarray = field(repr=False)  # K x G control indicators (float)
    att: np.ndarray = field(repr=False)
    notes: tuple = ()
    X: np.ndarray = field(repr=False, default=None)  # K x G x q: [1, covariates in g-1]
    Q: np.ndarray = field(repr=False, default=None)  # K x q x G: (Xc'Xc)^+ Xc' (zero off the controls)
    H: np.ndarray = field(repr=False, default=None)  # K x G: xbar_T' Q, the controls' weights in ATT

    def _regression(self):
        """X, Q and H of the outcome regression on the controls (an intercept alone without covariates)."""
        X = self.X
        CX = self.C[:, :, None] * X
        XtX = np.einsum("kgq,kgr->kqr", CX, X)
        Q = np.einsum("kqr,kgr->kqg", np.linalg.pinv(XtX), CX)
        xbar = np.einsum("kg,kgq->kq", self.T, X) / self.n[:, None]
        object.__setattr__(self, "Q", Q)
        object.__setattr__(self, "H", np.einsum("kq,kqg->kg", xbar, Q))

    def resid(self, DY) -> np.ndarray:
        """K x G: dy minus the controls' regression prediction (for every unit; masked by T, C downstream)."""
        beta = np.einsum("kqg,kg->kq", self.Q, DY)
        return DY - np.einsum("kgq,kq->kg", self.X, beta)

    @property
    def n(self) -> np.ndarray:
        return self.T.sum(1)

    @property
    def n_c(self) -> np.ndarray:
        return self.C.sum(1)

    @property
    def post(self) -> np.ndarray:
        return self.t >= self.g

    def dy(self, Y=None) -> np.ndarray:
        """K x G differences y_t - y_{g-1} on the cells' treated and control units (0 elsewhere)."""
        Y = self.Y if Y is None else Y
        D = (Y[:, self.tcol] - Y[:, self.bcol]).T
        return np.where((self.T + self.C) > 0, D, 0.0)

    def att_of(self, DY) -> np.ndarray:
        return (self.T * self.resid(DY)).sum(1) / self.n

    def influence(self, DY) -> np.ndarray:
        """K x G influence of each unit on each cell's ATT: treated (r_i - ATT)/n_T, controls -h_i r_i (with r the
        residual of the controls' regression; without covariates h = 1/n_C and r = dy - mean_C dy)."""
        r = self.resid(DY)
        att = (self.T * r).sum(1, keepdims=True) / self.n[:, None]
        return self.T * (r - att) / self.n[:, None] - self.H * r

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"band": [self.labels[k] for k in self.lab], "cohort": self.g, "year": self.t,
                             "rel_time": self.t - self.g, "att": self.att, "n_treated": self.n.astype(int),
                             "n_control": self.n_c.astype(int)})


def _groups_held(d, units, years):
    """G x nT codes of the group held in each unit-year: -1 none (or no row), -2 several at once."""
    df = d.df
    cols = list(d.cols.values())
    D = df[cols].to_numpy() != 0
    k = D.sum(1)
    code = np.where(k == 0, -1, np.where(k > 1, -2, D.argmax(1)))
    out = np.full((len(units), len(years)), -1, dtype=int)
    ui = pd.Index(units).get_indexer(df[d.id])
    ti = pd.Index(years).get_indexer(df[d.time])
    out[ui, ti] = code
    return out


def cells(d, *, control: str = "notyet") -> Cells:
    """Every estimable (group, cohort, year) cell of the design ``d`` (vectorised over units)."""
    check_choice("control", control, CONTROLS)
    exp = d.exposure
    if exp is not None and exp.mode == "count":
        raise OptionError("estimator='cs' needs exclusive groups (exposure nearest or static); count exposure "
                          "measures zones per ring: use the imputation estimator")
    df = d.df
    wide = df.pivot(index=d.id, columns=d.time, values=d.y).sort_index(axis=1)
    units = wide.index.to_numpy()
    years = wide.columns.to_numpy(dtype=int)
    Y = wide.to_numpy(dtype=float)
    first = df.drop_duplicates(d.id).set_index(d.id)["first"].reindex(units).to_numpy(dtype=float)
    held = _groups_held(d, units, years)
    labels = tuple(d.cols)
    col = {int(y): j for j, y in enumerate(years)}
    obs = ~np.isnan(Y)
    never = np.isnan(first) | (first > years[-1])
    entry = np.full(len(units), -1)
    for i in np.flatnonzero(~np.isnan(first)):
        j = col.get(int(first[i]))
        if j is not None:
            entry[i] = held[i, j]
    rows = {"lab": [], "g": [], "t": [], "tcol": [], "bcol": [], "T": [], "C": []}
    several = int((held == -2).sum())
    for g in sorted({int(v) for v in first[~never]}):
        b = col.get(g - 1)
        if b is None:
            continue
        coh = first == g
        for t in years:
            t = int(t)
            if t == g - 1:
                continue
            j = col[t]
            both = obs[:, j] & obs[:, b]
            if control == "never":
                ctrl = never & both
            else:
                ctrl = (never | ((first > max(t, g - 1)) & ~coh)) & both
            if not ctrl.any():
                continue
            code = held[:, j] if t >= g else entry
            tr_all = coh & both
            for lab in np.unique(code[tr_all]):
                if lab < 0:
                    continue
                tr = tr_all & (code == lab)
                rows["lab"].append(lab)
                rows["g"].append(g)
                rows["t"].append(t)
                rows["tcol"].append(j)
                rows["bcol"].append(b)
                rows["T"].append(tr)
                rows["C"].append(ctrl)
    if not rows["lab"]:
        raise ModelError("no cohort has a base year and " + ("never" if control == "never" else "not-yet")
                         + "-exposed controls; nothing to estimate")
    bcol = np.array(rows["bcol"])
    X = np.ones((len(bcol), len(units), 1 + len(d.controls)))
    for m, ctl in enumerate(d.controls):
        Xw = df.pivot(index=d.id, columns=d.time, values=ctl).reindex(index=units, columns=years).to_numpy(float)
        X[:, :, 1 + m] = np.nan_to_num(Xw[:, bcol].T)  # the covariates in the base year g-1 (CS 2021)
    c = Cells(
        labels=labels, units=units, years=years, Y=Y, lab=np.array(rows["lab"]), g=np.array(rows["g"]),
        t=np.array(rows["t"]), tcol=np.array(rows["tcol"]), bcol=bcol,
        T=np.array(rows["T"], dtype=float), C=np.array(rows["C"], dtype=float), att=np.empty(0),
        notes=(f"cs: {several} unit-years exposed to several groups at once (several kinds) are left out of the "
               "cells",) if several else (), X=X,
    )
    c._regression()
    object.__setattr__(c, "att", c.att_of(c.dy()))
    return c


def aggregate(c: Cells, Omega: np.ndarray, DY=None):
    """(theta, Psi) for the aggregations whose rows of ``Omega`` (J x K) weight the cells in proportion to their
    treated units (rows sum to 1): theta = Omega att, Psi (J x G) = Omega psi + the weight influence function."""
    DY = c.dy() if DY is None else DY
    att = c.att_of(DY)
    theta = Omega @ att
    n = c.n
    W = Omega / n[None, :] * (att[None, :] - theta[:, None])
    return theta, Omega @ c.influence(DY) + W @ c.T


def weights(c: Cells, keys) -> tuple[list, np.ndarray]:
    """Rows of Omega for the cells grouped by ``keys`` (a length-K list; None leaves a cell out)."""
    order = []
    index = {}
    for k in keys:
        if k is not None and k not in index:
            index[k] = len(order)
            order.append(k)
    Om = np.zeros((len(order), len(keys)))
    n = c.n
    for k, key in enumerate(keys):
        if key is not None:
            Om[index[key], k] = n[k]
    return order, Om / Om.sum(1, keepdims=True)


@dataclass(frozen=True, eq=False)
class CsFit:
    """The cells and the three aggregations (estimates, unit influences, clustered covariances)."""

    cells: Cells = field(repr=False)
    control: str
    labels: tuple  # groups with a post cell, in the design's order
    est: np.ndarray = field(repr=False)
    psi: np.ndarray = field(repr=False)  # L x G
    factor: float = 1.0

    @property
    def G(self) -> int:
        return len(self.cells.units)

    @property
    def dof(self) -> int:
        return self.G - 1

    @property
    def cov(self) -> np.ndarray:
        return self.factor * (self.psi @ self.psi.T)

    @property
    def n_units(self) -> dict:
        """Treated units per group: units holding it in some post cell."""
        c = self.cells
        out = {}
        for j, lab in enumerate(self.labels):
            m = (c.lab == c.labels.index(lab)) & c.post
            out[lab] = int((c.T[m].sum(0) > 0).sum())
        return out

    @property
    def single(self) -> list:
        """(group, cohort) pairs whose post cells have a single treated unit."""
        c = self.cells
        m = c.post & (c.n == 1)
        return sorted({(c.labels[a], int(g)) for a, g in zip(c.lab[m], c.g[m])}, key=lambda x: (x[0], x[1]))

    def _frame(self, keys, name):
        c = self.cells
        order, Om = weights(c, keys)
        if not order:
            return pd.DataFrame(columns=["band", name, "estimate", "se", "n_units"])
        th, P = aggregate(c, Om)
        se = np.sqrt(self.factor * (P * P).sum(1))
        n = [int((c.T[Om[r] > 0].sum(0) > 0).sum()) for r in range(len(order))]
        return pd.DataFrame({"band": [o[0] for o in order], name: [o[1] for o in order], "estimate": th,
                             "se": se, "n_units": n})

    def dynamic(self) -> pd.DataFrame:
        """By group and e = t - g (placebo cells e <= -2 included; e = -1 is the reference): band, rel_time,
        estimate, se, n_units."""
        c = self.cells
        keys = [(c.labels[a], int(t - g)) for a, g, t in zip(c.lab, c.g, c.t)]
        return self._frame(keys, "rel_time").sort_values(["band", "rel_time"], kind="stable",
                                                         key=self._order).reset_index(drop=True)

    def group(self) -> pd.DataFrame:
        """By group and cohort (post cells): band, cohort, estimate, se, n_units."""
        c = self.cells
        keys = [(c.labels[a], int(g)) if p else None for a, g, p in zip(c.lab, c.g, c.post)]
        return self._frame(keys, "cohort").sort_values(["band", "cohort"], kind="stable",
                                                       key=self._order).reset_index(drop=True)

    def _order(self, s):
        if s.name != "band":
            return s
        pos = {lab: i for i, lab in enumerate(self.cells.labels)}
        return s.map(pos)


def fit(d, *, control: str = "notyet") -> CsFit:
    """Cells and the simple aggregation per group (the band table's rows)."""
    c = cells(d, control=control)
    keys = [c.labels[a] if p else None for a, p in zip(c.lab, c.post)]
    order, Om = weights(c, keys)
    if not order:
        raise ModelError("no exposed cohort has a post-exposure year with controls; nothing to estimate")
    pos = {lab: i for i, lab in enumerate(c.labels)}
    perm = np.argsort([pos[lab] for lab in order], kind="stable")
    order = [order[i] for i in perm]
    Om = Om[perm]
    est, P = aggregate(c, Om)
    G = len(c.units)
    return CsFit(cells=c, control=control, labels=tuple(order), est=est, psi=P, factor=G / (G - 1))


def simple_weights(f: CsFit) -> np.ndarray:
    """Omega (L x K) of the simple aggregation, rows in ``f.labels`` order."""
    c = f.cells
    keys = [c.labels[a] if p else None for a, p in zip(c.lab, c.post)]
    order, Om = weights(c, keys)
    return Om[[order.index(lab) for lab in f.labels]]


def linear_parts(c: Cells, om: np.ndarray, U: np.ndarray):
    """How the aggregate with cell weights ``om`` (K, proportional to n) and its unit influences move when unit h's
    outcomes shift by U[h] (G x nT wide, 0 where no data) times w_h: theta(y + U.w) = theta(y) + a.w and
    Psi(y + U.w) = Psi(y) + M w (cs is linear in y for fixed cells; derivation in docs/methods.md)."""
    n = c.n
    K, G, q = c.X.shape
    Tn = c.T / n[:, None]
    DU = c.dy(U)
    a = (om[:, None] * (Tn - c.H) * DU).sum(0)  # G
    s = (om[:, None] * Tn).sum(0)  # G
    # unit h's shift moves the controls' fit of unit g by X_kg . Q_k[:, h] DU_kh; through the cells' influence
    # this is L R (the treated-mean terms of the influence and of the weight term cancel)
    L = (om[:, None, None] * (c.H - Tn)[:, :, None] * c.X).transpose(1, 0, 2).reshape(G, K * q)
    R = (c.Q * DU[:, None, :]).reshape(K * q, G)
    return a, np.diag(a) + L @ R - np.outer(s, a)


def wild_parts(f: CsFit, j: int, U0: np.ndarray, U1: np.ndarray):
    """What the restricted wild cluster bootstrap needs for the simple aggregate j, with the restricted residuals
    u_r(v) = U0 + v U1 as the bootstrap's error term (y* = y - u_r + w_i u_r): theta*(w) = theta - a.1 + a.w
    and Psi*(w) = psi - M 1 + M w, linear in v through (a0, a1), (M0, M1)."""
    om = simple_weights(f)[j]
    a0, M0 = linear_parts(f.cells, om, U0)
    a1, M1 = linear_parts(f.cells, om, U1)
    return (a0, a1), (M0, M1)


def wild_wald(c: Cells, Omega: np.ndarray, U: np.ndarray, W: np.ndarray, factor: float) -> np.ndarray:
    """Bootstrap Wald statistics (B,) of H0: Omega att = 0 on y* = y - U + U.w for the weight draws W (G x B), U
    the residuals of a model in which H0 holds (G x nT, 0 where no data); the covariance is recomputed per
    draw from the influence functions (factor * Psi* Psi*')."""
    th0, P0 = aggregate(c, Omega, c.dy(c.Y - U))
    parts = [linear_parts(c, om, U) for om in Omega]
    A = np.array([p[0] for p in parts])  # q x G
    TH = th0[:, None] + A @ W  # q x B
    P = P0[:, :, None] + np.einsum("jgh,hb->jgb", np.array([p[1] for p in parts]), W)  # q x G x B
    Vs = factor * np.einsum("jgb,kgb->bjk", P, P)
    return np.einsum("jb,bjk,kb->b", TH, np.linalg.pinv(Vs), TH)
