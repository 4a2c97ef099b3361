"""Plots for papers: event study by ring, distance decay, Moran scatter with LISA quadrants, impacts.

Built from results' documented JSON (``to_json()``; a radiation result's ``event_study`` and ``bands``, a
model's ``impacts``) or, for the Moran scatter, from the local Moran table (``value`` and ``lag`` columns of
``geo.autocorr.local_moran(...).to_frame()``), so they do not depend on the estimators' classes.  Each
returns a :class:`Plot` (``save(path, format=, dpi=)`` to PNG/SVG/PDF, ``summary()``, ``to_json()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.figures._style import FigureOutput, figure_context, parse_size
from geo.labels import band_label, check_lang, t
from geo.viz.lisa import CLUSTERS, lisa_clusters

__all__ = ["Plot", "event_study_plot", "decay_plot", "moran_scatter", "impacts_plot"]

#: one colour per band (host first), colour-blind safe (Okabe-Ito)
BAND_COLORS = ("#000000", "#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")


@dataclass(frozen=True)
class Plot(FigureOutput):
    figure: object
    kind: str
    title: str
    series: tuple
    size_in: tuple
    lang: str
    font: str | None = None
    notes: tuple = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {"kind": self.kind, "title": self.title, "series": list(self.series), "size_in": list(self.size_in),
                "lang": self.lang, "font": self.font, "notes": list(self.notes)}

    def summary(self) -> str:
        lines = [f"{self.kind} plot: {self.title}", f"  series: {', '.join(map(str, self.series))}"]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _records(obj, key: str, what: str) -> list[dict]:
    recs = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(recs, list) or not recs or not all(isinstance(r, dict) for r in recs):
        raise SchemaError(f"{what}: no {key!r} list of records in the JSON")
    return recs


def _new(size):
    from matplotlib.figure import Figure

    w, h = parse_size(size)
    fig = Figure(figsize=(w, h), layout="constrained")
    return fig, fig.add_subplot(), (w, h)


def _band_order(bands) -> list[str]:
    def key(b):
        if b == "host":
            return (0, 0.0)
        try:
            return (1, float(str(b).split("-")[0]))
        except ValueError:
            return (2, 0.0)

    return sorted(bands, key=key)


def _style_axes(ax):
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.axhline(0, color="#666666", lw=0.7, zorder=0)


def event_study_plot(result, *, bands=None, lang: str = "en", title: str | None = None, size="16x10cm") -> Plot:
    """Coefficients by event time for each ring (host and distance bands) with their confidence bands.

    ``result``: a radiation result's JSON (its ``event_study``) or the ``event_study`` object itself
    (``coefficients``: band, rel_time, estimate, ci_lower, ci_upper; ``reference_period``; ``level``).
    The reference period is drawn at 0 (normalised)."""
    check_lang(lang)
    es = result.get("event_study", result) if isinstance(result, dict) else None
    recs = pd.DataFrame(_records(es, "coefficients", "event study"))
    for col in ("band", "rel_time", "estimate"):
        if col not in recs.columns:
            raise SchemaError(f"event study: coefficients lack {col!r}")
    ref = es.get("reference_period", -1)
    level = float(es.get("level", 0.95))
    order = _band_order(recs["band"].astype(str).unique())
    if bands is not None:
        order = [b for b in order if b in set(map(str, bands))]
    fig, ax, size_in = _new(size)
    with figure_context() as font:
        n = len(order)
        for i, band in enumerate(order):
            d = recs[recs["band"].astype(str) == band].sort_values("rel_time")
            if ref is not None and not (d["rel_time"] == ref).any():
                d = pd.concat([d, pd.DataFrame([{"rel_time": ref, "estimate": 0.0, "ci_lower": 0.0, "ci_upper": 0.0}])])
                d = d.sort_values("rel_time")
            x = d["rel_time"].to_numpy(float) + (i - (n - 1) / 2) * 0.08  # dodge so intervals do not overlap
            color = BAND_COLORS[i % len(BAND_COLORS)]
            ax.plot(x, d["estimate"], marker="o", ms=3, lw=1.2, color=color, label=band_label(band, lang))
            if {"ci_lower", "ci_upper"} <= set(d.columns):
                ax.fill_between(x, d["ci_lower"].astype(float), d["ci_upper"].astype(float), color=color, alpha=0.15,
                                lw=0)
        _style_axes(ax)
        if ref is not None:
            ax.axvline(float(ref) + 0.5, color="#999999", lw=0.8, ls="--")
        ax.set_xlabel(t("Event time (years since approval)", lang))
        ax.set_ylabel(t("Effect on outcome", lang) + (f" ({es['y']})" if es.get("y") else ""))
        ax.legend(frameon=False, fontsize=7, title=t("band_ci", lang, level=f"{100 * level:g}"), title_fontsize=7)
        ax.set_title(title if title is not None else t("Event study", lang), fontsize=10)
    return Plot(fig, "event-study", title or t("Event study", lang), tuple(order), size_in, lang, font)


def decay_plot(result, *, lang: str = "en", title: str | None = None, size="14x9cm") -> Plot:
    """The radiation effect by distance: each band's estimate at its mid-distance with its interval
    (shaded band and whiskers); the host at 0 km.  ``result``: a radiation result's JSON (``bands``), or a
    distance curve's (``reach`` of ``geo radiation --reach curve``: its ``curve``, with the uniform band shaded)."""
    check_lang(lang)
    if isinstance(result, dict) and isinstance(result.get("reach"), dict) and "curve" in result["reach"]:
        result = {"y": result.get("y"), **result["reach"]}  # geo radiation --reach curve --json: draw the curve
    key = "curve" if isinstance(result, dict) and isinstance(result.get("curve"), list) else "bands"
    recs = pd.DataFrame(_records(result, key, "distance decay"))
    need = {"band", "estimate"}
    if not need <= set(recs.columns):
        raise SchemaError(f"distance decay: bands lack {sorted(need - set(recs.columns))[0]!r}")
    lower = recs.get("lower_km", pd.Series(0.0, index=recs.index)).astype(float)
    upper = recs.get("upper_km", pd.Series(0.0, index=recs.index)).astype(float)
    recs = recs.assign(mid=(lower + upper) / 2).sort_values("mid")
    if "ci_lower" not in recs.columns and "se" in recs.columns:
        recs["ci_lower"] = recs["estimate"] - 1.96 * recs["se"]
        recs["ci_upper"] = recs["estimate"] + 1.96 * recs["se"]
    fig, ax, size_in = _new(size)
    with figure_context() as font:
        x = recs["mid"].to_numpy(float)
        y = recs["estimate"].to_numpy(float)
        ax.plot(x, y, color="#0072B2", lw=1.4, marker="o", ms=4, zorder=3)
        if "ci_lower" in recs.columns:
            lo, hi = recs["ci_lower"].to_numpy(float), recs["ci_upper"].to_numpy(float)
            ax.fill_between(x, lo, hi, color="#0072B2", alpha=0.15, lw=0)
            ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="none", ecolor="#0072B2", elinewidth=0.8, capsize=2)
        if "band_lower" in recs.columns:  # the curve's uniform band (geo.radiation.reach), lighter and wider
            ax.fill_between(x, recs["band_lower"].to_numpy(float), recs["band_upper"].to_numpy(float),
                            color="#0072B2", alpha=0.08, lw=0)
        for xi, yi, b in zip(x, y, recs["band"].astype(str)):
            ax.annotate(band_label(b, lang), (xi, yi), textcoords="offset points", xytext=(4, 6), fontsize=6.5,
                        color="#333333")
        _style_axes(ax)
        ax.set_xlabel(t("Distance (km)", lang))
        ax.set_ylabel(t("Effect on outcome", lang) + (f" ({result['y']})" if result.get("y") else ""))
        ax.set_title(title if title is not None else t("Distance decay", lang), fontsize=10)
    bands = tuple(recs["band"].astype(str))
    return Plot(fig, "distance-decay", title or t("Distance decay", lang), bands, size_in, lang, font)


def moran_scatter(lisa, *, alpha: float = 0.05, correction: str = "none", lang: str = "en", title: str | None = None,
                  size="12x12cm") -> Plot:
    """Standardised values against their spatial lag, points coloured by LISA cluster, the Moran's I slope.

    ``lisa``: ``geo.autocorr.local_moran(...)`` or its ``to_frame()`` (columns ``value``, ``lag`` = spatial
    lag of the deviations from the mean, ``p_sim``, ``quadrant``).  Units without a value are left out."""
    check_lang(lang)
    if hasattr(lisa, "to_frame") and not isinstance(lisa, (pd.DataFrame, pd.Series)):
        lisa = lisa.to_frame()
    for col in ("value", "lag", "p_sim", "quadrant"):
        if col not in lisa.columns:
            raise SchemaError(f"Moran scatter: the local Moran table has no column {col!r} (use geo.autocorr.local_moran)")
    frame = lisa[["value", "lag", "p_sim", "quadrant"]].copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    frame["lag"] = pd.to_numeric(frame["lag"], errors="coerce")
    frame = frame[frame["value"].notna() & frame["lag"].notna()]
    if len(frame) < 3:
        raise SchemaError("Moran scatter: fewer than 3 units with a value")
    sd = float(frame["value"].std(ddof=0))
    if not sd > 0:
        raise SchemaError("Moran scatter: the variable is constant")
    z = (frame["value"] - frame["value"].mean()) / sd
    wz = frame["lag"] / sd
    slope = float((z * wz).sum() / (z * z).sum())  # Moran's I with row-standardised weights
    labels, _cut = lisa_clusters(frame, alpha=alpha, correction=correction)
    fig, ax, size_in = _new(size)
    with figure_context() as font:
        for key, _text, color in CLUSTERS:
            m = (labels == key).to_numpy()
            if m.any():
                ax.scatter(z[m], wz[m], s=9, c=color, edgecolors="#555555" if key == "ns" else "none", linewidths=0.3,
                           label=f"{t(key, lang)} ({int(m.sum())})", zorder=3)
        xs = np.array([z.min(), z.max()])
        ax.plot(xs, slope * xs, color="#222222", lw=1)
        ax.axhline(0, color="#999999", lw=0.7)
        ax.axvline(0, color="#999999", lw=0.7)
        for key, (qx, qy) in (("HH", (0.97, 0.97)), ("LL", (0.03, 0.03)), ("LH", (0.03, 0.97)), ("HL", (0.97, 0.03))):
            ax.text(qx, qy, t(key, lang), transform=ax.transAxes, ha="right" if qx > 0.5 else "left",
                    va="top" if qy > 0.5 else "bottom", fontsize=7, color="#555555")
        ax.set_xlabel(t("Value (standardised)", lang))
        ax.set_ylabel(t("Spatial lag", lang))
        ax.legend(frameon=False, fontsize=7, loc="lower right", bbox_to_anchor=(1, 0.06))
        default = f"{t('Moran scatter', lang)} (I = {slope:.3f})"
        ax.set_title(title if title is not None else default, fontsize=10)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
    notes = (f"slope (Moran's I) {slope:.6f} from {len(frame)} units",)
    return Plot(fig, "moran-scatter", title or default, (f"I = {slope:.6f}",), size_in, lang, font, notes)


def impacts_plot(result, *, lang: str = "en", title: str | None = None, size="14x9cm") -> Plot:
    """Direct, indirect and total impacts per variable as dots with interval whiskers (``lower``/``upper``
    from the JSON, else ±1.96 SE).  ``result``: a model's JSON (``impacts``) or the ``impacts`` mapping."""
    check_lang(lang)
    impacts = result.get("impacts", result) if isinstance(result, dict) else None
    if not isinstance(impacts, dict) or not impacts:
        raise SchemaError("impacts plot: the JSON has no 'impacts'")
    parts = ("direct", "indirect", "total")
    colors = {"direct": "#0072B2", "indirect": "#D55E00", "total": "#000000"}
    names = list(impacts)
    fig, ax, size_in = _new(size)
    with figure_context() as font:
        for j, part in enumerate(parts):
            ys, xs, lo, hi = [], [], [], []
            for i, var in enumerate(names):
                b = impacts[var].get(part) if isinstance(impacts[var], dict) else None
                if not isinstance(b, dict) or b.get("estimate") is None:
                    raise SchemaError(f"impacts of {var!r}: no {part} estimate")
                est = float(b["estimate"])
                low = b.get("lower")
                high = b.get("upper")
                if low is None or high is None:
                    se = float(b.get("se") or 0.0)
                    low, high = est - 1.96 * se, est + 1.96 * se
                ys.append(i + (j - 1) * 0.22)
                xs.append(est)
                lo.append(est - float(low))
                hi.append(float(high) - est)
            ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", ms=4, color=colors[part], elinewidth=1, capsize=2,
                        label=t(part.capitalize(), lang))
        ax.set_yticks(range(len(names)), [n[2:] if str(n).startswith("W_") else str(n) for n in names])
        ax.invert_yaxis()
        ax.axvline(0, color="#666666", lw=0.7)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        ax.set_xlabel(t("Effect", lang))
        ax.legend(frameon=False, fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
        ax.set_title(title if title is not None else t("Impacts", lang), fontsize=10)
    if any(math.isnan(x) for x in ax.get_xlim()):  # pragma: no cover - guarded above
        raise SchemaError("impacts plot: non-finite values")
    return Plot(fig, "impacts", title or t("Impacts", lang), tuple(map(str, names)), size_in, lang, font)
