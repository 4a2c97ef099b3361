"""The folium/branca elements every map is made of: inlined assets, unit layers, shapes, legend, title.

Each element owns its template (folium's model).  Everything a user wrote (names, titles, labels,
column names) reaches the page either HTML-escaped (``esc``) and then placed with ``innerHTML``, or
as JSON inside ``<script>`` with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc. (``js``), so it is
shown as text and cannot close the script.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

__all__ = [
    "GEO_MARKER",
    "mark_page",
    "is_geo_page",
    "ASSETS_DIR",
    "esc",
    "js",
    "layer_name",
    "legend_html",
    "tooltip_html",
    "Geometry",
    "OfflineAssets",
    "UnitLayer",
    "ShapeLayer",
    "Legend",
    "Title",
    "Scale",
    "YearSlider",
    "Inset",
]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"

#: written into every HTML page geo makes (maps, reports); ``geo report`` embeds only pages that carry it
GEO_MARKER = '<meta name="generator" content="geo">'
_MARKER_RE = re.compile(r'<meta\s+name="generator"\s+content="geo"\s*/?>', re.I)


def mark_page(page: str) -> str:
    """``page`` with geo's marker at the start of its <head> (added once)."""
    if is_geo_page(page):
        return page
    m = re.search(r"<head[^>]*>", page, re.I)
    if m is None:
        return GEO_MARKER + page
    return page[: m.end()] + GEO_MARKER + page[m.end():]


def is_geo_page(page: str) -> bool:
    """Whether geo wrote this page: its marker inside <head>, in the first 4 kB."""
    head = page[:4096]
    end = head.lower().find("</head>")
    return bool(_MARKER_RE.search(head if end < 0 else head[:end]))


def esc(text) -> str:
    """HTML-escape any user text (quotes included)."""
    return html.escape(str(text), quote=True)


def layer_name(text) -> str:
    """A layer-control label: escaped (Leaflet uses innerHTML) and with braces as entities, because
    folium's LayerControl output passes through jinja once more."""
    return esc(text).replace("{", "&#123;").replace("}", "&#125;").replace("%", "&#37;")


def js(obj) -> str:
    """Compact JSON safe to place inside a <script> element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@functools.lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return (ASSETS_DIR / name).read_text(encoding="utf-8")


# Our own few lines of JavaScript: decoding the delta-encoded rings (see _web.py) and the
# shared behaviour of unit layers.  Written for geo; no third-party code.
_GEO_JS = r"""
var geoViz = (function () {
  function decode(units, scale) {
    return units.map(function (polys) {
      if (!polys) { return null; }
      return polys.map(function (rings) {
        return rings.map(function (r) {
          var out = [], x = 0, y = 0;
          for (var i = 0; i < r.length; i += 2) { x += r[i]; y += r[i + 1]; out.push([y / scale, x / scale]); }
          return out;
        });
      });
    });
  }
  function units(group, geom, base, codes, heads, cells, styles, cls) {
    for (var i = 0; i < geom.length; i++) {
      if (!geom[i]) { continue; }
      var st = styles[codes[i] < 0 ? styles.length - 1 : codes[i]];
      var p = L.polygon(geom[i], Object.assign({className: cls}, st));
      var rows = base[i];
      for (var j = 0; j < heads.length; j++) { rows += '<tr><th>' + heads[j] + '</th><td>' + cells[i][j] + '</td></tr>'; }
      p.bindTooltip('<table>' + rows + '</table>', {sticky: true, className: 'geo-tip'});
      p.on('mouseover', function (e) { e.target.setStyle({weight: 2.5, color: '#222'}); e.target.bringToFront(); });
      p.on('mouseout', (function (s) { return function (e) { e.target.setStyle({weight: s.weight, color: s.color}); }; })(st));
      p.addTo(group);
    }
    return group;
  }
  function shapes(group, items, styles, cls) {
    items.forEach(function (it) {
      var st = Object.assign({className: cls}, styles[it.s]);
      var lyr = it.k === 'm' ? L.circleMarker(it.g, st) : (it.k === 'l' ? L.polyline(it.g, st) : L.polygon(it.g, st));
      if (it.t) { lyr.bindTooltip(it.t, {sticky: it.k !== 'm', className: 'geo-tip'}); }
      lyr.addTo(group);
    });
    return group;
  }
  function control(map, position, cls, htmlText) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', cls);
      div.innerHTML = htmlText;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    c.addTo(map);
    return c;
  }
  return {decode: decode, units: units, shapes: shapes, control: control};
})();
"""

_GEO_CSS = """
.leaflet-container { background: #ffffff;
  font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
.geo-legend, .geo-title, .geo-slider { background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 0 4px rgba(0,0,0,0.3); font-size: 12px; line-height: 1.35; color: #222; max-width: 320px; }
.geo-title { font-size: 15px; font-weight: 600; max-width: 60vw; }
.geo-slider input { width: 180px; vertical-align: middle; }
.geo-inset { background: #ffffff; border: 1px solid #333; padding: 0; line-height: 0; }
.geo-inset svg { display: block; }
.geo-title .geo-subtitle { font-size: 11px; font-weight: 400; color: #555; }
.geo-legend h4 { margin: 0 0 4px 0; font-size: 12px; }
.geo-legend .geo-note { margin-top: 4px; color: #555; font-size: 11px; }
.geo-legend .geo-row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.geo-legend .geo-sw { width: 18px; height: 12px; border: 1px solid #999; flex: none; }
.geo-legend .geo-sw.geo-line { height: 0; border: none; border-top: 3px solid; }
.geo-legend .geo-sw.geo-dot { width: 10px; height: 10px; border-radius: 50%; margin: 0 4px; }
.geo-legend .geo-sw.geo-ring { background: none; border: 2px dashed #555; }
.geo-nodata { background: #d9d9d9 repeating-linear-gradient(45deg, #d9d9d9 0 3px, #9a9a9a 3px 4px); }
.geo-tip table { border-collapse: collapse; }
.geo-tip th { text-align: left; padding-right: 8px; font-weight: 600; color: #444; }
"""

# an SVG pattern for units with no data (Leaflet's SVG renderer accepts fill: url(#geo-hatch))
_HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="geo-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
    '<rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/>'
    "</pattern></defs></svg>"
)
NO_DATA_FILL = "url(#geo-hatch)"


class _Raw(Element):
    """Text placed in the page as is: branca's Element would run it through jinja again, which
    would evaluate ``{{ … }}`` written in user text (template injection) and choke on minified JS."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs):
        return self.text


class _RawMacro(MacroElement):
    """MacroElement whose header/html/script parts go into the figure without a second jinja pass."""

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Raw(str(macro(self, kwargs))), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class OfflineAssets(_RawMacro):
    """Leaflet's JS and CSS (pinned copy in ``assets/``) and geo's own script and style, inlined."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.leaflet_css }}</style>
        <style>{{ this.geo_css }}</style>
        <script>{{ this.leaflet_js }}</script>
        <script>{{ this.geo_js }}</script>
        {% endmacro %}
        {% macro html(this, kwargs) %}{{ this.hatch }}{% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GeoAssets"
        self.leaflet_css = _asset("leaflet.css")
        self.leaflet_js = _asset("leaflet.min.js")
        self.geo_css = _GEO_CSS
        self.geo_js = _GEO_JS
        self.hatch = _HATCH_SVG


class Geometry(_RawMacro):
    """The decoded unit geometries and the first tooltip rows (name, id), written once for all layers."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoViz.decode({{ this.data }}, {{ this.scale }});
        var {{ this.get_name() }}_tips = {{ this.base }};
        {% endmacro %}
        """
    )

    def __init__(self, encoded: list, scale: int, base_rows):
        super().__init__()
        self._name = "geo_geometry"
        self.data = js(encoded)
        self.scale = int(scale)
        self.base = js([_rows_html(r) for r in base_rows])


class UnitLayer(Layer, _RawMacro):
    """Units coloured by class: ``codes`` index ``styles`` (-1 = the last style, "no data").

    Tooltips: the geometry's rows (name, id) then one row per ``heads`` label with the unit's
    ``cells`` (text, escaped here).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoViz.units(L.featureGroup(), {{ this.geometry.get_name() }},
            {{ this.geometry.get_name() }}_tips, {{ this.codes }}, {{ this.heads }}, {{ this.cells }},
            {{ this.styles }}, {{ this.css_class }});
        {% endmacro %}
        """
    )

    def __init__(
        self, geometry: Geometry, codes, heads, cells, styles, *, name: str,
        overlay=True, show=True, control=True, css_class="geo-unit",
    ):
        super().__init__(name=layer_name(name), overlay=overlay, control=control, show=show)
        self._name = "geo_units"
        self.geometry = geometry
        self.codes = js([int(c) for c in codes])
        self.heads = js([esc(h) for h in heads])
        self.cells = js([[esc(v) for v in row] for row in cells])
        self.styles = js(list(styles))
        self.css_class = js(css_class)


class ShapeLayer(Layer, _RawMacro):
    """Markers ('m': [lat, lon]), lines ('l') and polygons ('p') with escaped tooltips."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoViz.shapes(L.featureGroup(), {{ this.items }}, {{ this.styles }}, {{ this.css_class }});
        {% endmacro %}
        """
    )

    def __init__(self, items, styles, *, name: str, css_class: str, overlay=True, show=True, control=True):
        super().__init__(name=layer_name(name), overlay=overlay, control=control, show=show)
        self._name = "geo_shapes"
        self.items = js(list(items))
        self.styles = js(list(styles))
        self.css_class = js(css_class)


class _Control(_RawMacro):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoViz.control({{ this._parent.get_name() }}, {{ this.position }},
            {{ this.css_class }}, {{ this.html }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str, css_class: str):
        super().__init__()
        self.html = js(html_text)
        self.position = js(position)
        self.css_class = js(css_class)


class Legend(_Control):
    """A legend box; ``html_text`` must already be escaped (built by ``legend_html``)."""

    def __init__(self, html_text: str, *, position: str = "bottomright"):
        super().__init__(html_text, position=position, css_class="geo-legend leaflet-control")
        self._name = "geo_legend"


class Inset(_Control):
    """A fixed panel at the bottom left (the South China Sea inset, an inline SVG geo made)."""

    def __init__(self, svg: str):
        super().__init__(svg, position="bottomleft", css_class="geo-inset leaflet-control")
        self._name = "geo_inset"


class Title(_Control):
    def __init__(self, title: str, subtitle: str | None = None):
        text = f'<div class="geo-title-text">{esc(title)}</div>'
        if subtitle:
            text += f'<div class="geo-subtitle">{esc(subtitle)}</div>'
        super().__init__(text, position="topleft", css_class="geo-title leaflet-control")
        self._name = "geo_title"


def legend_html(heading: str, rows, *, notes=()) -> str:
    """Legend markup from escaped-on-the-way-in parts.

    ``rows``: (swatch_kind, colour, label, data) with swatch_kind in box/line/dot/ring/nodata and
    ``data`` a dict of data-* attributes (values escaped) used by tests and scripts.
    """
    parts = [f"<h4>{esc(heading)}</h4>"] if heading else []
    for kind, color, label, data in rows:
        attrs = "".join(f' data-{esc(k)}="{esc(v)}"' for k, v in (data or {}).items())
        if kind == "nodata":
            sw = '<span class="geo-sw geo-nodata"></span>'
        elif kind == "line":
            sw = f'<span class="geo-sw geo-line" style="border-top-color:{esc(color)}"></span>'
        elif kind == "dot":
            sw = f'<span class="geo-sw geo-dot" style="background:{esc(color)}"></span>'
        elif kind == "ring":
            sw = '<span class="geo-sw geo-ring"></span>'
        else:
            sw = f'<span class="geo-sw" style="background:{esc(color)}"></span>'
        parts.append(f'<div class="geo-row geo-class"{attrs}>{sw}<span>{esc(label)}</span></div>')
    for note in notes:
        parts.append(f'<div class="geo-note">{esc(note)}</div>')
    return "".join(parts)


def _rows_html(rows) -> str:
    return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)


def tooltip_html(rows) -> str:
    """A small table of (label, value) pairs, escaped."""
    return f"<table>{_rows_html(rows)}</table>"


class Scale(_RawMacro):
    """A metric scale bar at the bottom left."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: 'bottomleft'}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "geo_scale"


class YearSlider(_RawMacro):
    """A slider moving through the years of a multi-year map: it shows one year's unit layer at a time
    (the layers stay in the layer control too, which follows the slider)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }}, layers = [{% for layer in this.layer_list %}{{ layer.get_name() }}{{ ", " if not loop.last }}{% endfor %}], years = {{ this.years }};
          var c = L.control({position: 'bottomleft'});
          c.onAdd = function () {
            var div = L.DomUtil.create('div', 'geo-slider leaflet-control');
            div.innerHTML = '<b class="geo-year"></b> <input type="range" min="0" step="1" aria-label="year">';
            L.DomEvent.disableClickPropagation(div);
            var input = div.querySelector('input'), label = div.querySelector('b');
            input.max = years.length - 1; input.value = years.length - 1;
            function show(i) {
              layers.forEach(function (layer, j) {
                if (j === i) { if (!map.hasLayer(layer)) { map.addLayer(layer); } }
                else if (map.hasLayer(layer)) { map.removeLayer(layer); }
              });
              label.textContent = years[i];
            }
            input.addEventListener('input', function () { show(+input.value); });
            map.on('baselayerchange', function (e) {
              var i = layers.indexOf(e.layer); if (i >= 0) { input.value = i; label.textContent = years[i]; }
            });
            show(years.length - 1);
            return div;
          };
          c.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layers, years):
        super().__init__()
        self._name = "geo_year_slider"
        self.layer_list = list(layers)  # their JavaScript names are taken when the page renders (ids are fixed then)
        self.years = js([str(y) for y in years])
