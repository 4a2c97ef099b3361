"""The Dask engine of :func:`geo.points.aggregate_points` (partitioning described in :mod:`geo.points`)."""

from __future__ import annotations

import logging
import math

import pandas as pd

from geo._points_locate import Locator, partial
from geo._points_read import _csv_sep, _finish_chunk, _first_line, _needed, _Spec
from geo.errors import CRSError, InputError

__all__ = ["run_dask"]



def _dask_partial(raw: pd.DataFrame, locator: Locator, spec: _Spec):
    if len(raw) == 0:
        return None, 0, 0
    chunk = _finish_chunk(raw.reset_index(drop=True), spec)
    return partial(chunk, locator, spec)


def _dask_frame(points, kind, spec: _Spec, blocksize, chunksize):
    import dask.dataframe as dd

    need = _needed(spec)
    if kind == "csv":
        dtypes = {c: "float64" for c in (spec.lon, spec.lat)}
        dtypes.update({c: "object" for c in need if c not in dtypes})
        return dd.read_csv(
            str(points), usecols=need, dtype=dtypes, blocksize=blocksize, sep=_csv_sep(points),
            encoding="utf-8-sig",
        )
    if kind == "parquet":
        return dd.read_parquet(str(points), columns=need, blocksize=blocksize)
    if kind == "frame":
        n = max(1, math.ceil(len(points) / chunksize))
        return dd.from_pandas(points[need], npartitions=n)
    import dask_geopandas

    if kind == "geoparquet":
        gddf = dask_geopandas.read_parquet(str(points), blocksize=blocksize)
    elif kind == "vector":
        gddf = dask_geopandas.read_file(str(points), chunksize=chunksize)
    else:
        gddf = dask_geopandas.from_geopandas(points, chunksize=chunksize)
    if gddf.crs is None:
        raise CRSError(f"{spec.source}: points have no CRS; set one before aggregating")
    from pyproj import CRS

    if CRS.from_user_input(gddf.crs).to_epsg() not in (4326, 4490):
        gddf = gddf.to_crs("EPSG:4326")
    keep = [c for c in need if c not in (spec.lon, spec.lat)]
    return gddf.assign(**{spec.lon: gddf.geometry.x, spec.lat: gddf.geometry.y})[keep + [spec.lon, spec.lat]]


def run_dask(points, kind, spec, locator, scheduler, n_workers, blocksize, chunksize, *, progress=None):
    """Partial tables of every partition, computed on the cluster; ``progress(points_done)`` after each one."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    ddf = _dask_frame(points, kind, spec, blocksize, chunksize)
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {_first_line(exc)}") from None
        try:
            # the lookup (grid + polygons) goes to every worker once, not into each task
            loc = client.scatter(locator, broadcast=True)
            tasks = [dask.delayed(_dask_partial)(part, loc, spec) for part in ddf.to_delayed()]
            futures = client.compute(tasks)
            position = {f.key: i for i, f in enumerate(futures)}
            done: dict[int, tuple] = {}
            rows = 0
            for fut in as_completed(futures):
                done[position[fut.key]] = fut.result()
                rows += done[position[fut.key]][2]
                if progress is not None:
                    progress(rows)
            results = [done[i] for i in range(len(futures))]  # partition order: sums do not depend on timing
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
    parts = [r[0] for r in results if r[0] is not None]
    n_assigned = sum(r[1] for r in results)
    n_points = sum(r[2] for r in results)
    return parts, n_assigned, n_points, len(tasks)
