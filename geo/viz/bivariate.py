"""Bivariate choropleth: two indicators, 3×3 classes (terciles of each by default), a legend square.

Each unit's colour is the cell of (class of x, class of y) in a 3×3 palette whose corners are
"both low" (light grey), "x high" (teal), "y high" (pink) and "both high" (dark blue) — the scheme of
Joshua Stevens' bivariate maps.  Classes are computed as mapclassify defines them (quantiles by default), as for the
choropleth; units missing either value are hatched "no data" and counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import OptionError
from geo.labels import check_lang, t
from geo.viz._base import MapResult, align_values, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import classify, fmt_number, numeric_values
from geo.viz._elements import Legend, UnitLayer, esc, legend_html
from geo.viz._legend import class_styles, nodata_row

__all__ = ["bivariate_map", "BIVARIATE_COLORS"]

#: 3×3 palette, index = 3 * class_of_y + class_of_x (row 0 = y low)
BIVARIATE_COLORS = (
    "#e8e8e8", "#ace4e4", "#5ac8c8",
    "#dfb0d6", "#a5add3", "#5698b9",
    "#be64ac", "#8c62aa", "#3b4994",
)


def _square(x_label: str, y_label: str, counts: np.ndarray, x_bins, y_bins) -> str:
    """The legend square: 3×3 cells (y up, x right) with their unit counts, axis labels escaped."""
    cells = []
    for row in (2, 1, 0):  # top row = y high
        for col in range(3):
            i = 3 * row + col
            n = int(counts[i])
            cells.append(
                f'<span class="geo-bv-cell" data-cell="{i}" data-count="{n}" title="{n}" '
                f'style="background:{BIVARIATE_COLORS[i]}">{n}</span>'
            )
    xb = " / ".join(fmt_number(b) for b in x_bins[:2])
    yb = " / ".join(fmt_number(b) for b in y_bins[:2])
    return (
        '<div class="geo-bv"><div class="geo-bv-y">' + esc(y_label) + f" ↑<br><small>{esc(yb)}</small></div>"
        '<div class="geo-bv-grid">' + "".join(cells) + "</div>"
        f'<div class="geo-bv-x">{esc(x_label)} →<br><small>{esc(xb)}</small></div></div>'
    )


_CSS = (
    "<style>.geo-bv{display:grid;grid-template-columns:auto auto;gap:2px 6px;align-items:end}"
    ".geo-bv-y{grid-column:1;grid-row:1;font-size:11px;text-align:right}"
    ".geo-bv-grid{grid-column:2;grid-row:1;display:grid;grid-template-columns:repeat(3,22px);gap:1px}"
    ".geo-bv-cell{height:22px;font-size:9px;color:#222;display:flex;align-items:center;justify-content:center}"
    ".geo-bv-x{grid-column:2;grid-row:2;font-size:11px}</style>"
)


def bivariate_map(
    units, x, y, *, scheme: str = "quantiles", title: str | None = None, name_col: str = "name",
    tiles: bool = False, simplify: str = "auto", tolerance="auto", lang: str = "en",
) -> MapResult:
    """Map two indicators at once: 3 classes of ``x`` × 3 classes of ``y`` (``scheme`` as in
    :func:`geo.viz.choropleth`: quantiles = terciles, equal, jenks) with a 3×3 legend square."""
    check_lang(lang)
    if scheme.lower().startswith("breaks"):
        raise OptionError("a bivariate map takes scheme quantiles, equal or jenks (3 classes each)")
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    xs, x_label = align_values(units, x, what="x")
    ys, y_label = align_values(units, y, what="y")
    xs, ys = numeric_values(xs, x_label), numeric_values(ys, y_label)
    both = xs.notna() & ys.notna()
    cx = classify(xs.where(both), scheme=scheme, k=3)
    cy = classify(ys.where(both), scheme=scheme, k=3)
    if cx.k < 3 or cy.k < 3:
        raise OptionError(f"a bivariate map needs 3 classes of each variable; {x_label!r} gives {cx.k}, "
                          f"{y_label!r} gives {cy.k} (too few distinct values)")
    codes = pd.Series(-1, index=units.index, dtype=int)
    codes[both] = (3 * cy.codes[both] + cx.codes[both]).astype(int)
    counts = np.bincount(codes[both].to_numpy(), minlength=9)
    names = unit_names(units, name_col)
    nd = t("no data", lang)

    def rows(i):
        return [(x_label, nd if pd.isna(xs.loc[i]) else fmt_number(xs.loc[i])),
                (y_label, nd if pd.isna(ys.loc[i]) else fmt_number(ys.loc[i]))]

    title = title if title is not None else f"{x_label} × {y_label}"
    m, geometry = new_map(web, units, names, tiles=tiles, title=title, lang=lang)
    m.add_child(UnitLayer(geometry, codes.tolist(), *tip_cells(units.index, rows), class_styles(BIVARIATE_COLORS),
                          name=title), name="geo_units")
    n_missing = int((~both).sum())
    extra = legend_html(None, [nodata_row(n_missing, lang)]) if n_missing else ""
    sep = "：" if lang == "zh" else ": "
    note = f'<div class="geo-note">{esc(t("Classes", lang) + sep + cx.describe(lang))}</div>'
    m.add_child(Legend(_CSS + _square(x_label, y_label, counts, cx.bins, cy.bins) + extra + note), name="geo_legend")
    finish(m, web)
    info = {
        "heading": title,
        "x": x_label,
        "y": y_label,
        "x_bins": list(cx.bins),
        "y_bins": list(cy.bins),
        "counts": [int(c) for c in counts],
        "colors": list(BIVARIATE_COLORS),
        "n_missing": n_missing,
    }
    return MapResult(m, "bivariate", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
