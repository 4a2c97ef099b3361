"""One model under several weights and several forms, in one table (``geo compare``).

``compare(data, y, x, weights={"queen": g1, "knn:6": g2}, models=("sdm", "sar", "sem"))``
fits every (weights, model) pair with :func:`geo.durbin.fit` and reports, per fit, the
log-likelihood, AIC, BIC (k log n with n the effective observations), the spatial
parameter, the impacts, and the Bayesian posterior model probability over all fits
(equal prior probabilities; LeSage & Pace log-marginal likelihoods from
:mod:`geo.durbin.bayes`, flat priors on beta, 1/sigma on sigma, uniform on rho/lambda).
LR tests are given between nested forms fitted under the same weights:

=========  ==========  ===  ==========================
full       restricted  df   restriction
=========  ==========  ===  ==========================
sdm        sar         K    theta = 0
sdm        slx         1    rho = 0
sdm        sem         K    theta = -rho beta (common factor)
sdem       sem         K    theta = 0
sdem       slx         1    lambda = 0
sar        ols         1    rho = 0
sem        ols         1    lambda = 0
slx        ols         K    theta = 0
gns        sdm, sdem   1    lambda = 0, rho = 0
gns        sac         K    theta = 0
sac        sar, sem    1    lambda = 0, rho = 0
=========  ==========  ===  ==========================

Posterior probabilities need the log-marginal over one spatial parameter: they are given
for ols, slx, sar, sdm, sem and sdem (cross-section and static panels) and are left out
(``None``) for sac/gns and dynamic panels; they sum to 1 over the fits that have them.
Across weights the comparison is of non-nested models: read the posterior probabilities
and AIC/BIC, not LR tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.durbin import _align, _weights_matrix_and_ids, fit
from geo.durbin import panel as P
from geo.durbin.bayes import log_marginal, posterior_probabilities
from geo.durbin.logdet import make_logdet
from geo.durbin.tests import lr_test
from geo.errors import OptionError, check_choice
from geo._numbers import finite_or_none as _num

__all__ = ["compare", "Comparison", "NESTED"]

FORMS = ("sdm", "sar", "sem", "sdem", "slx", "ols", "sac", "gns")
PANEL_FORMS = ("sdm", "sar", "sem")
MARGINAL = {"ols": "none", "slx": "none", "sar": "lag", "sdm": "lag", "sem": "error", "sdem": "error"}
#: (full, restricted, df: "K" or 1, restriction)
NESTED = (
    ("sdm", "sar", "K", "theta = 0"),
    ("sdm", "slx", 1, "rho = 0"),
    ("sdm", "sem", "K", "theta = -rho beta (common factor)"),
    ("sdem", "sem", "K", "theta = 0"),
    ("sdem", "slx", 1, "lambda = 0"),
    ("sar", "ols", 1, "rho = 0"),
    ("sem", "ols", 1, "lambda = 0"),
    ("slx", "ols", "K", "theta = 0"),
    ("gns", "sdm", 1, "lambda = 0"),
    ("gns", "sdem", 1, "rho = 0"),
    ("gns", "sac", "K", "theta = 0"),
    ("sac", "sar", 1, "lambda = 0"),
    ("sac", "sem", 1, "rho = 0"),
)


@dataclass(frozen=True)
class Comparison:
    """Fits of one model under several weights and forms: ``fits`` (list of dicts), ``lr_tests``, ``results``."""

    y_name: str
    x_names: tuple
    fits: tuple
    lr_tests: tuple
    results: dict = field(repr=False)  # (weights label, model) -> DurbinResult
    notes: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per fit: weights, model, loglik, aic, bic, posterior_probability, rho, lambda, and the
        direct/indirect/total impact of every regressor side by side."""
        rows = []
        for f in self.fits:
            row = {k: f[k] for k in ("weights", "model", "loglik", "aic", "bic", "posterior_probability")}
            row["rho"] = None if f["rho"] is None else f["rho"]["estimate"]
            row["lambda"] = None if f["lambda"] is None else f["lambda"]["estimate"]
            for name, kinds in (f["impacts"] or {}).items():
                for kind, d in kinds.items():
                    row[f"{name}:{kind}"] = d["estimate"]
            rows.append(row)
        return pd.DataFrame(rows).set_index(["weights", "model"])

    def to_json(self) -> dict:
        return {
            "y": self.y_name,
            "x": list(self.x_names),
            "fits": [dict(f) for f in self.fits],
            "lr_tests": [dict(t) for t in self.lr_tests],
            "posterior_convention": "equal prior model probabilities; flat prior on beta, 1/sigma on sigma, "
            "uniform on rho (lambda) over its admissible interval (LeSage & Pace 2009, sec. 6.3; LeSage 2014)",
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [f"Model comparison: {self.y_name} on {', '.join(self.x_names)}", ""]
        w = max([len(str(f["weights"])) for f in self.fits] + [7])
        lines.append(f"{'weights':{w}} {'model':6} {'loglik':>12} {'AIC':>12} {'BIC':>12} {'P(model|y)':>11} "
                     f"{'rho':>9} {'lambda':>9}")

        def fmt(v, spec):
            return "NA" if v is None else format(v, spec)

        for f in self.fits:
            lines.append(
                f"{str(f['weights']):{w}} {f['model']:6} {fmt(f['loglik'], '12.4f')} {fmt(f['aic'], '12.4f')} "
                f"{fmt(f['bic'], '12.4f')} {fmt(f['posterior_probability'], '11.4f')} "
                f"{fmt(None if f['rho'] is None else f['rho']['estimate'], '9.4f')} "
                f"{fmt(None if f['lambda'] is None else f['lambda']['estimate'], '9.4f')}"
            )
        if self.lr_tests:
            lines += ["", "LR tests between nested forms (same weights):"]
            for t in self.lr_tests:
                lines.append(f"  {t['weights']}: {t['full']} vs {t['restricted']} ({t['restriction']}): "
                             f"LR = {t['statistic']:.4f}, df = {t['df']}, p = {t['p']:.4g}")
        frame = self.to_frame()
        imp_cols = [c for c in frame.columns if ":" in str(c)]
        if imp_cols:
            lines += ["", "Impacts side by side:", frame[imp_cols].to_string(float_format=lambda v: f"{v:.4f}")]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def _marginal_inputs(data, y, xs, W, ids, model, *, id, time, effects, balance, logdet):
    """(y, Z, Wy, WZ, jac, lower, upper, n_obs) as the fitted model sees them."""
    if time is None:
        frame = _align(data, [y] + xs, ids, id).apply(pd.to_numeric, errors="coerce")
        yy = frame[y].to_numpy(float)
        X = frame[xs].to_numpy(float)
        n = len(yy)
        Z = np.column_stack([np.ones(n), X] + ([W @ X] if model in ("sdm", "slx", "sdem") else []))
        ld = make_logdet(W, method=logdet)
        return yy, Z, W @ yy, W @ Z, ld, ld.lower, ld.upper, n
    data2, W2, ids2, _ = P._balanced(data, W, ids, id=id, time=time, columns=[y, *xs], policy=balance, names=None)
    panel = P._arrange(data2, y, xs, id, time, ids2)
    scheme = P._scheme(effects, "lee-yu", W2)
    X = panel.X
    if model == "sdm":
        X = np.concatenate([X, P._lag(W2, X)], axis=2)
    T, N, K = X.shape
    ld = make_logdet(W2, method=logdet)
    upper = min(ld.upper, (1 - 1e-12) / scheme.c) if scheme.drop_unit_root else ld.upper
    jac = P._jacobian(ld, scheme, scheme.t_eff(T))
    yt = P._sweep(panel.y, scheme).ravel()
    Z = P._sweep(X, scheme).reshape(T * N, K)
    Wy = P._sweep(P._lag(W2, panel.y), scheme).ravel()
    WZ = P._sweep(P._lag(W2, X), scheme).reshape(T * N, K)
    return yt, Z, Wy, WZ, jac, ld.lower, upper, scheme.t_eff(T) * scheme.n_eff(N)


def compare(
    data,
    y: str,
    x,
    *,
    weights,
    models=("sdm", "sar", "sem"),
    id=None,
    time=None,
    effects: str = "twoways",
    balance: str = "error",
    logdet="auto",
    draws: int = 0,
    seed=None,
) -> Comparison:
    """Fit ``models`` under every weights matrix in ``weights`` (a dict label -> Graph/matrix, or a list of
    (label, weights) pairs) and compare them; see the module docstring. Panels (``time=``) allow sdm, sar, sem
    with fixed ``effects``; ``draws`` > 0 adds simulated inference to the impacts."""
    xs = [x] if isinstance(x, str) else list(x)
    if balance not in ("error", "drop"):
        raise OptionError(f"balance={balance!r}: compare takes 'error' or 'drop' (the log-marginal likelihood of "
                          "a panel with gaps is not implemented)")
    pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
    if not pairs:
        raise OptionError("weights: give at least one weights matrix")
    labels = [str(lbl) for lbl, _ in pairs]
    if len(set(labels)) != len(labels):
        raise OptionError(f"weights labels must differ, got {labels}")
    models = [models] if isinstance(models, str) else list(models)
    if not models:
        raise OptionError("models: give at least one model form")
    for m in models:
        check_choice("model", m, PANEL_FORMS if time is not None else FORMS)
    if len(set(models)) != len(models):
        raise OptionError(f"models are repeated: {models}")
    fits, results, lms = [], {}, []
    for label, wts in pairs:
        W, ids = (P._weights_and_ids(wts, None) if time is not None else _weights_matrix_and_ids(wts))
        for m in models:
            kw = dict(weights=wts, model=m, id=id, logdet=logdet, draws=draws, seed=seed)
            if time is not None:
                kw.update(time=time, effects=effects, balance=balance)
            res = fit(data, y, xs, **kw)
            results[(label, m)] = res
            n_obs = res.extra.get("n_obs_effective", res.n * res.t)
            lm = None
            if m in MARGINAL:
                yy, Z, Wy, WZ, jac, lo, hi, n_eff = _marginal_inputs(
                    data, y, xs, W, ids, m, id=id, time=time, effects=effects, balance=balance, logdet=logdet)
                lm = log_marginal(yy, Z, kind=MARGINAL[m], Wy=Wy, WZ=WZ, jac=jac, lower=lo, upper=hi,
                                  n_obs=n_eff)["log_marginal"]
            lms.append(lm)
            fits.append({
                "weights": label,
                "model": m,
                "loglik": _num(res.loglik),
                "aic": _num(res.aic),
                "bic": _num(-2.0 * res.loglik + res.n_params * math.log(n_obs)),
                "n_params": int(res.n_params),
                "n_obs": int(n_obs),
                "log_marginal": _num(lm),
                "posterior_probability": None,
                "rho": None if res.rho is None else {k: _num(v) for k, v in res.spatial.items()},
                "lambda": None if res.lam is None else (
                    {k: _num(v) for k, v in (res.spatial if res.spatial_name == "lambda"
                                             else res.spatial_more["lambda"]).items()}),
                "impacts": None if res.impacts is None else res.impacts.to_json(),
            })
    have = [i for i, v in enumerate(lms) if v is not None]
    if have:
        probs = posterior_probabilities([lms[i] for i in have])
        for i, p in zip(have, probs):
            fits[i]["posterior_probability"] = float(p)
    tests = []
    K = len(xs)
    for label, _ in pairs:
        for full, restricted, df, what in NESTED:
            a, b = results.get((label, full)), results.get((label, restricted))
            if a is None or b is None:
                continue
            t = lr_test(a.loglik, b.loglik, K if df == "K" else 1, f"H0: {what}")
            tests.append({"weights": label, "full": full, "restricted": restricted, "restriction": what, **t})
    notes = ["BIC = -2 logL + k log(n), n the effective number of observations; AIC as R (k counts sigma^2)"]
    if len(have) < len(fits):
        notes.append("posterior probabilities are over the fits with a one-parameter log-marginal (not sac/gns)")
    if len(pairs) > 1:
        notes.append("fits under different weights are not nested: compare them by posterior probability and "
                     "AIC/BIC, not by LR tests")
    return Comparison(y, tuple(xs), tuple(fits), tuple(tests), results, tuple(notes))
