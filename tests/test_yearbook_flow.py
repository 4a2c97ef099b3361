"""Real data in (issue 11): yearbook-shaped inputs (tests/yearbook.py, synthetic values) through the `geo` CLI,
the parsers of yearbook numbers and year columns (property tests), and the bad-input corpus."""

from __future__ import annotations

import json
import math
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._tables_in import MISSING_MARKS, parse_number, read_tables, wide_plan, year_column
from geo.cli import main

sys.path.insert(0, str(Path(__file__).parent))
import yearbook  # noqa: E402


def run(args, capsys):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("yearbook")
    return yearbook.write(folder)


# --------------------------------------------------------------------------- parsers (property tests)

FULL = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=0, max_value=99),
       st.sampled_from(["", "万元", "%", "亿元", "元/人"]), st.booleans(), st.booleans())
def test_numbers_as_yearbooks_write_them(whole, cents, unit, grouped, fullwidth):
    value = whole + math.copysign(cents / 100, whole if whole else 1)
    text = f"{value:,.2f}" if grouped else f"{value:.2f}"
    text = text + unit
    if fullwidth:
        text = text.translate(FULL)
    number, why = parse_number(text)
    assert number == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert why == (f"unit:{unicodedata.normalize('NFKC', unit)}" if unit else "")


@given(st.sampled_from(MISSING_MARKS + ("", "  ", None, float("nan"))))
def test_missing_marks_are_missing(mark):
    number, why = parse_number(mark)
    assert number is None and why is not None


@given(st.text(alphabet="0123456789,.a-x万%", min_size=1, max_size=8))
def test_a_cell_is_a_number_a_mark_or_an_error_never_a_guess(text):
    number, why = parse_number(text)
    if number is not None:
        core = text.replace(",", "").rstrip("万%")
        assert float(core) == number  # what was read is exactly the digits written
    assert not (number is None and why == "")


def test_bad_thousands_groups_and_letters_are_not_numbers():
    for text in ("12,3a4", "1,23", "12a", "1.2.3", "--5", "3 4"):
        assert parse_number(text) == (None, None), text


@given(st.integers(min_value=1900, max_value=2099), st.sampled_from(["gdp", "pop_total", "地区生产总值"]),
       st.sampled_from(["{y}", "{y}年", "Y{y}", "{y}年末", "{v}_{y}", "{v}{y}", "{y}_{v}", "{v} {y}年"]))
def test_year_columns(year, var, form):
    name = form.format(y=year, v=var)
    got = year_column(name)
    assert got == ((var if "{v}" in form else None), year)


@given(st.text(min_size=1, max_size=6))
def test_year_column_never_invents_a_year(name):
    got = year_column(name)
    if got is not None:
        assert str(got[1]) in unicodedata.normalize("NFKC", name)
        assert 1900 <= got[1] <= 2099


def test_column_names_ending_in_a_year_are_not_a_panel_unless_asked():
    """issue 16 item 4: v0…v9999 must not become a 1900-2099 panel."""
    df = pd.DataFrame(np.ones((3, 10000)), columns=[f"v{i}" for i in range(10000)])
    df.insert(0, "id", ["a", "b", "c"])
    plan = wide_plan(df, keys=["id"])
    assert not plan.reshape and "200 columns end in a year" in plan.note and "--wide" in plan.note
    assert wide_plan(df, keys=["id"], mode="wide").reshape
    wide = pd.DataFrame({"id": ["a"], "省份": ["x"], "2005年": ["1"], "2006年": ["2"]})
    assert wide_plan(wide, keys=["id"]).reshape  # a text attribute does not block the reshape
    assert not wide_plan(wide, keys=["id"], mode="long").reshape


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig", "utf-8"])
def test_encodings_are_detected_and_stated(tmp_path, encoding):
    p = tmp_path / "t.csv"
    p.write_bytes("城市,2010年\n北京市,\"1,234\"\n襄阳市,—\n".encode(encoding))
    (t,) = read_tables(p)
    assert list(t.frame["城市"]) == ["北京市", "襄阳市"]
    expected = {"gbk": "gb18030", "gb18030": "gb18030", "utf-16": "utf-16", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}
    assert t.encoding == expected[encoding]


def test_csmar_three_header_rows_keep_labels_and_units(tmp_path):
    p = tmp_path / "csmar.csv"
    p.write_text("Citycode,Year,GDP\n城市代码,统计年度,地区生产总值\n没有单位,没有单位,万元\n110000,2010,100\n"
                 "120000,2010,200\n", encoding="utf-8")
    (t,) = read_tables(p)
    assert t.labels == {"Citycode": "城市代码", "Year": "统计年度", "GDP": "地区生产总值"}
    assert t.units["GDP"] == "万元"
    assert list(t.frame.index) == [4, 5]
    assert [k for _, k, _ in t.skipped] == ["label", "unit"]


def test_stata_in_old_gbk_and_out(tmp_path, capsys):
    old = tmp_path / "old.dta"
    name = "北京市".encode("gbk").decode("latin-1")  # what Stata 13 on Chinese Windows stored
    pd.DataFrame({"city": [name, "天津市".encode("gbk").decode("latin-1")], "year": [2010, 2010],
                  "gdp": [1.0, 2.0]}).to_stata(old, version=114, write_index=False)
    out = tmp_path / "joined.dta"
    rc, text, err = run(["join", "--data", old, "--name", "city", "--year-col", "year", "--out", out], capsys)
    assert rc == 0, err
    back = pd.read_stata(out)
    assert list(back["city"]) == ["北京市", "天津市"] and list(back["adcode"]) == ["110000", "120000"]


# --------------------------------------------------------------------------- the flow through the CLI


def test_yearbook_workbook_join_derive_and_per_year_moran(book, tmp_path, capsys):
    out = tmp_path / "joined.csv"
    rc, text, err = run(["join", "--data", book["xlsx"], "--name", "城市", "--merged", "aggregate",
                         "--derive", "gdp_pc=地区生产总值/年末总人口", "--derive", "log_gdp_pc=log(gdp_pc)",
                         "--out", out, "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    assert [t["source"].split("[sheet ")[1] for t in rep["tables"]] == ["地区生产总值]", "年末总人口]"]
    assert all(t["skipped_rows"][0] == {"row": 1, "kind": "title", "text": t["skipped_rows"][0]["text"]}
               for t in rep["tables"])
    assert any("说明" in n and "skipped" in n for n in rep["notes"])
    assert {tuple(c["names"]) for c in rep["combined"]} == {("襄樊", "襄阳"), ("思茅", "普洱"), ("毕节地区", "毕节市")}
    missing = rep["tables"][0]["missing"]["地区生产总值"]
    assert missing["—"] > 0 and missing[".."] > 0 and missing["blank"] > 0
    # 莱芜 2007 is missing: 济南 2007 (aggregate) is missing too, and listed
    assert {(p["unit"], p["year"], p["variable"]) for p in rep["partial_merges"]} == {("370100", 2007, "地区生产总值")}
    joined = pd.read_csv(out, dtype={"adcode": str})
    truth = book["truth"].set_index(["adcode", "year"])
    j = joined.set_index(["adcode", "year"])
    for key in [("420600", 2008), ("420600", 2012), ("530800", 2005), ("520500", 2012), ("110000", 2006)]:
        want = truth.loc[key, "gdp"]
        got = j.loc[key, "地区生产总值"]
        assert (np.isnan(want) and np.isnan(got)) or got == want, key
    both = truth.loc[("370100", 2008), "gdp"] + truth.loc[("371200", 2008), "gdp"]
    assert j.loc[("370100", 2008), "地区生产总值"] == both
    assert np.isnan(j.loc[("370100", 2007), "地区生产总值"])
    ok = j["gdp_pc"].notna()
    assert np.allclose(j.loc[ok, "log_gdp_pc"], np.log(j.loc[ok, "地区生产总值"] / j.loc[ok, "年末总人口"]))
    assert set(joined["城市"]) >= {"北京", "襄樊", "襄阳"} and (joined["synthetic"] == True).all()  # noqa: E712
    # per-year Moran on the unbalanced panel: each year its own units, counted and listed
    rc, text, err = run(["moran", "--data", out, "--var", "gdp_pc", "--permutations", "0", "--json"], capsys)
    assert rc == 0, err
    by = json.loads(text)
    assert by["balanced"] is False and len(by["years"]) == 8
    for y in by["years"]:
        n_with = int(j.xs(y["year"], level="year")["gdp_pc"].notna().sum())
        assert y["n"] == n_with and len(y["units_left_out"]) == 337 - n_with
        assert y["islands"]["policy"] == "link:1"
    # the same year by hand: weights built on that year's units only
    from geo import autocorr as ac
    from geo import boundaries
    from geo import weights as gw

    units = boundaries.china()
    y0 = j.xs(2009, level="year")["gdp_pc"].dropna()
    g = gw.build("queen", units.loc[y0.index])
    ref = ac.moran(y0.to_frame(), "gdp_pc", weights=g, permutations=0)
    assert by["years"][4]["I"] == pytest.approx(ref.I, rel=1e-12)
    # LISA for one year of the unbalanced panel: units without a value that year are left out and named
    rc, text, err = run(["moran", "--data", out, "--var", "gdp_pc", "--year", "2009", "--local", "--permutations",
                         "99", "--seed", "1", "--json"], capsys)
    assert rc == 0, err
    lisa = json.loads(text)
    assert lisa["n"] == len(y0) and len(lisa["units_without_data"]) == 337 - len(y0)
    assert {"EIi", "VIi", "p_norm"} <= set(lisa["local"][0])


def test_gbk_csv_exports_join_like_the_workbook(book, tmp_path, capsys):
    out = tmp_path / "j.csv"
    rc, text, err = run(["join", "--data", book["gdp_csv"], "--data", book["pop_csv"], "--name", "城市",
                         "--out", out, "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    assert [t["encoding"] for t in rep["tables"]] == ["gb18030", "gb18030"]
    joined = pd.read_csv(out, dtype={"adcode": str}).set_index(["adcode", "year"])
    truth = book["truth"].set_index(["adcode", "year"])
    common = joined.index.intersection(truth.index)
    a = joined.loc[common, "地区生产总值_synthetic"].to_numpy()
    b = truth.loc[common, "gdp"].to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)])


def test_full_width_ids_match(tmp_path, capsys):
    p = tmp_path / "fw.csv"
    p.write_text("code,v\n１１００００,1\n１２００００,2\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    rc, text, err = run(["join", "--data", p, "--id", "code", "--strict", "--out", out], capsys)
    assert rc == 0, err
    assert list(pd.read_csv(out, dtype={"adcode": str})["adcode"]) == ["110000", "120000"]


def test_full_width_ids_in_analysis_input():
    from geo import layers

    ud = layers.load_data(pd.DataFrame({"adcode": ["１１００００", "１２００００"], "v": [1.0, 2.0]}))
    assert list(ud.table["adcode"]) == ["110000", "120000"]


def test_table_and_gal_with_any_ids(tmp_path, capsys):
    ids = [str(i) for i in range(6)]  # 0-based county numbers
    gal = tmp_path / "w.gal"
    gal.write_text("0 6 x id\n0 1\n1\n1 2\n0 2\n2 2\n1 3\n3 2\n2 4\n4 2\n3 5\n5 1\n4\n", encoding="utf-8")
    t = tmp_path / "t.csv"
    pd.DataFrame({"cid": ids, "y": [1.0, 2.0, 4.0, 3.0, 7.0, 9.0]}).to_csv(t, index=False)
    rc, text, err = run(["moran", "--data", t, "--id", "cid", "--var", "y", "--weights", gal, "--permutations", "0",
                         "--json"], capsys)
    assert rc == 0, err
    from geo import autocorr as ac
    from geo import weights as gw

    g = gw.read(gal, ids=ids, transform="r")
    ref = ac.moran(pd.DataFrame({"y": [1.0, 2.0, 4.0, 3.0, 7.0, 9.0]}, index=ids), "y", weights=g, permutations=0)
    assert json.loads(text)["I"] == pytest.approx(ref.I, rel=1e-12)


# --------------------------------------------------------------------------- bad input: one line, exit 2, nothing written


def _bad_inputs(tmp: Path):
    cases = {}
    p = tmp / "no_id.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"说明": ["只有文字"]}).to_excel(xw, sheet_name="说明", index=False)
        pd.DataFrame({"x": [1], "y": [2]}).to_excel(xw, sheet_name="数据", index=False)
    cases["workbook without id column"] = (["join", "--data", p, "--name", "城市"], "no sheet has a column '城市'")
    p = tmp / "cell.csv"
    p.write_text("城市,2010年,2011年\n北京市,\"1,234\",\"12,3a4\"\n", encoding="utf-8")
    cases["bad cell"] = (["join", "--data", p, "--name", "城市"],
                         r"row 2 (城市 北京市), column '2011年': cannot read '12,3a4'")
    p = tmp / "years.csv"
    p.write_text("城市,2010年,2010\n北京市,1,2\n", encoding="utf-8")
    cases["unreadable year columns"] = (["join", "--data", p, "--name", "城市"], "both read as 2010")
    p = tmp / "good.csv"
    p.write_text("城市,2010年\n北京市,1\n天津市,2\n", encoding="utf-8")
    cases["derive unknown column"] = (["join", "--data", p, "--name", "城市", "--derive", "z=nope/2"], "nope")
    cases["derive syntax"] = (["join", "--data", p, "--name", "城市", "--derive", "z=(1+"], "syntax error")
    p = tmp / "latin1.csv"
    p.write_bytes("name,v\nZürich,1\n".encode("latin-1"))
    cases["latin-1 names"] = (["join", "--data", p, "--name", "name"], "no row matched a unit")
    def moran_case(label, table_text, weights_name, weights_text, needle):
        table = tmp / f"{label}.csv"
        table.write_text(table_text, encoding="utf-8")
        weights = tmp / weights_name
        weights.write_text(weights_text, encoding="utf-8")
        cases[label] = (["moran", "--data", table, "--id", "fips", "--var", "y", "--weights", weights], needle)

    ok_gal = "0 4 x id\n1 1\n2\n2 2\n1 3\n3 2\n2 4\n4 1\n3\n"
    table = "fips,y\n1,1\n2,2\n3,3\n4,4\n"
    moran_case("weights ids", table, "rows.gal", "0 4 x id\n10 1\n20\n20 1\n10\n30 1\n40\n40 1\n30\n", "oldstyle=FALSE")
    moran_case("negative weight", table, "neg.gwt", "0 4 x id\n1 2 -1\n2 1 1\n3 4 1\n4 3 1\n",
               "finite and non-negative")
    moran_case("self neighbours", table, "self.gal", "0 4 x id\n1 1\n1\n2 1\n2\n3 1\n3\n4 1\n4\n",
               "lists itself as a neighbour")
    moran_case("constant variable", "fips,y\n1,5\n2,5\n3,5\n4,5\n", "ok.gal", ok_gal, "constant")
    moran_case("overflow", "fips,y\n1,1e300\n2,-1e300\n3,1e299\n4,5\n", "ok.gal", ok_gal, "not finite")
    return cases


def test_bad_input_corpus(tmp_path, capsys):
    for label, (args, needle) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out_{abs(hash(label))}.csv"
        full = args + (["--out", out] if args[0] == "join" else [])
        before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
        rc, text, err = run(full, capsys)
        assert rc == 2, (label, text, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (label, err)
        assert needle in lines[0], (label, lines[0])
        assert "Traceback" not in err and not out.exists(), label
        assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before, label


def test_split_apportion_by_county_areas_and_by_a_table(tmp_path):
    from geo import layers
    from geo.errors import JoinError

    rows = []
    for y in range(2008, 2014):
        if y < 2011:
            rows.append({"city": "巢湖市", "year": y, "gdp": 100.0 if y != 2009 else None})
        for c, v in (("合肥", 1000.0), ("芜湖", 500.0), ("马鞍山", 300.0)):
            rows.append({"city": c, "year": y, "gdp": v})
    df = pd.DataFrame(rows)
    default = layers.join(df, name="city", year="year")
    assert {u["value"] for u in default.report.unmatched} == {"巢湖市"}  # the default stays "report"
    shares = layers.split_shares("341400")
    assert set(shares) == {"340100", "340200", "340500"} and sum(shares.values()) == pytest.approx(1, abs=1e-12)
    assert 0.4 < shares["340100"] < 0.6  # 居巢区 + 庐江县 are about half of the old 巢湖 prefecture
    res = layers.join(df, name="city", year="year", split="apportion")
    f = res.frame.set_index(["adcode", "year"])["gdp"]
    for code, own in (("340100", 1000.0), ("340200", 500.0), ("340500", 300.0)):
        assert f[(code, 2008)] == pytest.approx(own + 100 * shares[code], rel=1e-12)
        assert np.isnan(f[(code, 2009)])  # 巢湖 missing in 2009: the successors' totals are missing, not partial
        assert f[(code, 2012)] == own
    assert res.report.unmatched == () and any("apportioned" in n for n in res.report.notes)
    table = tmp_path / "shares.csv"
    table.write_text("old_adcode,successor_adcode,share\n341400,340100,0.5\n341400,340200,0.25\n341400,340500,0.25\n")
    own = layers.join(df, name="city", year="year", split="apportion", split_shares_table=table)
    assert own.frame.set_index(["adcode", "year"])["gdp"][("340200", 2010)] == 525.0
    table.write_text("old_adcode,successor_adcode,share\n341400,340100,0.5\n341400,340200,0.2\n")
    with pytest.raises(JoinError, match="summing to 1"):
        layers.join(df, name="city", year="year", split="apportion", split_shares_table=table)


@settings(max_examples=25, deadline=None)
@given(st.integers(2005, 2013), st.lists(st.booleans(), min_size=10, max_size=10),
       st.lists(st.integers(0, 9), max_size=3), st.randoms(use_true_random=False))
def test_old_and_new_names_combine_into_one_series(switch, missing, clash_years, rnd):
    """襄樊 up to `switch`, 襄阳 after, some cells missing, rows shuffled: one series equal to the truth; a year
    where both rows hold a value is an error naming both rows and 420600 襄阳市."""
    from geo import layers
    from geo.errors import JoinError

    years = list(range(2005, 2015))
    truth = {y: (None if gone else float(y * 10)) for y, gone in zip(years, missing)}
    old = {"city": "襄樊市"} | {str(y): (truth[y] if y <= switch else None) for y in years}
    new = {"city": "襄阳"} | {str(y): (truth[y] if y > switch else None) for y in years}
    rows = [old, new, {"city": "武汉"} | {str(y): 1.0 for y in years}]
    rnd.shuffle(rows)
    res = layers.join(pd.DataFrame(rows), name="city")
    series = res.frame[res.frame["adcode"] == "420600"].set_index("year")
    var = [c for c in series.columns if c not in ("adcode", "name", "city")][0]
    for y in years:
        want = truth[y]
        assert (want is None and np.isnan(series.loc[y, var])) or series.loc[y, var] == want
    clash = [years[i] for i in clash_years if truth[years[i]] is not None]
    if clash:
        for r in rows:
            if r["city"] in ("襄樊市", "襄阳"):
                for y in clash:
                    r[str(y)] = 1.0
        with pytest.raises(JoinError, match=r"rows \d \(city 襄(樊市|阳)\) and \d \(city 襄(樊市|阳)\) both give .*420600 襄阳市"):
            layers.join(pd.DataFrame(rows), name="city")


def test_table_and_gal_on_an_unbalanced_panel(tmp_path, capsys):
    """Per-year Moran with a weights file and ids of any kind: each year the file's links among that year's
    units (a unit left without a neighbour is an island, kept only with --islands keep)."""
    from geo import autocorr as ac
    from geo import weights as gw

    ids = [str(i) for i in range(8)]  # a ring of 8 units
    gal = tmp_path / "ring.gal"
    gal.write_text("0 8 x id\n" + "".join(f"{i} 2\n{(i - 1) % 8} {(i + 1) % 8}\n" for i in range(8)), encoding="utf-8")
    rng = np.random.default_rng(3)
    rows = [{"cid": i, "year": y, "y": float(rng.normal())} for y in (2010, 2011) for i in ids]
    panel = pd.DataFrame(rows)
    panel.loc[(panel["year"] == 2011) & (panel["cid"] == "3"), "y"] = np.nan  # unit 3 has no value in 2011
    t = tmp_path / "panel.csv"
    panel.to_csv(t, index=False)
    rc, text, err = run(["moran", "--data", t, "--id", "cid", "--var", "y", "--weights", gal, "--permutations", "0",
                         "--json"], capsys)
    assert rc == 0, err
    by = json.loads(text)
    assert [y["n"] for y in by["years"]] == [8, 7] and by["years"][1]["units_left_out"] == ["3"]
    sub = panel[(panel["year"] == 2011) & panel["y"].notna()].set_index("cid")
    g = gw.read(gal, ids=list(sub.index), transform="r", restrict=True)
    assert by["years"][1]["I"] == pytest.approx(ac.moran(sub, "y", weights=g, permutations=0).I, rel=1e-12)
    # one year at a time: the same numbers
    rc, text, err = run(["moran", "--data", t, "--id", "cid", "--var", "y", "--weights", gal, "--year", "2011",
                         "--permutations", "0", "--json"], capsys)
    assert rc == 0, err
    assert json.loads(text)["I"] == pytest.approx(by["years"][1]["I"], rel=1e-12)
