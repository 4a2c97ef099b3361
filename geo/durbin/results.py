"""The result of a spatial Durbin-family fit: a frozen dataclass with text, JSON, LaTeX and HTML views.

Conventions stated in every output:

* ``aic`` = -2 loglik + 2 k where k counts the regression coefficients, the spatial
  parameter(s) and sigma^2 (R's convention: ``AIC(lagsarlm(...))``).
* ``coefficients`` name lagged regressors ``W_<name>``; the spatial parameter is
  reported separately as ``rho`` (lag models) or ``lambda`` (error models).
* ``tests`` hold {statistic, df, p} for each test, e.g. ``LR_sdm_vs_sar``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.durbin.impacts import KINDS, Impacts
from geo._numbers import finite_or_none as _num

__all__ = ["DurbinResult", "AIC_CONVENTION"]

AIC_CONVENTION = "AIC = -2 logL + 2k, k counting coefficients, spatial parameter and sigma^2 (as R)"

_MODEL_TITLES = {
    "sdm": "Spatial Durbin model (lag with WX)",
    "sar": "Spatial lag model (SAR)",
    "sem": "Spatial error model (SEM)",
    "slx": "Spatially lagged X model (SLX, OLS)",
    "sdem": "Spatial Durbin error model (SDEM)",
    "ols": "OLS",
    "sac": "Spatial lag and error model (SAC)",
    "gns": "General nesting spatial model (GNS: lag, WX and error)",
    "dsdm": "Dynamic spatial Durbin panel (y_t-1, W y_t-1)",
}


def _fmt(v, spec=".6g"):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "NA"
    return format(v, spec)


def _fmt_p(p):
    if p is None or not math.isfinite(p):
        return "NA"
    return "< 2.2e-16" if p < 2.2e-16 else format(p, ".4g")


@dataclass(frozen=True)
class DurbinResult:
    """A fitted SDM / SAR / SEM / SLX / SDEM (cross-section or panel).

    Attributes
    ----------
    model : str
        ``sdm``, ``sar``, ``sem``, ``slx`` or ``sdem``.
    effects : str
        ``none`` for a cross-section; ``individual``, ``time`` or ``twoways`` for panels.
    n, t : int
        Units and periods (t = 1 for a cross-section).
    y_name : str
        The dependent variable.
    coefficients : pandas.DataFrame
        Index = regressor names (``W_<name>`` for lags), columns estimate, se, z, p.
    spatial_name : str or None
        ``"rho"`` (lag models), ``"lambda"`` (error models), None for SLX.
    spatial : dict or None
        {estimate, se, z, p} of the spatial parameter.
    sigma2, loglik, aic : float
        ML residual variance (divisor n t), log-likelihood, AIC (see ``aic_convention``).
    n_params : int
        k in the AIC.
    logdet_method : str
        ``eigen``, ``lu``, ``chebyshev``, ``mc`` or ``none``.
    logdet_description : str
    covariance : str
        How the asymptotic covariance was obtained.
    vcov : pandas.DataFrame
        Covariance of (spatial parameter, coefficients).
    impacts : Impacts or None
    tests : dict
        {name: {statistic, df, p}} (LR/Wald of SDM vs SAR and SEM, LM diagnostics, ...).
    fitted, residuals : pandas.Series
        On the input's index (unit ids, or (id, time) for panels).
    bias_correction : str
        Panel two-way fits: ``lee-yu`` or ``none``; ``none`` otherwise.
    notes : tuple of str
        Conventions and warnings stated in the outputs.
    spatial_more : dict
        Further spatial parameters, each {estimate, se, z, p} and written to JSON at the
        top level like ``rho``: ``lambda`` of SAC/GNS; ``tau`` (y_{t-1}) and ``eta``
        (W y_{t-1}) of the dynamic panel.
    """

    model: str
    effects: str
    n: int
    t: int
    y_name: str
    coefficients: pd.DataFrame
    spatial_name: str | None
    spatial: dict | None
    sigma2: float
    loglik: float
    aic: float
    n_params: int
    logdet_method: str
    logdet_description: str
    covariance: str
    vcov: pd.DataFrame
    impacts: Impacts | None
    tests: dict
    fitted: pd.Series = field(repr=False)
    residuals: pd.Series = field(repr=False)
    bias_correction: str = "none"
    aic_convention: str = AIC_CONVENTION
    notes: tuple = ()
    extra: dict = field(default_factory=dict, repr=False)
    spatial_more: dict = field(default_factory=dict)

    # ----- convenience
    @property
    def rho(self) -> float | None:
        """The spatial lag parameter (None for SEM/SLX/SDEM)."""
        return self.spatial["estimate"] if self.spatial_name == "rho" else None

    @property
    def lam(self) -> float | None:
        """The spatial error parameter lambda (None for lag models; SAC/GNS have both rho and lambda)."""
        if self.spatial_name == "lambda":
            return self.spatial["estimate"]
        more = self.spatial_more.get("lambda")
        return None if more is None else more["estimate"]

    @property
    def params(self) -> pd.Series:
        return self.coefficients["estimate"]

    # ----- views
    def to_frame(self) -> pd.DataFrame:
        """Per-unit (per unit-period for panels) fitted values and residuals on the input's index."""
        return pd.DataFrame({"fitted": self.fitted, "residual": self.residuals})

    def coefficient_table(self) -> pd.DataFrame:
        """Coefficients with the spatial parameter appended as a last row."""
        tab = self.coefficients.copy()
        if self.spatial is not None:
            tab.loc[self.spatial_name] = [self.spatial[k] for k in ("estimate", "se", "z", "p")]
        for name, d in self.spatial_more.items():
            tab.loc[name] = [d[k] for k in ("estimate", "se", "z", "p")]
        return tab

    def to_json(self) -> dict:
        coefs = {
            str(name): {k: _num(row[k]) for k in ("estimate", "se", "z", "p")}
            for name, row in self.coefficients.iterrows()
        }
        out = {
            "model": self.model,
            "effects": self.effects,
            "n": int(self.n),
            "t": int(self.t),
            "y": self.y_name,
        }
        if self.spatial_name is not None:
            out[self.spatial_name] = {k: _num(v) for k, v in self.spatial.items()}
        for name, d in self.spatial_more.items():
            out[name] = {k: _num(v) for k, v in d.items()}
        out.update(
            {
                "coefficients": coefs,
                "sigma2": _num(self.sigma2),
                "loglik": _num(self.loglik),
                "aic": _num(self.aic),
                "n_params": int(self.n_params),
                "aic_convention": self.aic_convention,
                "logdet_method": self.logdet_method,
                "logdet_description": self.logdet_description,
                "covariance": self.covariance,
                "bias_correction": self.bias_correction,
                "impacts": {} if self.impacts is None else self.impacts.to_json(),
                "impacts_method": None if self.impacts is None else self.impacts.method,
                "impacts_inference": None if self.impacts is None else self.impacts.inference,
                "impacts_by_order": {} if self.impacts is None else self.impacts.order_json(),
                "tests": {
                    str(k): {kk: (_num(vv) if kk != "note" else vv) for kk, vv in v.items()} for k, v in self.tests.items()
                },
                "notes": list(self.notes),
            }
        )
        if "balance" in self.extra:
            out["balance"] = self.extra["balance"]
        if self.extra.get("random_effects"):
            out["phi"] = _num(self.extra["phi"])
            out["sigma2_mu"] = _num(self.extra["sigma2_mu"])
            out["hausman"] = out["tests"].get("hausman")
        if self.extra.get("dynamic"):
            long = self.extra.get("impacts_long_run")
            out["dynamic"] = True
            out["stable"] = bool(self.extra["stable"])
            out["spectral_radius"] = _num(self.extra["spectral_radius"])
            out["impacts_short_run"] = out["impacts"]
            out["impacts_long_run"] = None if long is None else long.to_json()
            out["bias"] = None if self.extra.get("bias") is None else {k: _num(v) for k, v in self.extra["bias"].items()}
        return out

    def summary(self) -> str:
        title = _MODEL_TITLES.get(self.model, self.model)
        if self.extra.get("dynamic"):
            title = f"Dynamic spatial {'Durbin' if self.model == 'sdm' else 'lag'} panel (tau y_t-1, eta W y_t-1)"
        lines = [title]
        if self.t > 1 or self.effects != "none":
            if self.effects == "random":
                lines.append(f"Panel: n = {self.n}, T = {self.t}, random effects: phi = {_fmt(self.extra.get('phi'))}, "
                             f"sigma2_mu = {_fmt(self.extra.get('sigma2_mu'))}")
            else:
                lines.append(f"Panel: n = {self.n}, T = {self.t}, fixed effects: {self.effects}, "
                             f"bias correction: {self.bias_correction}")
        lines.append(f"Dependent variable: {self.y_name}")
        lines.append("")
        kind = "OLS" if self.model in ("ols", "slx") else "asymptotic"
        lines.append(f"Coefficients: ({kind} standard errors)")
        width = max([len(str(n)) for n in self.coefficients.index] + [12])
        lines.append(f"{'':{width}} {'Estimate':>12} {'Std. Error':>12} {'z value':>10} {'Pr(>|z|)':>12}")
        for name, row in self.coefficients.iterrows():
            lines.append(
                f"{str(name):{width}} {_fmt(row['estimate']):>12} {_fmt(row['se']):>12} "
                f"{_fmt(row['z'], '.4g'):>10} {_fmt_p(row['p']):>12}"
            )
        lines.append("")
        if self.spatial is not None:
            s = self.spatial
            lines.append(
                f"{self.spatial_name.capitalize()}: {_fmt(s['estimate'])}, asymptotic standard error: {_fmt(s['se'])}"
            )
            lines.append(f"    z-value: {_fmt(s['z'], '.5g')}, p-value: {_fmt_p(s['p'])}")
        for name, s in self.spatial_more.items():
            lines.append(f"{name.capitalize()}: {_fmt(s['estimate'])}, asymptotic standard error: {_fmt(s['se'])}")
            lines.append(f"    z-value: {_fmt(s['z'], '.5g')}, p-value: {_fmt_p(s['p'])}")
        lines.append(f"Log likelihood: {_fmt(self.loglik, '.8g')}")
        lines.append(f"ML residual variance (sigma squared): {_fmt(self.sigma2)}, (sigma: {_fmt(math.sqrt(self.sigma2))})")
        lines.append(f"Number of observations: {self.n * self.t}")
        lines.append(f"Number of parameters estimated: {self.n_params}")
        lines.append(f"AIC: {_fmt(self.aic, '.6g')}  [{self.aic_convention}]")
        lines.append(f"Log-determinant: {self.logdet_method} ({self.logdet_description})")
        lines.append(f"Covariance: {self.covariance}")
        if self.tests:
            lines.append("")
            lines.append("Tests:")
            for name, t in self.tests.items():
                df = t.get("df")
                lines.append(
                    f"  {name}: statistic = {_fmt(t.get('statistic'), '.5g')}, df = {_fmt(df, 'g')}, "
                    f"p-value = {_fmt_p(_num(t.get('p')))}"
                )
        if self.impacts is not None:
            lines.append("")
            lines.append(("Short-run " if self.extra.get("dynamic") else "") + self.impacts.summary())
        if self.extra.get("dynamic"):
            lines.append("")
            lines.append(f"Stable: {'yes' if self.extra['stable'] else 'NO'} (spectral radius of "
                         f"(I - rho W)^-1 (tau I + eta W) = {_fmt(self.extra['spectral_radius'], '.4g')})")
            long = self.extra.get("impacts_long_run")
            if long is not None:
                lines.append("Long-run " + long.summary())
        for note in self.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.summary()

    # ----- tables for papers
    def _table_rows(self):
        """(label, estimate, se, p) rows: coefficients, spatial parameter, then impacts."""
        rows = [(str(n), r["estimate"], r["se"], r["p"]) for n, r in self.coefficients.iterrows()]
        if self.spatial is not None:
            rows.append((self.spatial_name, self.spatial["estimate"], self.spatial["se"], self.spatial["p"]))
        for name, d in self.spatial_more.items():
            rows.append((name, d["estimate"], d["se"], d["p"]))
        return rows

    def _impact_rows(self):
        if self.impacts is None:
            return []
        imp = self.impacts
        out = []
        for name in imp.estimates.index:
            for kind in KINDS:
                se = None if imp.se is None else imp.se.at[name, kind]
                p = None if imp.p is None else imp.p.at[name, kind]
                out.append((f"{name} ({kind})", imp.estimates.at[name, kind], se, p))
        return out

    def _footer(self):
        items = [("N", f"{self.n * self.t}"), ("Log-likelihood", _fmt(self.loglik, ".4f")), ("AIC", _fmt(self.aic, ".4f"))]
        items.append(("sigma^2", _fmt(self.sigma2, ".6g")))
        items.append(("Log-determinant", self.logdet_method))
        if self.effects != "none":
            items.append(("Fixed effects", self.effects))
        return items

    def to_latex(self, *, digits: int = 4) -> str:
        """A booktabs LaTeX table: estimates with standard errors in parentheses and stars."""

        def esc(s):
            s = str(s)
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                         ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}")):
                s = s.replace(a, b)
            return s

        def cell(est, se, p):
            stars = _stars(p)
            e = f"{est:.{digits}f}{stars}" if _num(est) is not None else "--"
            s = f"({se:.{digits}f})" if _num(se) is not None else ""
            return e, s

        title = esc(_MODEL_TITLES.get(self.model, self.model))
        lines = [
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption{{{title}: {esc(self.y_name)}}}",
            r"\begin{tabular}{lr}",
            r"\toprule",
            r" & Estimate \\",
            r"\midrule",
        ]
        for label, est, se, p in self._table_rows():
            e, s = cell(est, se, p)
            lines.append(rf"{esc(label)} & {e} \\")
            if s:
                lines.append(rf" & {s} \\")
        imp = self._impact_rows()
        if imp:
            lines.append(r"\midrule")
            lines.append(r"\multicolumn{2}{l}{\textit{Impacts}} \\")
            for label, est, se, p in imp:
                e, s = cell(est, se, p)
                lines.append(rf"{esc(label)} & {e} \\")
                if s:
                    lines.append(rf" & {s} \\")
        lines.append(r"\midrule")
        for k, v in self._footer():
            lines.append(rf"{esc(k)} & {esc(v)} \\")
        lines += [
            r"\bottomrule",
            r"\end{tabular}",
            r"\par\footnotesize Standard errors in parentheses; * p<0.10, ** p<0.05, *** p<0.01.",
            r"\end{table}",
        ]
        return "\n".join(lines)

    def to_html(self, *, digits: int = 4) -> str:
        """An HTML table (names escaped) with estimates, standard errors and significance stars."""
        esc = html.escape

        def row(label, est, se, p):
            e = f"{est:.{digits}f}{_stars(p)}" if _num(est) is not None else "&ndash;"
            s = f"({se:.{digits}f})" if _num(se) is not None else ""
            return f"<tr><th scope=\"row\">{esc(str(label))}</th><td>{e}</td><td>{s}</td></tr>"

        title = esc(f"{_MODEL_TITLES.get(self.model, self.model)}: {self.y_name}")
        parts = [
            '<table class="geo-durbin">',
            f"<caption>{title}</caption>",
            "<thead><tr><th></th><th>Estimate</th><th>Std. error</th></tr></thead>",
            "<tbody>",
        ]
        parts += [row(*r) for r in self._table_rows()]
        imp = self._impact_rows()
        if imp:
            parts.append('<tr><th colspan="3">Impacts</th></tr>')
            parts += [row(*r) for r in imp]
        for k, v in self._footer():
            parts.append(f'<tr><th scope="row">{esc(k)}</th><td colspan="2">{esc(str(v))}</td></tr>')
        parts += [
            "</tbody>",
            '<tfoot><tr><td colspan="3">* p&lt;0.10, ** p&lt;0.05, *** p&lt;0.01</td></tr></tfoot>',
            "</table>",
        ]
        return "\n".join(parts)


def _stars(p) -> str:
    p = _num(p)
    if p is None:
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""
