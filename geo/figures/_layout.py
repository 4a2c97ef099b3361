"""The print-map frame shared by every map kind: projection, whole territory, boundaries, inset, north arrow,
scale bar, legend, title and credit line; the :class:`PrintMap` result.

A map kind (``geo.figures.maps``) computes a colour per unit and legend rows with the same classifiers as
the web maps (``geo.viz``), then calls :func:`draw`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.errors import OptionError, SchemaError, check_choice
from geo.figures._china import (
    MAINLAND_SOUTH,
    MAP_CRS,
    SCS_BOX,
    is_china,
    nine_dash_line,
    parse_extent,
    simplify_for,
    territory,
)
from geo.figures._style import FigureOutput, figure_context, has_cjk, parse_size
from geo.labels import check_lang, t

__all__ = ["PrintMap", "LegendRow", "draw", "hex_colors", "legend_from_classes", "INSETS", "NO_DATA_FACE", "CONTEXT_FACE"]

INSETS = ("auto", "none", "on")
NO_DATA_FACE = "#d9d9d9"
NO_DATA_HATCH = "////"
CONTEXT_FACE = "#dedede"
UNIT_EDGE = "#ffffff"
PROVINCE_LINE = "#6b6b6b"
NATION_LINE = "#262626"
DASH_LINE = "#262626"


@dataclass(frozen=True)
class LegendRow:
    """One legend entry: ``kind`` box/nodata/context/line/dot/ring, its colour, label and count (or None)."""

    kind: str
    color: str
    label: str
    count: int | None = None


@dataclass(frozen=True)
class PrintMap(FigureOutput):
    """A finished print map (a matplotlib Figure) and what it shows.

    ``save(path, format=None, dpi=300)`` writes PNG, SVG or PDF (format from the suffix when not given);
    ``to_json()`` lists the legend with counts, the polygons drawn, the projection and the font.
    """

    figure: object
    kind: str
    title: str
    n_units: int
    n_context: int
    n_nodata: int
    legend: tuple
    inset: bool
    extent: tuple | None
    size_in: tuple
    projection: str
    font: str | None
    lang: str
    notes: tuple = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "n_units": self.n_units,
            "n_context": self.n_context,
            "n_nodata": self.n_nodata,
            "legend": [{"kind": r.kind, "color": r.color, "label": r.label, "count": r.count} for r in self.legend],
            "inset": self.inset,
            "extent": list(self.extent) if self.extent is not None else None,
            "size_in": list(self.size_in),
            "projection": self.projection,
            "font": self.font,
            "lang": self.lang,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [
            f"print map ({self.kind}): {self.title}",
            f"  units drawn: {self.n_units} (no data: {self.n_nodata}); context units in grey: {self.n_context}",
            f"  size: {self.size_in[0] * 2.54:.1f} x {self.size_in[1] * 2.54:.1f} cm; "
            f"South China Sea inset: {'yes' if self.inset else 'no'}",
            f"  projection: {self.projection}",
            f"  font: {self.font or 'DejaVu Sans (no CJK font found)'}",
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def local_albers(units) -> str:
    """An Albers equal-area conic fitted to the units' extent (standard parallels at 1/6 and 5/6 of it)."""
    minx, miny, maxx, maxy = units.to_crs("EPSG:4326").total_bounds
    lat1, lat2 = miny + (maxy - miny) / 6, maxy - (maxy - miny) / 6
    if abs(lat2 - lat1) < 1e-6:
        lat1, lat2 = miny - 0.5, maxy + 0.5
    return (f"+proj=aea +lat_0={(miny + maxy) / 2:.4f} +lon_0={(minx + maxx) / 2:.4f} +lat_1={lat1:.4f} "
            f"+lat_2={lat2:.4f} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs")


def projection_text(crs: str, lang: str) -> str:
    """The projection named in the credit line of a map outside China."""
    parts = dict(p.lstrip("+").split("=", 1) for p in crs.split() if "=" in p)
    lat1, lat2, lon0 = (float(parts[k]) for k in ("lat_1", "lat_2", "lon_0"))
    if lang == "zh":
        return f"Albers 等积圆锥投影，标准纬线 {lat1:.1f}°、{lat2:.1f}°，中央经线 {lon0:.1f}°"
    return f"Albers equal-area conic, standard parallels {lat1:.1f}° and {lat2:.1f}°, central meridian {lon0:.1f}°"


def _nice_km(target: float) -> float:
    """1, 2 or 5 × 10^k km closest below ``target``."""
    if target <= 0:
        return 1.0
    exp = math.floor(math.log10(target))
    for m in (5, 2, 1):
        if m * 10**exp <= target:
            return float(m * 10**exp)
    return float(10**exp)


def _plot_polys(ax, gdf, *, facecolor, edgecolor, linewidth, gid, hatch=None, zorder=1):
    """Polygons as one PatchCollection with an SVG id (tests count its paths)."""
    if gdf is None or len(gdf) == 0:
        return None
    before = len(ax.collections)
    kwargs = {"hatch": hatch} if hatch else {}
    gdf.plot(ax=ax, color=facecolor, edgecolor=edgecolor, linewidth=linewidth, zorder=zorder, **kwargs)
    if len(ax.collections) > before:
        coll = ax.collections[-1]
        coll.set_gid(gid)
        return coll
    return None  # pragma: no cover


def _plot_lines(ax, geoms, *, color, linewidth, gid, linestyle="-", zorder=3):
    import geopandas as gpd

    g = gpd.GeoSeries(geoms)
    g = g[~g.is_empty & g.notna()]
    if len(g) == 0:
        return None
    before = len(ax.collections)
    g.plot(ax=ax, color=color, linewidth=linewidth, linestyle=linestyle, zorder=zorder)
    if len(ax.collections) > before:
        ax.collections[-1].set_gid(gid)
        return ax.collections[-1]
    return None  # pragma: no cover


def _north_arrow(ax, lang: str, crs: str = MAP_CRS):
    """An arrow along the local meridian (in a conic projection north turns with longitude): placed on the
    central meridian (105°E, where it points straight up) when that is in view, else at the top left."""
    from pyproj import Transformer

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    py = y0 + 0.86 * (y1 - y0)
    central_x = 0.0  # x of the central meridian (105°E for China)
    inside = x0 + 0.08 * (x1 - x0) <= central_x <= x1 - 0.08 * (x1 - x0)
    px = central_x if inside else x0 + 0.06 * (x1 - x0)
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon, lat = to_ll.transform(px, py)
    qx, qy = to_xy.transform(lon, min(lat + 0.5, 89.9))
    angle = math.atan2(qy - py, qx - px)
    from matplotlib import patheffects

    length = 0.08 * (y1 - y0)
    tx, ty = px + length * math.cos(angle), py + length * math.sin(angle)
    ax.annotate(
        "", xy=(tx, ty), xytext=(px, py),
        arrowprops={"arrowstyle": "-|>,head_width=0.35,head_length=0.7", "color": "#222222", "lw": 1.8,
                    "path_effects": [patheffects.withStroke(linewidth=3, foreground="#ffffff")]}, zorder=6,
    )
    from matplotlib import patheffects

    ax.text(tx + 0.03 * (y1 - y0) * math.cos(angle), ty + 0.03 * (y1 - y0) * math.sin(angle), t("north", lang),
            ha="center", va="center", fontsize=9, fontweight="bold", zorder=6, gid="geo-north",
            bbox={"boxstyle": "round,pad=0.1", "fc": "#ffffff", "ec": "none", "alpha": 0.8})


def _scale_bar(ax, lang: str, *, x_frac: float = 0.30, y_frac: float = 0.045):
    """A km scale bar of 1/2/5×10^k km, alternating black and white halves (true at 25°N/47°N)."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_km = (x1 - x0) / 1000.0
    km = _nice_km(0.22 * width_km)
    bx, by = x0 + x_frac * (x1 - x0), y0 + y_frac * (y1 - y0)
    h = 0.012 * (y1 - y0)
    half = km * 500.0
    pad_x, pad_y = 0.015 * (x1 - x0), 0.6 * h
    ax.add_patch(Rectangle((bx - pad_x, by - pad_y), 2 * half + 3.2 * pad_x, 4.2 * h, facecolor="#ffffff",
                           edgecolor="none", alpha=0.85, zorder=5.5))
    for i, color in enumerate(("#222222", "#ffffff")):
        ax.add_patch(Rectangle((bx + i * half, by), half, h, facecolor=color, edgecolor="#222222", lw=0.6, zorder=6,
                               gid="geo-scale"))
    for frac, value in ((0, 0), (0.5, km / 2), (1, km)):
        ax.text(bx + frac * 2 * half, by + 1.6 * h, f"{value:g}", ha="center", va="bottom", fontsize=6.5, zorder=6)
    ax.text(bx + 2 * half + 0.012 * (x1 - x0), by + h / 2, t("km", lang), ha="left", va="center", fontsize=6.5, zorder=6)
    return km


def _legend(ax, heading, rows, lang, *, loc="lower left"):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, labels = [], []
    for r in rows:
        if r.kind == "nodata":
            h = Patch(facecolor=NO_DATA_FACE, edgecolor="#8c8c8c", hatch=NO_DATA_HATCH, lw=0.4)
        elif r.kind == "context":
            h = Patch(facecolor=CONTEXT_FACE, edgecolor="#bdbdbd", lw=0.4)
        elif r.kind == "line":
            h = Line2D([0], [0], color=r.color, lw=2)
        elif r.kind == "ring":
            h = Line2D([0], [0], color=r.color, lw=1, linestyle=(0, (4, 2)))
        elif r.kind == "dot":
            h = Line2D([0], [0], marker="o", color="none", markerfacecolor=r.color, markeredgecolor="#ffffff", markersize=6)
        else:
            h = Patch(facecolor=r.color, edgecolor="#8c8c8c", lw=0.4)
        handles.append(h)
        labels.append(r.label if r.count is None else f"{r.label}  ({r.count})")
    if not handles:
        return None
    leg = ax.legend(handles, labels, title=heading, loc=loc, fontsize=6.5, title_fontsize=7, frameon=True,
                    framealpha=0.9, edgecolor="#cccccc", handlelength=1.6, handleheight=1.0, borderpad=0.6)
    leg.set_zorder(7)
    leg.set_gid("geo-legend")
    leg._legend_box.align = "left"
    return leg


def draw(
    units,
    colors: pd.Series,
    legend_rows,
    *,
    kind: str,
    heading: str | None,
    title: str | None,
    lang: str = "en",
    extent=None,
    inset: str = "auto",
    size="16x12cm",
    credit: str | None = None,
    review_number: str | None = None,
    overlays=(),
    zones=None,
) -> PrintMap:
    """Draw units filled with ``colors`` (a colour per unit id; missing = "no data", hatched) in the frame.

    ``overlays``: callables ``f(ax, project)`` drawing lines/markers (``project`` maps a GeoDataFrame to
    the map's CRS) that return legend rows.  Units of the embedded territory outside ``units`` are drawn
    grey as context.  ``extent``: see :func:`geo.figures._china.parse_extent`.  ``inset``: ``"auto"``
    (the South China Sea inset on maps of the whole of China), ``"on"`` or ``"none"``.
    """
    import geopandas as gpd
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    check_lang(lang)
    check_choice("inset", inset, INSETS)
    if not isinstance(units, gpd.GeoDataFrame):
        raise SchemaError(f"units must be a GeoDataFrame indexed by unit id, not {type(units).__name__}")
    if units.crs is None:
        raise SchemaError("units have no CRS; set it (e.g. units.set_crs('EPSG:4326'))")
    width_in, height_in = parse_size(size)
    china = is_china(units)
    if extent is not None and not china and str(extent).split(":")[0].lower() in ("province", "zone"):
        raise OptionError(f"extent {extent!r} needs the embedded Chinese units; use bbox:lon0,lat0,lon1,lat1")
    crs = MAP_CRS if china else local_albers(units)
    box = parse_extent(extent, zones=zones, crs=crs)
    whole = box is None
    show_inset = china and (inset == "on" or (inset == "auto" and whole))
    notes = []

    data = units.to_crs(crs)
    data.index = data.index.astype(str)
    colors = colors.copy()
    colors.index = colors.index.astype(str)
    context = None
    if china:
        terr = territory().to_crs(MAP_CRS)
        context = terr[~terr.index.isin(data.index)]
    # the view
    if box is None:
        src = territory() if china else units.to_crs("EPSG:4326")
        clip = shapely.box(-180, MAINLAND_SOUTH if china else -90, 180, 90)
        view = gpd.GeoSeries(src.geometry.intersection(clip), crs="EPSG:4326").to_crs(crs)
        minx, miny, maxx, maxy = view.total_bounds
        pad = 0.02 * max(maxx - minx, maxy - miny)
        box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    minx, miny, maxx, maxy = box
    # layout: title band on top, credit band at the bottom, map between (aspect kept by widening a side)
    top_band = 0.09 if title else 0.02
    bottom_band = 0.07
    map_h_in = height_in * (1 - top_band - bottom_band)
    target = width_in / map_h_in
    w, h = maxx - minx, maxy - miny
    if w / h < target:
        extra = (target * h - w) / 2
        minx, maxx = minx - extra, maxx + extra
    else:
        extra = (w / target - h) / 2
        miny, maxy = miny - extra, maxy + extra
    tol = (maxx - minx) / (width_in * 300) * 0.8  # under a pixel at 300 dpi
    # one coverage for units and context so shared edges stay shared after simplification
    if china:
        both = pd.concat([data[["geometry"]], context[["geometry"]]])
        both = simplify_for(gpd.GeoDataFrame(both, geometry="geometry", crs=MAP_CRS), tol)
        data = data.set_geometry(both.geometry.loc[data.index].to_numpy())
        context = context.set_geometry(both.geometry.loc[context.index].to_numpy())
    else:
        data = simplify_for(data, tol)

    col = colors.reindex(data.index)
    has = col.notna()
    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)  # a renderer to measure the legend (saving to SVG/PDF switches canvas as usual)
    with figure_context() as font:
        ax = fig.add_axes((0.0, bottom_band, 1.0, 1 - top_band - bottom_band))
        ax.set_axis_off()
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_aspect("equal")

        if china:
            terr_all = pd.concat([data[["geometry"]], context[["geometry"]]])
            terr_all = terr_all.join(territory()[["province_code"]], how="left")
            provinces = terr_all.dissolve("province_code", method="coverage")
            province_lines = provinces.boundary.to_numpy()
            nation_line = shapely.coverage_union_all(terr_all.geometry.to_numpy()).boundary
            dash_lines = shapely.simplify(nine_dash_line().to_crs(MAP_CRS).geometry.to_numpy(), tol)

        def clip(gdf, frame):
            """Only what falls in ``frame`` (keeps SVG/PDF small; the inset does not repeat the whole map)."""
            if gdf is None or len(gdf) == 0:
                return gdf
            g = shapely.clip_by_rect(gdf.geometry.to_numpy(), *frame)
            keep = ~shapely.is_empty(g)
            return gdf[keep].set_geometry(g[keep])

        def clip_lines(lines, frame):
            g = shapely.clip_by_rect(np.asarray(lines, dtype=object), *frame)
            return g[~shapely.is_empty(g)]

        def paint(target_ax, frame, lw_scale=1.0):
            _plot_polys(target_ax, clip(context, frame), facecolor=CONTEXT_FACE, edgecolor=UNIT_EDGE,
                        linewidth=0.25 * lw_scale, gid="geo-context", zorder=1)
            filled = clip(data[has].assign(_color=col[has]), frame)
            _plot_polys(target_ax, filled, facecolor=filled["_color"].tolist(), edgecolor=UNIT_EDGE,
                        linewidth=0.25 * lw_scale, gid="geo-units", zorder=2)
            _plot_polys(target_ax, clip(data[~has], frame), facecolor=NO_DATA_FACE, edgecolor="#8c8c8c",
                        linewidth=0.0, gid="geo-nodata", hatch=NO_DATA_HATCH, zorder=2)
            if china:
                _plot_lines(target_ax, clip_lines(province_lines, frame), color=PROVINCE_LINE,
                            linewidth=0.45 * lw_scale, linestyle=(0, (5, 1.5, 1, 1.5)), gid="geo-provinces", zorder=3)
                _plot_lines(target_ax, clip_lines([nation_line], frame), color=NATION_LINE, linewidth=0.8 * lw_scale,
                            gid="geo-nation", zorder=4)
                _plot_lines(target_ax, clip_lines(dash_lines, frame), color=DASH_LINE, linewidth=1.0 * lw_scale,
                            gid="geo-nine-dash", zorder=4)
            else:
                _plot_lines(target_ax, clip_lines(data.boundary.to_numpy(), frame), color="#9a9a9a",
                            linewidth=0.2 * lw_scale, gid="geo-unit-lines", zorder=3)

        paint(ax, (minx, miny, maxx, maxy))

        def project(gdf):
            return gdf.to_crs(crs)

        extra_rows = []
        for overlay in overlays:
            extra_rows += list(overlay(ax, project) or [])
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)

        inset_ax = None
        if show_inset:
            sbox = gpd.GeoSeries([shapely.box(*SCS_BOX).segmentize(0.25)], crs="EPSG:4326").to_crs(MAP_CRS)
            sx0, sy0, sx1, sy1 = sbox.total_bounds
            frac_h = 0.34
            frac_w = frac_h * (sx1 - sx0) / (sy1 - sy0) * (maxy - miny) / (maxx - minx)
            inset_ax = ax.inset_axes((1 - frac_w - 0.005, 0.005, frac_w, frac_h))
            inset_ax.set_gid("geo-inset")
            paint(inset_ax, (sx0, sy0, sx1, sy1), lw_scale=0.6)
            inset_ax.set_xlim(sx0, sx1)
            inset_ax.set_ylim(sy0, sy1)
            inset_ax.set_aspect("equal")
            inset_ax.set_xticks([])
            inset_ax.set_yticks([])
            inset_ax.set_xlabel("")
            inset_ax.set_ylabel("")
            inset_ax.set_facecolor("#ffffff")
            for spine in inset_ax.spines.values():
                spine.set_linewidth(0.8)
                spine.set_edgecolor("#222222")
            inset_ax.text(0.96, 0.03, t("South China Sea Islands", lang), transform=inset_ax.transAxes, ha="right",
                          va="bottom", fontsize=6, gid="geo-inset-label")

        _north_arrow(ax, lang, crs)
        rows = list(legend_rows)
        if context is not None and len(context):
            rows.append(LegendRow("context", CONTEXT_FACE, t("outside scope", lang), len(context)))
        rows += extra_rows
        leg = _legend(ax, heading, rows, lang)
        x_scale = 0.30
        if leg is not None:  # the scale bar starts right of the legend
            leg_box = leg.get_window_extent(fig.canvas.get_renderer()).transformed(ax.transAxes.inverted())
            x_scale = max(x_scale, float(leg_box.x1) + 0.04)
        _scale_bar(ax, lang, x_frac=x_scale)
        if title:
            fig.text(0.5, 1 - top_band / 2, title, ha="center", va="center", fontsize=11, fontweight="bold",
                     gid="geo-title")
        sep = "；" if lang == "zh" else "; "
        parts = []
        if credit:
            parts.append(f"{t('Source', lang)}{'：' if lang == 'zh' else ': '}{credit}")
        if china:
            parts.append(t("boundary credit", lang))
        parts.append(t("projection", lang) if china else projection_text(crs, lang))
        if review_number:
            parts.append(f"{t('Map review number', lang)}{'：' if lang == 'zh' else ': '}{review_number}")
        fig.text(0.01, bottom_band / 2, sep.join(parts), ha="left", va="center", fontsize=5.5, color="#444444",
                 gid="geo-credit", wrap=True)
    texts = [title or "", heading or "", credit or "", review_number or ""] + [r.label for r in rows]
    if font is None and any(has_cjk(x) for x in texts):
        notes.append(
            "no CJK font found: Chinese text shows as empty boxes; reinstall geo's font (pip install "
            "paperang-p2-fonts-cjk==0.1.0) or a system one with TrueType outlines (Debian: apt install "
            "fonts-wqy-zenhei) and run again"
        )
    return PrintMap(
        figure=fig,
        kind=kind,
        title=title or "",
        n_units=int(len(data)),
        n_context=int(len(context)) if context is not None else 0,
        n_nodata=int((~has).sum()),
        legend=tuple(rows),
        inset=bool(inset_ax is not None),
        extent=None if whole else tuple(float(v) for v in box),
        size_in=(float(width_in), float(height_in)),
        projection=(t("projection", "en") if china else projection_text(crs, "en")) + f" ({crs})",
        font=font,
        lang=lang,
        notes=tuple(notes),
    )


def hex_colors(codes: pd.Series, colors) -> pd.Series:
    """Class codes (-1 = no data) -> colour per unit (None = no data)."""
    palette = list(colors)
    return codes.map(lambda c: palette[int(c)] if 0 <= int(c) < len(palette) else None)


def legend_from_classes(classes, lang: str) -> list[LegendRow]:
    """Legend rows (label and count per class, "no data" last) from geo.viz's Classes."""
    rows = []
    for i, (label, color) in enumerate(zip(classes.labels, classes.colors)):
        count = int((classes.codes == i).sum())
        if classes.scheme in ("diverging", "diverging_log") and count == 0:
            continue  # a print legend lists the classes that occur (e.g. no negative effects)
        rows.append(LegendRow("box", color, label, count))
    if classes.n_missing:
        rows.append(LegendRow("nodata", NO_DATA_FACE, t("no data", lang), int(classes.n_missing)))
    return rows
