"""Small multiples: 2–6 synchronised maps of one indicator (e.g. several years) on one page.

One geometry is written once for all panels (as for the year maps); the panels share one set of classes
(pooled, so a colour means the same values everywhere) and move together: panning or zooming one moves
the others.  The page is composed here rather than by folium, which has one map per page; it uses the
same inlined Leaflet and geo script as every other map, so it opens offline.
"""

from __future__ import annotations

from geo.errors import OptionError
from geo.labels import check_lang, t
from geo.territory import MAINLAND_SOUTH, is_china
from geo.viz._base import MapResult, prepare, simplification_dict, tip_cells, unit_names
from geo.viz._classify import fmt_number
from geo.viz._elements import _GEO_CSS, _GEO_JS, _HATCH_SVG, GEO_MARKER, _asset, esc, js
from geo.viz._legend import class_styles, classes_legend, heading_for
from geo.viz.years import pooled_years

__all__ = ["small_multiples"]

_PAGE_CSS = """
html, body { margin: 0; height: 100%; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
.geo-page-title { font-size: 16px; font-weight: 600; padding: 8px 12px; }
.geo-grid { display: grid; gap: 6px; padding: 0 8px; height: calc(100% - 140px); }
.geo-panel { display: flex; flex-direction: column; border: 1px solid #ccc; min-height: 180px; }
.geo-panel-title { font-size: 13px; font-weight: 600; padding: 2px 6px; }
.geo-panel-map { flex: 1; }
.geo-legend { position: static; margin: 6px 8px; max-width: none; display: inline-block; }
"""

_SCRIPT = """
(function () {
  var geom = geoViz.decode(%(data)s, %(scale)s), tips = %(tips)s, panels = %(panels)s;
  var styles = %(styles)s, bounds = %(bounds)s, maps = [], syncing = false;
  panels.forEach(function (p, i) {
    var m = L.map('geo-panel-' + i, {zoomSnap: 0.25, zoomDelta: 0.5, attributionControl: false});
    geoViz.units(L.featureGroup(), geom, tips, p.codes, %(heads)s, p.cells, styles, 'geo-unit').addTo(m);
    m.fitBounds(bounds);
    maps.push(m);
  });
  maps.forEach(function (m) {
    m.on('move', function () {
      if (syncing) { return; }
      syncing = true;
      maps.forEach(function (o) { if (o !== m) { o.setView(m.getCenter(), m.getZoom(), {animate: false}); } });
      syncing = false;
    });
  });
  window.geoMaps = maps;
})();
"""


def small_multiples(
    units, table, var: str, *, year_col: str = "year", years=None, scheme: str = "quantiles", k: int = 5,
    breaks=None, cmap: str = "YlOrRd", title: str | None = None, units_label: str | None = None,
    name_col: str = "name", simplify: str = "auto", tolerance="auto", lang: str = "en",
) -> MapResult:
    """2–6 synchronised maps of ``var``, one per year of ``years`` (default: all, if 2–6), classes pooled.

    ``table``: long DataFrame as for :func:`geo.viz.choropleth_years`."""
    check_lang(lang)
    wide, classes = pooled_years(units, table, var, year_col=year_col, years=years, scheme=scheme, k=k, breaks=breaks,
                                 cmap=cmap)
    if not 2 <= wide.shape[1] <= 6:
        raise OptionError(f"small multiples show 2 to 6 panels; {var!r} has {wide.shape[1]} years: pick some with years=")
    web = prepare(units, simplify=simplify, tolerance=tolerance, context=False)
    names = unit_names(units, name_col)
    suffix = f" {units_label}" if units_label else ""
    panels = []
    heads: list = []
    for year in wide.columns:
        col = wide[year]

        def rows(i, col=col, year=year):
            v = col.loc[i]
            return [(t("year", lang), year), (var, t("no data", lang) if v != v else fmt_number(v) + suffix)]

        heads, cells = tip_cells(units.index, rows)
        codes = [int(classes.codes[f"{i}|{year}"]) for i in units.index]
        panels.append({"codes": codes, "cells": [[esc(v) for v in row] for row in cells]})
    id_label = units.index.name or "id"
    tips = [f"<tr><th>{esc(t('name', lang))}</th><td>{esc(n)}</td></tr><tr><th>{esc(id_label)}</th><td>{esc(i)}</td></tr>"
            for i, n in zip(units.index, names.to_numpy())]
    title = title if title is not None else f"{var}, {', '.join(map(str, wide.columns))}"
    legend_text, info = classes_legend(classes, heading_for(var, units_label), lang=lang,
                                       extra_notes=[t("years_note", lang).split(";")[0]])
    columns = {2: 2, 3: 3, 4: 2, 5: 3, 6: 3}[wide.shape[1]]
    bounds = web.bounds()
    if is_china(units):  # the mainland and Hainan (as the single maps do)
        bounds[0][0] = max(bounds[0][0], MAINLAND_SOUTH)
    grid = "".join(
        f'<div class="geo-panel"><div class="geo-panel-title">{esc(y)}</div>'
        f'<div class="geo-panel-map" id="geo-panel-{n}"></div></div>'
        for n, y in enumerate(wide.columns)
    )
    script = _SCRIPT % {
        "data": js(web.encoded()), "scale": int(web.scale), "tips": js(tips), "panels": js(panels),
        "styles": js(class_styles(classes.colors)), "bounds": js(bounds), "heads": js([esc(h) for h in heads]),
    }
    lang_attr = "zh-CN" if lang == "zh" else "en"
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang_attr}"><head>{GEO_MARKER}<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_asset('leaflet.css')}</style><style>{_GEO_CSS}{_PAGE_CSS}</style>"
        f"<script>{_asset('leaflet.min.js')}</script><script>{_GEO_JS}</script></head><body>{_HATCH_SVG}"
        f'<div class="geo-page-title">{esc(title)}</div>'
        f'<div class="geo-grid" style="grid-template-columns: repeat({columns}, 1fr)">{grid}</div>'
        f'<div class="geo-legend">{legend_text}</div><script>{script}</script></body></html>\n'
    )
    info["years"] = [int(y) for y in wide.columns]
    return MapResult(page, "small-multiples", title, int(web.geometry.notna().sum()), info, simplification_dict(web))
