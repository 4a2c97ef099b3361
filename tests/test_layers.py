"""Joins of city tables onto the boundaries: codes, names, the crosswalk, reports and bad input."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import layers
from geo.errors import InputError, JoinError, SchemaError


def _old_names_panel():
    rows = []
    for year in range(2005, 2021):
        rows.append({"city": "襄樊市" if year < 2010 else "襄阳市", "year": year, "gdp": 100.0 + year})
        rows.append({"city": "思茅" if year < 2007 else "普洱市", "year": year, "gdp": 50.0 + year})
        if year < 2011:
            rows.append({"city": "巢湖市", "year": year, "gdp": 30.0})
        if year < 2019:
            rows.append({"city": "莱芜市", "year": year, "gdp": 10.0})
        rows.append({"city": "济南", "year": year, "gdp": 1000.0})
    return pd.DataFrame(rows)


def test_old_names_join_as_documented():
    res = layers.join(_old_names_panel(), name="city", year="year")
    f = res.frame.set_index(["adcode", "year"])
    # renamed units carry their whole series under today's code
    assert f.loc[("420600", 2009), "gdp"] == 2109.0
    assert f.loc[("420600", 2015), "gdp"] == 2115.0
    assert f.loc[("530800", 2005), "gdp"] == 2055.0
    # 莱芜 (merged into 济南 in 2019) is dropped by default and listed
    assert f.loc[("370100", 2010), "gdp"] == 1000.0
    merged = {m["value"]: m for m in res.report.merged}
    assert merged["莱芜市"]["into"] == "370100" and merged["莱芜市"]["rows"] == 14
    # 巢湖 (split three ways in 2011) cannot be placed: unmatched, with its successors as candidates
    chaohu = [u for u in res.report.unmatched if u["value"] == "巢湖市"]
    assert len(chaohu) == 6
    assert chaohu[0]["candidates"] == ["340100", "340200", "340500"]
    assert "split among 合肥市, 芜湖市, 马鞍山市" in chaohu[0]["reason"]
    assert res.report.rows == len(_old_names_panel())
    assert res.report.matched == res.report.rows - 6
    recoded = {r["value"]: r["adcode"] for r in res.report.recoded}
    assert recoded == {"襄樊市": "420600", "思茅": "530800"}
    assert len(res.report.units_without_data) == 337 - 3


def test_merged_policies():
    agg = layers.join(_old_names_panel(), name="city", year="year", merged="aggregate").frame.set_index(["adcode", "year"])
    assert agg.loc[("370100", 2010), "gdp"] == 1010.0
    assert agg.loc[("370100", 2019), "gdp"] == 1000.0
    keep = layers.join(_old_names_panel(), name="city", year="year", merged="keep").frame.set_index(["adcode", "year"])
    assert keep.loc[("371200", 2010), "gdp"] == 10.0
    assert keep.loc[("370100", 2010), "gdp"] == 1000.0


def test_codes_of_every_length_and_old_codes():
    df = pd.DataFrame(
        {
            "code": ["370100", "156420600", "370200000000", "532700", "522200", "999999"],
            "year": [2010] * 6,
            "v": [1, 2, 3, 4, 5, 6],
        }
    )
    res = layers.join(df, id="code", year="year")
    got = dict(zip(res.frame["adcode"], res.frame["v"]))
    # 思茅地区 532700 -> 普洱 530800; 铜仁地区 522200 -> 铜仁市 520600
    assert got == {"370100": 1, "420600": 2, "370200": 3, "530800": 4, "520600": 5}
    assert [u["value"] for u in res.report.unmatched] == ["999999"]


def test_wide_table_is_reshaped():
    df = pd.DataFrame({"city": ["济南市", "青岛市"], "gdp_2010": [1.0, 2.0], "gdp_2011": [3.0, 4.0], "pop_2010": [5, 6]})
    res = layers.join(df, name="city")
    f = res.frame.set_index(["adcode", "year"])
    assert f.loc[("370200", 2011), "gdp"] == 4.0
    assert f.loc[("370100", 2010), "pop"] == 5
    assert pd.isna(f.loc[("370100", 2011), "pop"])


def test_name_forms():
    names = ["延边朝鲜族自治州", "黔东南", "博尔塔拉", "阿拉善盟", "大兴安岭", "Beijing", "上海", " 济南 "]
    res = layers.join(pd.DataFrame({"n": names}), name="n")
    assert list(res.frame["adcode"]) == sorted(["222400", "522600", "652700", "152900", "232700", "110000", "310000", "370100"])
    assert res.report.unmatched == ()
    assert layers.name_key("延边朝鲜族自治州") == "延边"
    assert layers.name_key("黔东南苗族侗族自治州") == "黔东南"
    assert layers.name_key("海西蒙古族藏族自治州") == "海西"


def test_strict_fails_on_unmatched_with_candidates():
    df = pd.DataFrame({"city": ["济南市", "杭洲"], "v": [1, 2]})
    with pytest.raises(JoinError, match=r"row 2 city='杭洲' \(name not in the boundaries; candidates: .*330100 杭州市"):
        layers.join(df, name="city", strict=True)


def test_report_json_keys():
    res = layers.join(pd.DataFrame({"city": ["济南市", "杭洲"], "v": [1, 2]}), name="city")
    j = res.to_json()
    assert {"matched", "unmatched", "duplicates", "units_without_data"} <= set(j)
    assert j["matched"] == 1
    assert j["unmatched"][0]["row"] == 2 and j["unmatched"][0]["value"] == "杭洲"


# --------------------------------------------------------------------------- bad input


def test_duplicate_id_year():
    df = pd.DataFrame({"code": ["370100", "370100"], "year": [2010, 2010], "v": [1, 2]})
    with pytest.raises(JoinError, match=r"rows 1 \(code 370100\) and 2 \(code 370100\) both give 'v' for unit "
                       r"370100 济南市 in 2010"):
        layers.join(df, id="code", year="year")


def test_old_and_new_name_for_the_same_year():
    df = pd.DataFrame({"city": ["襄樊市", "襄阳市"], "year": [2009, 2009], "v": [1, 2]})
    with pytest.raises(JoinError, match=r"rows 1 \(city 襄樊市\) and 2 \(city 襄阳市\) both give 'v' for unit 420600 襄阳市 in 2009"):
        layers.join(df, name="city", year="year")


def test_mixed_id_types():
    df = pd.DataFrame({"code": ["370100", "济南"], "v": [1, 2]})
    with pytest.raises(SchemaError, match=r"column 'code' has ids of mixed types: codes and text such as '济南'"):
        layers.join(df, id="code")
    df = pd.DataFrame({"city": ["济南", 370100], "v": [1, 2]})
    with pytest.raises(SchemaError, match="mixed types: names and numbers"):
        layers.join(df, name="city")


def test_unknown_columns():
    df = pd.DataFrame({"code": ["370100"], "v": [1]})
    with pytest.raises(SchemaError, match=r"no column 'adcode' \(columns are: code, v\)"):
        layers.join(df, id="adcode")
    with pytest.raises(SchemaError, match="no column 'yr'"):
        layers.join(df, id="code", year="yr")


def test_bad_year_values():
    df = pd.DataFrame({"code": ["370100", "370200"], "year": ["2010", "twenty"], "v": [1, 2]})
    with pytest.raises(SchemaError, match=r"column 'year': row 2 has 'twenty', not a whole year"):
        layers.join(df, id="code", year="year")


def test_file_errors(tmp_path):
    with pytest.raises(InputError, match="missing.csv: no such file"):
        layers.join(tmp_path / "missing.csv", id="code")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv: file is empty"):
        layers.join(empty, id="code")
    header = tmp_path / "header.csv"
    header.write_text("code,v\n")
    with pytest.raises(InputError, match="header.csv: table has a header but no rows"):
        layers.join(header, id="code")
    bad = tmp_path / "bad.csv"
    bad.write_text('code,v\n370100,1\n370200,2,3,4\n"unterminated\n')
    with pytest.raises(InputError, match="bad.csv: malformed table"):
        layers.join(bad, id="code")
    xls = tmp_path / "fake.xlsx"
    xls.write_text("not a spreadsheet")
    with pytest.raises(InputError, match="fake.xlsx: cannot read table"):
        layers.join(xls, id="code")
    odd = tmp_path / "data.dbf2"
    odd.write_text("x")
    with pytest.raises(InputError, match="unknown table format"):
        layers.join(odd, id="code")


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("code,year,v\n370100,2010,1\n156370200,2010,2\n", encoding="utf-8")
    before = path.read_bytes()
    layers.join(path, id="code", year="year")
    assert path.read_bytes() == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_formats(tmp_path, suffix):
    df = pd.DataFrame({"code": ["370100", "370200"], "year": [2010, 2010], "v": [1.5, 2.5]})
    path = tmp_path / f"t{suffix}"
    {".csv": lambda: df.to_csv(path, index=False), ".xlsx": lambda: df.to_excel(path, index=False),
     ".parquet": lambda: df.to_parquet(path)}[suffix]()
    res = layers.join(path, id="code", year="year")
    assert list(res.frame["v"]) == [1.5, 2.5]


# --------------------------------------------------------------------------- properties

_units = None


def _china():
    global _units
    if _units is None:
        from geo.boundaries import china

        _units = china()
    return _units


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(0, 336), min_size=1, max_size=25, unique=True),
    form=st.sampled_from(["6", "9", "12", "int"]),
    shuffle_seed=st.integers(0, 10_000),
)
def test_every_valid_code_form_matches_and_nothing_is_lost(picks, form, shuffle_seed):
    units = _china()
    codes = [units.index[i] for i in picks]
    as_form = {"6": lambda c: c, "9": lambda c: "156" + c, "12": lambda c: c + "000000", "int": int}[form]
    df = pd.DataFrame({"code": [as_form(c) for c in codes], "v": range(len(codes))}).sample(frac=1, random_state=shuffle_seed)
    res = layers.join(df, id="code")
    assert res.report.matched == len(codes)
    assert sorted(res.frame["adcode"]) == sorted(codes)
    assert dict(zip(res.frame["adcode"], res.frame["v"])) == {c: v for c, v in zip(codes, range(len(codes)))}
    assert len(res.report.units_without_data) == len(units) - len(codes)


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(st.integers(0, 336), min_size=1, max_size=20, unique=True),
    junk=st.lists(st.text(alphabet="甲乙丙丁戊己庚辛壬癸xyz", min_size=3, max_size=6), max_size=5, unique=True),
    suffix=st.sampled_from(["", "市", " "]),
)
def test_names_with_or_without_suffix_match_and_junk_is_reported(picks, junk, suffix):
    units = _china()
    names = [layers.name_key(units["name"].iloc[i]) + suffix for i in picks]
    df = pd.DataFrame({"city": names + junk})
    res = layers.join(df, name="city")
    assert sorted(res.frame["adcode"]) == sorted(units.index[i] for i in picks)
    assert res.report.matched + len(res.report.unmatched) == len(df)
    assert sorted(u["value"] for u in res.report.unmatched) == sorted(junk)


def test_name_keys_are_unique_across_units():
    units = _china()
    keys = units["name"].map(layers.name_key)
    assert keys.is_unique


# --------------------------------------------------------------------------- load_data


def test_load_data_cross_section_and_panel(tmp_path):
    df = pd.DataFrame(
        {"adcode": ["370100", "370200"] * 3, "year": [2010, 2010, 2011, 2011, 2012, 2012], "v": [1.0, 2, 3, 4, 5, 6]}
    )
    data = layers.load_data(df)
    cs = data.cross_section(2011, ["v"])
    assert list(cs.index) == ["370100", "370200"] and list(cs["v"]) == [3, 4]
    assert cs.crs.to_epsg() == 4326
    units, panel = data.panel(["v"])
    assert panel.shape == (6, 1) and list(units.index) == ["370100", "370200"]
    with pytest.raises(SchemaError, match="choose one"):
        data.cross_section(None, ["v"])
    with pytest.raises(SchemaError, match="unbalanced panel: no row for adcode 370200 in 2012"):
        layers.load_data(df.iloc[:-1]).panel(["v"])
    with pytest.raises(JoinError, match="not units of the boundaries"):
        layers.load_data(pd.DataFrame({"adcode": ["999999"], "v": [1]}))


def test_id_column_named_like_the_units_index():
    df = pd.DataFrame({"adcode": ["156370100", "370200"], "year": [2010, 2010], "v": [1, 2]})
    res = layers.join(df, id="adcode", year="year")
    assert list(res.frame.columns) == ["adcode", "name", "year", "v"]
    assert list(res.frame["adcode"]) == ["370100", "370200"]


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_csv_separators(tmp_path, sep):
    path = tmp_path / "t.csv"
    path.write_text(sep.join(["code", "year", "v"]) + "\n" + sep.join(["370100", "2010", "1.5"]) + "\n", encoding="utf-8")
    res = layers.join(path, id="code", year="year")
    assert list(res.frame["v"]) == [1.5]


def _grid_units(ids):
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {"name": list(ids)}, geometry=[box(i, 0, i + 1, 1) for i in range(len(ids))], crs="EPSG:4326",
        index=pd.Index(list(ids), name="fips"),
    )


def test_ids_with_leading_zeros_keep_them_and_match_unpadded_ids(tmp_path):
    """A CSV whose ids are 001, 002… (text in the file) matches boundary ids 001…, and ids written without the
    zeros (1, 2…, e.g. saved from a numeric column) match them too; nothing else is matched."""
    units = _grid_units(["001", "002", "010"])
    padded = tmp_path / "padded.csv"
    padded.write_text("fips,v\n001,1.5\n002,2.5\n010,3.5\n", encoding="utf-8")
    plain = tmp_path / "plain.csv"
    plain.write_text("fips,v\n1,1.5\n2,2.5\n10,3.5\n", encoding="utf-8")
    for path in (padded, plain):
        data = layers.load_data(path, id_col="fips", boundaries=units)
        cs = data.cross_section(columns=["v"])
        assert list(cs.index) == ["001", "002", "010"] and list(cs["v"]) == [1.5, 2.5, 3.5]
        res = layers.join(path, id="fips", boundaries=units)
        assert res.report.matched == 3 and list(res.frame["fips"]) == ["001", "002", "010"]
        assert list(res.frame["v"]) == [1.5, 2.5, 3.5]
    other = tmp_path / "other.csv"
    other.write_text("fips,v\n0011,1\n", encoding="utf-8")
    with pytest.raises(JoinError, match="'0011'"):
        layers.load_data(other, id_col="fips", boundaries=units)


def test_period_column_besides_a_year_column_is_one_clear_error(tmp_path):
    df = pd.DataFrame({"adcode": ["370100", "370200"] * 2, "period": [1, 1, 2, 2], "year": [2010, 2010, 2011, 2011],
                       "v": [1.0, 2, 3, 4]})
    with pytest.raises(SchemaError, match="'period'.*'year'"):
        layers.load_data(df, year_col="period")
    data = layers.load_data(df.drop(columns="year"), year_col="period")
    assert data.years == [1, 2]
    with pytest.raises(SchemaError, match="'period'.*'year'"):
        layers.join(df, id="adcode", year="period")
    assert list(layers.join(df.drop(columns="year"), id="adcode", year="period").frame.columns) == [
        "adcode", "name", "year", "v"]


def test_two_code_forms_of_one_unit_are_duplicates():
    df = pd.DataFrame({"adcode": ["110000", "156110000", "120000"], "v": [1.0, 2.0, 3.0]})
    with pytest.raises(JoinError, match="same unit '110000'"):
        layers.load_data(df)
    ok = layers.load_data(pd.DataFrame({"adcode": ["156110000", "120000000000"], "v": [1.0, 2.0]}))
    assert sorted(ok.table["adcode"]) == ["110000", "120000"]


def test_twelve_digit_codes_match_a_boundary_file_whose_codes_were_normalised(tmp_path):
    """A user boundary file with 12-digit county codes is indexed by 6-digit adcodes; the same 12-digit codes in
    the data table name those units."""
    import geopandas as gpd
    from shapely.geometry import box

    from geo import boundaries

    path = tmp_path / "counties.gpkg"
    gpd.GeoDataFrame({"code": ["110101000000", "110102000000"]}, geometry=[box(116, 39, 116.1, 39.1),
                     box(116.1, 39, 116.2, 39.1)], crs="EPSG:4326").to_file(path)
    units = boundaries.from_file(path, "code")
    assert list(units.index) == ["110101", "110102"]
    table = tmp_path / "t.csv"
    table.write_text("code,v\n110102000000,2.0\n110101000000,1.0\n", encoding="utf-8")
    cs = layers.load_data(table, id_col="code", boundaries=path, boundary_id="code").cross_section(columns=["v"])
    assert list(cs.index) == ["110101", "110102"] and list(cs["v"]) == [1.0, 2.0]
    res = layers.join(table, id="code", boundaries=units)
    assert res.report.matched == 2 and list(res.frame["code"]) == ["110101", "110102"]
