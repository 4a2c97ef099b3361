"""User zone files as users write them (issue 11): Chinese headers, dates as typed, GCJ-02, round trips."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import zones
from geo.cli import main
from geo.coords import wgs84_to_gcj02
from geo.errors import SchemaError


def run(args, capsys):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@given(st.dates(min_value=pd.Timestamp("1950-01-01").date(), max_value=pd.Timestamp("2099-12-31").date()),
       st.sampled_from(["{y}年{m}月{d}日", "{y}/{m}/{d}", "{y}-{m:02d}-{d:02d}", "{y}.{m}.{d}", "{y}{m:02d}{d:02d}",
                        "{y}-{m:02d}-{d:02d} 00:00:00", "{y}-{m:02d}-{d:02d}T00:00:00"]))
def test_full_dates_as_typed(date, form):
    text = form.format(y=date.year, m=date.month, d=date.day)
    assert zones.parse_date(text) == (date.isoformat(), date.year)


@given(st.integers(1950, 2099), st.integers(1, 12), st.sampled_from(["{y}年{m}月", "{y}.{m}", "{y}-{m:02d}", "{y}/{m}"]))
def test_month_dates_keep_their_precision(year, month, form):
    assert zones.parse_date(form.format(y=year, m=month)) == (f"{year}-{month:02d}", year)


def test_years_and_bad_dates():
    assert zones.parse_date("2010") == ("2010", 2010)
    assert zones.parse_date(2010.0) == ("2010", 2010)
    assert zones.parse_date("２０１０年９月") == ("2010-09", 2010)
    assert zones.parse_date("") is None and zones.parse_date(None) is None
    for bad in ("2010-13", "2010-02-30", "九月", "2010年13月", "10/9/2010", "1850"):
        with pytest.raises(ValueError):
            zones.parse_date(bad)


def _chinese_file(tmp_path, encoding="gbk"):
    # the WGS-84 truth is a point inside 郑州 / 武汉; the file holds its GCJ-02 form, as Amap gives it
    truth = np.array([[113.75, 34.60], [114.40, 30.50]])
    gx, gy = wgs84_to_gcj02(truth[:, 0], truth[:, 1])
    text = ("园区名称,批准时间,经度,纬度,所在城市,坐标系\n"
            f"甲园区（合成示例）,2013年3月,{gx[0]:.7f},{gy[0]:.7f},,GCJ-02\n"
            f"乙园区（合成示例）,2009.12,{gx[1]:.7f},{gy[1]:.7f},,\n"
            "丙园区（合成示例）,2014/12/6,,,杭州,\n")
    p = tmp_path / "zones.csv"
    p.write_bytes(text.encode(encoding))
    return p, truth


def test_chinese_headers_gcj02_and_city_hosts(tmp_path):
    p, truth = _chinese_file(tmp_path)
    z = zones.from_file(p, crs="gcj02")
    assert list(z["host_adcode"]) == ["410100", "420100", "330100"]
    assert list(z["approval_date"]) == ["2013-03", "2009-12", "2014-12-06"]
    assert list(z["approval_year"]) == [2013, 2009, 2014]
    got = np.column_stack([z.geometry.x[:2], z.geometry.y[:2]])
    assert np.abs(got - truth).max() < 1e-6  # GCJ-02 undone (row 2 by --crs, row 1 by its 坐标系 cell)


def test_undated_rows_error_or_are_skipped(tmp_path, capsys):
    p = tmp_path / "z.csv"
    p.write_text("名称,设立时间,经度,纬度\n甲,2010,113.6,34.7\n乙,,114.3,30.6\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"row 3 \(zone 乙\): no approval date.*--skip-undated"):
        zones.from_file(p)
    z = zones.from_file(p, skip_undated=True)
    assert list(z["name"]) == ["甲"] and z.attrs["skipped_undated"] == [{"row": 3, "name": "乙"}]
    out = tmp_path / "o.csv"
    rc, text, err = run(["zones", "--zones", p, "--skip-undated", "--out", out], capsys)
    assert rc == 0 and "row 3 乙" in text
    bad = tmp_path / "bad.csv"
    bad.write_text("名称,获批时间,经度,纬度\n甲,2010年秋,113.6,34.7\n", encoding="utf-8")
    rc, text, err = run(["zones", "--zones", bad, "--out", tmp_path / "never.csv"], capsys)
    assert rc == 2 and err.count("\n") == 1 and "row 2 (zone 甲): approval date '2010年秋'" in err
    assert not (tmp_path / "never.csv").exists()


@pytest.mark.parametrize("suffix", [".csv", ".gpkg", ".geojson"])
def test_zones_out_round_trips(tmp_path, capsys, suffix):
    first = tmp_path / f"reg{suffix}"
    second = tmp_path / f"back{suffix}"
    assert run(["zones", "--out", first], capsys)[0] == 0
    rc, text, err = run(["zones", "--zones", first, "--out", second], capsys)
    assert rc == 0, err
    if suffix == ".csv":
        assert first.read_bytes() == second.read_bytes()
    else:
        import pyogrio

        assert pyogrio.list_layers(second)[0][0] == "back"  # not a temporary file's name
        a, b = gpd.read_file(first), gpd.read_file(second)
        pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")))
        assert a.geom_equals_exact(b, tolerance=1e-9).all()


def test_zone_in_a_unit_without_data_still_counts(china):
    some = china.drop(index="410100")  # 郑州 has no data
    z = zones.from_frame(pd.DataFrame({"name": ["x"], "approval_date": ["2012"], "lon": [113.75], "lat": [34.60]}),
                         units=some)
    assert z["host_adcode"].iloc[0] == "410100"


def test_a_first_row_without_numbers_is_data_not_a_label_row(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text("园区名称,批准时间,经度,纬度,所在城市,坐标系\n杭州园,2017-04,,,杭州,\n郑州园,2013年3月,113.75,34.6,,\n",
                 encoding="utf-8")
    z = zones.from_file(p)
    assert list(z["name"]) == ["杭州园", "郑州园"] and list(z["host_adcode"]) == ["330100", "410100"]
