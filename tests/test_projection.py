"""Projections chosen from the data's extent (China's for China), and boundary files without a CRS."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import boundaries, weights as gw
from geo.boundaries import great_circle_km
from geo.cli import main


def _cells(lon0, lat0, nx, ny, size):
    geoms, ids = [], []
    for r in range(ny):
        for c in range(nx):
            geoms.append(shapely.box(lon0 + c * size, lat0 + r * size, lon0 + (c + 1) * size, lat0 + (r + 1) * size))
            ids.append(f"u{r}_{c}")
    return gpd.GeoDataFrame(geometry=geoms, index=pd.Index(ids, name="id"), crs="EPSG:4326")


def _projected_error(units, crs):
    """Largest relative error of straight-line distances in ``crs`` against geodesics, over all pairs."""
    c = boundaries.centroids(units)
    xy = c.to_crs(crs)
    i, j = np.triu_indices(len(units), k=1)
    proj = np.hypot(xy.x.values[i] - xy.x.values[j], xy.y.values[i] - xy.y.values[j]) / 1000.0
    geod = great_circle_km(c.x.values[i], c.y.values[i], c.x.values[j], c.y.values[j])
    return float(np.max(np.abs(proj / geod - 1.0)))


def test_china_keeps_chinas_projections(china):
    assert boundaries.projection_for(china, "equal-area") == boundaries.EQUAL_AREA_CRS
    assert boundaries.projection_for(china, "equidistant") == boundaries.EQUIDISTANT_CRS
    one = china.loc[["330100"]]
    assert boundaries.projection_for(one) == boundaries.EQUAL_AREA_CRS  # a single Chinese unit too


def test_north_carolina_gets_a_local_conic_that_keeps_distances():
    nc = _cells(-84.3, 33.9, 18, 6, 0.45)  # North Carolina's extent
    local = boundaries.projection_for(nc, "equidistant")
    assert "+proj=eqdc" in local and "+lon_0=-80.25 " in local
    assert _projected_error(nc, local) < 0.003
    assert _projected_error(nc, boundaries.EQUIDISTANT_CRS) > 0.01  # China's conic: off by > 1 %
    ea = boundaries.projection_for(nc, "equal-area")
    assert "+proj=aea" in ea


def test_small_or_equatorial_extents_use_azimuthal_projections():
    small = _cells(10.0, 50.0, 3, 3, 0.1)
    assert "+proj=aeqd" in boundaries.projection_for(small, "equidistant")
    assert "+proj=laea" in boundaries.projection_for(small, "equal-area")
    equator = _cells(-60.0, -5.0, 5, 5, 2.0)
    assert "+proj=aeqd" in boundaries.projection_for(equator, "equidistant")


def test_weights_state_the_projection():
    nc = _cells(-84.3, 33.9, 6, 3, 1.35)
    g = gw.build("distance:200km", nc, metric="projected", islands="keep")
    s = gw.summarize(g)
    assert s.projection.startswith("+proj=eqdc") and s.projection in s.summary()
    assert s.to_json()["projection"] == s.projection
    # the projected band agrees with the great-circle band here (the local conic keeps distances)
    gc = gw.build("distance:200km", nc, islands="keep")
    assert (abs(g.sparse - gc.sparse) > 1e-12).nnz == 0


def _nocrs_file(tmp_path):
    gdf = _cells(500000.0, 0.0, 3, 2, 1000.0).set_crs(None, allow_override=True)
    gdf = gdf.reset_index()
    path = tmp_path / "nocrs.shp"
    gdf.to_file(path)
    assert not path.with_suffix(".prj").exists()
    return path


def test_cli_contiguity_without_crs_and_distances_with_crs(tmp_path, capsys):
    path = _nocrs_file(tmp_path)
    assert main(["weights", "--boundaries", str(path), "--boundary-id", "id", "--spec", "queen", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 6 and out["links"] == 22 and "no CRS" in out["notes"][0]
    assert main(["weights", "--boundaries", str(path), "--boundary-id", "id", "--spec", "knn:1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--crs" in err and len(err.strip().splitlines()) == 1
    for flag in ("--crs", "--boundary-crs"):
        assert main(["weights", "--boundaries", str(path), "--boundary-id", "id", "--spec", "knn:1",
                     flag, "EPSG:32650", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["n"] == 6 and out["notes"] == [] and out["projection"]
    assert boundaries._ASSUMED_CRS.get() is None  # nothing leaks into later calls
