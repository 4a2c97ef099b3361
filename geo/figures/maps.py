"""Print maps of every kind: choropleth, LISA clusters, spillover, radiation, scenario.

Each takes the same inputs as its web map in ``geo.viz`` and classifies with the same code
(mapclassify classes, diverging classes, LISA clusters, distance bands), then draws the frame of
``geo.figures._layout.draw`` (whole territory, boundaries, South China Sea inset, north arrow, scale bar,
legend with counts and "no data").  Layout options shared by all kinds (keyword-only):

``title``, ``lang`` ("en"/"zh"), ``extent`` (None = whole territory; ``"province:34"``,
``"zone:合肥:300km"``, ``"bbox:lon0,lat0,lon1,lat1"``), ``inset`` ("auto", "none", "on"),
``size`` ("16x12cm", "160x120mm", "6.5x5in"), ``credit`` (source line), ``review_number`` (审图号).
"""

from __future__ import annotations

import pandas as pd

from geo.figures._layout import LegendRow, PrintMap, draw, hex_colors, legend_from_classes
from geo.labels import band_label, check_lang, t
from geo.viz._base import align_values, check_units
from geo.viz._classify import classify, diverging, numeric_values
from geo.viz.lisa import CLUSTERS, lisa_clusters
from geo.viz.radiation import CORRIDOR_COLOR, RING_COLOR, band_classes
from geo.viz._overlays import ZONE_COLOR

__all__ = ["choropleth_print", "lisa_print", "spillover_print", "radiation_print", "scenario_print", "KINDS"]

KINDS = ("choropleth", "lisa", "spillover", "radiation", "scenario")


def _layout(kw):
    allowed = {"title", "lang", "extent", "inset", "size", "credit", "review_number"}
    unknown = set(kw) - allowed
    if unknown:
        raise TypeError(f"unexpected option {sorted(unknown)[0]!r} (layout options: {', '.join(sorted(allowed))})")
    return kw


def choropleth_print(
    units, values, *, scheme: str = "quantiles", k: int = 5, breaks=None, cmap: str = "YlOrRd",
    label: str | None = None, units_label: str | None = None, **layout,
) -> PrintMap:
    """A print choropleth of one indicator (classes as in :func:`geo.viz.choropleth`)."""
    lang = check_lang(layout.get("lang", "en"))
    check_units(units)
    series, default = align_values(units, values)
    label = label or default
    series = numeric_values(series, label)
    classes = classify(series, scheme=scheme, k=k, breaks=breaks, cmap=cmap)
    heading = f"{label} ({units_label})" if units_label else label
    sep = "：" if lang == "zh" else ": "
    rows = legend_from_classes(classes, lang)
    note = f"{t('Classes', lang)}{sep}{classes.describe(lang)}" if classes.k else None
    heading = heading if not note else f"{heading}\n{note}"
    layout.setdefault("title", label)
    return draw(units, hex_colors(classes.codes, classes.colors), rows, kind="choropleth", heading=heading,
                **_layout(layout))


def lisa_print(units, lisa, *, alpha: float = 0.05, correction: str = "none", label: str | None = None,
               **layout) -> PrintMap:
    """A print map of local Moran clusters (GeoDa's colours, 高-高/低-低 in Chinese)."""
    lang = check_lang(layout.get("lang", "en"))
    check_units(units)
    if hasattr(lisa, "to_frame") and not isinstance(lisa, (pd.DataFrame, pd.Series)):
        lisa = lisa.to_frame()
    cols = [c for c in ("Ii", "p_sim", "quadrant", "value", "lag") if c in lisa.columns]
    frame = pd.DataFrame({c: align_values(units, lisa[c], what="lisa")[0] for c in cols})
    labels, _cut = lisa_clusters(frame, alpha=alpha, correction=correction)
    colors = {key: color for key, _text, color in CLUSTERS}
    fill = labels.map(lambda v: colors.get(v) if v is not None else None)
    rows = [LegendRow("box", color, t(key, lang), int((labels == key).sum())) for key, _text, color in CLUSTERS]
    n_missing = int(labels.isna().sum())
    if n_missing:
        rows.append(LegendRow("nodata", "#d9d9d9", t("no data", lang), n_missing))
    heading = t("LISA cluster", lang)
    default = (f"{label}：LISA 聚类" if lang == "zh" else f"LISA clusters of {label}") if label else heading
    layout.setdefault("title", default)
    return draw(units, fill, rows, kind="lisa", heading=heading, **_layout(layout))


def _zone_overlay(zones, units, lang):
    """Zones as markers (GeoDataFrame) or host units outlined (ids)."""
    import geopandas as gpd

    if zones is None:
        return None

    def overlay(ax, project):
        if isinstance(zones, gpd.GeoDataFrame):
            z = project(zones)
            pts = [g if g.geom_type == "Point" else g.representative_point() for g in z.geometry if g is not None]
            ax.scatter([p.x for p in pts], [p.y for p in pts], s=14, c=ZONE_COLOR, edgecolors="#ffffff",
                       linewidths=0.6, zorder=8, gid="geo-zones")
            return [LegendRow("dot", ZONE_COLOR, t("zone", lang), len(pts))]
        ids = [str(z) for z in ([zones] if isinstance(zones, str) else list(zones))]
        hosts = units[units.index.astype(str).isin(ids)]
        if len(hosts):
            project(hosts).boundary.plot(ax=ax, color=ZONE_COLOR, linewidth=1.4, zorder=8)
            ax.collections[-1].set_gid("geo-zone-hosts")
        return [LegendRow("line", ZONE_COLOR, t("zone host unit", lang), len(hosts))]

    return overlay


def spillover_print(units, effects, *, zones=None, k: int = 3, scale: str = "log", cmap: str = "RdBu",
                    label: str | None = None, units_label: str | None = None, kind: str = "spillover",
                    **layout) -> PrintMap:
    """A print map of each unit's effect, colours centred on zero (as :func:`geo.viz.spillover_map`)."""
    lang = check_lang(layout.get("lang", "en"))
    check_units(units)
    series, default = align_values(units, effects, what="effects")
    label = label or default
    series = numeric_values(series, label)
    classes = diverging(series, k=k, cmap=cmap, scale=scale, lang=lang)
    heading = f"{label} ({units_label})" if units_label else label
    overlays = [o for o in (_zone_overlay(zones, units, lang),) if o is not None]
    sep = "：" if lang == "zh" else ": "
    layout.setdefault("title", f"{t('Spillover', lang)}{sep}{label}")
    return draw(units, hex_colors(classes.codes, classes.colors), legend_from_classes(classes, lang), kind=kind,
                heading=heading, overlays=overlays, zones=zones if hasattr(zones, "geometry") else None,
                **_layout(layout))


def scenario_print(units, effects, *, host=None, **kwargs) -> PrintMap:
    """A print map of a new-zone scenario: predicted effect per unit, the host outlined.

    ``effects``: a scenario result (``geo.scenario.new_zone``; its ``effect`` column and ``host``) or a Series.
    """
    if hasattr(effects, "to_frame") and not isinstance(effects, (pd.Series, pd.DataFrame)):
        host = host if host is not None else getattr(effects, "host", None)
        effects = effects.to_frame()["effect"]
    zones = [host] if isinstance(host, str) else host
    return spillover_print(units, effects, zones=zones, kind="scenario", **kwargs)


def radiation_print(units, *, values=None, zones=None, corridor=None, rings=None, k: int = 3,
                    label: str | None = None, units_label: str | None = None, **layout) -> PrintMap:
    """Zones, corridors and distance rings over units by band (or numeric effect), as :func:`geo.viz.radiation_map`."""
    import geopandas as gpd

    lang = check_lang(layout.get("lang", "en"))
    check_units(units)
    if values is not None and hasattr(values, "to_frame") and not isinstance(values, (pd.Series, pd.DataFrame)):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame) and "band" in values.columns:
        values = values["band"]
    if values is None:
        fill = pd.Series("#f7f7f7", index=units.index)
        rows, heading = [], label
    else:
        series, default = align_values(units, values)
        label = label or default
        heading = f"{label} ({units_label})" if units_label else label
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            classes = diverging(numeric_values(series, label), k=k, lang=lang)
            fill, rows = hex_colors(classes.codes, classes.colors), legend_from_classes(classes, lang)
        else:
            order, colors, codes = band_classes(series)
            fill = hex_colors(codes, colors)
            rows = [LegendRow("box", c, band_label(b, lang), int((codes == i).sum())) for i, (b, c) in enumerate(zip(order, colors))]
            n_missing = int((codes < 0).sum())
            if n_missing:
                rows.append(LegendRow("nodata", "#d9d9d9", t("no data", lang), n_missing))
            heading = t("distance band", lang) if label in (None, "band") else heading

    def ring_overlay(ax, project):
        if rings is None or not len(rings):
            return []
        project(rings).boundary.plot(ax=ax, color=RING_COLOR, linewidth=0.6, linestyle=(0, (4, 2)), zorder=7)
        ax.collections[-1].set_gid("geo-rings")
        return [LegendRow("ring", RING_COLOR, t("distance ring", lang), int(len(rings)))]

    def corridor_overlay(ax, project):
        if corridor is None:
            return []
        if isinstance(corridor, gpd.GeoDataFrame):
            lines = project(corridor)
        else:
            import shapely

            m = corridor.members
            lines = project(gpd.GeoDataFrame(geometry=[shapely.LineString(list(zip(m["lon"], m["lat"])))], crs="EPSG:4326"))
        lines.plot(ax=ax, color=CORRIDOR_COLOR, linewidth=1.6, zorder=7)
        return [LegendRow("line", CORRIDOR_COLOR, t("corridor", lang), int(len(lines)))]

    overlays = [ring_overlay, corridor_overlay] + [o for o in (_zone_overlay(zones, units, lang),) if o is not None]
    layout.setdefault("title", t("Radiation", lang))
    return draw(units, fill, rows, kind="radiation", heading=heading, overlays=overlays,
                zones=zones if hasattr(zones, "geometry") else None, **_layout(layout))
