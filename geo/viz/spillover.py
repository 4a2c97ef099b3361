"""Spillover map: each unit's predicted direct/indirect effect, diverging colours centred on zero, zones marked."""

from __future__ import annotations

from geo.labels import check_lang, t
from geo.viz._base import MapResult, align_values, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import diverging, fmt_number, numeric_values
from geo.viz._elements import Legend, UnitLayer, legend_html
from geo.viz._legend import class_styles, classes_legend, heading_for
from geo.viz._overlays import zone_overlays

__all__ = ["spillover_map"]


def spillover_map(
    units,
    effects,
    *,
    zones=None,
    k: int = 3,
    scale: str = "log",
    title: str | None = None,
    label: str | None = None,
    units_label: str | None = None,
    cmap: str = "RdBu",
    name_col: str = "name",
    tiles: bool = False,
    simplify: str = "auto",
    tolerance="auto",
    lang: str = "en",
) -> MapResult:
    """Map each unit's effect (direct, indirect or total) with colours centred on zero.

    ``effects``: a Series indexed by unit id (e.g. one column of a scenario's per-unit effects)
    or a column name of ``units``.  ``scale="log"`` (default): ``k`` classes per side, one per
    decade of the largest absolute effect, and an "about 0" class below max|effect|/10**k, since
    spillovers fade geometrically with distance; ``scale="equal"``: ``k`` equal-width classes on
    each side up to the largest absolute effect.  Negative effects blue, positive red.
    ``zones``: unit ids hosting the zone(s) (drawn with a thick outline) or a zones
    GeoDataFrame (drawn as markers with name and approval date).
    """
    check_lang(lang)
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    series, default_label = align_values(units, effects, what="effects")
    label = label or default_label
    series = numeric_values(series, label)
    classes = diverging(series, k=k, cmap=cmap, scale=scale, lang=lang)
    heading = heading_for(label, units_label)
    title = title if title is not None else f"{t('Spillover', lang)}{'：' if lang == 'zh' else ': '}{label}"
    names = unit_names(units, name_col)
    suffix = f" {units_label}" if units_label else ""

    def rows(i):
        v = series.loc[i]
        return [(label, t("no data", lang) if v != v else fmt_number(v) + suffix)]

    m, geometry = new_map(web, units, names, tiles=tiles, title=title, lang=lang)
    m.add_child(
        UnitLayer(geometry, classes.codes.tolist(), *tip_cells(units.index, rows), class_styles(classes.colors), name=label),
        name="geo_units",
    )
    extra = zone_overlays(m, web, zones, units=units, lang=lang)
    legend_text, info = classes_legend(classes, heading, lang=lang)
    if extra:  # the zone rows go under the classes
        legend_text = legend_text + legend_html(None, extra)
    info["zones"] = [r[2] for r in extra]
    m.add_child(Legend(legend_text), name="geo_legend")
    finish(m, web, layer_control=bool(extra))
    return MapResult(m, "spillover", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
