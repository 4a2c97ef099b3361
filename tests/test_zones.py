"""The zone registry and user zones."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from geo import zones
from geo.errors import OptionError, SchemaError


def test_new_zone_registry_facts(china):
    nz = zones.registry("new-zone")
    assert len(nz) == 19
    by_name = nz.set_index("name")
    assert by_name.loc["上海浦东新区", "approval_date"] == "1992-10-11"
    assert by_name.loc["河北雄安新区", "host_adcode"] == "130600"
    assert by_name.loc["陕西西咸新区", "host_adcodes"] == "610100;610400"
    assert by_name.loc["重庆两江新区", "approval_year"] == 2010
    assert set(nz["host_adcode"]) <= set(china.index)
    # every zone's point lies in (one of) its host prefecture(s)
    for _, z in nz.iterrows():
        hosts = china.loc[z["host_adcodes"].split(";")]
        assert shapely.dwithin(hosts.geometry.values, z.geometry, 0.05).any(), z["name"]


def test_high_tech_registry_keeps_confidence_flags(china_all):
    ht = zones.registry("high-tech")
    assert len(ht) == 174
    assert set(ht["year_status"]) == {"verified", "recall_unverified", "unknown"}
    shandong = ht[ht["host_adcode"].str.startswith("37")]
    assert len(shandong) == 13
    assert ht.loc[ht["name"] == "中关村科技园区", "approval_year"].item() == 1988
    assert ht["approval_year"].isna().sum() == (ht["year_status"] == "unknown").sum()
    assert (zones.registry("high-tech", verified_only=True)["year_status"] == "verified").all()
    assert set(ht["host_adcode"]) <= set(china_all.index)


def test_bad_kind():
    with pytest.raises(OptionError, match="kind='special' is not one of 'new-zone', 'high-tech'"):
        zones.registry("special")


def test_user_zones_by_point_host_and_both(tmp_path):
    df = pd.DataFrame(
        {
            "name": ["by point", "by host", "both"],
            "approval_date": ["2021-03-01", "2020", "2019-12-31"],
            "lon": [120.1551, None, 116.40],
            "lat": [30.2741, None, 39.90],
            "host_adcode": [None, "370100", "330100"],
        }
    )
    path = tmp_path / "z.csv"
    df.to_csv(path, index=False)
    z = zones.from_file(path)
    assert list(z["host_adcode"]) == ["330100", "370100", "330100"]
    assert list(z["approval_year"]) == [2021, 2020, 2019]
    assert z.geometry.iloc[2].x == pytest.approx(116.40)  # the point is the location, host_adcode the host


def test_user_zones_gcj02_conversion():
    # 天安门 in GCJ-02 (Amap) is about (116.3975, 39.9087); WGS-84 about (116.3913, 39.9075)
    df = pd.DataFrame({"name": ["tiananmen"], "approval_date": ["2020"], "lon": [116.3975], "lat": [39.9087]})
    z = zones.from_frame(df, crs="gcj02")
    assert z.geometry.iloc[0].x == pytest.approx(116.3913, abs=2e-4)
    assert z.geometry.iloc[0].y == pytest.approx(39.9073, abs=2e-4)
    assert z["host_adcode"].iloc[0] == "110000"


def test_user_zone_polygons_vector_file(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ["poly"], "approval_date": ["2018-01-01"]}, geometry=[box(117.0, 36.6, 117.1, 36.7)], crs=4326
    )
    gdf.to_file(tmp_path / "z.gpkg")
    z = zones.from_file(tmp_path / "z.gpkg")
    assert z["host_adcode"].iloc[0] == "370100"
    assert z.geometry.iloc[0].geom_type == "Polygon"


def test_user_zone_errors():
    # dates as typed (2020/01/01, 2010年9月) are read since issue 11; a date that is not one is an error
    with pytest.raises(SchemaError, match=r"row 1 \(zone a\): approval date '2020/13/01' is not a date"):
        zones.from_frame(pd.DataFrame({"name": ["a"], "approval_date": ["2020/13/01"], "host_adcode": ["370100"]}))
    with pytest.raises(SchemaError, match="lies in no unit"):
        zones.from_frame(pd.DataFrame({"name": ["sea"], "approval_date": ["2020"], "lon": [150.0], "lat": [20.0]}))
    with pytest.raises(SchemaError, match="host_adcode '999999' is not a unit"):
        zones.from_frame(pd.DataFrame({"name": ["a"], "approval_date": ["2020"], "host_adcode": ["999999"]}))
    with pytest.raises(SchemaError, match="no column 'approval_date'"):
        zones.from_frame(pd.DataFrame({"name": ["a"], "lon": [1], "lat": [2]}))


def test_g60_corridor_order():
    g = zones.g60_corridor()
    assert list(g["member_zh"]) == ["合肥市", "芜湖市", "宣城市", "湖州市", "苏州市", "上海市松江区", "嘉兴市", "杭州市", "金华市"]
    assert list(g["order"].astype(int)) == list(range(1, 10))
    assert g.set_index("member_zh").loc["嘉兴市", "joined_year"] == "2017"


def test_user_zone_hosts_named_by_the_ids_of_user_boundaries(tmp_path):
    """With user boundaries whose ids are not adcodes (e.g. 001, 002), host_adcode takes those ids."""
    units = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326",
                             index=pd.Index(["001", "002"], name="code"))
    path = tmp_path / "z.csv"
    path.write_text("name,approval_date,host_adcode\nZ,2015-06-01,002\n", encoding="utf-8")
    z = zones.from_file(path, units=units)
    assert list(z["host_adcode"]) == ["002"]
    assert z.geometry.iloc[0].within(units.geometry.iloc[1])
    path.write_text("name,approval_date,host_adcode\nZ,2015-06-01,003\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="host_adcode '003' is not a unit"):
        zones.from_file(path, units=units)
