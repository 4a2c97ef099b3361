"""Choropleth of one indicator: mapclassify classes, a legend with scheme and units, "no data" hatched."""

from __future__ import annotations

from geo.labels import check_lang, t
from geo.viz._base import MapResult, align_values, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import classify, fmt_number, numeric_values
from geo.viz._elements import Legend, UnitLayer
from geo.viz._legend import class_styles, classes_legend, heading_for

__all__ = ["choropleth"]

def choropleth(
    units,
    values,
    *,
    scheme: str = "quantiles",
    k: int = 5,
    breaks=None,
    title: str | None = None,
    label: str | None = None,
    units_label: str | None = None,
    cmap: str = "YlOrRd",
    name_col: str = "name",
    tiles: bool = False,
    simplify: str = "auto",
    tolerance="auto",
    lang: str = "en",
) -> MapResult:
    """Map one indicator by class.

    ``values``: a Series indexed by unit id, or the name of a column of ``units`` (a GeoDataFrame
    indexed by unit id).  ``scheme``: ``"quantiles"``, ``"equal"`` (equal intervals), ``"jenks"``
    (Fisher-Jenks natural breaks) or ``"breaks:10,20,50"`` / ``breaks=[10, 20, 50]`` (user breaks),
    all as mapclassify defines them, with ``k`` classes (quantiles, equal intervals and user breaks
    and Fisher-Jenks computed by geo, bit-equal to mapclassify, which is not imported).  Units without a value are drawn hatched grey
    and counted as "no data" in the legend.  ``units_label`` (e.g. "yuan per person") is shown in
    the legend heading and tooltips.  No network is used unless ``tiles=True``.  ``lang``: ``"en"`` or
    ``"zh"`` for the labels the map writes (无数据, class notes).

    Example: ``geo.viz.choropleth(gdf, "gdp_pc", units_label="yuan").save("gdp.html")``
    """
    check_lang(lang)
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    series, default_label = align_values(units, values)
    label = label or default_label
    series = numeric_values(series, label)
    classes = classify(series, scheme=scheme, k=k, breaks=breaks, cmap=cmap)
    heading = heading_for(label, units_label)
    title = title if title is not None else label
    names = unit_names(units, name_col)
    suffix = f" {units_label}" if units_label else ""

    def rows(i):
        v = series.loc[i]
        return [(label, t("no data", lang) if v != v else fmt_number(v) + suffix)]

    m, geometry = new_map(web, units, names, tiles=tiles, title=title, lang=lang)
    layer = UnitLayer(geometry, classes.codes.tolist(), *tip_cells(units.index, rows), class_styles(classes.colors), name=label)
    m.add_child(layer, name="geo_units")
    legend_text, info = classes_legend(classes, heading, lang=lang)
    m.add_child(Legend(legend_text), name="geo_legend")
    finish(m, web)
    return MapResult(m, "choropleth", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
