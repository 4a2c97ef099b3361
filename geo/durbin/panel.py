"""Panel spatial Durbin, lag (SAR) and error (SEM) models with fixed effects, by maximum likelihood.

Model, for periods t = 1..T on N units ordered like the weights::

    SDM/SAR:  y_t = rho W y_t + X_t beta + W X_t theta + mu + alpha_t 1 + e_t
    SEM:      y_t = X_t beta + mu + alpha_t 1 + u_t,   u_t = lambda W u_t + e_t

with individual effects ``mu`` (``effects="individual"``), time effects ``alpha_t``
(``"time"``) or both (``"twoways"``), e_t ~ iid(0, sigma2).

Estimation follows Elhorst (2014, *Spatial Econometrics*, ch. 3): the fixed effects
are swept out by demeaning, ``beta`` and ``sigma2`` are concentrated out, and the
log-likelihood is maximised over the spatial parameter alone (Brent's method on the
admissible interval of the :class:`~geo.durbin.logdet.LogDet`).  The Jacobian is
``T * log|I_N - rho W|`` evaluated on the N x N sparse W (the NT x NT matrix
I_T kron W is never formed).

``bias_correction``:

``"none"``
    Elhorst's direct approach: the exact ML estimator with every individual and
    time effect as a parameter (demeaning is the profile over them).  Its
    sigma2 is inconsistent for fixed T, and with time effects rho and beta carry
    an O(1/N) bias (Lee & Yu 2010, Theorems 1-3).
``"lee-yu"`` (default)
    Lee & Yu's (2010) transformation approach: the individual effects are removed
    with the orthonormal T x (T-1) matrix F_{T,T-1} (the eigenvectors of the
    time-demeaning matrix J_T = I_T - 11'/T for eigenvalue 1), the time effects
    with F_{N,N-1} of J_N.  This is exact ML on N* x T* transformed observations
    (T* = T-1 with individual effects, N* = N-1 with time effects)::

        log L = -(N* T*/2) log(2 pi sigma2) + T* [log|I - rho W| - log(1 - rho c)]
                - (1/(2 sigma2)) sum_t e_t' J_N e_t

    (Lee & Yu 2010, sec. 3 and 4; the log(1 - rho c) term and J_N only with time
    effects).  Because F F' = J, the sums of squares are those of the demeaned
    data, so no F is ever built.  With individual effects only, rho and beta equal
    the direct approach's and sigma2 is T/(T-1) times it; with two-way effects rho,
    beta and sigma2 all change: this is the bias-corrected estimator Elhorst (2014,
    sec. 3.3) recommends, consistent when either N or T is large.  Eliminating time
    effects this way needs W 1 = c 1 (all rows summing to the same c, e.g. a
    row-standardised W without islands); other weights raise ModelError.

In the SEM the time effects are filtered with the errors, so (direct approach) they
are projected out along (I - lambda W) 1 in every period, which is plain demeaning
when W 1 = c 1 and exact ML with time dummies otherwise.

Asymptotic variance (expected information matrix):

- ``"none"``: Elhorst's (2014, sec. 3.2; Elhorst 2010, Handbook of Applied Spatial
  Analysis) formula for the demeaned model: blocks X~'X~/s2, X~'(I_T x G)X~b/s2,
  T tr(G^2 + G'G) + |(I_T x G)X~b|^2/s2, T tr(G)/s2, NT/(2 s2^2), with
  G = W (I - rho W)^-1 and X~ the demeaned regressors (the block-diagonal
  cross-section formula, so equal to spatialreg's on the stacked data).  With time
  effects (I_T x G)X~b is demeaned by period: that is the exact information of the
  ML with time dummies when W 1 = c 1 (it equals spatialreg's ``lagsarlm`` with
  ``factor(year)``); Elhorst's printed formula omits it, an O(1/N) difference.
- ``"lee-yu"``: Lee & Yu's (2010) information matrix of the transformed model: the
  same blocks with T* and N*, the quadratic terms re-demeaned by period (J_N) and
  the traces of J_N G: tr(G) - g, tr(G^2) - g^2, tr(G'J_N G), g = c/(1 - rho c).
- SEM: the same with H = W (I - lambda W)^-1, beta block (B X~)'(B X~)/s2 and no
  beta-lambda cross term (Anselin 1988).

The traces need G densely (O(N^3)); that is done up to ``DENSE_MAX_N`` units.
Beyond, the observed information (the analytic Hessian of the log-likelihood, whose
only non-data term tr(G^2) comes from the log-determinant's second derivative) is
used instead; the result's ``covariance`` says which.

Random effects are not offered: the spatial random-effects ML (Baltagi, Song & Koh
2003; Elhorst 2014, sec. 3.3.2) needs its own likelihood in (rho, phi, beta, sigma2)
and a reference to check it against (R's ``splm`` is not in Debian); it was left out
rather than shipped unchecked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
from scipy import stats

from geo._graph import ids_of, to_csr
from geo.durbin.balance import BalanceReport, balance_panel
from geo.durbin.cross import lag_hessian_cov, lag_ml
from geo.durbin.engine import check_design, check_outcome, invert, maximise
from geo.durbin.impacts import TraceEngine, lag_impacts, linear_impacts
from geo.durbin.logdet import LogDet, make_logdet
from geo.durbin.results import DurbinResult
from geo.durbin.tests import sdm_tests
from geo.errors import JoinError, ModelError, OptionError, SchemaError, check_choice

__all__ = ["fit_panel", "MODELS", "EFFECTS", "BIAS_CORRECTIONS", "COVARIANCES", "DENSE_MAX_N"]

MODELS = ("sdm", "sar", "sem")
EFFECTS = ("individual", "time", "twoways")
BIAS_CORRECTIONS = ("lee-yu", "none")
COVARIANCES = ("auto", "information", "hessian")
#: expected information (dense traces) up to this many units; observed information beyond
DENSE_MAX_N = 4000


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class _Panel:
    """Balanced panel arranged as arrays: y (T, N), X (T, N, K), in weights order."""

    y: np.ndarray
    X: np.ndarray
    ids: pd.Index
    periods: pd.Index
    y_name: str
    x_names: tuple[str, ...]

    @property
    def n(self) -> int:
        return self.y.shape[1]

    @property
    def t(self) -> int:
        return self.y.shape[0]


def _as_names(x) -> list[str]:
    if isinstance(x, str):
        return [x]
    names = list(x)
    if not names:
        raise OptionError("x must name at least one regressor column")
    return [str(v) for v in names]


def _weights_and_ids(weights, weight_ids):
    """(CSR array, pandas Index of unit ids in matrix order) from geo's Weights, a libpysal Graph or a
    sparse / dense matrix with ``weight_ids`` (the one conversion, :func:`geo._graph.to_csr`)."""
    ids = ids_of(weights) if hasattr(weights, "sparse") and not sp.issparse(weights) else None
    if ids is not None:
        if weight_ids is not None:
            raise OptionError("weight_ids is only for a sparse matrix; a Graph carries its own ids")
        return to_csr(weights, error=ModelError), ids
    if sp.issparse(weights) or isinstance(weights, np.ndarray):
        if weight_ids is None:
            raise OptionError("weights given as a matrix need weight_ids (the unit id of each row, in order)")
        M = to_csr(weights, error=ModelError)
        ids = pd.Index(list(weight_ids))
        if len(ids) != M.shape[0]:
            raise ModelError(f"weight_ids has {len(ids)} ids but the weights matrix is {M.shape[0]} x {M.shape[0]}")
        if ids.has_duplicates:
            raise ModelError(f"weight_ids has duplicates, e.g. {ids[ids.duplicated()][0]!r}")
        return M, ids
    raise OptionError(
        f"weights must be geo's Weights, a libpysal Graph or a scipy sparse matrix (with weight_ids), "
        f"got {type(weights).__name__}"
    )


def _py(v):
    """A numpy scalar as the plain Python value (for readable messages)."""
    return v.item() if hasattr(v, "item") else v


def _match_ids(values: pd.Series, ids: pd.Index) -> pd.Series:
    """Data ids compared with weights ids; numbers vs strings are reconciled via str."""
    if values.dtype == object and ids.dtype == object:
        return values
    if pd.Index(values.unique()).isin(ids).all():
        return values
    return values.astype(str)


def _arrange(data: pd.DataFrame, y: str, x: list[str], id: str, time: str, ids: pd.Index) -> _Panel:
    if not isinstance(data, pd.DataFrame):
        raise OptionError(f"data must be a pandas DataFrame in long form, got {type(data).__name__}")
    frame = data.reset_index() if (id not in data.columns or time not in data.columns) else data
    needed = [id, time, y, *x]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(f"data has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))})")
    if len(set(needed)) != len(needed):
        raise OptionError(f"the columns id, time, y and x must all differ, got {needed}")
    sub = frame[needed].copy()
    for col in [y, *x]:
        if not pd.api.types.is_numeric_dtype(sub[col]) or pd.api.types.is_bool_dtype(sub[col]):
            try:
                sub[col] = pd.to_numeric(sub[col])
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"column {col!r} is not numeric ({exc})") from None
        bad = ~np.isfinite(sub[col].to_numpy(dtype=float))
        if bad.any():
            row = sub.loc[bad].iloc[0]
            raise SchemaError(
                f"column {col!r} is missing or not finite for {id}={_py(row[id])!r}, {time}={_py(row[time])!r}: "
                "the panel must be balanced and complete"
            )
    if sub[id].isna().any() or sub[time].isna().any():
        raise SchemaError(f"columns {id!r} and {time!r} must not contain missing values")
    sub[id] = _match_ids(sub[id], ids)
    dup = sub.duplicated([id, time])
    if dup.any():
        row = sub.loc[dup].iloc[0]
        raise SchemaError(f"data has more than one row for {id}={_py(row[id])!r}, {time}={_py(row[time])!r}")
    data_ids = pd.Index(sub[id].unique())
    extra = data_ids[~data_ids.isin(ids)]
    if len(extra):
        raise JoinError(f"{id}={_py(extra[0])!r} in the data is not a unit of the weights ({len(extra)} such ids)")
    absent = ids[~ids.isin(data_ids)]
    if len(absent):
        raise SchemaError(
            f"unbalanced panel: weights unit {_py(absent[0])!r} has no rows in the data "
            f"({len(absent)} such units); balanced panels only"
        )
    periods = pd.Index(np.sort(sub[time].unique()))
    if len(periods) < 2:
        raise ModelError(f"a panel needs at least 2 periods in column {time!r}, got {len(periods)}")
    if len(sub) != len(ids) * len(periods):
        full = pd.MultiIndex.from_product([ids, periods])
        have = pd.MultiIndex.from_frame(sub[[id, time]])
        gap = full[~full.isin(have)]
        i0, t0 = gap[0]
        raise SchemaError(
            f"unbalanced panel: no row for {id}={_py(i0)!r}, {time}={_py(t0)!r} ({len(gap)} unit-periods missing); "
            "balanced panels only"
        )
    sub = sub.set_index([time, id]).sort_index()
    wide = sub.reindex(pd.MultiIndex.from_product([periods, ids]))
    T, N = len(periods), len(ids)
    yy = wide[y].to_numpy(dtype=float).reshape(T, N)
    XX = wide[x].to_numpy(dtype=float).reshape(T, N, len(x))
    return _Panel(yy, XX, ids, periods, y, tuple(x))


# ----------------------------------------------------------------------- algebra


@dataclass(frozen=True)
class _Scheme:
    """Which effects are swept out and how (direct demeaning or Lee-Yu transformation)."""

    individual: bool
    time: bool
    lee_yu: bool
    c: float = 1.0  # common row sum of W (Lee-Yu time elimination only)

    def t_eff(self, T: int) -> int:
        return T - 1 if (self.individual and self.lee_yu) else T

    def n_eff(self, N: int) -> int:
        return N - 1 if (self.time and self.lee_yu) else N

    @property
    def drop_unit_root(self) -> bool:
        """Lee-Yu time elimination removes W's eigenvalue c from the Jacobian."""
        return self.time and self.lee_yu


def _scheme(effects: str, correction: str, W: sp.csr_array) -> _Scheme:
    individual = effects in ("individual", "twoways")
    time = effects in ("time", "twoways")
    lee_yu = correction == "lee-yu"
    c = 1.0
    if time and lee_yu:
        rows = np.asarray(W.sum(axis=1)).ravel()
        c = float(np.mean(rows))
        off = np.abs(rows - c) > 1e-8 * max(1.0, abs(c))
        if off.any() or c <= 0:
            i = int(np.argmax(off)) if off.any() else 0
            raise ModelError(
                "bias_correction='lee-yu' with time effects needs weights whose rows all sum to the same "
                f"positive value (W 1 = c 1; e.g. row-standardised, no islands), but row {i} sums to {rows[i]:.6g} "
                f"and the mean is {c:.6g}; row-standardise the weights, link islands, or use bias_correction='none'"
            )
    return _Scheme(individual, time, lee_yu, c)


def _sweep(a: np.ndarray, scheme: _Scheme) -> np.ndarray:
    """Demean over time (individual effects) and/or over units (time effects); axis 0 = t, 1 = i."""
    out = a
    if scheme.individual:
        out = out - out.mean(axis=0, keepdims=True)
    if scheme.time:
        out = out - out.mean(axis=1, keepdims=True)
    return out


def _lag(W: sp.csr_array, a: np.ndarray) -> np.ndarray:
    """W applied to every period of a (T, N, ...) array."""
    T, N = a.shape[:2]
    flat = np.moveaxis(a, 1, 0).reshape(N, -1)
    out = np.asarray(W @ flat).reshape((N, T) + a.shape[2:])
    return np.moveaxis(out, 0, 1)


def _project_out(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Remove, period by period, the component of a (T, N, ...) along the N-vector z."""
    zz = float(z @ z)
    coef = np.tensordot(z, a, axes=([0], [1])) / zz  # shape (T, ...)
    return a - coef[:, None, ...] * z.reshape((1, -1) + (1,) * (a.ndim - 2))


def _check_swept(Z, Z_raw, names, effects, y, y_raw, y_name) -> None:
    """The shared design and outcome checks on swept data, naming what the fixed effects absorbed."""
    context = f"after sweeping out the {effects} effects"
    check_design(Z, names, scale_before=np.sqrt((Z_raw**2).sum(axis=0)), context=context)
    check_outcome(y, Z, y_name, scale_before=float(np.sqrt(y_raw @ y_raw)), context=context, x_names=names)


@dataclass(frozen=True)
class _Estimate:
    """The numbers of one fit, before they are dressed as the shared result."""

    model: str
    names: tuple[str, ...]  # coefficient names (beta then W_ theta), excluding rho/lambda
    coef: np.ndarray
    spatial: float  # rho (SDM/SAR) or lambda (SEM)
    sigma2: float
    vcov: np.ndarray | None  # over (coef..., spatial, sigma2)
    vcov_method: str
    loglik: float
    n_obs: int  # effective observations N* T*
    resid: np.ndarray  # (T, N) residuals of the swept model


def _jacobian(ld, scheme: _Scheme, T_eff: int):
    """rho -> T* [log|I - rho W| - log(1 - rho c)] (the last term with Lee-Yu time elimination)."""
    if scheme.drop_unit_root:
        c = scheme.c
        return lambda r: T_eff * (ld(r) - np.log1p(-r * c))
    return lambda r: T_eff * ld(r)


def _traces(W: sp.csr_array, rho: float, scheme: _Scheme):
    """(tr G*, tr G*^2, tr G*'G*, G) for G = W (I - rho W)^-1 (dense), G* = J_N G with Lee-Yu time effects."""
    N = W.shape[0]
    Wd = W.toarray()
    A = np.eye(N) - rho * Wd
    try:
        G = sla.solve(A, Wd, check_finite=False)
    except sla.LinAlgError as exc:
        raise ModelError(f"I - {rho:.6g} W is singular: {exc}") from exc
    tr1 = float(np.trace(G))
    tr2 = float(np.sum(G * G.T))
    trtt = float(np.sum(G * G))
    if scheme.drop_unit_root:
        g = scheme.c / (1.0 - rho * scheme.c)
        colsum = G.sum(axis=0)
        tr1 -= g
        tr2 -= g * g
        trtt -= float(colsum @ colsum) / N
    return tr1, tr2, trtt, G


def _apply_dense(G: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Dense N x N G applied to every period of a (T, N) array."""
    return a @ G.T


def _fit_lag(panel: _Panel, W, ld, scheme: _Scheme, durbin: bool, effects: str, vcov="auto") -> _Estimate:
    T, N = panel.t, panel.n
    T_eff, N_eff = scheme.t_eff(T), scheme.n_eff(N)
    n_obs = T_eff * N_eff
    X = panel.X
    names = list(panel.x_names)
    if durbin:
        X = np.concatenate([X, _lag(W, X)], axis=2)
        names += [f"W_{v}" for v in panel.x_names]
    Zt = _sweep(X, scheme)  # (T, N, K)
    yt = _sweep(panel.y, scheme)
    wyt = _sweep(_lag(W, panel.y), scheme)
    K = Zt.shape[2]
    Z = Zt.reshape(T * N, K)
    _check_swept(Z, X.reshape(T * N, K), names, effects, yt.ravel(), panel.y.ravel(), panel.y_name)
    jac = _jacobian(ld, scheme, T_eff)
    fit = lag_ml(yt.ravel(), Z, wyt.ravel(), jac, ld.lower, ld.upper, n_obs=n_obs)
    rho, coef, e, sigma2, loglik = fit["rho"], fit["beta"], fit["resid"], fit["sigma2"], fit["loglik"]

    xb = (Z @ coef).reshape(T, N)
    if not vcov:
        info, method = None, "not computed"
    elif _dense(vcov, N):
        tr1, tr2, trtt, G = _traces(W, rho, scheme)
        gxb = _apply_dense(G, xb)
        if scheme.time:  # the time effects' profile: G X~b demeaned by period (individual demeaning commutes)
            gxb = gxb - gxb.mean(axis=1, keepdims=True)
        gxb = gxb.ravel()
        info = np.zeros((K + 2, K + 2))
        info[:K, :K] = Z.T @ Z / sigma2
        info[:K, K] = info[K, :K] = Z.T @ gxb / sigma2
        info[K, K] = T_eff * (tr2 + trtt) + float(gxb @ gxb) / sigma2
        info[K, K + 1] = info[K + 1, K] = T_eff * tr1 / sigma2
        info[K + 1, K + 1] = n_obs / (2.0 * sigma2**2)
        method = "expected information: " + ("Lee & Yu (2010)" if scheme.lee_yu else "Elhorst (2014)")
    else:
        # observed information: -Hessian of the log-likelihood at the estimate (the cross-section's, on the
        # stacked swept data with the panel's Jacobian curvature and effective number of observations)
        d2 = T_eff * ld.second_derivative(rho)
        if scheme.drop_unit_root:
            d2 += T_eff * scheme.c**2 / (1.0 - rho * scheme.c) ** 2
        V = lag_hessian_cov(yt.ravel(), Z, wyt.ravel(), rho, coef, sigma2, d2, n_obs=n_obs, full=True)
        order = list(range(1, K + 1)) + [0, K + 1]  # (rho, beta, sigma2) -> (beta, rho, sigma2)
        info = None
        cov = V[np.ix_(order, order)]
        method = f"observed information (analytic Hessian, log-det curvature by {ld.method})"
    if info is not None:
        cov = invert(info, "the information matrix")
    elif not vcov:
        cov = None
    return _Estimate(
        "sdm" if durbin else "sar", tuple(names), coef, rho, sigma2, cov, method, float(loglik), n_obs,
        e.reshape(T, N),
    )


def _fit_error(panel: _Panel, W, ld, scheme: _Scheme, effects: str, vcov="auto") -> _Estimate:
    T, N = panel.t, panel.n
    T_eff, N_eff = scheme.t_eff(T), scheme.n_eff(N)
    n_obs = T_eff * N_eff
    names = list(panel.x_names)
    K = len(names)
    ind_only = _Scheme(scheme.individual, False, scheme.lee_yu)
    # individual sweeping commutes with I_T kron B; time effects are projected out after filtering
    yi = _sweep(panel.y, ind_only)
    Xi = _sweep(panel.X, ind_only)
    _check_swept(_sweep(Xi, scheme).reshape(T * N, K), panel.X.reshape(T * N, K), names, effects,
                 _sweep(panel.y, scheme).ravel(), panel.y.ravel(), panel.y_name)
    wyi = _lag(W, yi)
    wXi = _lag(W, Xi)
    rows = np.asarray(W.sum(axis=1)).ravel()
    jac = _jacobian(ld, scheme, T_eff)

    def filtered(lam):
        yf = yi - lam * wyi
        Xf = Xi - lam * wXi
        if scheme.time:
            z = 1.0 - lam * rows  # (I - lam W) 1: the span of the filtered time dummies
            yf = _project_out(yf, z)
            Xf = _project_out(Xf, z)
        return yf.ravel(), Xf.reshape(T * N, K)

    def gls(lam):
        yf, Xf = filtered(lam)
        beta, *_ = np.linalg.lstsq(Xf, yf, rcond=None)
        e = yf - Xf @ beta
        return beta, e, Xf

    def conc(lam):
        _, e, _ = gls(lam)
        return -0.5 * n_obs * np.log(float(e @ e)) + jac(lam)

    lam = maximise(conc, ld.lower, ld.upper, "lambda")
    beta, e, Xf = gls(lam)
    sigma2 = float(e @ e) / n_obs
    loglik = -0.5 * n_obs * (np.log(2.0 * np.pi) + 1.0 + np.log(sigma2)) + jac(lam)
    if not vcov:
        return _Estimate("sem", tuple(names), beta, lam, sigma2, None, "not computed", float(loglik), n_obs,
                         e.reshape(T, N))
    info = np.zeros((K + 2, K + 2))
    info[:K, :K] = Xf.T @ Xf / sigma2
    if _dense(vcov, N):
        tr1, tr2, trtt, _ = _traces(W, lam, scheme)
        info[K, K] = T_eff * (tr2 + trtt)
        info[K, K + 1] = info[K + 1, K] = T_eff * tr1 / sigma2
        method = "expected information: " + ("Lee & Yu (2010)" if scheme.lee_yu else "Elhorst (2014)")
    else:
        # observed information for (lambda, sigma2); beta block as above (its cross terms vanish in expectation)
        d2 = T_eff * ld.second_derivative(lam)
        if scheme.drop_unit_root:
            d2 += T_eff * scheme.c**2 / (1.0 - lam * scheme.c) ** 2
        h = 1e-5
        _, e_p, _ = gls(lam + h)
        _, e_m, _ = gls(lam - h)
        ss_pp = (float(e_p @ e_p) - 2.0 * float(e @ e) + float(e_m @ e_m)) / h**2
        ss_p = (float(e_p @ e_p) - float(e_m @ e_m)) / (2.0 * h)
        info[K, K] = -d2 + 0.5 * ss_pp / sigma2
        info[K, K + 1] = info[K + 1, K] = -0.5 * ss_p / sigma2**2
        method = f"observed information (log-det curvature by {ld.method})"
    info[K + 1, K + 1] = n_obs / (2.0 * sigma2**2)
    cov = invert(info, "the information matrix")
    return _Estimate("sem", tuple(names), beta, lam, sigma2, cov, method, float(loglik), n_obs, e.reshape(T, N))


def _dense(vcov, N: int) -> bool:
    """Expected information (dense traces) or observed information?"""
    if vcov == "information":
        return True
    if vcov == "hessian":
        return False
    return N <= DENSE_MAX_N


def _id_column(data, id, time):
    """The unit-id column: ``id``, or the other level of a (id, time) MultiIndex, or the index name."""
    if id is not None:
        return id
    if isinstance(data, pd.DataFrame):
        names = [n for n in data.index.names if n is not None and n != time]
        if len(names) == 1:
            return names[0]
    raise OptionError("a panel needs id= (the unit-id column) next to time=")


def _estimate(panel: _Panel, W, ld, model: str, scheme: _Scheme, effects: str, vcov="auto") -> _Estimate:
    """Fit one model; ``vcov`` = "auto" | "information" | "hessian" | False (skip the covariance)."""
    if model == "sem":
        return _fit_error(panel, W, ld, scheme, effects, vcov=vcov)
    return _fit_lag(panel, W, ld, scheme, durbin=model == "sdm", effects=effects, vcov=vcov)


# ------------------------------------------------------------------------ public


def fit_panel(
    data: pd.DataFrame,
    y: str,
    x,
    *,
    weights,
    id: str,
    time: str,
    model: str = "sdm",
    effects: str = "twoways",
    bias_correction: str = "lee-yu",
    logdet: str = "auto",
    draws: int = 1000,
    seed=None,
    weight_ids=None,
    covariance: str = "auto",
    impacts_order: int = 5,
    balance: str = "error",
    names=None,
):
    """Fit a panel SDM, SAR or SEM with fixed effects by maximum likelihood.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per unit and period, with columns ``id``, ``time``, ``y``
        and ``x`` (``id``/``time`` may also be index levels). Must be balanced:
        every unit of the weights in every period, no missing values.
    y, x : str, str or list of str
        Dependent variable and regressors (no constant: the fixed effects absorb it).
    weights : libpysal.graph.Graph or scipy sparse matrix
        N x N spatial weights, used as given (row-standardise beforehand if wanted).
        A Graph is ordered by ``graph.unique_ids``; a matrix needs ``weight_ids``.
    id, time : str
        Unit and period columns.
    model : {"sdm", "sar", "sem"}
    effects : {"individual", "time", "twoways"}
    bias_correction : {"lee-yu", "none"}
        ``lee-yu``: Lee & Yu's (2010) transformation approach (consistent sigma2,
        and rho/beta without the O(1/N) bias of the direct approach with time
        effects); ``none``: Elhorst's direct approach (exact ML with the effects as
        parameters). See the module docstring.
    logdet : {"auto", "eigen", "lu", "chebyshev", "mc"} or LogDet
        How log|I - rho W| is computed (:func:`geo.durbin.logdet.make_logdet`), or a
        ready :class:`~geo.durbin.logdet.LogDet` for these weights.
    draws : int
        Simulation draws for the impacts' inference (0 = point estimates only).
    seed : int or numpy.random.Generator, optional
        Seed of the impacts simulation.
    weight_ids : sequence, optional
        Unit ids of the rows of a sparse ``weights`` matrix, in order.
    balance : {"error", "drop"}
        An unbalanced panel (a unit without a complete row in some period) is an error
        naming the gaps (``error``), or the units not observed in every period are
        dropped (``drop``; the weights are restricted to the kept units and row-standardised
        again if they were) and listed in ``extra["balance"]`` and the notes.
    names : mapping, optional
        Unit id -> name, for the messages and the list of dropped units.
    covariance : {"auto", "information", "hessian"}
        ``information``: the expected information (Elhorst 2014 / Lee & Yu 2010
        formulas; dense N x N traces); ``hessian``: the observed information (analytic
        Hessian, log-det curvature from the log-determinant); ``auto``: information up
        to ``DENSE_MAX_N`` units, hessian beyond.

    Returns
    -------
    geo.durbin.results.DurbinResult
        With ``effects`` and ``t`` set; impacts (SDM/SAR) are LeSage-Pace
        direct/indirect/total of the N x N effects matrix, identical in every period
        (Elhorst 2014, sec. 3.4); ``tests`` (SDM) hold LR and Wald tests against SAR
        and SEM fitted on the same panel with the same effects.
    """
    check_choice("model", model, MODELS)
    if effects == "none":
        raise OptionError(
            "a panel (time=...) needs fixed effects: effects='individual', 'time' or 'twoways' "
            "(pooled panels without effects are not offered)"
        )
    check_choice("effects", effects, EFFECTS)
    check_choice("covariance", covariance, COVARIANCES)
    id = _id_column(data, id, time)
    check_choice("bias_correction", bias_correction, BIAS_CORRECTIONS)
    if int(draws) < 0:
        raise OptionError(f"draws={draws!r} must be >= 0")
    x_names = _as_names(x)
    if balance == "ml":
        if model == "sem":
            raise OptionError("balance='ml' is for model='sdm' or 'sar' (the effects as parameters, as "
                              "bias_correction='none'); use balance='drop' for the SEM")
        from geo.durbin.missing import fit_missing  # lazy: a cycle (geo.durbin.missing imports this module)

        return fit_missing(data, y, x_names, weights=weights, id=id, time=time, model=model, effects=effects,
                           logdet=logdet, draws=draws, seed=seed, weight_ids=weight_ids, names=names)
    W, ids = _weights_and_ids(weights, weight_ids)
    data, W, ids, balanced = _balanced(data, W, ids, id=id, time=time, columns=[str(y), *x_names],
                                       policy=balance, names=names)
    panel = _arrange(data, str(y), x_names, id, time, ids)
    scheme = _scheme(effects, bias_correction, W)
    if isinstance(logdet, LogDet):
        if logdet.n != W.shape[0]:
            raise OptionError(f"logdet was built for {logdet.n} units but the weights have {W.shape[0]}")
        ld = logdet
    else:
        ld = make_logdet(W, method=logdet)
    if scheme.drop_unit_root:
        # log(1 - rho c) must stay finite: rho < 1/c (= the upper bound for a row-standardised W)
        ld_upper = min(ld.upper, (1.0 - 1e-12) / scheme.c)
        if ld_upper < ld.upper:
            ld = dataclasses.replace(ld, upper=ld_upper)
    dense = covariance == "information" or (covariance == "auto" and panel.n <= DENSE_MAX_N)
    est = _estimate(panel, W, ld, model, scheme, effects, vcov="information" if dense else "hessian")

    K = len(est.names)
    se = np.sqrt(np.diag(est.vcov))
    z = np.concatenate([est.coef, [est.spatial]]) / se[: K + 1]
    p = 2.0 * stats.norm.sf(np.abs(z))
    coefficients = pd.DataFrame(
        {"estimate": est.coef, "se": se[:K], "z": z[:K], "p": p[:K]}, index=pd.Index(est.names, name="name")
    )
    spatial_name = "lambda" if model == "sem" else "rho"
    spatial = {"estimate": float(est.spatial), "se": float(se[K]), "z": float(z[K]), "p": float(p[K])}
    order = [K] + list(range(K))  # (spatial, coefficients)
    labels = [spatial_name, *est.names]
    vcov = pd.DataFrame(est.vcov[np.ix_(order, order)], index=labels, columns=labels)

    nx = len(panel.x_names)
    if model == "sem":
        impacts = linear_impacts(names=panel.x_names, beta=est.coef, theta=None, cov=est.vcov[:K, :K])
        tests = {}
    else:
        engine = TraceEngine(W, ld)
        theta = est.coef[nx:] if model == "sdm" else None
        impacts = lag_impacts(
            names=panel.x_names,
            rho=est.spatial,
            beta=est.coef[:nx],
            theta=theta,
            cov=est.vcov[np.ix_(order, order)],
            engine=engine,
            lower=ld.lower,
            upper=ld.upper,
            draws=int(draws),
            seed=seed,
            order=int(impacts_order),
        )
        tests = {}
        if model == "sdm":
            sar = _estimate(panel, W, ld, "sar", scheme, effects, vcov=False)
            sem = _estimate(panel, W, ld, "sem", scheme, effects, vcov=False)
            sel = [K] + list(range(K))  # (rho, beta, theta)
            tests = sdm_tests(ll_sdm=est.loglik, ll_sar=sar.loglik, ll_sem=sem.loglik, rho=est.spatial,
                              beta_x=est.coef[:nx], theta=est.coef[nx:], V_rbt=est.vcov[np.ix_(sel, sel)])

    T, N = panel.t, panel.n
    index = pd.MultiIndex.from_product([panel.periods, panel.ids], names=[time, id]).swaplevel()
    resid = pd.Series(est.resid.ravel(), index=index, name="residual")
    fitted = pd.Series(panel.y.ravel() - est.resid.ravel(), index=index, name="fitted")
    rows = _input_order(data, id, time, ids)
    if rows is not None:
        resid, fitted = resid.reindex(rows), fitted.reindex(rows)

    n_params = K + 2
    N_eff, T_eff = scheme.n_eff(N), scheme.t_eff(T)
    notes = [
        f"fixed effects ({effects}) swept out by "
        + (
            "Lee & Yu's (2010) orthonormal transformation"
            if scheme.lee_yu and (scheme.individual or scheme.time)
            else "demeaning (Elhorst's direct approach)"
        ),
        f"sigma2 and the log-likelihood use {N_eff} x {T_eff} = {est.n_obs} effective observations",
        "residuals are those of the demeaned model; fitted = y - residual (includes the estimated fixed effects)",
    ]
    if model != "sem":
        notes.append(
            "impacts: LeSage-Pace averages of the N x N effects matrix, the same in every period (Elhorst 2014)"
        )
    if balanced.note():
        notes.append(balanced.note())
    extra = {
        "balance": balanced.to_json(),
        "periods": [_py(p) for p in panel.periods],
        "n_obs_effective": est.n_obs,
        "sigma2_divisor": est.n_obs,
        "weights_row_sum": scheme.c if scheme.drop_unit_root else None,
    }
    return DurbinResult(
        model=model,
        effects=effects,
        n=N,
        t=T,
        y_name=panel.y_name,
        coefficients=coefficients,
        spatial_name=spatial_name,
        spatial=spatial,
        sigma2=float(est.sigma2),
        loglik=float(est.loglik),
        aic=float(-2.0 * est.loglik + 2.0 * n_params),
        n_params=n_params,
        logdet_method=ld.method,
        logdet_description=ld.description,
        covariance=est.vcov_method,
        vcov=vcov,
        impacts=impacts,
        tests=tests,
        fitted=fitted,
        residuals=resid,
        bias_correction=bias_correction,
        notes=tuple(notes),
        extra=extra,
    )


def _balanced(data, W, ids, *, id, time, columns, policy, names):
    """(data, W, ids, BalanceReport): the panel's gaps refused (``error``) or its incomplete units dropped.

    With ``drop`` the weights are restricted to the kept units and, if they were
    row-standardised, standardised again (rows left empty are islands).
    """
    if policy == "ml":
        raise OptionError("balance='ml' (ML on the observed cells) is for the SAR/SDM static panel "
                          "(geo.durbin.missing); use balance='drop' here")
    frame = data.reset_index() if (isinstance(data, pd.DataFrame) and (id not in data.columns or time not in data.columns)) else data
    if not isinstance(frame, pd.DataFrame) or id not in frame.columns or time not in frame.columns:
        return data, W, ids, _no_gaps(policy)
    frame = frame.assign(**{id: _match_ids(frame[id], ids)})
    missing_cols = [c for c in columns if c not in frame.columns]
    if missing_cols:
        return data, W, ids, _no_gaps(policy)  # _arrange names the missing column
    kept, report = balance_panel(frame, id=id, time=time, columns=columns, units=ids, names=names, policy=policy)
    if policy != "drop" or not report.dropped_units:
        return data, W, ids, report
    keep = ~ids.isin(list(report.dropped_units))
    Wk = W[keep][:, keep].tocsr()
    rows_full = np.asarray(W.sum(axis=1)).ravel()
    if np.allclose(rows_full[rows_full != 0], 1.0) and W.nnz and W.data.min() >= 0:
        rs = np.asarray(Wk.sum(axis=1)).ravel()
        Wk = sp.csr_array(sp.diags_array(np.where(rs > 0, 1.0 / np.where(rs > 0, rs, 1.0), 0.0)) @ Wk)
    return kept, Wk, ids[keep], report


def _no_gaps(policy):
    return BalanceReport(policy, 0, 0, (), (), 0, 0)


def _input_order(data: pd.DataFrame, id: str, time: str, ids: pd.Index):
    """(id, time) MultiIndex in the input's row order, or None if id/time are not plain columns."""
    if id not in data.columns or time not in data.columns:
        return None
    keys = _match_ids(data[id], ids)
    return pd.MultiIndex.from_arrays([keys.to_numpy(), data[time].to_numpy()], names=[id, time])
