"""Direct, indirect and total impacts (LeSage & Pace 2009, ch. 2.7) with simulated inference.

For the lag models the n x n matrix of marginal effects of regressor r is

    S_r(W) = (I - rho W)^-1 (beta_r I + theta_r W)      (theta_r = 0 for SAR)

and the scalar summaries are the average diagonal (direct), the average row sum
(total) and their difference (indirect, the spillover). They are computed

* exactly from W's eigenvalues when the log-determinant has them
  (tr (I - rho W)^-1 = sum 1/(1 - rho lambda)), or
* from the power series S_r = sum_k W^k (rho^k beta_r + rho^(k-1) theta_r) with
  traces tr(W^k) exact for low k (sparse products) and Hutchinson-estimated above
  (seeded), like spatialreg's ``trW(type="mult"/"MC")``.

Totals use (beta + theta) / (1 - rho) when every row of W sums to 1, and the exact
series of average row sums of W^k otherwise (islands, binary weights).

Inference follows spatialreg's ``impacts(..., R=draws)``: parameters (rho, beta,
theta) are drawn from their estimated asymptotic normal distribution (seeded;
draws with rho outside the admissible interval are redrawn) and the impacts are
recomputed per draw; the standard error is the standard deviation of the draws,
z = estimate / se, p two-sided normal, and the interval the 2.5 / 97.5 % quantiles.

For SLX and SDEM the impacts are beta (direct) and theta (indirect) with analytic
standard errors from the coefficient covariance; for SEM they are beta with no
spillover. Written here because spreg 1.9's SDM impacts omit theta from the
direct effect (see DESIGN.md); spatialreg's ``impacts()`` is the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from geo.durbin.logdet import LogDet, as_sparse_weights, power_traces
from geo.errors import ModelError
from geo._numbers import finite_or_none as _num

__all__ = ["Impacts", "lag_impacts", "linear_impacts", "TraceEngine"]

KINDS = ("direct", "indirect", "total")


@dataclass(frozen=True)
class Impacts:
    """Impacts of each regressor: point estimates, simulated (or analytic) inference, by order.

    ``estimates``, ``se``, ``z``, ``p``, ``lower``, ``upper`` are DataFrames indexed by
    regressor name with columns direct, indirect, total. ``by_order`` has a
    (name, order) MultiIndex with the contribution of W^order (order 0 = the unit
    itself) and columns direct, indirect, total, and their simulated se.
    """

    estimates: pd.DataFrame
    se: pd.DataFrame | None
    z: pd.DataFrame | None
    p: pd.DataFrame | None
    lower: pd.DataFrame | None
    upper: pd.DataFrame | None
    method: str
    inference: str
    draws: int
    seed: int | None
    by_order: pd.DataFrame | None = field(default=None)
    level: float = 0.95

    @property
    def names(self) -> list[str]:
        return list(self.estimates.index)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (name, kind) with estimate, se, z, p, lower, upper."""
        rows = []
        for name in self.estimates.index:
            for kind in KINDS:
                rows.append(
                    {
                        "name": name,
                        "kind": kind,
                        "estimate": self.estimates.at[name, kind],
                        "se": _get(self.se, name, kind),
                        "z": _get(self.z, name, kind),
                        "p": _get(self.p, name, kind),
                        "lower": _get(self.lower, name, kind),
                        "upper": _get(self.upper, name, kind),
                    }
                )
        return pd.DataFrame(rows).set_index(["name", "kind"])

    def to_json(self) -> dict:
        out = {}
        for name in self.estimates.index:
            out[str(name)] = {
                kind: {
                    "estimate": _num(self.estimates.at[name, kind]),
                    "se": _num(_get(self.se, name, kind)),
                    "z": _num(_get(self.z, name, kind)),
                    "p": _num(_get(self.p, name, kind)),
                    "lower": _num(_get(self.lower, name, kind)),
                    "upper": _num(_get(self.upper, name, kind)),
                }
                for kind in KINDS
            }
        return out

    def order_json(self) -> dict:
        if self.by_order is None:
            return {}
        out: dict = {}
        for (name, order), row in self.by_order.iterrows():
            out.setdefault(str(name), {})[str(int(order))] = {k: _num(v) for k, v in row.items()}
        return out

    def summary(self) -> str:
        lines = [f"Impacts ({self.method}; {self.inference}):"]
        width = max([len(str(n)) for n in self.estimates.index] + [8])
        lines.append(f"{'':{width}}  {'Direct':>12} {'Indirect':>12} {'Total':>12}")
        for name in self.estimates.index:
            vals = " ".join(f"{self.estimates.at[name, k]:12.6g}" for k in KINDS)
            lines.append(f"{name:{width}}  {vals}")
            if self.se is not None:
                ses = " ".join(_fmt_paren(_get(self.se, name, k)) for k in KINDS)
                lines.append(f"{'  (se)':{width}}  {ses}")
                ps = " ".join(_fmt_p(_get(self.p, name, k)) for k in KINDS)
                lines.append(f"{'  p':{width}}  {ps}")
        return "\n".join(lines)


def _fmt_paren(v):
    return f"{'(' + format(v, '.5g') + ')':>12}" if v is not None and np.isfinite(v) else f"{'':>12}"


def _fmt_p(v):
    if v is None or not np.isfinite(v):
        return f"{'':>12}"
    return f"{('< 1e-16' if v < 1e-16 else format(v, '.4g')):>12}"


def _get(frame, name, kind):
    if frame is None:
        return None
    return frame.at[name, kind]


class TraceEngine:
    """Traces and row sums of powers of W needed by the impacts, computed once per W.

    Exact (eigenvalues) when ``logdet.eigenvalues`` is available, otherwise tr(W^k)
    exact for low k and Hutchinson-estimated (``probes`` Rademacher vectors, ``seed``)
    for k up to ``max_order``.
    """

    def __init__(self, W, logdet: LogDet | None = None, *, max_order: int = 100, probes: int = 50, seed=0):
        M = as_sparse_weights(W)
        self.n = M.shape[0]
        self.W = M
        self.eig = None if logdet is None else logdet.eigenvalues
        rowsum = np.asarray(M.sum(axis=1)).ravel()
        self.row_stochastic = bool(np.allclose(rowsum, 1.0, rtol=0, atol=1e-12))
        self.max_order = int(max_order)
        self._rowsum_cache: np.ndarray | None = None
        if self.eig is not None:
            self.method = "exact traces from eigenvalues"
            self.traces = None
        else:
            tr, n_exact = power_traces(M, self.max_order + 1, probes=probes, seed=seed)
            self.traces = tr / self.n
            self.n_exact = n_exact
            self.method = (
                f"trace series to order {self.max_order}: tr(W^k) exact for k < {n_exact}, "
                f"Monte Carlo above ({probes} probes, seed {seed})"
            )

    # mean row sums of W^k, k = 0..K, exact by repeated mat-vec
    def row_means(self, K: int) -> np.ndarray:
        if self._rowsum_cache is None or len(self._rowsum_cache) < K + 1:
            v = np.ones(self.n)
            out = [1.0]
            for _ in range(K):
                v = self.W @ v
                out.append(float(v.mean()))
            self._rowsum_cache = np.asarray(out)
        return self._rowsum_cache[: K + 1]

    def tr_means(self, K: int) -> np.ndarray:
        """tr(W^k)/n for k = 0..K."""
        if self.eig is not None:
            k = np.arange(K + 1)
            return np.real(np.mean(self.eig[None, :] ** k[:, None], axis=1))
        if K > len(self.traces) - 1:
            raise ModelError(f"traces were computed to order {len(self.traces) - 1}, asked for {K}")
        return self.traces[: K + 1]

    def _series_order(self, rho: np.ndarray) -> int:
        r = float(np.max(np.abs(rho)))
        if r <= 1e-12:
            return 1
        if r >= 1:
            raise ModelError(f"rho={r:.4g} is outside (-1, 1); the impacts series does not converge")
        return int(min(5000, max(10, math.ceil(math.log(1e-13) / math.log(r)) + 2)))

    def direct_terms(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tr (I - rho W)^-1 / n, tr (I - rho W)^-1 W / n) for each rho."""
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.eig is not None:
            ev = self.eig
            out_a = np.empty(len(rho))
            out_b = np.empty(len(rho))
            for start in range(0, len(rho), 200):
                r = rho[start : start + 200, None]
                inv = 1.0 / (1.0 - r * ev[None, :])
                out_a[start : start + 200] = np.real(inv.mean(axis=1))
                out_b[start : start + 200] = np.real((inv * ev[None, :]).mean(axis=1))
            return out_a, out_b
        K = self.max_order
        t = self.traces
        powers = rho[:, None] ** np.arange(K + 1)[None, :]
        return powers @ t[: K + 1], powers @ t[1 : K + 2]

    def total_terms(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(1'(I - rho W)^-1 1 / n, 1'(I - rho W)^-1 W 1 / n) for each rho."""
        rho = np.atleast_1d(np.asarray(rho, dtype=float))
        if self.row_stochastic:
            a = 1.0 / (1.0 - rho)
            return a, a
        K = self._series_order(rho)
        m = self.row_means(K + 1)
        powers = rho[:, None] ** np.arange(K + 1)[None, :]
        return powers @ m[: K + 1], powers @ m[1 : K + 2]


def _impact_values(engine: TraceEngine, rho, beta, theta):
    """direct, total arrays of shape (draws, K)."""
    a_d, b_d = engine.direct_terms(rho)
    a_t, b_t = engine.total_terms(rho)
    direct = a_d[:, None] * beta
    total = a_t[:, None] * beta
    if theta is not None:
        direct = direct + b_d[:, None] * theta
        total = total + b_t[:, None] * theta
    return direct, total


def _order_values(engine: TraceEngine, rho, beta, theta, order: int):
    """Per-order contributions (draws, K, order+1) of direct and total."""
    rho = np.atleast_1d(rho)
    k = np.arange(order + 1)
    rk = rho[:, None] ** k[None, :]  # (D, O)
    c = rk[:, None, :] * beta[:, :, None]  # rho^k beta
    if theta is not None:
        rkm1 = np.where(k[None, :] >= 1, rho[:, None] ** np.maximum(k - 1, 0)[None, :], 0.0)
        c = c + rkm1[:, None, :] * theta[:, :, None]
    t = engine.tr_means(order)
    m = engine.row_means(order)
    return c * t[None, None, :], c * m[None, None, :]


def _draw_params(mean, cov, draws, seed, lower, upper, keep=None):
    """Draws from N(mean, cov) with rho (column 0, or ``keep(draws)`` when given) admissible."""
    rng = np.random.default_rng(seed)
    cov = 0.5 * (cov + cov.T)
    vals, vecs = np.linalg.eigh(cov)
    if np.min(vals) < -1e-8 * max(1.0, np.max(np.abs(vals))):
        raise ModelError("the covariance of (rho, beta, theta) is not positive semi-definite; cannot simulate impacts")
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    out = np.empty((0, len(mean)))
    tries = 0
    while len(out) < draws:
        z = rng.standard_normal((draws, len(mean)))
        d = mean + z @ root.T
        ok = (d[:, 0] > lower) & (d[:, 0] < upper) if keep is None else keep(d)
        out = np.vstack([out, d[ok]])
        tries += 1
        if tries > 50:
            raise ModelError("too many simulated rho values fall outside the admissible interval")
    return out[:draws]


def lag_impacts(
    *,
    names,
    rho: float,
    beta: np.ndarray,
    theta: np.ndarray | None,
    cov: np.ndarray | None,
    engine: TraceEngine,
    lower: float,
    upper: float,
    draws: int = 1000,
    seed=None,
    order: int = 5,
    level: float = 0.95,
    params=None,
    transform=None,
) -> Impacts:
    """Impacts of a lag model (SAR when ``theta`` is None, SDM otherwise).

    ``cov`` is the covariance of (rho, beta_1..K, theta_1..K) in that order; with
    ``draws > 0`` it drives the simulation. ``order`` is the highest power of W in
    the decomposition by neighbour order.

    ``params`` and ``transform`` (together) simulate impacts that are a function of
    other parameters, e.g. the dynamic panel's long-run impacts: draws are taken from
    N(params, cov) and ``transform(draws)`` returns (rho, beta, theta, admissible) arrays
    of the effective lag model; (``rho``, ``beta``, ``theta``) are then the point values.
    """
    names = list(names)
    beta = np.asarray(beta, dtype=float)
    theta = None if theta is None else np.asarray(theta, dtype=float)
    K = len(names)
    direct, total = _impact_values(engine, np.array([rho]), beta[None, :], None if theta is None else theta[None, :])
    est = pd.DataFrame(
        {"direct": direct[0], "indirect": total[0] - direct[0], "total": total[0]}, index=pd.Index(names, name="name")
    )
    od, ot = _order_values(engine, np.array([rho]), beta[None, :], None if theta is None else theta[None, :], order)
    se = z = p = lo = hi = None
    ose = None
    inference = "no simulation (draws=0)"
    if draws and cov is not None:
        if transform is not None:
            def keep(d):
                r, _, _, ok = transform(d)
                return ok & (r > lower) & (r < upper)

            sims = _draw_params(np.asarray(params, dtype=float), np.asarray(cov, dtype=float), int(draws), seed,
                                lower, upper, keep=keep)
            srho, sbeta, stheta, _ = transform(sims)
            stheta = None if theta is None else stheta
        else:
            mean = np.concatenate([[rho], beta] + ([] if theta is None else [theta]))
            sims = _draw_params(mean, np.asarray(cov, dtype=float), int(draws), seed, lower, upper)
            srho = sims[:, 0]
            sbeta = sims[:, 1 : 1 + K]
            stheta = None if theta is None else sims[:, 1 + K : 1 + 2 * K]
        sd, stt = _impact_values(engine, srho, sbeta, stheta)
        sims_by_kind = {"direct": sd, "indirect": stt - sd, "total": stt}
        alpha = (1.0 - level) / 2.0
        se = pd.DataFrame({k: v.std(axis=0, ddof=1) for k, v in sims_by_kind.items()}, index=est.index)
        lo = pd.DataFrame({k: np.quantile(v, alpha, axis=0) for k, v in sims_by_kind.items()}, index=est.index)
        hi = pd.DataFrame({k: np.quantile(v, 1 - alpha, axis=0) for k, v in sims_by_kind.items()}, index=est.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        p = pd.DataFrame(2.0 * stats.norm.sf(np.abs(z.to_numpy())), index=est.index, columns=est.columns)
        sod, sot = _order_values(engine, srho, sbeta, stheta, order)
        ose = (sod.std(axis=0, ddof=1), (sot - sod).std(axis=0, ddof=1), sot.std(axis=0, ddof=1))
        inference = f"simulated: {int(draws)} draws from the asymptotic distribution (seed {seed})"
    rows = []
    for i, name in enumerate(names):
        for k in range(order + 1):
            row = {
                "name": name,
                "order": k,
                "direct": od[0, i, k],
                "indirect": ot[0, i, k] - od[0, i, k],
                "total": ot[0, i, k],
            }
            if ose is not None:
                row.update({"se_direct": ose[0][i, k], "se_indirect": ose[1][i, k], "se_total": ose[2][i, k]})
            rows.append(row)
    by_order = pd.DataFrame(rows).set_index(["name", "order"])
    return Impacts(
        estimates=est,
        se=se,
        z=z,
        p=p,
        lower=lo,
        upper=hi,
        method=engine.method,
        inference=inference,
        draws=int(draws) if (draws and cov is not None) else 0,
        seed=seed,
        by_order=by_order,
        level=level,
    )


def linear_impacts(*, names, beta, theta, cov, level: float = 0.95) -> Impacts:
    """Impacts of SLX / SDEM (direct = beta, indirect = theta) or SEM (``theta`` None: no spillover).

    ``cov`` is the covariance of (beta_1..K, theta_1..K) (or of beta alone); the
    standard errors are analytic (linear combinations), as in spatialreg for SLX.
    """
    names = list(names)
    beta = np.asarray(beta, dtype=float)
    K = len(names)
    cov = np.asarray(cov, dtype=float)
    vb = np.diag(cov)[:K]
    if theta is None:
        theta = np.zeros(K)
        vt = np.zeros(K)
        cbt = np.zeros(K)
    else:
        theta = np.asarray(theta, dtype=float)
        vt = np.diag(cov)[K : 2 * K]
        cbt = np.array([cov[i, K + i] for i in range(K)])
    idx = pd.Index(names, name="name")
    est = pd.DataFrame({"direct": beta, "indirect": theta, "total": beta + theta}, index=idx)
    se = pd.DataFrame(
        {"direct": np.sqrt(vb), "indirect": np.sqrt(vt), "total": np.sqrt(np.clip(vb + vt + 2 * cbt, 0, None))},
        index=idx,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se.where(se > 0)
    p = pd.DataFrame(2.0 * stats.norm.sf(np.abs(z.to_numpy())), index=idx, columns=est.columns)
    q = stats.norm.ppf(0.5 + level / 2.0)
    return Impacts(
        estimates=est,
        se=se,
        z=z,
        p=p,
        lower=est - q * se,
        upper=est + q * se,
        method="closed form: direct = beta, indirect = theta",
        inference="analytic standard errors from the coefficient covariance",
        draws=0,
        seed=None,
        by_order=None,
        level=level,
    )
