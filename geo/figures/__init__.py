"""Print maps and plots for papers (PNG, SVG, PDF), drawn with matplotlib + geopandas.

Why this stack: matplotlib is the figure library journals' Python users already have; it writes PNG at any
dpi and vector SVG/PDF with selectable, embedded fonts, and geopandas draws a GeoDataFrame onto its axes in
any projection (pyproj), so a map, its inset, north arrow and scale bar are one figure.  (cartopy would add
a second projection stack and a download of Natural Earth data at run time; geo draws only its own
boundaries, so it is not needed.)

Maps (``geo.figures.maps``): :func:`choropleth_print`, :func:`lisa_print`, :func:`spillover_print`,
:func:`radiation_print`, :func:`scenario_print`; each returns a :class:`PrintMap` (``save(path, format=,
dpi=)``, ``summary()``, ``to_json()``).  Plots (``geo.figures.plots``): :func:`event_study_plot`,
:func:`decay_plot`, :func:`moran_scatter`, :func:`impacts_plot`, built from results' documented JSON.
"""

from geo.figures._layout import PrintMap
from geo.figures._style import FORMATS, parse_size
from geo.figures.maps import KINDS, choropleth_print, lisa_print, radiation_print, scenario_print, spillover_print
from geo.figures.plots import Plot, decay_plot, event_study_plot, impacts_plot, moran_scatter

__all__ = [
    "PrintMap",
    "FORMATS",
    "KINDS",
    "parse_size",
    "choropleth_print",
    "lisa_print",
    "spillover_print",
    "radiation_print",
    "scenario_print",
    "Plot",
    "event_study_plot",
    "decay_plot",
    "moran_scatter",
    "impacts_plot",
]
