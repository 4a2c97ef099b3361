"""The one ML engine of geo.durbin: the concentrated-likelihood maximiser, the design check, matrix inversion.

Every model of the package (cross-section SAR/SDM/SEM/SDEM/SAC/GNS, static and dynamic
panels) concentrates beta and sigma^2 out of its log-likelihood and maximises over the
spatial parameter(s) with :func:`maximise` (bounded Brent on the admissible interval,
optionally located on a cheap approximate log-determinant first and corrected with a
few exact evaluations). Two-parameter models (SAC/GNS) profile one parameter with
:func:`maximise` inside the other, so there is a single optimiser. Designs are checked
by :func:`check_design` (pivoted QR on unit-norm columns, with the scale before any
demeaning so that a regressor swept out by fixed effects is named), outcomes by
:func:`check_outcome` (constant, or an exact combination of the regressors), and
information matrices are inverted by :func:`invert` with one message.

Written here rather than taken from spreg/spatialreg: both have one optimiser per
model class with different tolerances (the drift this module removes).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize_scalar

from geo.errors import ModelError

__all__ = ["maximise", "check_design", "check_outcome", "invert", "ols", "richardson_hessian", "XATOL"]

#: Brent's absolute tolerance on the spatial parameter
XATOL = 1e-10


def ols(Z: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of each column of ``ys`` on ``Z`` (Z of full column rank)."""
    q, r = np.linalg.qr(Z)
    return sla.solve_triangular(r, q.T @ ys)


def _brent(f, lo, hi, what):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        res = minimize_scalar(lambda r: -f(r), bounds=(lo, hi), method="bounded",
                              options={"xatol": XATOL, "maxiter": 500})
    if not np.isfinite(res.fun):
        raise ModelError(
            f"the log-likelihood in {what} is not finite on ({lo:.4g}, {hi:.4g}); the data leave nothing to "
            "estimate (a constant outcome, or an outcome fitted exactly by the regressors)"
        )
    if not res.success:
        raise ModelError(f"the likelihood in {what} did not converge on ({lo:.4g}, {hi:.4g}) in 500 iterations")
    return float(res.x)


def _corrected(f, f_locate, lower, upper, x0, h=0.01, max_iter=12):
    """Maximise f = f_locate + delta with delta (the log-determinant's approximation error) smooth.

    delta is interpolated by a quadratic through the last three exact evaluations and the
    cheap f_locate + quadratic is maximised by Brent; this converges in a few exact
    evaluations. Returns None when it does not (the caller then runs Brent on f).
    """
    xs = [x for x in (x0 - h, x0 + h, x0) if lower < x < upper]
    if len(xs) < 3:
        return None
    fs = [f(x) for x in xs]
    ds = [fx - f_locate(x) for x, fx in zip(xs, fs)]
    x_last = x0
    for _ in range(max_iter):
        c = np.polyfit(np.array(xs[-3:]) - x_last, np.array(ds[-3:]), 2)
        lo, hi = max(lower, x_last - 2 * h), min(upper, x_last + 2 * h)
        x_new = _brent(lambda r: f_locate(r) + np.polyval(c, r - x_last), lo, hi, "the corrected likelihood")
        if min(x_new - lo, hi - x_new) < 1e-6 * h:
            return None
        if abs(x_new - x_last) <= 3e-8 * (1.0 + abs(x_new)):  # Brent's own resolution
            fx = f(x_new)
            # the exact likelihood must not be lower than at any point evaluated on the way
            return x_new if fx >= max(fs) - 1e-10 * abs(fx) else None
        xs.append(x_new)
        fs.append(f(x_new))
        ds.append(fs[-1] - f_locate(x_new))
        x_last = x_new
    return None


def maximise(f, lower: float, upper: float, what: str, *, locator=None, interior: bool = True) -> float:
    """Argmax of the concentrated log-likelihood ``f`` on (lower, upper) by bounded Brent.

    With ``locator`` (the same likelihood with a cheap approximate log-determinant) the
    optimum is located on the approximation and corrected with a few exact evaluations,
    which cuts the sparse LU factorisations from ~12 to ~5 per fit; plain Brent on f is the
    fallback. With ``interior`` (the default) an optimum on the bound is an error naming
    the parameter: the likelihood has no interior maximum.
    """
    span = upper - lower
    x = None
    if locator is not None:
        x0 = _brent(locator, lower, upper, what)
        x = _corrected(f, locator, lower, upper, x0)
    if x is None:
        x = _brent(f, lower, upper, what)
    if interior and min(x - lower, upper - x) < 1e-6 * span:
        raise ModelError(
            f"{what} = {x:.6g} is on the bound of its admissible interval ({lower:.4g}, {upper:.4g}); "
            "the likelihood has no interior maximum (check the weights and the model)"
        )
    return x


def check_design(Z: np.ndarray, names, *, scale_before=None, context: str = "") -> None:
    """Raise ModelError naming the columns that make Z rank-deficient (or non-finite).

    ``scale_before`` (the column norms before fixed effects were swept out) lets a column
    that demeaning reduced to rounding noise be named as "no variation left";
    ``context`` (e.g. "after sweeping out the twoways effects") is added to the messages.
    """
    names = [str(c) for c in names]
    where = f" {context}" if context else ""
    if not np.all(np.isfinite(Z)):
        bad = [names[j] for j in range(Z.shape[1]) if not np.all(np.isfinite(Z[:, j]))]
        raise ModelError(f"regressors contain NaN or infinite values: {', '.join(bad)}")
    n, k = Z.shape
    if n <= k:
        raise ModelError(f"singular design: {n} observations for {k} coefficients ({', '.join(names)})")
    scale = np.sqrt((Z**2).sum(axis=0))
    ref = np.maximum(scale if scale_before is None else np.asarray(scale_before, dtype=float), 1e-300)
    flat = (scale == 0) | (scale <= 1e-10 * ref) if scale_before is not None else scale == 0
    if np.any(flat):
        zero = [names[j] for j in np.flatnonzero(flat)]
        also = f" (so do {', '.join(repr(c) for c in zero[1:])})" if len(zero) > 1 else ""
        why = " (it is constant within units or within periods)" if scale_before is not None else " (all zero)"
        raise ModelError(f"regressor {zero[0]!r} has no variation{where}{why}{also}; drop it")
    _, R, piv = sla.qr(Z / scale, mode="economic", pivoting=True)
    d = np.abs(np.diag(R))
    tol = max(Z.shape) * np.finfo(float).eps * 1e3 * d[0]
    rank = int(np.sum(d > tol))
    if rank < k:
        dropped = [names[j] for j in piv[rank:]]
        raise ModelError(
            "singular design: column(s) "
            + ", ".join(repr(c) for c in dropped)
            + f" are collinear with the other regressors{where} (linear combinations of them: a constant "
            "regressor, a duplicated variable, or a lag W x that equals x or the intercept); drop them"
        )


def check_outcome(y: np.ndarray, Z: np.ndarray | None, y_name: str, *, scale_before=None, context: str = "",
                  x_names=()) -> None:
    """Raise ModelError when the outcome leaves nothing to estimate.

    A constant outcome (after sweeping out fixed effects, if any), or one that the
    regressors fit exactly (R^2 = 1 to rounding, e.g. y copied into x), makes the
    residual variance zero and the log-likelihood infinite.
    """
    where = f" {context}" if context else ""
    y = np.asarray(y, dtype=float)
    scale = float(np.sqrt(y @ y))
    ref = float(scale_before) if scale_before is not None else scale
    if scale == 0 or scale <= 1e-10 * max(ref, 1e-300) or np.ptp(y) == 0:
        raise ModelError(
            f"column {y_name!r} (the dependent variable) is constant{where}: there is nothing to explain; "
            "choose another --y, or check that the column was read correctly"
        )
    if Z is None or Z.shape[1] == 0:
        return
    e = y - Z @ ols(Z, y)
    if math.sqrt(float(e @ e)) <= 1e-9 * scale:
        xs = ", ".join(repr(str(c)) for c in x_names) if len(x_names) else "the regressors"
        raise ModelError(
            f"column {y_name!r} (the dependent variable) is an exact linear combination of {xs}{where} "
            "(residuals are zero): the model is not estimable; remove the regressor that duplicates "
            f"{y_name!r} from --x"
        )


def invert(M: np.ndarray, what: str) -> np.ndarray:
    """Inverse of an information matrix (or a negated Hessian), checked positive definite."""
    try:
        V = np.linalg.inv(M)
    except np.linalg.LinAlgError as exc:
        raise ModelError(f"{what} is singular; the model is not identified ({exc})") from exc
    if not np.all(np.isfinite(V)) or np.any(np.diag(V) <= 0):
        raise ModelError(f"{what} is not positive definite at the estimate; the fit did not converge to a maximum")
    return V


def richardson_hessian(f, p0, steps) -> np.ndarray:
    """Hessian of a scalar function by central differences with Richardson extrapolation (steps h and h/2).

    Used where an analytic Hessian is not written out (random-effects and gapped-panel
    likelihoods); the error is O(h^4).
    """
    p0 = np.asarray(p0, dtype=float)
    steps = np.asarray(steps, dtype=float)
    k = len(p0)
    eye = np.eye(k)

    def one(h):
        H = np.zeros((k, k))
        for i in range(k):
            for j in range(i, k):
                ei, ej = eye[i] * h[i], eye[j] * h[j]
                H[i, j] = H[j, i] = (f(p0 + ei + ej) - f(p0 + ei - ej) - f(p0 - ei + ej) + f(p0 - ei - ej)) / (
                    4 * h[i] * h[j])
        return H

    return (4 * one(steps / 2) - one(steps)) / 3
