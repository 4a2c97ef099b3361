"""Locating points in units and reducing a chunk to counts and sums per unit, for :mod:`geo.points`.

The second step of the points data flow (read (:mod:`geo._points_read`) -> locate and reduce -> assemble
(:mod:`geo.points`)); the method (lookup grid with exact tests near edges) is described in :mod:`geo.points`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo._points_read import NO_YEAR, _Spec
from geo.raster import _colour_classes

__all__ = ["DEFAULT_GRID_CELLS", "Locator", "partial"]

DEFAULT_GRID_CELLS = 16_000_000



class Locator:
    """Unit lookup for points: a label grid with exact checks near edges (see the doc of geo.points)."""

    def __init__(self, geoms, grid_cells: int = DEFAULT_GRID_CELLS):
        import shapely
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        geoms = np.asarray(geoms, dtype=object)
        if not shapely.is_valid(geoms).all():
            geoms = shapely.make_valid(geoms)
        self.geoms = geoms
        self.n = len(geoms)
        self.overlapping = not bool(shapely.coverage_is_valid(geoms)) and len(_colour_classes(geoms)) > 1
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        w, h = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        # simple shapes need few cells: at most ~2,000 cells per boundary vertex
        cells = min(int(grid_cells), max(4096, 2000 * int(shapely.get_num_coordinates(geoms).sum())))
        d = math.sqrt(w * h / max(cells, 1))
        d = max(d, 1e-7)
        nx, ny = int(math.ceil(w / d)) + 2, int(math.ceil(h / d)) + 2  # one padding cell each side
        self.x0, self.y0, self.d, self.nx, self.ny = xmin - d, ymax + d, d, nx, ny
        t = from_origin(self.x0, self.y0, d, d)
        dtype = "int16" if self.n < 32000 else "int32"
        label = rasterize(((g, i) for i, g in enumerate(geoms)), out_shape=(ny, nx), transform=t, fill=-1, dtype=dtype)
        edge = rasterize(
            ((b, 1) for b in shapely.boundary(geoms)), out_shape=(ny, nx), transform=t, fill=0, all_touched=True,
            dtype="uint8",
        ).astype(bool)
        if self.overlapping:
            cover = rasterize(
                ((g, 1) for g in geoms), out_shape=(ny, nx), transform=t, fill=0, dtype="uint16",
                merge_alg=_merge_add(),
            )
            edge |= cover > 1
        grown = edge.copy()  # grow by one cell (8-neighbourhood) against rounding at cell borders
        grown[1:, :] |= edge[:-1, :]
        grown[:-1, :] |= edge[1:, :]
        g2 = grown.copy()
        g2[:, 1:] |= grown[:, :-1]
        g2[:, :-1] |= grown[:, 1:]
        label[g2] = -2
        self.grid = label
        self._bucket_index(shapely.bounds(geoms))
        self._prepared = False

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_prepared"] = False  # prepared geometries do not pickle: prepared again on each worker
        return state

    def _bucket_index(self, bounds: np.ndarray, per_side: int = 256) -> None:
        """Bounding-box candidates without building point geometries: a coarse grid (``per_side`` cells along the
        longer side) listing, per cell, the units whose bounding box overlaps it (CSR arrays).

        It returns the same (point, unit) pairs as ``STRtree.query(shapely.points(x, y))`` (closed boxes), but
        creating the shapely points was the largest cost of the exact test (0.6 s of ~1 s per 91,000 points
        near edges, 100 M-point benchmark)."""
        ok = np.isfinite(bounds).all(axis=1)
        self._bounds = np.where(ok[:, None], bounds, np.nan)
        if not ok.any():
            self._bx0 = self._by0 = 0.0
            self._bcell, self._bnx, self._bny = 1.0, 1, 1
            self._bptr, self._bidx = np.zeros(2, dtype=np.int64), np.zeros(0, dtype=np.int64)
            return
        xmin, ymin = bounds[ok, 0].min(), bounds[ok, 1].min()
        xmax, ymax = bounds[ok, 2].max(), bounds[ok, 3].max()
        cell = max(xmax - xmin, ymax - ymin, 1e-9) / per_side
        nx, ny = int((xmax - xmin) / cell) + 1, int((ymax - ymin) / cell) + 1
        units = np.flatnonzero(ok)
        i0 = np.clip(np.floor((bounds[units, 0] - xmin) / cell).astype(np.int64), 0, nx - 1)
        i1 = np.clip(np.floor((bounds[units, 2] - xmin) / cell).astype(np.int64), 0, nx - 1)
        j0 = np.clip(np.floor((bounds[units, 1] - ymin) / cell).astype(np.int64), 0, ny - 1)
        j1 = np.clip(np.floor((bounds[units, 3] - ymin) / cell).astype(np.int64), 0, ny - 1)
        width, height = i1 - i0 + 1, j1 - j0 + 1
        count = width * height
        unit = np.repeat(units, count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        cells = (np.repeat(j0, count) + k // np.repeat(width, count)) * nx + np.repeat(i0, count) + k % np.repeat(width, count)
        order = np.argsort(cells, kind="stable")  # units in increasing order within a cell
        self._bidx = unit[order].astype(np.int64)
        self._bptr = np.r_[0, np.cumsum(np.bincount(cells, minlength=nx * ny))].astype(np.int64)
        self._bx0, self._by0, self._bcell, self._bnx, self._bny = xmin, ymin, cell, nx, ny

    def _candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point, unit) pairs whose unit's closed bounding box holds the point, sorted by point."""
        ci = np.floor((x - self._bx0) / self._bcell)
        cj = np.floor((y - self._by0) / self._bcell)
        inside = np.flatnonzero((ci >= 0) & (ci < self._bnx) & (cj >= 0) & (cj < self._bny))
        cell = cj[inside].astype(np.int64) * self._bnx + ci[inside].astype(np.int64)
        start = self._bptr[cell]
        count = self._bptr[cell + 1] - start
        pi = np.repeat(inside, count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        gi = self._bidx[np.repeat(start, count) + k]
        b = self._bounds[gi]
        px, py = x[pi], y[pi]
        keep = (b[:, 0] <= px) & (px <= b[:, 2]) & (b[:, 1] <= py) & (py <= b[:, 3])
        return pi[keep], gi[keep]

    def _exact(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact point-in-polygon pairs: bounding-box candidates (:meth:`_candidates`), then one vectorised
        ``intersects_xy`` per candidate polygon on its prepared geometry (faster than an STRtree predicate
        query, which would prepare the points instead of the polygons: 21 s against 3 s per million points)."""
        import shapely

        if not self._prepared:
            shapely.prepare(self.geoms)
            self._prepared = True
        pi, gi = self._candidates(x, y)
        if pi.size == 0:
            return pi, gi
        order = np.argsort(gi, kind="stable")
        pi, gi = pi[order], gi[order]
        starts = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1]])
        ends = np.r_[starts[1:], len(gi)]
        keep = np.zeros(len(pi), dtype=bool)
        for a, b in zip(starts, ends):
            p = pi[a:b]
            keep[a:b] = shapely.intersects_xy(self.geoms[gi[a]], x[p], y[p])
        return pi[keep], gi[keep]

    @property
    def exact_share(self) -> float:
        return float((self.grid == -2).mean())

    def locate(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point positions, unit positions) of every point-in-unit pair; points in no unit are absent."""
        ix = np.floor((x - self.x0) / self.d)
        iy = np.floor((self.y0 - y) / self.d)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        code = np.full(len(x), -1, dtype=np.int64)
        code[inside] = self.grid[iy[inside].astype(np.int64), ix[inside].astype(np.int64)]
        sure = np.flatnonzero(code >= 0)
        pts_idx = [sure]
        unit_idx = [code[sure]]
        need = np.flatnonzero(code == -2)
        if need.size:
            pi, gi = self._exact(x[need], y[need])
            if not self.overlapping and pi.size:
                order = np.lexsort((gi, pi))
                pi, gi = pi[order], gi[order]
                first = np.r_[True, pi[1:] != pi[:-1]]
                pi, gi = pi[first], gi[first]
            pts_idx.append(need[pi])
            unit_idx.append(gi.astype(np.int64))
        return np.concatenate(pts_idx), np.concatenate(unit_idx)


def _merge_add():
    from rasterio.enums import MergeAlg

    return MergeAlg.add



def _reduce_chunk(chunk: pd.DataFrame, locator: Locator, sums: tuple, use_year: bool) -> tuple[pd.DataFrame, int]:
    """Counts and sums per (unit position, year) of one prepared chunk, and the number of points in a unit.

    Special unit positions: -1 points in no unit, -2 bad coordinates, -3 no year (when years are used).
    """
    x, y = chunk["_x"].to_numpy(), chunk["_y"].to_numpy()
    year = np.asarray(chunk["_year"].to_numpy(), dtype=np.int64)
    n = len(chunk)
    status = np.full(n, -1, dtype=np.int64)
    good_xy = np.isfinite(x) & np.isfinite(y)
    status[~good_xy] = -2
    if use_year:
        status[good_xy & (year == NO_YEAR)] = -3
    ok = status == -1
    okpos = np.flatnonzero(ok)
    pi, ui = locator.locate(x[okpos], y[okpos])
    p_all = okpos[pi]
    matched = np.zeros(n, dtype=bool)
    matched[p_all] = True
    rest = np.flatnonzero(~matched)
    rows = np.concatenate([p_all, rest])  # one row per (point, unit) pair, plus one per other point
    units = np.concatenate([ui, status[rest]])
    if not use_year:  # one bincount per column (faster than a groupby)
        key = units + 3  # -3.. -> 0..
        m = int(key.max()) + 1 if key.size else 0
        cols = {"count": np.bincount(key, minlength=m).astype(np.int64)}
        for c in sums:
            cols[f"{c}_sum"] = np.bincount(key, weights=np.nan_to_num(chunk[c].to_numpy(dtype=float)[rows]), minlength=m)
        present = np.flatnonzero(cols["count"])
        index = pd.MultiIndex.from_arrays([present - 3, np.full(len(present), NO_YEAR)], names=["unit", "year"])
        return pd.DataFrame({k: v[present] for k, v in cols.items()}, index=index), int(matched.sum())
    frame = pd.DataFrame({"unit": units, "year": year[rows], "count": np.ones(len(rows), dtype=np.int64)})
    for c in sums:
        frame[f"{c}_sum"] = np.nan_to_num(chunk[c].to_numpy(dtype=float)[rows])
    out = frame.groupby(["unit", "year"], sort=False).sum()
    return out, int(matched.sum())


def partial(chunk: pd.DataFrame, locator: Locator, spec: _Spec) -> tuple[pd.DataFrame, int, int]:
    red, assigned = _reduce_chunk(chunk, locator, spec.sums, spec.year is not None)
    return red, assigned, len(chunk)

