"""Static panel SAR/SDM with fixed effects by exact ML on the observed cells of a panel with gaps (``balance="ml"``).

Model, period by period (N units ordered like the weights)::

    y_t = rho W y_t + X_t beta + W X_t theta + mu + alpha_t 1 + e_t,   e_t ~ N(0, s2 I)

so y_t ~ N(m_t, s2 C) with m_t = S^-1 (X_t beta + W X_t theta + mu + alpha_t 1),
S = I - rho W and C = S^-1 S^-T. When the outcome of some unit-periods is missing, the
likelihood of what is observed is that of the observed sub-vector y_{o,t} ~ N(m_{o,t},
s2 C_{oo,t}): the missing outcomes are integrated out exactly (no imputation). This is
valid when the outcomes are **missing at random** given the regressors and the effects,
and needs the **regressors observed in every unit-period** (they enter the mean of the
observed neighbours through S^-1 and W X).

The fixed effects are parameters (the direct approach, Elhorst 2014: unit dummies and
time dummies, one dropped with both); for a given rho, (beta, theta, mu, alpha) are
GLS with the precision C_oo^-1 and s2 = SSE / (number of observed cells) is concentrated
out; rho is found by the engine's maximiser. Periods without gaps reduce to the ordinary
within-period terms (C^-1 = S'S), so on a balanced panel the estimator equals the
static panel's ``bias_correction="none"`` fit exactly (checked in the tests). As that
estimator, s2 is not corrected for the incidental effects (O(1/T)).

Covariance of (rho, beta, theta): the inverse of the observed Hessian of the profile
log-likelihood (effects and s2 concentrated out), by Richardson-extrapolated
differences; this is the corresponding block of the inverse full observed information.

Cost: dense N x N algebra per rho (an LU of S and a Cholesky of C_oo per period with
gaps): N up to ``DENSE_MAX_N``. EM (e.g. LeSage & Pace 2004) would give the same
estimate; exact ML needs no convergence rule and gives the likelihood directly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.linalg as sla

from geo.durbin import panel as P
from geo.durbin.balance import balance_panel
from geo.durbin.cross import coef_frame
from geo.durbin.engine import check_design, invert, maximise, richardson_hessian
from geo.durbin.impacts import TraceEngine, lag_impacts
from geo.durbin.logdet import LogDet, make_logdet
from geo.durbin.results import DurbinResult
from geo.durbin.tests import z_record
from geo.errors import ModelError, SchemaError, check_choice

__all__ = ["fit_missing", "DENSE_MAX_N"]

DENSE_MAX_N = 2000


def _grid(data, y, x, id, time, ids):
    """(Y (T, N) with NaN for missing outcomes, X (T, N, K), periods), X required in every cell."""
    frame = data.reset_index() if (id not in data.columns or time not in data.columns) else data
    for c in [id, time, y, *x]:
        if c not in frame.columns:
            raise SchemaError(f"data has no column {c!r} (columns: {', '.join(map(str, frame.columns))})")
    sub = frame[[id, time, y, *x]].copy()
    sub[id] = P._match_ids(sub[id], ids)
    extra = pd.Index(sub[id].unique()).difference(ids)
    if len(extra):
        raise SchemaError(f"{id}={P._py(extra[0])!r} in the data is not a unit of the weights ({len(extra)} such ids)")
    if sub.duplicated([id, time]).any():
        row = sub[sub.duplicated([id, time])].iloc[0]
        raise SchemaError(f"data has more than one row for {id}={P._py(row[id])!r}, {time}={P._py(row[time])!r}")
    for c in [y, *x]:
        sub[c] = pd.to_numeric(sub[c], errors="coerce")
    periods = pd.Index(np.sort(sub[time].unique()))
    wide = sub.set_index([time, id]).reindex(pd.MultiIndex.from_product([periods, ids]))
    T, N = len(periods), len(ids)
    Xa = wide[list(x)].to_numpy(dtype=float).reshape(T, N, len(x))
    bad = ~np.isfinite(Xa)
    if bad.any():
        t, i, k = map(int, np.argwhere(bad)[0])
        raise SchemaError(
            f"balance='ml' integrates out missing outcomes but needs every regressor in every unit-period: "
            f"{x[k]!r} is missing for {id}={P._py(ids[i])!r}, {time}={P._py(periods[t])!r} "
            f"({int(bad.any(axis=2).sum())} such unit-periods); use balance='drop' or complete the regressors"
        )
    Ya = wide[y].to_numpy(dtype=float).reshape(T, N).copy()
    Ya[~np.isfinite(Ya)] = np.nan
    return Ya, Xa, periods


class _Assembler:
    """GLS normal equations of the observed cells at a given rho (cached per rho)."""

    def __init__(self, Y, Z, W, individual, time):
        self.Y, self.Z, self.W = Y, Z, W.toarray()
        self.T, self.N, self.K = Z.shape
        self.individual, self.time = individual, time
        self.obs = np.isfinite(Y)
        self.n_obs = int(self.obs.sum())
        self._cache = {}
        # time dummies: all T without unit effects, T - 1 (first dropped) with them
        self.t_cols = list(range(1, self.T)) if individual else list(range(self.T))
        self.n_cols = self.K + (self.N if individual else 0) + len(self.t_cols)

    def _design(self, t):
        """D_t: (N, n_cols) = [Z_t, I_N (unit dummies), 1 in column of period t]."""
        parts = [self.Z[t]]
        if self.individual:
            parts.append(np.eye(self.N))
        td = np.zeros((self.N, len(self.t_cols)))
        if t in self.t_cols:
            td[:, self.t_cols.index(t)] = 1.0
        parts.append(td)
        return np.hstack(parts)

    def __call__(self, rho):
        if rho in self._cache:
            return self._cache[rho]
        N = self.N
        S = np.eye(N) - rho * self.W
        lu = sla.lu_factor(S)
        S_inv = sla.lu_solve(lu, np.eye(N))
        C = S_inv @ S_inv.T
        A = np.zeros((self.n_cols, self.n_cols))
        b = np.zeros(self.n_cols)
        c = 0.0
        half_logdet_c = 0.0  # sum over periods of 1/2 log|C_oo|
        logdet_s = float(np.sum(np.log(np.abs(np.diag(lu[0])))))
        for t in range(self.T):
            o = self.obs[t]
            D = self._design(t)
            if o.all():  # C^-1 = S'S: the ordinary terms
                A += D.T @ D
                Sy = S @ self.Y[t]
                b += D.T @ Sy
                c += float(Sy @ Sy)
                half_logdet_c -= logdet_s
                continue
            if not o.any():
                continue
            R = (S_inv @ D)[o]
            L = sla.cho_factor(C[np.ix_(o, o)], lower=True)
            PR = sla.cho_solve(L, R)
            yo = self.Y[t, o]
            Py = sla.cho_solve(L, yo)
            A += R.T @ PR
            b += R.T @ Py
            c += float(yo @ Py)
            half_logdet_c += float(np.sum(np.log(np.diag(L[0]))))
        out = (A, b, c, half_logdet_c)
        self._cache[rho] = out
        return out

    def loglik(self, rho, delta=None):
        """Profile log-likelihood at rho (delta = the K coefficients fixed, or concentrated when None)."""
        A, b, c, hl = self(rho)
        K = self.K
        try:
            if delta is None:
                g = sla.solve(A, b, assume_a="pos")
                sse = c - b @ g
            else:
                Aee, be = A[K:, K:], b[K:] - A[K:, :K] @ delta
                e = sla.solve(Aee, be, assume_a="pos") if Aee.size else np.zeros(0)
                g = np.concatenate([delta, e])
                sse = c - 2 * b @ g + g @ A @ g
        except (np.linalg.LinAlgError, sla.LinAlgError) as exc:
            raise ModelError(f"the effects are not identified on the observed cells: {exc}") from exc
        n = self.n_obs
        return -0.5 * n * (math.log(2 * math.pi * sse / n) + 1.0) - hl, g, sse


def fit_missing(
    data: pd.DataFrame,
    y: str,
    x,
    *,
    weights,
    id: str,
    time: str,
    model: str = "sdm",
    effects: str = "twoways",
    logdet="auto",
    draws: int = 1000,
    seed=None,
    weight_ids=None,
    names=None,
) -> DurbinResult:
    """Fit the static SAR/SDM panel on a panel with missing outcomes by exact ML (module docstring)."""
    check_choice("model", model, ("sdm", "sar"))
    check_choice("effects", effects, P.EFFECTS)
    id = P._id_column(data, id, time)
    x_names = P._as_names(x)
    W, ids = P._weights_and_ids(weights, weight_ids)
    N = len(ids)
    if N > DENSE_MAX_N:
        raise ModelError(f"balance='ml' uses dense N x N algebra; N = {N} exceeds {DENSE_MAX_N}: use balance='drop'")
    frame = data.reset_index() if (id not in data.columns or time not in data.columns) else data
    _, report = balance_panel(frame.assign(**{id: P._match_ids(frame[id], ids)}), id=id, time=time,
                              columns=[str(y), *x_names], units=ids, names=names, policy="ml")
    Y, X, periods = _grid(data, str(y), x_names, id, time, ids)
    T = len(periods)
    never = np.flatnonzero(~np.isfinite(Y).any(axis=0))
    if len(never) and effects in ("individual", "twoways"):
        raise ModelError(
            f"unit {P._py(ids[never[0]])!r} has no observed {y!r} in any period ({len(never)} such units): its fixed "
            "effect is not identified; drop it from the data and the weights (balance='drop')"
        )
    durbin = model == "sdm"
    Z = np.concatenate([X, P._lag(W, X)], axis=2) if durbin else X
    coef_names = list(x_names) + ([f"W_{v}" for v in x_names] if durbin else [])
    individual, timefx = effects in ("individual", "twoways"), effects in ("time", "twoways")
    scheme = P._Scheme(individual, timefx, False)
    obs = np.isfinite(Y)
    Zs = P._sweep(Z, scheme).reshape(T * N, -1)[obs.ravel()]
    check_design(Zs, coef_names, scale_before=np.sqrt((Z.reshape(T * N, -1)[obs.ravel()] ** 2).sum(axis=0)),
                 context=f"after sweeping out the {effects} effects")
    ld = logdet if isinstance(logdet, LogDet) else make_logdet(W, method=logdet)
    asm = _Assembler(Y, Z, W, individual, timefx)
    rho = maximise(lambda r: asm.loglik(r)[0], ld.lower, ld.upper, "rho")
    ll, g, sse = asm.loglik(rho)
    K = Z.shape[2]
    delta = g[:K]
    s2 = sse / asm.n_obs
    p0 = np.concatenate([[rho], delta])
    f = lambda p: asm.loglik(p[0], p[1:])[0]  # noqa: E731
    se0 = np.sqrt(np.maximum(np.diag(invert(asm(rho)[0], "the GLS normal matrix"))[:K] * s2, 1e-300))
    steps = np.concatenate([[1e-4], 0.05 * se0])
    V = invert(-richardson_hessian(f, p0, steps), "the observed Hessian of the profile log-likelihood")
    se = np.sqrt(np.diag(V))
    kx = len(x_names)
    sel = [0] + list(range(1, 1 + kx)) + (list(range(1 + kx, 1 + 2 * kx)) if durbin else [])
    imp = lag_impacts(names=x_names, rho=rho, beta=delta[:kx], theta=delta[kx:] if durbin else None,
                      cov=V[np.ix_(sel, sel)], engine=TraceEngine(W, ld if ld.eigenvalues is not None else None),
                      lower=ld.lower, upper=ld.upper, draws=int(draws), seed=seed, order=0)
    missing = int((~obs).sum())
    notes = [
        f"balance='ml': {missing} of {T * N} unit-periods have no outcome; exact ML on the {asm.n_obs} observed "
        "cells with the missing outcomes integrated out (missing at random assumed; regressors observed everywhere)",
        f"fixed effects ({effects}) as parameters (direct approach, as bias_correction='none'); sigma2 = SSE / "
        "observed cells",
        "covariance: observed Hessian of the profile log-likelihood by Richardson differences",
    ]
    index = pd.MultiIndex.from_product([periods, ids], names=[time, id]).swaplevel()
    fitted = pd.Series(np.full(T * N, np.nan), index=index, name="fitted")
    vnames = ["rho"] + coef_names
    return DurbinResult(
        model=model,
        effects=effects,
        n=N,
        t=T,
        y_name=str(y),
        coefficients=coef_frame(coef_names, delta, se[1:]),
        spatial_name="rho",
        spatial=z_record(rho, se[0]),
        sigma2=float(s2),
        loglik=float(ll),
        aic=float(-2 * ll + 2 * (K + 2)),
        n_params=K + 2,
        logdet_method=ld.method,
        logdet_description=ld.description,
        covariance="observed Hessian of the profile log-likelihood (Richardson differences)",
        vcov=pd.DataFrame(V, index=vnames, columns=vnames),
        impacts=imp,
        tests={},
        fitted=fitted,
        residuals=pd.Series(np.full(T * N, np.nan), index=index, name="residual"),
        bias_correction="none",
        notes=tuple(notes) + ("fitted values and residuals are not defined cell by cell here (NaN)",),
        extra={"balance": report.to_json(), "n_obs_effective": asm.n_obs, "periods": [P._py(p) for p in periods]},
    )

