"""Overlays drawn on top of the units: zones (markers or outlined host units), shape helpers."""

from __future__ import annotations

import pandas as pd

from geo.errors import SchemaError
from geo.labels import t
from geo.viz._base import unit_names
from geo.viz._elements import ShapeLayer, tooltip_html

__all__ = ["ZONE_COLOR", "latlngs", "zone_points", "zone_overlays"]

ZONE_COLOR = "#111111"


def latlngs(geom, decimals: int):
    """Leaflet [lat, lon] nesting for a (multi)polygon or (multi)line, rounded."""
    import shapely

    def ring(coords):
        return [[round(y, decimals), round(x, decimals)] for x, y in coords]

    kind = geom.geom_type
    if kind == "Polygon":
        return [ring(geom.exterior.coords)] + [ring(r.coords) for r in geom.interiors]
    if kind == "MultiPolygon":
        return [latlngs(p, decimals) for p in geom.geoms]
    if kind == "LineString":
        return ring(geom.coords)
    if kind == "MultiLineString":
        return [ring(g.coords) for g in geom.geoms]
    if kind == "GeometryCollection":
        parts = [g for g in geom.geoms if not g.is_empty]
        return latlngs(shapely.union_all(parts), decimals) if parts else []
    raise SchemaError(f"cannot draw a {kind} here")


def zone_points(zones, *, names_col: str = "name", lang: str = "en"):
    """Marker items for zones (a GeoDataFrame of points or polygons: their representative point)."""
    import geopandas as gpd

    if not isinstance(zones, gpd.GeoDataFrame):
        raise SchemaError("zones must be a GeoDataFrame (geo.zones.registry() / from_file())")
    z = zones.to_crs("EPSG:4326") if zones.crs is not None and not zones.crs.equals("EPSG:4326") else zones
    items = []
    for _, row in z.iterrows():
        g = row.geometry
        if g is None or g.is_empty:
            continue
        pt = g if g.geom_type == "Point" else g.representative_point()
        rows = [(t("zone", lang), row.get(names_col, row.get("zone_id", "")))]
        for col, text in (("approval_date", "approved"), ("kind", "kind"), ("host_adcode", "zone host unit")):
            if col in z.columns and pd.notna(row.get(col)):
                rows.append((t(text, lang), row[col]))
        items.append({"k": "m", "g": [round(pt.y, 5), round(pt.x, 5)], "s": 0, "t": tooltip_html(rows)})
    return items


def zone_overlays(m, web, zones, *, units=None, lang: str = "en") -> list[tuple]:
    """Mark zones on ``m``: ids of units -> thick outlines; a GeoDataFrame -> circle markers.

    Returns legend rows for what was drawn.
    """
    import geopandas as gpd

    rows = []
    if zones is None:
        return rows
    if isinstance(zones, gpd.GeoDataFrame):
        items = zone_points(zones, lang=lang)
        style = [{"radius": 6, "color": "#ffffff", "weight": 1.5, "fillColor": ZONE_COLOR, "fillOpacity": 1.0}]
        m.add_child(ShapeLayer(items, style, name=t("zones", lang), css_class="geo-zone"), name="geo_zones")
        rows.append(("dot", ZONE_COLOR, f"{t('zone', lang)} ({len(items)})", {"zones": len(items)}))
        return rows
    ids = [str(z) for z in ([zones] if isinstance(zones, str) else list(zones))]
    missing = [z for z in ids if z not in web.geometry.index]
    if missing:
        raise SchemaError(f"zones: unit id {missing[0]!r} is not among the units")
    items = []
    names = unit_names(units, "name") if units is not None else pd.Series(ids, index=ids)
    for z in ids:
        g = web.geometry.loc[z]
        if g is None or g.is_empty:
            continue
        tip = tooltip_html([(t("zone host unit", lang), names.get(z, z)), ("id", z)])
        items.append({"k": "p", "g": latlngs(g, web.decimals), "s": 0, "t": tip})
    style = [{"color": ZONE_COLOR, "weight": 3, "fill": False, "interactive": True}]
    m.add_child(ShapeLayer(items, style, name=t("zone host unit", lang), css_class="geo-zone-unit"), name="geo_zones")
    rows.append(("line", ZONE_COLOR, f"{t('zone host unit', lang)} ({len(items)})", {"zones": len(items)}))
    return rows
