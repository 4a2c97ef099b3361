"""One module per ``geo`` command (the model: rasterio's ``rio``).

``geo --help`` imports every module here to list the commands, so at module level these import only
click and geo's light modules (``geo.errors``, ``geo._write``, ``geo._paths``, ``geo.cli.options``,
``geo.cli.paths``).  The imports of geo's library modules inside the command functions are deliberate:
each of them loads pandas, numpy, scipy, geopandas, folium or matplotlib (0.3-2 s), which a command
loads only when it runs.
"""
