"""Radiation map: zones (markers with name and approval date), corridors, distance rings, units by band or effect."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo.errors import SchemaError, check_choice
from geo.labels import band_label, check_lang, t
from geo.viz._base import MapResult, align_values, finish, new_map, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import diverging, fmt_number, numeric_values, palette
from geo.viz._elements import Legend, ShapeLayer, UnitLayer, legend_html, tooltip_html
from geo.viz._legend import class_styles, classes_legend, heading_for, nodata_row
from geo.viz._overlays import latlngs, zone_overlays

__all__ = ["radiation_map", "band_classes"]

HOST_COLOR = "#54278f"
OUTSIDE_COLOR = "#f2f2f2"
CORRIDOR_COLOR = "#1b7837"
RING_COLOR = "#444444"


def _band_key(label: str) -> tuple:
    """Sort bands: host first, then by the lower distance ("0-50 km" -> 0), outside last, others by name."""
    s = str(label)
    if s == "host":
        return (0, 0.0, s)
    if s == "outside":
        return (3, 0.0, s)
    m = re.match(r"\s*([0-9.]+)", s)
    return (1, float(m.group(1)), s) if m else (2, 0.0, s)


def band_classes(bands: pd.Series) -> tuple[list[str], list[str], pd.Series]:
    """(labels in order, colours, class code per unit) for categorical bands."""
    present = sorted({str(b) for b in bands.dropna()}, key=_band_key)
    distance = [b for b in present if b not in ("host", "outside")]
    ramp = list(reversed(palette("YlOrRd", max(len(distance), 1))))[: len(distance)]
    colors, it = [], iter(ramp)
    for b in present:
        colors.append(HOST_COLOR if b == "host" else OUTSIDE_COLOR if b == "outside" else next(it))
    codes = bands.map(lambda b: present.index(str(b)) if pd.notna(b) else -1).astype(int)
    return present, colors, codes


def _corridor_items(corridor, lang: str = "en"):
    """Polyline items from a geo.radiation.Corridor (members lon/lat) or a GeoDataFrame of lines."""
    import geopandas as gpd

    if corridor is None:
        return [], []
    if isinstance(corridor, gpd.GeoDataFrame):
        c = corridor.to_crs("EPSG:4326") if corridor.crs is not None and not corridor.crs.equals("EPSG:4326") else corridor
        items = []
        for _, row in c.iterrows():
            if row.geometry is None or row.geometry.is_empty:
                continue
            name = row.get("name", "corridor")
            items.append({"k": "l", "g": latlngs(row.geometry, 5), "s": 0, "t": tooltip_html([(t("corridor", lang), name)])})
        return items, []
    members = getattr(corridor, "members", None)
    if members is None or not {"lon", "lat"} <= set(members.columns):
        raise SchemaError("corridor must be a geo.radiation.Corridor or a GeoDataFrame of lines")
    line = [[round(float(la), 5), round(float(lo), 5)] for lo, la in zip(members["lon"], members["lat"])]
    items = [{"k": "l", "g": line, "s": 0, "t": tooltip_html([(t("corridor", lang), getattr(corridor, "name", "corridor"))])}]
    nodes = []
    for r in members.itertuples():
        rows = [(t("corridor node", lang), r.name)]
        if "year" in members.columns and pd.notna(r.year):
            rows.append((t("joined", lang), int(r.year)))
        nodes.append({"k": "m", "g": [round(float(r.lat), 5), round(float(r.lon), 5)], "s": 0, "t": tooltip_html(rows)})
    return items, nodes


def _ring_items(rings, decimals: int, tolerance: float, lang: str = "en"):
    import geopandas as gpd
    import shapely

    if rings is None:
        return []
    if not isinstance(rings, gpd.GeoDataFrame):
        raise SchemaError("rings must be a GeoDataFrame of polygons (e.g. geo.radiation.rings(...))")
    r = rings.to_crs("EPSG:4326") if rings.crs is not None and not rings.crs.equals("EPSG:4326") else rings
    items = []
    for _, row in r.iterrows():
        g = row.geometry
        if g is None or g.is_empty:
            continue
        g = shapely.set_precision(shapely.simplify(g, tolerance), 10.0**-decimals)
        if g.is_empty:
            continue
        label = row.get("band", row.get("label", "ring"))
        items.append(
            {"k": "p", "g": latlngs(g, decimals), "s": 0, "t": tooltip_html([(t("distance band", lang), band_label(label, lang))])}
        )
    return items


def radiation_map(
    units,
    *,
    values=None,
    zones=None,
    corridor=None,
    rings=None,
    k: int = 3,
    title: str | None = None,
    label: str | None = None,
    units_label: str | None = None,
    fit: str = "overlays",
    name_col: str = "name",
    tiles: bool = False,
    simplify: str = "auto",
    tolerance="auto",
    lang: str = "en",
) -> MapResult:
    """Zones, corridors and distance rings over units coloured by band or by estimated effect.

    ``values``: a band per unit (text such as ``"host"``, ``"0-50 km"``, ``"outside"``; a
    ``geo.radiation.BandAssignment`` or its frame works too) or a numeric effect per unit (colours
    centred on zero, ``k`` classes each side); a Series on unit ids or a column name of ``units``.
    ``zones``: GeoDataFrame from ``geo.zones`` (markers with name and approval date).
    ``corridor``: a ``geo.radiation.Corridor`` or a GeoDataFrame of lines.  ``rings``: polygons with a
    ``band`` column, e.g. ``geo.radiation.rings(zones)``.  ``fit``: open the map on the rings
    (``"overlays"``, the default; all units when there are no rings) or on all ``"units"``.
    """
    check_choice("fit", fit, ("overlays", "units"))
    check_lang(lang)
    web = prepare(units, simplify=simplify, tolerance=tolerance)
    names = unit_names(units, name_col)
    if values is not None and hasattr(values, "to_frame") and not isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame) and "band" in values.columns:
        values = values["band"]
    m, geometry = new_map(web, units, names, tiles=tiles, title=title or t("Radiation", lang), lang=lang)
    legend_rows, info = [], {}
    if values is None:
        series = pd.Series(np.nan, index=units.index)
        codes = pd.Series(0, index=units.index)
        styles = class_styles(["#f7f7f7"])
        label = label or t("units", lang)
        legend_text, heading = "", label
    else:
        series, default_label = align_values(units, values)
        label = label or default_label
        heading = heading_for(label, units_label)
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            series = numeric_values(series, label)
            classes = diverging(series, k=k, lang=lang)
            codes, styles = classes.codes, class_styles(classes.colors)
            legend_text, info = classes_legend(classes, heading, lang=lang)
        else:
            order, colors, codes = band_classes(series)
            styles = class_styles(colors)
            for i, (b, c) in enumerate(zip(order, colors)):
                n = int((codes == i).sum())
                legend_rows.append(("box", c, f"{band_label(b, lang)}  ({n})", {"band": b, "count": n}))
            n_missing = int((codes < 0).sum())
            if n_missing:
                legend_rows.append(nodata_row(n_missing, lang))
            legend_text = legend_html(heading, legend_rows)
            info = {"heading": heading, "bands": order, "colors": colors, "n_missing": n_missing}
    suffix = f" {units_label}" if units_label else ""

    def rows(i):
        v = series.loc[i]
        if values is None:
            return []
        if isinstance(v, (float, np.floating)):
            return [(label, t("no data", lang) if v != v else fmt_number(v) + suffix)]
        return [(label, t("no data", lang) if pd.isna(v) else band_label(v, lang))]

    m.add_child(UnitLayer(geometry, codes.tolist(), *tip_cells(units.index, rows), styles, name=label), name="geo_units")
    extra = []
    ring_items = _ring_items(rings, web.decimals, web.tolerance, lang)
    if ring_items:
        style = [{"color": RING_COLOR, "weight": 1.5, "dashArray": "5 4", "fill": False}]
        m.add_child(ShapeLayer(ring_items, style, name=t("distance ring", lang), css_class="geo-ring"), name="geo_rings")
        extra.append(("ring", RING_COLOR, f"{t('distance ring', lang)} ({len(ring_items)})", {"rings": len(ring_items)}))
    line_items, node_items = _corridor_items(corridor, lang)
    if line_items:
        style = [{"color": CORRIDOR_COLOR, "weight": 3.5, "opacity": 0.9}]
        m.add_child(ShapeLayer(line_items, style, name=t("corridor", lang), css_class="geo-corridor"), name="geo_corridor")
        if node_items:
            nstyle = [{"radius": 4, "color": "#ffffff", "weight": 1, "fillColor": CORRIDOR_COLOR, "fillOpacity": 1.0}]
            m.add_child(ShapeLayer(node_items, nstyle, name=t("corridor node", lang), css_class="geo-node"), name="geo_nodes")
        extra.append(("line", CORRIDOR_COLOR, f"{t('corridor', lang)} ({len(line_items)})", {"corridors": len(line_items)}))
    if zones is not None:
        extra += zone_overlays(m, web, zones, units=units, lang=lang)
    if extra:
        legend_text = legend_text + legend_html(None, extra)
    if legend_text:
        m.add_child(Legend(legend_text), name="geo_legend")
    info["overlays"] = [r[2] for r in extra]
    view = None
    if rings is not None and len(rings) and fit == "overlays":
        minx, miny, maxx, maxy = rings.to_crs("EPSG:4326").total_bounds
        view = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    finish(m, web, layer_control=bool(extra), bounds=view)
    title = title or t("Radiation", lang)
    return MapResult(m, "radiation", title, int(web.geometry.notna().sum()), info, simplification_dict(web), bool(tiles))
