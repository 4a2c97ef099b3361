"""What every map shares: the result object, the offline folium map, unit tooltips, value alignment."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo._io import write_text
from geo.errors import JoinError, SchemaError
from geo.labels import t
from geo.territory import MAINLAND_SOUTH, context_units
from geo.viz._elements import Geometry, Inset, Legend, OfflineAssets, Scale, ShapeLayer, Title, esc, mark_page
from geo.viz._inset import inset_svg
from geo.viz._web import WebGeometry, web_geometry
from geo.viz.png import screenshot

__all__ = ["MapResult", "new_map", "finish", "unit_names", "align_values", "tip_cells", "TILES"]

#: the basemap used with ``tiles=True`` (the only case where the page requests anything)
TILES = "OpenStreetMap"


@dataclass(frozen=True)
class MapResult:
    """A finished map: the folium Map plus what it shows.

    ``to_html()`` gives the self-contained page (same input, same bytes), ``save(path)`` writes it
    atomically, ``snippet()`` an ``<iframe srcdoc>`` to embed in other pages, ``png(path)`` a
    screenshot taken by headless Chromium.
    """

    map: object  # folium.Map, or the finished page as text (small multiples compose their own page)
    kind: str
    title: str
    n_units: int
    legend: dict = field(default_factory=dict)
    simplification: dict = field(default_factory=dict)
    tiles: bool = False

    def to_html(self) -> str:
        if isinstance(self.map, str):
            return self.map
        root = self.map.get_root()
        _reset(root)
        _fix_ids(root)
        return mark_page(root.render())

    def save(self, path) -> Path:
        return write_text(path, self.to_html())

    def snippet(self, *, height: int = 600, width: str = "100%") -> str:
        """An ``<iframe>`` carrying the whole page in ``srcdoc`` (escaped), for embedding."""
        return (
            f'<iframe class="geo-map" title="{esc(self.title)}" sandbox="allow-scripts" '
            f'srcdoc="{html.escape(self.to_html(), quote=True)}" '
            f'style="width:{esc(width)};height:{int(height)}px;border:1px solid #ccc" loading="lazy"></iframe>'
        )

    def png(self, path, *, width: int = 1200, height: int = 800, chromium: str | None = None, timeout: float = 60) -> Path:
        """Save a PNG screenshot of the map (headless Chromium; no network unless the map has tiles)."""
        return screenshot(
            self.to_html(), path, width=width, height=height, network=self.tiles, chromium=chromium, timeout=timeout
        )

    def summary(self) -> str:
        lines = [f"{self.kind} map: {self.title}", f"  units drawn: {self.n_units}"]
        if self.legend.get("scheme"):
            lines.append(f"  classes: {self.legend['scheme']}")
        if self.simplification:
            s = self.simplification
            lines.append(
                f"  boundaries: {s['method']} simplification, tolerance {s['tolerance']:.4g} deg, "
                f"{s['decimals']} decimals, {s['vertices_in']} -> {s['vertices_out']} vertices"
            )
        lines.append(f"  tiles: {'yes (needs network)' if self.tiles else 'no (works offline)'}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "n_units": self.n_units,
            "legend": self.legend,
            "simplification": self.simplification,
            "tiles": self.tiles,
        }

    def _repr_html_(self) -> str:
        return self.snippet()


def _parts(root) -> list:
    """The root and the Figure's header/html/script (not among its children in branca)."""
    return [root] + [getattr(root, part) for part in ("header", "html", "script") if hasattr(root, part)]


def _snapshot(root) -> None:
    """Remember every element's children as built, so later renders start from the same tree."""
    stack = _parts(root)
    while stack:
        el = stack.pop()
        el._geo_keys = tuple(el._children)
        stack.extend(el._children.values())


def _reset(root) -> None:
    """Drop what a previous render added (folium adds children while rendering)."""
    stack = _parts(root)
    while stack:
        el = stack.pop()
        keys = getattr(el, "_geo_keys", None)
        if keys is not None:
            for key in [k for k in el._children if k not in keys]:
                del el._children[key]
        stack.extend(el._children.values())


def _fix_ids(root) -> None:
    """Give every element a sequential id so the same map renders to the same bytes."""
    counter = 0
    stack = [root]
    while stack:
        el = stack.pop(0)
        el._id = f"{counter:04d}"
        counter += 1
        stack.extend(el._children.values())


def new_map(
    web: WebGeometry, units, names, *, tiles: bool = False, title: str | None = None, subtitle: str | None = None,
    lang: str = "en",
):
    """An offline folium Map fitted to ``web``'s bounds, with the shared geometry (and the name/id
    tooltip rows) added; returns (map, geometry)."""
    import folium

    bounds = web.bounds()
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=4, tiles=None, zoom_control="topright", zoom_snap=0.25, zoom_delta=0.5)
    m.default_js = []  # folium's CDN links (Leaflet, jQuery, Bootstrap, awesome-markers): replaced
    m.default_css = []  # by the inlined pinned Leaflet (OfflineAssets); the rest is not needed
    m.add_child(OfflineAssets(), name="geo_assets")
    m.add_child(Scale(), name="geo_scale")
    if tiles:
        folium.TileLayer(TILES, control=False).add_to(m)
    id_label = units.index.name or "id"
    base_rows = [[(t("name", lang), n), (id_label, i)] for i, n in zip(units.index, names.to_numpy())]
    if web.context is not None:
        add_context(m, web, lang)
    geometry = Geometry(web.encoded(), web.scale, base_rows)
    m.add_child(geometry, name="geo_geometry")
    if title:
        m.add_child(Title(title, subtitle), name="geo_title")
    return m, geometry


def finish(m, web: WebGeometry, *, layer_control: bool = False, bounds=None):
    """Fit the view to the units (or to ``bounds``) and add a layer control (expanded) when asked."""
    import folium

    if layer_control:
        folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if bounds is None:
        bounds = web.bounds()
        if web.context is not None:  # all China: the mainland and Hainan; the South China Sea is in the inset
            bounds[0][0] = max(bounds[0][0], MAINLAND_SOUTH)
    m.fit_bounds(bounds)
    _snapshot(m.get_root())
    return m


def simplification_dict(web: WebGeometry) -> dict:
    return {
        "method": web.method,
        "tolerance": web.tolerance,
        "decimals": web.decimals,
        "vertices_in": web.vertices_in,
        "vertices_out": web.vertices_out,
    }


def unit_names(units, name_col: str | None) -> pd.Series:
    """Display names of the units: ``name_col`` if present, else the id."""
    if name_col is not None and name_col in getattr(units, "columns", ()):
        names = units[name_col].astype(object)
        return names.where(names.notna(), pd.Series(units.index.astype(str), index=units.index))
    return pd.Series(units.index.astype(str), index=units.index)


def check_units(units) -> None:
    import geopandas as gpd

    if not isinstance(units, gpd.GeoDataFrame):
        raise SchemaError(f"units must be a GeoDataFrame indexed by unit id, not {type(units).__name__}")
    if units.index.has_duplicates:
        dup = units.index[units.index.duplicated()][0]
        raise SchemaError(f"units: id {dup!r} appears more than once in the index")


def align_values(units, values, *, what: str = "values") -> tuple[pd.Series, str]:
    """``values`` (a Series on unit ids, or a column name of ``units``) aligned on ``units.index``.

    Returns (series, label).  Ids in ``values`` that are not units are ignored; units without a value
    are missing.  Raises when the ids do not overlap at all (usually text vs number ids).
    """
    if isinstance(values, str):
        if values not in units.columns:
            present = ", ".join(map(str, [c for c in units.columns if c != units.geometry.name][:20]))
            raise SchemaError(f"units have no column {values!r} to map (columns are: {present})")
        return units[values], values
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise SchemaError(f"{what}: give one column (a Series or a column name), not a frame of {values.shape[1]}")
        values = values.iloc[:, 0]
    if not isinstance(values, pd.Series):
        raise SchemaError(f"{what} must be a pandas Series indexed by unit id, or a column name of units")
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()][0]
        raise SchemaError(f"{what}: id {dup!r} appears more than once")
    label = str(values.name) if values.name is not None else what
    if len(values) and not values.index.isin(units.index).any():
        raise JoinError(
            f"{what}: none of its ids (e.g. {values.index[0]!r}, {type(values.index[0]).__name__}) match the units' "
            f"ids (e.g. {units.index[0]!r}, {type(units.index[0]).__name__}); ids are text such as '110000'"
        )
    return values.reindex(units.index), label


def tip_cells(index, rows) -> tuple[list, list]:
    """Tooltip labels and per-unit values from ``rows(id) -> [(label, value), …]`` (same labels for all)."""
    heads: list = []
    cells = []
    for n, i in enumerate(index):
        r = rows(i)
        if n == 0:
            heads = [h for h, _ in r]
        cells.append([v for _, v in r])
    return heads, cells


def prepare(units, *, simplify="auto", tolerance="auto", context: bool = True) -> WebGeometry:
    """The units' web geometry; with ``context`` (the default) and embedded Chinese units, the rest of the
    territory (Taiwan, Hong Kong, Macao, the province-governed county-level units…) simplified together
    with them (shared edges stay shared) in ``context``, to be drawn grey."""
    import dataclasses

    import geopandas as gpd

    check_units(units)
    ctx = context_units(units) if context else None
    if ctx is None or len(ctx) == 0:
        web = web_geometry(units, simplify=simplify, tolerance=tolerance)
        if ctx is None:
            return web
        return dataclasses.replace(web, context=pd.Series([], index=pd.Index([], dtype=object), dtype=object))
    own = units.geometry.to_crs("EPSG:4326") if not units.crs.equals("EPSG:4326") else units.geometry
    both = gpd.GeoSeries(list(own.to_numpy()) + list(ctx.geometry.to_numpy()), crs="EPSG:4326")
    web = web_geometry(both, simplify=simplify, tolerance=tolerance)
    n = len(units)
    geometry = pd.Series(web.geometry.to_numpy()[:n], index=units.index, name="geometry")
    context_geometry = pd.Series(web.geometry.to_numpy()[n:], index=ctx.index, name="geometry")
    return dataclasses.replace(web, geometry=geometry, context=context_geometry)


#: fill of the units outside the analysis (as in print maps)
CONTEXT_COLOR = "#dedede"


def add_context(m, web: WebGeometry, lang: str = "en") -> None:
    """The rest of the territory in grey (not interactive, not in the layer control), its legend row, and
    the South China Sea inset panel."""
    from geo.viz._overlays import latlngs  # lazy: a cycle (geo.viz._overlays imports this module)

    n = len(web.context)
    if n:
        items = [{"k": "p", "g": latlngs(g, web.decimals), "s": 0} for g in web.context.to_numpy()
                 if g is not None and not g.is_empty]
        style = [{"fillColor": CONTEXT_COLOR, "fillOpacity": 1.0, "color": "#ffffff", "weight": 0.6,
                  "interactive": False}]
        m.add_child(ShapeLayer(items, style, name=t("outside scope", lang), css_class="geo-context", control=False),
                    name="geo_context")
        row = (f'<div class="geo-row geo-context-row" data-context="{n}"><span class="geo-sw" '
               f'style="background:{CONTEXT_COLOR}"></span><span>{esc(t("outside scope", lang))}  ({n})</span></div>')
        m.add_child(Legend(row), name="geo_context_legend")
    svg = inset_svg(list(web.geometry.to_numpy()) + list(web.context.to_numpy()), t("South China Sea Islands", lang))
    m.add_child(Inset(svg), name="geo_inset")
