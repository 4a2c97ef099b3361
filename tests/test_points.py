"""Point aggregation: known points in known prefectures, geopandas.sjoin as reference, chunking, Dask."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

import geopandas as gpd

from geo import points
from geo.errors import CRSError, InputError, OptionError, SchemaError

# (lon, lat) of city centres (WGS-84) and their prefecture
KNOWN = [
    (117.000, 36.651, "370100"),  # 济南 泉城广场
    (121.474, 31.230, "310000"),  # 上海 人民广场
    (116.397, 39.909, "110000"),  # 北京 天安门
    (91.117, 29.653, "540100"),  # 拉萨 布达拉宫
    (113.264, 23.129, "440100"),  # 广州
]


@pytest.fixture
def boxes():
    """Three unit squares side by side (a clean coverage), ids in non-sorted order."""
    return gpd.GeoDataFrame(
        {"name": ["B", "A", "C"]},
        geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1), box(2, 0, 3, 1)],
        index=pd.Index(["b", "a", "c"], name="uid"),
        crs="EPSG:4326",
    )


def _known_frame():
    df = pd.DataFrame(KNOWN, columns=["lon", "lat", "adcode"])
    df["jobs"] = [10, 20, 30, 40, 50]
    extra = pd.DataFrame(
        {"lon": [125.0, np.nan, 117.01], "lat": [30.0, 36.0, 36.66], "adcode": [None, None, "370100"], "jobs": [7, 8, 5]}
    )  # East China Sea (in no unit), missing coordinate, another 济南 point
    return pd.concat([df, extra], ignore_index=True)


def test_known_points_in_known_prefectures(china):
    df = _known_frame()
    res = points.aggregate_points(df, china, sum_columns=["jobs"])
    t = res.table
    assert len(t) == 337 and t.index.name == "adcode" and list(t.columns) == ["count", "jobs_sum"]
    assert t.loc["370100", "count"] == 2 and t.loc["370100", "jobs_sum"] == 15
    for _, _, code in KNOWN[1:]:
        assert t.loc[code, "count"] == 1
    assert t["count"].sum() == 6 and (t.drop(index=[k[2] for k in KNOWN])["count"] == 0).all()
    assert (res.n_points, res.n_assigned, res.n_outside, res.n_invalid) == (8, 6, 1, 1)
    payload = res.to_json()
    json.dumps(payload, allow_nan=False)
    assert payload["n_outside"] == 1 and payload["n_invalid"] == 1 and len(payload["rows"]) == 337
    assert "in no unit: 1" in res.summary()


def test_gcj02_point_lands_in_the_right_prefecture(china):
    """A WGS-84 point just inside 济南 whose raw GCJ-02 coordinates fall outside it."""
    from geo.coords import bd09_to_gcj02, gcj02_to_bd09, wgs84_to_gcj02

    jinan = china.loc["370100", "geometry"]
    ring = jinan.exterior if jinan.geom_type == "Polygon" else max(jinan.geoms, key=lambda g: g.area).exterior
    found = None
    for frac in np.linspace(0, 1, 400, endpoint=False):
        p = ring.interpolate(frac, normalized=True)
        for dx, dy in [(0.002, 0), (-0.002, 0), (0, 0.002), (0, -0.002)]:
            q = Point(p.x + dx, p.y + dy)
            if not jinan.contains(q):
                continue
            gx, gy = wgs84_to_gcj02(q.x, q.y)
            if not jinan.contains(Point(float(gx), float(gy))):
                found = (q.x, q.y, float(gx), float(gy))
                break
        if found:
            break
    assert found is not None
    wx, wy, gx, gy = found
    gcj = pd.DataFrame({"lon": [gx], "lat": [gy]})
    assert points.aggregate_points(gcj, china, crs="gcj02").table.loc["370100", "count"] == 1
    assert points.aggregate_points(gcj, china, crs="wgs84").table.loc["370100", "count"] == 0
    bx, by = gcj02_to_bd09(gx, gy)
    bd = pd.DataFrame({"lng": [float(bx)], "lat": [float(by)]})
    assert points.aggregate_points(bd, china, crs="bd09").table.loc["370100", "count"] == 1
    assert np.allclose(bd09_to_gcj02(bx, by), (gx, gy), atol=1e-6)


def test_matches_geopandas_sjoin(china):
    rng = np.random.default_rng(11)
    n = 40_000
    df = pd.DataFrame({"lon": rng.uniform(73, 135, n), "lat": rng.uniform(18, 54, n), "w": rng.random(n)})
    res = points.aggregate_points(df, china, sum_columns=["w"], chunksize=15_000)
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    j = gpd.sjoin(g, china[["geometry"]], predicate="intersects", how="inner")
    j = j[~j.index.duplicated()]
    ref = j.groupby("adcode").agg(count=("w", "size"), w_sum=("w", "sum")).reindex(china.index, fill_value=0)
    assert (res.table["count"] == ref["count"]).all()
    np.testing.assert_allclose(res.table["w_sum"], ref["w_sum"], rtol=1e-10, atol=1e-12)
    assert res.n_outside == n - len(j) and res.n_chunks == 3


def test_years_and_dates(boxes):
    df = pd.DataFrame(
        {
            "x": [0.5, 0.5, 1.5, 2.5, 5.0, 0.5],
            "y": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
            "when": ["2015-03-01", "2016", "2015/12/31", None, "2016-01-01", "2016-07-01"],
            "v": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    res = points.aggregate_points(df, boxes, lon="x", lat="y", year="when", sum_columns=["v"])
    t = res.table
    assert t.index.names == ["uid", "year"] and res.years == (2015, 2016) and len(t) == 6
    assert t.loc[("a", 2015), "count"] == 1 and t.loc[("a", 2016), "count"] == 2
    assert t.loc[("a", 2016), "v_sum"] == 8 and t.loc[("b", 2015), "v_sum"] == 3
    assert t.loc[("c", 2015), "count"] == 0 and t.loc[("c", 2016), "count"] == 0
    assert (res.n_missing_year, res.n_outside) == (1, 1)
    df["when"] = ["2015-03-01", "2016", "2015", "soon", "2016", "2016"]
    with pytest.raises(SchemaError, match="'soon'"):
        points.aggregate_points(df, boxes, lon="x", lat="y", year="when")


def test_overlapping_polygons_and_shared_edges(boxes):
    over = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3)], index=["p", "q"], crs=4326)
    df = pd.DataFrame({"lon": [0.5, 1.5, 2.5, 5.0], "lat": [0.5, 1.5, 2.5, 5.0]})
    res = points.aggregate_points(df, over)
    assert res.overlapping
    assert res.table["count"].to_dict() == {"p": 2, "q": 2}  # (1.5, 1.5) counts in both
    assert (res.n_assigned, res.n_outside) == (3, 1)
    # clean coverage: a point on the shared edge x=1 counts once
    edge = pd.DataFrame({"lon": [1.0, 2.0, 0.25], "lat": [0.5, 0.25, 0.75]})
    r2 = points.aggregate_points(edge, boxes)
    assert not r2.overlapping and r2.table["count"].sum() == 3 and r2.n_outside == 0


def _write_formats(tmp_path, df):
    csv = tmp_path / "p.csv"
    df.to_csv(csv, index=False)
    pq = tmp_path / "p.parquet"
    df.to_parquet(pq)
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)
    gpq = tmp_path / "g.parquet"
    gdf.to_parquet(gpq)
    gpkg = tmp_path / "p.gpkg"
    gdf.to_file(gpkg)
    return {"csv": csv, "parquet": pq, "geoparquet": gpq, "gpkg": gpkg, "frame": df, "geoframe": gdf}


def test_formats_agree(tmp_path, boxes):
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame({"lon": rng.uniform(-0.5, 3.5, n), "lat": rng.uniform(-0.5, 1.5, n), "v": rng.integers(0, 9, n)})
    results = {k: points.aggregate_points(p, boxes, sum_columns=["v"], chunksize=128) for k, p in _write_formats(tmp_path, df).items()}
    base = results["frame"]
    for k, r in results.items():
        pd.testing.assert_frame_equal(r.table, base.table, obj=k)
        assert (r.n_points, r.n_outside) == (n, base.n_outside), k
    inside = (df.lon.between(0, 3)) & (df.lat.between(0, 1))
    assert base.table["count"].sum() == inside.sum()
    # projected GeoDataFrame is reprojected to lon/lat
    proj = _write_formats(tmp_path, df)["geoframe"].to_crs("EPSG:3857")
    pd.testing.assert_frame_equal(points.aggregate_points(proj, boxes, sum_columns=["v"]).table, base.table)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunksize=st.integers(min_value=1, max_value=400))
def test_chunked_reader_counts_do_not_depend_on_chunksize(tmp_path_factory, chunksize):
    path = tmp_path_factory.getbasetemp() / "chunks.csv"
    if not path.exists():
        rng = np.random.default_rng(5)
        n = 331
        pd.DataFrame(
            {"lon": rng.uniform(-0.5, 3.5, n), "lat": rng.uniform(-0.5, 1.5, n), "v": rng.random(n),
             "yr": rng.integers(2000, 2003, n)}
        ).to_csv(path, index=False)
    spec = points._Spec(lon="lon", lat="lat", sums=("v",), year="yr", crs="wgs84", source=str(path))
    chunks = list(points.iter_point_chunks(path, spec, chunksize=chunksize))
    assert sum(len(c) for c in chunks) == 331
    assert all(len(c) == chunksize for c in chunks[:-1]) and 0 < len(chunks[-1]) <= chunksize
    boxes = _BOXES
    res = points.aggregate_points(path, boxes, sum_columns=["v"], year="yr", chunksize=chunksize)
    ref = points.aggregate_points(path, boxes, sum_columns=["v"], year="yr", chunksize=10_000)
    pd.testing.assert_frame_equal(res.table, ref.table, rtol=1e-12)
    assert res.n_outside == ref.n_outside and res.n_chunks == len(chunks)


_BOXES = gpd.GeoDataFrame(geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1), box(2, 0, 3, 1)], index=["b", "a", "c"], crs=4326)


@pytest.fixture(scope="module")
def edge_points():
    """20,000 points: half uniform over eastern China, half within ~1 km of prefecture boundary vertices (so the
    exact test near edges does real work), with a value, a year and a few bad coordinates."""
    from geo import boundaries
    import shapely

    rng = np.random.default_rng(33)
    units = boundaries.china()
    verts = shapely.get_coordinates(shapely.boundary(units.geometry.values))
    pick = verts[rng.integers(0, len(verts), 10_000)]
    lon = np.r_[rng.uniform(100, 125, 10_000), pick[:, 0] + rng.normal(0, 0.01, 10_000)]
    lat = np.r_[rng.uniform(20, 45, 10_000), pick[:, 1] + rng.normal(0, 0.01, 10_000)]
    lon[[5, 17]] = np.nan
    return pd.DataFrame({"lon": lon, "lat": lat, "v": rng.random(20_000), "yr": rng.integers(2015, 2018, 20_000)})


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row_group=st.integers(min_value=500, max_value=20_000), chunksize=st.integers(min_value=300, max_value=25_000))
def test_parquet_streamed_by_row_groups_equals_in_memory_and_sjoin(tmp_path_factory, china, edge_points,
                                                                   row_group, chunksize):
    """Streaming a Parquet file row group by row group (any row-group size, any chunk size) gives exactly the
    table of the in-memory path, and the counts of geopandas.sjoin; progress reaches the total."""
    df = edge_points
    path = tmp_path_factory.mktemp("stream") / "pts.parquet"
    df.to_parquet(path, row_group_size=row_group)
    seen = []
    res = points.aggregate_points(path, china, sum_columns=["v"], year="yr", chunksize=chunksize,
                                  progress=lambda done, total: seen.append((done, total)))
    mem = points.aggregate_points(df, china, sum_columns=["v"], year="yr", chunksize=len(df))
    pd.testing.assert_frame_equal(res.table, mem.table, rtol=1e-12)
    assert (res.n_points, res.n_assigned, res.n_outside, res.n_invalid) == (
        mem.n_points, mem.n_assigned, mem.n_outside, mem.n_invalid) == (20_000, mem.n_assigned, mem.n_outside, 2)
    assert res.n_chunks == len(seen) == -(-20_000 // chunksize)
    assert [t for _, t in seen] == [20_000] * len(seen) and seen[-1][0] == 20_000
    assert all(a < b for (a, _), (b, _) in zip(seen, seen[1:]))
    ok = df.dropna(subset=["lon"])
    g = gpd.GeoDataFrame(ok, geometry=gpd.points_from_xy(ok.lon, ok.lat), crs=4326)
    j = gpd.sjoin(g, china[["geometry"]], predicate="intersects", how="inner")
    j = j[~j.index.duplicated()]
    ref = j.groupby("adcode").size().reindex(china.index, fill_value=0)
    got = res.table["count"].groupby(level=0).sum().reindex(china.index)
    assert (got == ref).all() and res.n_outside == len(ok) - len(j)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_units=st.integers(1, 30), per_side=st.integers(1, 64))
def test_bucket_candidates_equal_strtree_query(seed, n_units, per_side):
    """The locator's bounding-box candidates are exactly STRtree.query's pairs (closed boxes; points on box edges
    and corners included), whatever the coarse grid."""
    import shapely

    from geo._points_locate import Locator

    rng = np.random.default_rng(seed)
    x0, y0 = rng.integers(0, 20, n_units), rng.integers(0, 20, n_units)
    geoms = np.array([box(a, b, a + rng.integers(1, 6), b + rng.integers(1, 6)) for a, b in zip(x0, y0)], dtype=object)
    loc = Locator(geoms, grid_cells=4096)
    loc._bucket_index(shapely.bounds(geoms), per_side=per_side)
    x = np.r_[rng.uniform(-2, 28, 400), rng.integers(0, 26, 200).astype(float)]  # integers: on edges and corners
    y = np.r_[rng.uniform(-2, 28, 400), rng.integers(0, 26, 200).astype(float)]
    pi, gi = loc._candidates(x, y)
    qp, qg = shapely.STRtree(geoms).query(shapely.points(x, y))
    assert set(zip(pi.tolist(), gi.tolist())) == set(zip(qp.tolist(), qg.tolist()))
    assert len(pi) == len(qp)


def test_dask_engine_on_local_process_cluster_equals_local(tmp_path, china):
    pytest.importorskip("dask_geopandas")
    from distributed import LocalCluster

    rng = np.random.default_rng(21)
    n = 30_000
    df = pd.DataFrame(
        {"lon": rng.uniform(100, 125, n), "lat": rng.uniform(20, 45, n), "v": rng.random(n), "year": rng.integers(2010, 2013, n)}
    )
    csv = tmp_path / "pts.csv"
    df.to_csv(csv, index=False)
    local = points.aggregate_points(csv, china, sum_columns=["v"], year="year", chunksize=7_000)
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        seen = []
        remote = points.aggregate_points(
            csv, china, sum_columns=["v"], year="year", engine="dask", scheduler=cluster.scheduler_address,
            blocksize=300_000, progress=lambda done, total: seen.append((done, total)),
        )
    assert remote.n_chunks > 1 and remote.engine == "dask"
    assert len(seen) == remote.n_chunks and seen[-1] == (n, None)  # CSV: total unknown beforehand
    pd.testing.assert_frame_equal(remote.table, local.table, rtol=1e-12)
    assert (remote.n_points, remote.n_outside, remote.n_assigned) == (local.n_points, local.n_outside, local.n_assigned)


def test_bad_inputs(tmp_path, boxes):
    df = pd.DataFrame({"east": [0.5], "lat": [0.5], "name": ["a"]})
    with pytest.raises(SchemaError, match="no longitude column found"):
        points.aggregate_points(df, boxes)
    with pytest.raises(SchemaError, match="no longitude column 'long'"):
        points.aggregate_points(df, boxes, lon="long")
    with pytest.raises(SchemaError, match="'name' to sum is not numeric"):
        points.aggregate_points(df, boxes, lon="east", sum_columns=["name"])
    with pytest.raises(SchemaError, match="no column 'capital'"):
        points.aggregate_points(df, boxes, lon="east", sum_columns=["capital"])
    with pytest.raises(OptionError, match="engine='spark'"):
        points.aggregate_points(df, boxes, lon="east", engine="spark")
    with pytest.raises(OptionError, match="crs='utm'"):
        points.aggregate_points(df, boxes, lon="east", crs="utm")
    with pytest.raises(InputError, match="no such file"):
        points.aggregate_points(tmp_path / "none.csv", boxes)
    nocrs = gpd.GeoDataFrame(geometry=[Point(0.5, 0.5)])
    with pytest.raises(CRSError, match="no CRS"):
        points.aggregate_points(nocrs, boxes)


def test_cli_aggregate(tmp_path, capsys):
    from geo.cli import main

    df = _known_frame()
    csv = tmp_path / "firms.csv"
    df.rename(columns={"lon": "经度", "lat": "纬度"}).to_csv(csv, index=False)
    out = tmp_path / "out.csv"
    assert main(["aggregate", "--points", str(csv), "--sum", "jobs", "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_outside"] == 1 and payload["n_invalid"] == 1
    table = pd.read_csv(out, dtype={"adcode": str}).set_index("adcode")
    assert table.loc["370100", "count"] == 2 and table.loc["370100", "jobs_sum"] == 15 and len(table) == 337
    assert main(["aggregate", "--points", str(csv), "--lon", "lng", "--out", str(out)]) == 2
    assert "no longitude column 'lng'" in capsys.readouterr().err
    polys = tmp_path / "polys.gpkg"
    gpd.GeoDataFrame({"pid": ["jn"]}, geometry=[Point(117.0, 36.65).buffer(0.1)], crs=4326).to_file(polys)
    assert main(["aggregate", "--points", str(csv), "--by", "polygons", "--polygons", str(polys), "--polygon-id", "pid",
                 "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["rows"] == [{"pid": "jn", "count": 2}] and payload["n_outside"] == 5


def test_cli_aggregate_drives_a_progress_bar(tmp_path, monkeypatch, capsys):
    """geo aggregate feeds its progress bar the points done and, for Parquet, the total from the file's metadata."""
    import contextlib

    from geo.cli import main
    from geo.cli.commands import aggregate

    updates = []

    class Bar:
        def add_task(self, description, total=None):
            return 0

        def update(self, task, **kw):
            updates.append(kw)

    monkeypatch.setattr(aggregate, "progress", lambda disable=False: contextlib.nullcontext(Bar()))
    rng = np.random.default_rng(3)
    path = tmp_path / "pts.parquet"
    pd.DataFrame({"lon": rng.uniform(110, 120, 2_500), "lat": rng.uniform(25, 35, 2_500)}).to_parquet(
        path, row_group_size=1_000)
    assert main(["aggregate", "--points", str(path), "--chunksize", "1000", "--out", str(tmp_path / "o.csv")]) == 0
    capsys.readouterr()
    assert updates == [{"completed": 1000, "total": 2500}, {"completed": 2000, "total": 2500},
                       {"completed": 2500, "total": 2500}]


def test_cli_aggregate_by_distance_bands(tmp_path, capsys):
    """--by bands: rings around the registry's new zones (geo.radiation.rings); 浦东 is at 121.728E 31.105N."""
    from geo.cli import main

    csv = tmp_path / "p.csv"
    # at 浦东 (0-50 km), ~75 km west of it, and in the far west (beyond the last ring)
    pd.DataFrame({"lon": [121.728, 120.94, 80.0], "lat": [31.105, 31.105, 40.0]}).to_csv(csv, index=False)
    out = tmp_path / "bands.csv"
    assert main(["aggregate", "--points", str(csv), "--by", "bands", "--zone-kind", "new-zone", "--bands", "50,100",
                 "--out", str(out), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["band"] for r in payload["rows"]] == ["0-50 km", "50-100 km"]
    assert [r["count"] for r in payload["rows"]] == [1, 1] and payload["n_outside"] == 1


def test_csv_with_text_in_coordinates_counts_them_as_invalid(tmp_path, boxes):
    csv = tmp_path / "p.csv"
    csv.write_text("lon,lat,v\n0.5,0.5,1\nn/a,0.5,2\n1.5,,3\n2.5,0.5,4\n", encoding="utf-8")
    res = points.aggregate_points(csv, boxes, sum_columns=["v"])
    assert (res.n_points, res.n_invalid, res.n_outside) == (4, 2, 0)
    assert res.table["count"].to_dict() == {"b": 0, "a": 1, "c": 1} and res.table.loc["c", "v_sum"] == 4
