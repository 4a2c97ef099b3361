"""LISA cluster map: High-High, Low-Low, Low-High, High-Low and not significant, GeoDa's colours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import OptionError, SchemaError, check_choice
from geo.labels import check_lang, t
from geo.viz._base import MapResult, align_values, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import fmt_number
from geo.viz._elements import Legend, UnitLayer, legend_html
from geo.viz._legend import class_styles, nodata_row

__all__ = ["lisa_map", "lisa_clusters", "CLUSTERS", "CORRECTIONS"]

#: cluster labels in legend order with GeoDa's colours
CLUSTERS = (
    ("HH", "High-High", "#ff0000"),
    ("LL", "Low-Low", "#0000ff"),
    ("LH", "Low-High", "#a7adf9"),
    ("HL", "High-Low", "#f4ada8"),
    ("ns", "Not significant", "#eeeeee"),
)
#: esda's Moran_Local.q coding: 1 HH, 2 LH, 3 LL, 4 HL
_ESDA_Q = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
CORRECTIONS = ("none", "bonferroni", "fdr")


def _quadrant_labels(q: pd.Series) -> pd.Series:
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, str):
            s = v.strip().upper().replace("-", "")
            s = {"HIGHHIGH": "HH", "LOWLOW": "LL", "LOWHIGH": "LH", "HIGHLOW": "HL"}.get(s, s)
            if s in ("HH", "LL", "LH", "HL"):
                return s
            if s == "NS":
                return "ns"
        else:
            try:
                return _ESDA_Q.get(int(v))
            except (TypeError, ValueError):
                return None
        return None

    labels = q.map(one)
    bad = labels.isna() & q.notna()
    if bad.any():
        value = q[bad].iloc[0]
        value = value.item() if hasattr(value, "item") else value
        raise SchemaError(
            f"quadrant value {value!r} (unit {q[bad].index[0]!r}) is not one of 1-4 (esda: 1 HH, 2 LH, 3 LL, 4 HL) "
            "or HH, LH, LL, HL, ns"
        )
    return labels


def _threshold(p: np.ndarray, alpha: float, correction: str) -> float:
    """The p-value at or below which a unit is significant."""
    if correction == "none":
        return alpha
    n = len(p)
    if correction == "bonferroni":
        return alpha / n if n else alpha
    # Benjamini-Hochberg: the largest p_(i) with p_(i) <= i/n * alpha (0 = nothing significant)
    ps = np.sort(p)
    ok = ps <= alpha * np.arange(1, n + 1) / n
    return float(ps[ok].max()) if ok.any() else 0.0


def lisa_clusters(lisa, *, alpha: float = 0.05, correction: str = "none") -> tuple[pd.Series, float]:
    """Cluster label per unit (HH, LL, LH, HL, ns; None where p_sim or quadrant is missing) and the p cut-off."""
    check_choice("correction", correction, CORRECTIONS)
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise OptionError(f"alpha={alpha!r} must be between 0 and 1")
    p = pd.to_numeric(lisa["p_sim"], errors="coerce")
    quad = _quadrant_labels(lisa["quadrant"])
    if (quad == "ns").any() and {"value", "lag"} <= set(lisa.columns):
        # geo.autocorr.local_moran labels non-significant units "ns"; their quadrant comes back from
        # the value's deviation from its mean and the spatial lag of the deviations (its `lag` column)
        value = pd.to_numeric(lisa["value"], errors="coerce")
        high, lag_high = value > value.mean(), pd.to_numeric(lisa["lag"], errors="coerce") > 0
        raw = pd.Series(np.where(high, np.where(lag_high, "HH", "HL"), np.where(lag_high, "LH", "LL")), index=lisa.index)
        quad = quad.where(quad != "ns", raw.where(value.notna()))
    valid = p.notna() & quad.notna()
    cut = _threshold(p[valid].to_numpy(float), float(alpha), correction)
    labels = pd.Series(None, index=lisa.index, dtype=object)
    labels[valid] = np.where(p[valid] <= cut, quad[valid], "ns")
    # pandas may store the missing labels as NaN rather than None: make them None, as documented
    return labels.astype(object).where(labels.notna(), None), cut


def _significance_note(alpha: float, correction: str, cut: float, n: int, lang: str = "en") -> str:
    return t(f"sig_{correction}", lang, alpha=f"{alpha:g}", n=n, cut=f"{cut:.3g}")


def lisa_map(
    units,
    lisa,
    *,
    alpha: float = 0.05,
    correction: str = "none",
    title: str | None = None,
    label: str | None = None,
    name_col: str = "name",
    tiles: bool = False,
    simplify: str = "auto",
    tolerance="auto",
    lang: str = "en",
) -> MapResult:
    """Map local Moran clusters.

    ``lisa``: a DataFrame/GeoDataFrame indexed by unit id with columns ``Ii``, ``p_sim`` and
    ``quadrant`` (esda's 1 HH, 2 LH, 3 LL, 4 HL, or the labels), or a result object with
    ``to_frame()`` giving that (``geo.autocorr.local_moran``: its "ns" rows get their quadrant back
    from its ``value`` and ``lag`` columns).  A unit is significant when ``p_sim`` ≤ the cut-off: ``alpha``
    itself (``correction="none"``), ``alpha/n`` (``"bonferroni"``) or the Benjamini-Hochberg
    cut-off (``"fdr"``); the legend states which.  ``label`` names the variable in the title.
    Units without a value (or without a p-value) are drawn hatched grey as "no data", with their
    count in the legend.  ``lang``: ``"en"`` or ``"zh"`` for every label the map writes (高-高 …).
    """
    check_lang(lang)
    if hasattr(lisa, "to_frame") and not isinstance(lisa, (pd.DataFrame, pd.Series)):
        lisa = lisa.to_frame()
    if not isinstance(lisa, pd.DataFrame):
        raise SchemaError("lisa must be a DataFrame indexed by unit id with columns Ii, p_sim, quadrant")
    for col in ("Ii", "p_sim", "quadrant"):
        if col not in lisa.columns:
            raise SchemaError(f"lisa: no column {col!r} (columns are: {', '.join(map(str, lisa.columns))})")
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    cols = [c for c in ("Ii", "p_sim", "quadrant", "value", "lag") if c in lisa.columns]
    frame = pd.DataFrame({c: align_values(units, lisa[c], what="lisa")[0] for c in cols})
    labels, cut = lisa_clusters(frame, alpha=alpha, correction=correction)
    order = [c[0] for c in CLUSTERS]
    codes = labels.map({c: i for i, c in enumerate(order)}).fillna(-1).astype(int)
    names = unit_names(units, name_col)
    nd = t("no data", lang)

    def num(x):
        return nd if pd.isna(x) else fmt_number(x)

    def rows(i):
        lab = labels.loc[i]
        return [
            (t("cluster", lang), nd if lab is None else t(lab, lang)),
            (t("local Moran Ii", lang), num(frame.at[i, "Ii"])),
            (t("pseudo p", lang), num(frame.at[i, "p_sim"])),
        ]

    if lang == "zh":
        heading = f"{label}：LISA 聚类" if label else "LISA 聚类"
    else:
        heading = f"LISA clusters{f' of {label}' if label else ''}"
    title = title if title is not None else heading
    m, geometry = new_map(web, units, names, tiles=tiles, title=title, lang=lang)
    m.add_child(
        UnitLayer(
            geometry, codes.tolist(), *tip_cells(units.index, rows), class_styles([c[2] for c in CLUSTERS]),
            name=t("cluster", lang),
        ),
        name="geo_units",
    )
    n_valid = int(labels.notna().sum())
    counts = {c: int((labels == c).sum()) for c in order}
    legend_rows = [
        ("box", color, f"{t(key, lang)}  ({counts[key]})", {"cluster": key, "count": counts[key]})
        for key, _text, color in CLUSTERS
    ]
    n_missing = int(labels.isna().sum())
    if n_missing:
        legend_rows.append(nodata_row(n_missing, lang))
    note = _significance_note(alpha, correction, cut, n_valid, lang)
    m.add_child(Legend(legend_html(t("LISA cluster", lang), legend_rows, notes=[note])), name="geo_legend")
    finish(m, web)
    info = {
        "heading": t("LISA cluster", lang),
        "alpha": alpha,
        "correction": correction,
        "p_cutoff": cut,
        "counts": counts,
        "n_missing": n_missing,
        "note": note,
        "colors": {c[0]: c[2] for c in CLUSTERS},
    }
    return MapResult(m, "lisa", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
