"""Zonal statistics: hand-checked pixels, rasterstats as the centre-rule reference, exact areas for coverage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo import raster
from geo.errors import CRSError, OptionError

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402
from shapely.geometry import box  # noqa: E402

import geopandas as gpd  # noqa: E402

NODATA = -9999.0


def _write(path, bands, *, crs="EPSG:4326", transform=None, nodata=NODATA):
    bands = np.asarray(bands, dtype="float64")
    if bands.ndim == 2:
        bands = bands[None]
    profile = dict(
        driver="GTiff", height=bands.shape[1], width=bands.shape[2], count=bands.shape[0], dtype="float64",
        transform=transform or from_origin(0, 4, 1, 1), nodata=nodata,
    )
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
    return path


@pytest.fixture
def grid():
    # 4 x 4 pixels of 1 degree, origin (0, 4); value = 10 * row + col; pixel (0, 3) is nodata
    v = np.array([[10.0 * r + c for c in range(4)] for r in range(4)])
    v[0, 3] = NODATA
    return v


@pytest.fixture
def units():
    # in shuffled, non-sorted order with string ids
    return gpd.GeoDataFrame(
        {"name": ["C", "A", "B", "D"]},
        geometry=[box(2, 2, 4, 4), box(0, 2, 2, 4), box(0.25, 0, 1.25, 1), box(10, 10, 11, 11)],
        index=pd.Index(["c", "a", "b", "d"], name="uid"),
        crs="EPSG:4326",
    )


def test_hand_checked_centre_and_coverage(tmp_path, grid, units):
    tif = _write(tmp_path / "g.tif", grid)
    res = raster.zonal_stats(tif, units, stats=raster.ALL_STATS)
    t = res.table
    assert list(t.index) == ["c", "a", "b", "d"] and t.index.name == "uid"
    # A: pixels 0, 1, 10, 11 wholly inside
    a = t.loc["a"]
    assert a["count"] == 4 and a["sum"] == 22 and a["mean"] == 5.5 and a["min"] == 0 and a["max"] == 11
    assert a["std"] == pytest.approx(np.sqrt(25.25), rel=1e-12)
    for s in ("mean", "sum", "min", "max", "std", "count"):
        assert a[f"cov_{s}"] == pytest.approx(a[s], rel=1e-12)
    # B: 3/4 of pixel 30 (centre inside), 1/4 of pixel 31 (centre outside)
    b = t.loc["b"]
    assert b["count"] == 1 and b["mean"] == 30 and b["sum"] == 30 and b["std"] == 0
    assert b["cov_count"] == pytest.approx(1.0, rel=1e-9)
    assert b["cov_sum"] == pytest.approx(0.75 * 30 + 0.25 * 31, rel=1e-9)
    assert b["cov_mean"] == pytest.approx(30.25, rel=1e-9)
    assert b["cov_std"] == pytest.approx(np.sqrt(0.75 * 0.25**2 + 0.25 * 0.75**2), rel=1e-9)
    assert (b["cov_min"], b["cov_max"]) == (30, 31)
    # C: pixels 2, nodata, 12, 13
    c = t.loc["c"]
    assert c["count"] == 3 and c["sum"] == 27 and c["mean"] == 9 and c["max"] == 13
    assert c["cov_count"] == pytest.approx(3.0) and c["cov_mean"] == pytest.approx(9.0)
    # D: outside the raster
    d = t.loc["d"]
    assert d["count"] == 0 and d["sum"] == 0 and np.isnan(d["mean"]) and np.isnan(d["cov_mean"])
    assert res.empty_units == ("d",)
    payload = res.to_json()
    json.dumps(payload, allow_nan=False)
    assert payload["rows"][3]["mean"] is None and payload["index"] == ["uid"]


@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_other_dtypes_keep_nodata(tmp_path, grid, units, dtype):
    tif = tmp_path / f"g_{dtype}.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=4, width=4, count=1, dtype=dtype, crs="EPSG:4326",
                       transform=from_origin(0, 4, 1, 1), nodata=NODATA) as dst:
        dst.write(grid.astype(dtype), 1)
    t = raster.zonal_stats(tif, units, stats="count,sum,max,cov_count,cov_max").table
    assert (t.loc["c", "count"], t.loc["c", "sum"], t.loc["c", "max"]) == (3, 27, 13)
    assert t.loc["c", "cov_count"] == pytest.approx(3) and t.loc["c", "cov_max"] == 13


def test_nodata_override_and_nan(tmp_path, grid, units):
    g = grid.copy()
    g[1, 0] = np.nan  # NaN is always nodata
    tif = _write(tmp_path / "g.tif", g)
    t = raster.zonal_stats(tif, units, stats="count,sum,cov_count").table
    assert t.loc["a", "count"] == 3 and t.loc["a", "sum"] == 12 and t.loc["a", "cov_count"] == pytest.approx(3)
    t2 = raster.zonal_stats(tif, units, stats="count,cov_count", nodata=11).table
    assert t2.loc["a", "count"] == 2 and t2.loc["a", "cov_count"] == pytest.approx(2)
    assert t2.loc["c", "count"] == 4  # -9999 is a value once nodata is overridden


def test_multiband_columns_and_band_years_panel(tmp_path, grid, units):
    bands = np.stack([grid, np.where(grid == NODATA, NODATA, grid * 2), np.where(grid == NODATA, NODATA, grid * 3)])
    tif = _write(tmp_path / "g3.tif", bands)
    res = raster.zonal_stats(tif, units, stats="mean,cov_sum", bands=[1, 3])
    assert list(res.table.columns) == ["mean", "cov_sum", "b3_mean", "b3_cov_sum"]
    assert res.table.loc["a", "b3_mean"] == pytest.approx(16.5)
    res = raster.zonal_stats(tif, units, stats="mean,count", band_years=[2010, 2011, 2012])
    p = res.panel
    assert p.index.names == ["uid", "year"] and list(p.columns) == ["mean", "count"]
    assert p.loc[("a", 2011), "mean"] == pytest.approx(11.0) and p.loc[("a", 2012), "mean"] == pytest.approx(16.5)
    assert len(p) == 4 * 3
    assert res.to_frame().equals(p)
    with pytest.raises(OptionError, match="2 years but 3 bands"):
        raster.zonal_stats(tif, units, band_years=[2010, 2011])
    with pytest.raises(OptionError, match="band 4 is not in"):
        raster.zonal_stats(tif, units, bands=4)


def test_year_files_panel(tmp_path, grid, units):
    files = {2001: _write(tmp_path / "y1.tif", grid), 2002: _write(tmp_path / "y2.tif", np.where(grid == NODATA, NODATA, grid + 1))}
    res = raster.zonal_stats(files, units, stats="mean")
    assert res.panel.loc[("a", 2002), "mean"] == pytest.approx(6.5)
    assert list(res.table.columns) == ["mean_2001", "mean_2002"]


def test_reprojection_of_units(tmp_path, grid, units):
    tif = _write(tmp_path / "g.tif", grid)
    a = raster.zonal_stats(tif, units, stats="mean,cov_mean,cov_count").table
    b = raster.zonal_stats(tif, units.to_crs("EPSG:3857"), stats="mean,cov_mean,cov_count").table
    pd.testing.assert_frame_equal(a, b, rtol=1e-7)


def test_overlapping_units_match_separate_runs(tmp_path, grid):
    tif = _write(tmp_path / "g.tif", grid)
    over = gpd.GeoDataFrame(geometry=[box(0, 0, 3, 3), box(1, 1, 4, 4), box(0, 0, 4, 4)], index=["x", "y", "z"], crs=4326)
    both = raster.zonal_stats(tif, over, stats="mean,sum,count,min,max,std").table
    for uid in over.index:
        alone = raster.zonal_stats(tif, over.loc[[uid]], stats="mean,sum,count,min,max,std").table
        pd.testing.assert_frame_equal(both.loc[[uid]], alone, rtol=1e-12)
    assert both.loc["z", "count"] == 15


@pytest.mark.parametrize("numba_kernel", [True, False], ids=["numba", "numpy"])
def test_centre_rule_matches_rasterstats_on_prefectures(tmp_path, china, numba_kernel, monkeypatch):
    import geo._numba

    if numba_kernel and not geo._numba.HAVE_NUMBA:
        pytest.skip("numba not importable")
    monkeypatch.setattr(geo._numba, "HAVE_NUMBA", numba_kernel)
    rasterstats = pytest.importorskip("rasterstats")
    rng = np.random.default_rng(7)
    v = rng.normal(100, 30, size=(180, 320))
    v[rng.random(v.shape) < 0.05] = NODATA
    tif = _write(tmp_path / "r.tif", v, transform=from_origin(72.0, 54.0, 0.2, 0.2))
    units = china.sample(frac=1.0, random_state=3)  # shuffled order
    ours = raster.zonal_stats(tif, units, stats="mean,sum,count,min,max,std", max_cells=20_000).table
    ref = pd.DataFrame(
        rasterstats.zonal_stats(list(units.geometry), str(tif), stats="mean sum count min max std", nodata=NODATA),
        index=units.index,
    )
    # convention: rasterstats gives sum=None for a unit without pixel centres, we give 0 (count is 0)
    empty = ref["count"] == 0
    assert empty.any() and (ours.loc[empty, "sum"] == 0).all()
    ref.loc[empty, "sum"] = 0.0
    for s in ("mean", "sum", "count", "min", "max", "std"):
        np.testing.assert_allclose(ours[s].to_numpy(float), ref[s].to_numpy(float), rtol=1e-10, atol=1e-9, err_msg=s)


def test_coverage_count_is_exact_area(tmp_path, china):
    # with a raster of ones, cov_count x pixel area = polygon area in the raster CRS
    tif = _write(tmp_path / "ones.tif", np.ones((180, 320)), transform=from_origin(72.0, 54.0, 0.2, 0.2))
    units = china.loc[["370100", "310000", "540100"]]
    t = raster.zonal_stats(tif, units, stats="cov_count,cov_sum,cov_mean").table
    np.testing.assert_allclose(t["cov_count"] * 0.04, units.geometry.area.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(t["cov_mean"], 1.0, rtol=1e-12)


def test_raster_without_crs(tmp_path, grid, units):
    tif = _write(tmp_path / "nocrs.tif", grid, crs=None)
    with pytest.raises(CRSError, match="declares no CRS.*EPSG:4326"):
        raster.zonal_stats(tif, units)
    res = raster.zonal_stats(tif, units, crs="EPSG:4326")
    assert res.table.loc["a", "mean"] == 5.5 and res.crs_stated
    with pytest.raises(CRSError, match="declares CRS EPSG:4326"):
        raster.zonal_stats(_write(tmp_path / "c.tif", grid), units, crs="EPSG:3857")
    with pytest.raises(CRSError, match="not a CRS"):
        raster.zonal_stats(tif, units, crs="EPSG:nonsense")


def test_bad_stat_and_missing_file(tmp_path, units):
    with pytest.raises(OptionError, match="unknown statistic 'median'.*cov_mean"):
        raster.zonal_stats(tmp_path / "x.tif", units, stats="mean,median")
    from geo.errors import InputError

    with pytest.raises(InputError, match="no such raster"):
        raster.zonal_stats(tmp_path / "x.tif", units)
    (tmp_path / "bad.tif").write_text("not a raster")
    with pytest.raises(InputError, match="cannot read raster"):
        raster.zonal_stats(tmp_path / "bad.tif", units)


def test_cli_zonal(tmp_path, grid, units, capsys):
    from geo.cli import main

    tif = _write(tmp_path / "g.tif", grid, crs=None)
    bfile = tmp_path / "u.gpkg"
    units.reset_index().to_file(bfile)
    out = tmp_path / "z.csv"
    argv = ["zonal", "--raster", str(tif), "--stats", "mean,cov_sum", "--boundaries", str(bfile),
            "--boundary-id", "uid", "--out", str(out), "--json"]
    assert main(argv) == 2
    assert "declares no CRS" in capsys.readouterr().err
    assert not out.exists()
    assert main(argv + ["--crs", "EPSG:4326"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["stats"] == ["mean", "cov_sum"] and payload["empty_units"] == ["d"]
    written = pd.read_csv(out, dtype={"uid": str}).set_index("uid")
    assert written.loc["a", "mean"] == 5.5 and written.loc["b", "cov_sum"] == pytest.approx(30.25)
    assert main(["zonal", "--raster", str(tif), "--crs", "EPSG:4326", "--stats", "avg", "--out", str(out)]) == 2
    assert "unknown statistic 'avg'" in capsys.readouterr().err


def test_shipped_elevation_layer(china):
    """Real data: the shipped per-prefecture elevation table (layers/elevation_prefecture.csv)."""
    from geo._paths import LAYERS_DIR

    t = pd.read_csv(LAYERS_DIR / "elevation_prefecture.csv", dtype={"adcode": str}).set_index("adcode")
    assert set(t.index) == set(china.index) and len(t) == 337
    assert t[["elev_mean_m", "elev_std_m", "tri_mean_m"]].notna().all().all()
    assert t.loc["540100", "elev_mean_m"] > 3500  # 拉萨, on the Tibetan plateau
    assert t.loc["310000", "elev_mean_m"] < 50  # 上海, on the coast
    assert t.loc["540100", "elev_mean_m"] > 100 * t.loc["310000", "elev_mean_m"]
    assert t.loc["540100", "tri_mean_m"] > t.loc["310000", "tri_mean_m"]
    assert (t["elev_min_m"] <= t["elev_mean_m"]).all() and (t["elev_mean_m"] <= t["elev_max_m"]).all()
