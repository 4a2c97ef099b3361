"""A choropleth of several years: one layer per year (radio buttons), classes pooled over all years."""

from __future__ import annotations

import pandas as pd

from geo.errors import SchemaError
from geo.labels import check_lang, t
from geo.viz._base import MapResult, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import classify, fmt_number, numeric_values
from geo.viz._elements import Legend, UnitLayer, YearSlider
from geo.viz._legend import class_styles, classes_legend, heading_for

__all__ = ["choropleth_years"]


def _wide(units, table, var, year_col) -> pd.DataFrame:
    """units x years frame of ``var`` from a long table (id index or column named like units.index)."""
    if not isinstance(table, pd.DataFrame):
        raise SchemaError("table must be a DataFrame with a year column and the variable")
    id_name = units.index.name or "id"
    t = table
    if id_name in t.columns:
        t = t.set_index(id_name)
    for col in (year_col, var):
        if col not in t.columns:
            raise SchemaError(f"table: no column {col!r} (columns are: {', '.join(map(str, t.columns))})")
    t = t[[year_col, var]].copy()
    t.index = t.index.astype(str)
    years = pd.to_numeric(t[year_col], errors="coerce")
    if years.isna().any():
        raise SchemaError(f"table: column {year_col!r} has a non-numeric year ({t[year_col][years.isna()].iloc[0]!r})")
    t[year_col] = years.astype(int)
    if t.reset_index().duplicated([t.index.name or "index", year_col]).any():
        raise SchemaError(f"table: more than one row for the same unit and year in {var!r}")
    wide = t.reset_index().pivot(index=t.index.name or "index", columns=year_col, values=var)
    if not wide.index.isin(units.index).any():
        raise SchemaError(f"table: none of its ids (e.g. {wide.index[0]!r}) are ids of the units")
    return wide.reindex(units.index)


def pooled_years(units, table, var, *, year_col, years, scheme, k, breaks, cmap):
    """(units × years frame of ``var`` as floats, Classes of all unit-years pooled: codes keyed "id|year")."""
    wide = _wide(units, table, var, year_col)
    if years is not None:
        missing = [y for y in years if int(y) not in wide.columns]
        if missing:
            raise SchemaError(f"table: no rows for year {missing[0]} in {var!r}")
        wide = wide[[int(y) for y in years]]
    wide = wide.apply(lambda c: numeric_values(c, var))
    pooled = wide.stack(future_stack=True)
    pooled.index = [f"{i}|{y}" for i, y in pooled.index]
    return wide, classify(pooled, scheme=scheme, k=k, breaks=breaks, cmap=cmap)


def choropleth_years(
    units,
    table,
    var: str,
    *,
    year_col: str = "year",
    years=None,
    scheme: str = "quantiles",
    k: int = 5,
    breaks=None,
    title: str | None = None,
    units_label: str | None = None,
    cmap: str = "YlOrRd",
    name_col: str = "name",
    tiles: bool = False,
    simplify: str = "auto",
    tolerance="auto",
    lang: str = "en",
) -> MapResult:
    """Map ``var`` for several years: one layer per year with a layer control (the last year shown).

    ``table``: long DataFrame with the unit id (index or a column named like ``units.index``),
    ``year_col`` and ``var``.  Classes are computed on all years pooled, so a colour means the same
    values in every year (the legend says so).  The geometry is written once for all years.
    """
    check_lang(lang)
    wide, classes = pooled_years(units, table, var, year_col=year_col, years=years, scheme=scheme, k=k, breaks=breaks,
                                 cmap=cmap)
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    heading = heading_for(var, units_label)
    title = title if title is not None else f"{var}, {wide.columns[0]}-{wide.columns[-1]}"
    names = unit_names(units, name_col)
    suffix = f" {units_label}" if units_label else ""
    styles = class_styles(classes.colors)
    m, geometry = new_map(web, units, names, tiles=tiles, title=title, lang=lang)
    last = wide.columns[-1]
    layers = []
    for year in wide.columns:
        col = wide[year]
        codes = [int(classes.codes[f"{i}|{year}"]) for i in units.index]

        def rows(i, col=col, year=year):
            v = col.loc[i]
            return [(t("year", lang), year), (var, t("no data", lang) if v != v else fmt_number(v) + suffix)]

        heads, cells = tip_cells(units.index, rows)
        layer = UnitLayer(geometry, codes, heads, cells, styles, name=str(year), overlay=False, show=year == last)
        m.add_child(layer, name=f"geo_units_{year}")
        layers.append(layer)
    m.add_child(YearSlider(layers, list(wide.columns)), name="geo_year_slider")
    note = t("years_note", lang)
    legend_text, info = classes_legend(classes, heading, extra_notes=[note], lang=lang)
    m.add_child(Legend(legend_text), name="geo_legend")
    finish(m, web, layer_control=True)
    info["years"] = [int(y) for y in wide.columns]
    return MapResult(m, "choropleth-years", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
