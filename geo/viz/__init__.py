"""Web maps that open offline, stay small and embed in reports (folium + a pinned, inlined Leaflet).

One module per map kind: :func:`choropleth`, :func:`choropleth_years` (one layer per year),
:func:`lisa_map`, :func:`spillover_map`, :func:`radiation_map`, :func:`bivariate_map` (two variables, 3×3).
Maps of the embedded units draw the rest of the territory grey and carry a South China Sea inset panel.  Each returns a :class:`MapResult`
(``save``, ``to_html``, ``snippet``, ``png``).  Boundaries are simplified with a coverage-preserving
method and rounded (:func:`web_geometry`); the page requests nothing unless ``tiles=True``.
"""

from geo.viz._base import MapResult
from geo.viz._web import WebGeometry, web_geometry
from geo.viz.bivariate import bivariate_map
from geo.viz.multiples import small_multiples
from geo.viz.choropleth import choropleth
from geo.viz.lisa import lisa_map
from geo.viz.radiation import radiation_map
from geo.viz.spillover import spillover_map
from geo.viz.years import choropleth_years

__all__ = [
    "MapResult",
    "WebGeometry",
    "web_geometry",
    "choropleth",
    "choropleth_years",
    "lisa_map",
    "spillover_map",
    "radiation_map",
    "bivariate_map",
    "small_multiples",
]
