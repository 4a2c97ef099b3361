"""Real data in (issue 11): yearbook-shaped inputs (tests/yearbook.py, synthetic values) through the `geo` CLI,
the parsers of yearbook numbers and year columns (property tests), and the bad-input corpus."""

from __future__ import annotations

import json
import math
import re
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


# --------------------------------------------------------------------------- the rest of the flow on the same panel
# (issue 11 "Done when"): a LISA map with no-data units, the band-DID on the unbalanced panel with a Chinese
# GCJ-02 zone file, the panel SDM with --balance drop, and a second, differently shaped extract.

JOIN_ARGS = ["--name", "城市", "--merged", "aggregate"]


def _join(args, out):
    """`geo join … --out out` (output not captured: module fixtures have no capsys)."""
    rc = main([str(a) for a in args + ["--out", out, "--json"]])
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def joined(book, tmp_path_factory):
    out = tmp_path_factory.mktemp("joined") / "joined.csv"
    return _join(["join", "--data", book["xlsx"], *JOIN_ARGS, "--derive", "gdp_pc=地区生产总值/年末总人口",
                  "--derive", "log_gdp_pc=log(gdp_pc)"], out)


def _frame(path):
    return pd.read_csv(path, dtype={"adcode": str})


def _zone_file(folder, panel: pd.DataFrame, *, name="zones.csv"):
    """A user's zone file as typed in China: Chinese headers, dates as typed, GCJ-02 coordinates (as Amap gives
    them; two rows say so in 坐标系, the third relies on --zone-crs gcj02).  The first zone lies in a prefecture
    with NO data in ``panel`` (its host is not analysed); the others in 武汉 and 杭州.  Invented zones.
    Returns (path, WGS-84 truth of the points, the no-data host's adcode)."""
    from geo import boundaries
    from geo.coords import wgs84_to_gcj02

    units = boundaries.china()
    have = set(panel.loc[panel["log_gdp_pc"].notna(), "adcode"])
    # a no-data prefecture in the east (where rings reach other units), the one nearest 郑州
    cents = boundaries.centroids(units)
    empty = [c for c in units.index if c not in have and 105 < cents[c].x < 122 and 24 < cents[c].y < 40]
    host = min(empty, key=lambda c: (cents[c].x - 113.6) ** 2 + (cents[c].y - 34.7) ** 2)
    pt = units.loc[[host]].to_crs("EPSG:4326").geometry.iloc[0].representative_point()
    truth = np.array([[pt.x, pt.y], [114.40, 30.50], [120.20, 30.25]])
    gx, gy = wgs84_to_gcj02(truth[:, 0], truth[:, 1])
    text = ("园区名称,批准时间,经度,纬度,坐标系\n"
            f"甲园区（合成示例）,2008年3月,{gx[0]:.7f},{gy[0]:.7f},GCJ-02\n"
            f"乙园区（合成示例）,2009.12,{gx[1]:.7f},{gy[1]:.7f},\n"
            f"丙园区（合成示例）,2010/12/6,{gx[2]:.7f},{gy[2]:.7f},GCJ-02\n")
    p = Path(folder) / name
    p.write_bytes(text.encode("gbk"))
    return p, truth, host


def _bands_are_estimates(rep):
    """Bands with exposed units have finite numbers; a band without any is null (never NaN), and says so."""
    with_units = [b for b in rep["bands"] if b["n_units"] > 0]
    assert len(with_units) >= 3
    for b in with_units:
        vals = [b[k] for k in ("estimate", "se", "p", "ci_lower", "ci_upper")]
        assert all(v is not None and math.isfinite(v) for v in vals), b
        assert b["ci_lower"] <= b["estimate"] <= b["ci_upper"]
    for b in rep["bands"]:
        if b["n_units"] == 0:
            assert b["estimate"] is None and any(w.startswith(f"{b['band']}: no exposed unit") for w in rep["warnings"])


def _check_sample(rep, panel, y="log_gdp_pc"):
    """The units and years used: the unit-years with a value, less the always-treated units' rows."""
    have = panel[panel[y].notna()]
    always = set(rep["always_treated_dropped"])
    used = have[~have["adcode"].isin(always)]
    assert rep["sample"]["balanced"] is False
    assert rep["sample"]["units"] == used["adcode"].nunique() == rep["n_units"]
    assert rep["sample"]["obs"] == len(used) == rep["n_obs"]
    assert rep["sample"]["years"] == [int(used["year"].min()), int(used["year"].max())]
    assert rep["unit_years_left_out"] == int(panel[y].isna().sum())
    assert len(rep["units_without_data"]) == 337 - have["adcode"].nunique()


def test_lisa_map_of_one_year_with_no_data_units(joined, tmp_path, capsys):
    panel = _frame(joined)
    n_with = int(panel.loc[panel["year"] == 2009, "log_gdp_pc"].notna().sum())
    html = tmp_path / "lisa.html"
    rc, text, err = run(["map", "lisa", "--data", joined, "--var", "log_gdp_pc", "--year", 2009, "--permutations", 99,
                         "--seed", 1, "--out", html], capsys)
    assert rc == 0, err
    assert f"note: {337 - n_with} units of the boundaries have no data" in text
    page = html.read_text(encoding="utf-8")
    assert int(re.findall(r'data-nodata=\\"(\d+)\\"', page)[0]) == 337 - n_with  # hatched, counted in the legend
    # the clusters are those of `geo moran --local` on the same year (same weights, same seed)
    rc, mtext, err = run(["moran", "--data", joined, "--var", "log_gdp_pc", "--year", 2009, "--local",
                          "--permutations", 99, "--seed", 1, "--json"], capsys)
    assert rc == 0, err
    counts = json.loads(mtext)["local_counts"]
    png = tmp_path / "lisa.png"
    rc, text, err = run(["map", "lisa", "--data", joined, "--var", "log_gdp_pc", "--year", 2009, "--permutations", 99,
                         "--seed", 1, "--out", png, "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    assert rep["n_nodata"] == 337 - n_with == len(rep["units_without_data"])
    legend = {row["label"]: row["count"] for row in rep["legend"]}
    assert legend["no data"] == 337 - n_with
    names = {"HH": "High-High", "LL": "Low-Low", "LH": "Low-High", "HL": "High-Low", "ns": "Not significant"}
    assert {k: legend[v] for k, v in names.items()} == counts
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_band_did_on_the_unbalanced_panel_with_a_chinese_gcj02_zone_file(joined, tmp_path, capsys):
    from geo import boundaries
    from geo.coords import wgs84_to_gcj02

    panel = _frame(joined)
    zones_csv, truth, host = _zone_file(tmp_path, panel)
    reps = {}
    for est in ("imputation", "twfe"):
        rc, text, err = run(["radiation", "--data", joined, "--y", "log_gdp_pc", "--zones", zones_csv,
                             "--zone-crs", "gcj02", "--estimator", est, "--inference", "cluster", "--json"], capsys)
        assert rc == 0, (est, err)
        reps[est] = rep = json.loads(text)
        _bands_are_estimates(rep)
        _check_sample(rep, panel)
        # the zone whose host has no data still counts: named in a note, and nearest zone of units in its rings
        assert any("甲园区（合成示例）" in n and "not analysed" in n for n in rep["notes"])
        near = [a for a in rep["assignment"] if a["zone_name"] == "甲园区（合成示例）" and a["band"] != "outside"]
        assert near and host not in {a["id"] for a in rep["assignment"]}
    # distances are from the WGS-84 points (GCJ-02 undone: its offset is ~0.3-0.6 km)
    units = boundaries.china()
    cents = boundaries.centroids(units)
    for a in near[:5]:
        d = boundaries.great_circle_km(cents[a["id"]].x, cents[a["id"]].y, truth[0, 0], truth[0, 1])
        assert a["distance_km"] == pytest.approx(float(d), abs=1e-3)  # 1 m (GCJ-02 inverted by iteration)
    gx, gy = wgs84_to_gcj02(truth[:1, 0], truth[:1, 1])
    raw = [float(boundaries.great_circle_km(cents[a["id"]].x, cents[a["id"]].y, gx[0], gy[0])) for a in near[:5]]
    assert max(abs(r - a["distance_km"]) for r, a in zip(raw, near[:5])) > 0.05  # read as WGS-84 it would differ
    assert reps["imputation"]["method"] == "imputation" and reps["twfe"]["method"] == "twfe"
    # the text says how much was left out and that nothing was imputed; no NaN printed
    rc, text, err = run(["radiation", "--data", joined, "--y", "log_gdp_pc", "--zones", zones_csv, "--zone-crs",
                         "gcj02", "--inference", "cluster"], capsys)
    assert rc == 0, err
    left = int(panel["log_gdp_pc"].isna().sum())
    assert f"note: unbalanced panel: {left} unit-years without log_gdp_pc left out (nothing imputed)" in text
    assert not re.search(r"\bnan\b", text, flags=re.I)


def test_band_did_twfe_on_the_unbalanced_panel_equals_least_squares(joined, tmp_path, capsys):
    """Static exposure: D_g,it = 1[band_i = g, t >= year_i]; unit and year dummies by least squares on the
    unit-years with a value (always-treated units dropped) give the same estimates (FWL, closed form)."""
    panel = _frame(joined)
    zones_csv, _, _ = _zone_file(tmp_path, panel)
    rc, text, err = run(["radiation", "--data", joined, "--y", "log_gdp_pc", "--zones", zones_csv, "--zone-crs",
                         "gcj02", "--estimator", "twfe", "--exposure", "static", "--inference", "cluster", "--json"],
                        capsys)
    assert rc == 0, err
    rep = json.loads(text)
    asg = pd.DataFrame(rep["assignment"]).set_index("id")
    df = panel[panel["log_gdp_pc"].notna()].copy()
    df = df[~df["adcode"].isin(rep["always_treated_dropped"])]
    band = asg["band"].reindex(df["adcode"]).to_numpy()
    ty = pd.to_numeric(asg["treatment_year"], errors="coerce").reindex(df["adcode"]).to_numpy(dtype=float)
    labels = [b["band"] for b in rep["bands"] if b["n_units"] > 0]
    D = np.column_stack([(band == g) & (df["year"].to_numpy() >= ty) for g in labels]).astype(float)
    X = np.column_stack([D, pd.get_dummies(df["adcode"]).to_numpy(float),
                         pd.get_dummies(df["year"]).to_numpy(float)[:, 1:]])
    beta = np.linalg.lstsq(X, df["log_gdp_pc"].to_numpy(), rcond=None)[0]
    got = {b["band"]: b["estimate"] for b in rep["bands"] if b["n_units"] > 0}
    for k, g in enumerate(labels):
        assert got[g] == pytest.approx(beta[k], rel=1e-8, abs=1e-10), g


def test_band_did_with_the_embedded_new_zones(joined, capsys):
    panel = _frame(joined)
    rc, text, err = run(["radiation", "--data", joined, "--y", "log_gdp_pc", "--inference", "cluster", "--json"],
                        capsys)
    assert rc == 0, err
    rep = json.loads(text)
    _bands_are_estimates(rep)
    _check_sample(rep, panel)


def test_panel_sdm_balance_drop_names_the_dropped_units(joined, tmp_path, capsys):
    panel = _frame(joined)
    cols = ["log_gdp_pc", "年末总人口"]
    ok = panel.dropna(subset=cols)
    complete = sorted(u for u, g in ok.groupby("adcode") if g["year"].nunique() == 8)
    dropped = sorted(set(ok["adcode"]) - set(complete))
    rc, text, err = run(["sdm", "--data", joined, "--y", "log_gdp_pc", "--x", "年末总人口", "--time", "year",
                         "--balance", "drop", "--draws", 0, "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    bal = rep["balance"]
    assert rep["n"] == len(complete) == bal["units_kept"] and rep["t"] == 8
    assert [d["id"] for d in bal["dropped_units"]] == dropped
    names = dict(zip(panel["adcode"], panel["name"]))
    assert all(d["name"] == names[d["id"]] for d in bal["dropped_units"])
    assert bal["observations_lost"] == len(ok) - len(complete) * 8
    # the text names them by code and name
    rc, text, err = run(["sdm", "--data", joined, "--y", "log_gdp_pc", "--x", "年末总人口", "--time", "year",
                         "--balance", "drop", "--draws", 0], capsys)
    assert rc == 0, err
    assert f"{len(dropped)} unit(s) not observed in every period were dropped ({dropped[0]} {names[dropped[0]]}" in text
    # the same fit as the balanced sub-panel given directly
    sub = tmp_path / "balanced.csv"
    panel[panel["adcode"].isin(complete)].to_csv(sub, index=False)
    rc, text2, err = run(["sdm", "--data", sub, "--y", "log_gdp_pc", "--x", "年末总人口", "--time", "year",
                          "--draws", 0, "--json"], capsys)
    assert rc == 0, err
    assert json.loads(text2)["rho"] == pytest.approx(rep["rho"], rel=1e-10)
    # without --balance the gaps are an error that offers --balance drop
    rc, text, err = run(["sdm", "--data", joined, "--y", "log_gdp_pc", "--x", "年末总人口", "--time", "year"], capsys)
    assert rc == 2 and "--balance drop" in err and len(err.strip().splitlines()) == 1


def test_a_differently_shaped_heldout_like_extract(tmp_path, capsys):
    """Another seed (another ~75 cities missing), other sheet names beside a decoy sheet (--sheet picks), two
    title rows, years as 2005年 and 2005年末, marks … NA 空 -, and UTF-16 tab-separated exports."""
    held = yearbook.write_heldout(tmp_path)
    truth = held["truth"].set_index(["adcode", "year"])
    # every sheet by default: the decoy sheet's text cell is an error naming it, and nothing is written
    bad = tmp_path / "all_sheets.csv"
    rc, text, err = run(["join", "--data", held["xlsx"], *JOIN_ARGS, "--out", bad], capsys)
    assert rc == 2 and "[sheet 财政收入]" in err and "不是本次要用的数据" in err and not bad.exists()
    out = tmp_path / "held.csv"
    rc, text, err = run(["join", "--data", held["xlsx"], "--sheet", ",".join(held["sheets"]), *JOIN_ARGS,
                         "--derive", "gdp_pc=GDP总量/户籍人口", "--derive", "log_gdp_pc=log(gdp_pc)", "--out", out,
                         "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    assert all([r["row"] for r in t["skipped_rows"][:2]] == [1, 2] for t in rep["tables"])  # two title rows
    miss = rep["tables"][0]["missing"]["GDP总量"]
    assert {"…", "NA", "空", "-", "blank"} <= set(miss)  # each mark counted as written
    panel = _frame(out)
    j = panel.set_index(["adcode", "year"])
    common = j.index.intersection(truth.index).drop(["370100", "371200"], level=0, errors="ignore")  # 莱芜 summed
    for col, tcol in (("GDP总量", "gdp"), ("户籍人口", "pop")):
        a, b = j.loc[common, col].to_numpy(), truth.loc[common, tcol].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)])
    first = yearbook.frames(seed=0)[2]
    assert set(truth.index.get_level_values(0)) != set(first["adcode"])  # not the same cities as the first extract
    # the UTF-16 "Unicode text" exports give the same panel
    out2 = tmp_path / "held_txt.csv"
    rc, text, err = run(["join", "--data", held["gdp_txt"], "--data", held["pop_txt"], *JOIN_ARGS, "--out", out2,
                         "--json"], capsys)
    assert rc == 0, err
    assert [t["encoding"] for t in json.loads(text)["tables"]] == ["utf-16", "utf-16"]
    txt = _frame(out2).set_index(["adcode", "year"])
    a = txt.loc[common, "GDP总量_unicode_synthetic"].to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(j.loc[common, "GDP总量"].to_numpy()))
    # per-year Moran on its unbalanced panel
    rc, text, err = run(["moran", "--data", out, "--var", "log_gdp_pc", "--permutations", 0, "--json"], capsys)
    assert rc == 0, err
    by = json.loads(text)
    assert by["balanced"] is False and len(by["years"]) == 8
    for y in by["years"]:
        assert y["n"] == int(panel.loc[panel["year"] == y["year"], "log_gdp_pc"].notna().sum())
        assert math.isfinite(y["I"]) and y["I"] > 0.2  # the process makes neighbours alike
    # the band-DID with the user's zone file
    zones_csv, _, _ = _zone_file(tmp_path, panel)
    rc, text, err = run(["radiation", "--data", out, "--y", "log_gdp_pc", "--zones", zones_csv, "--zone-crs", "gcj02",
                         "--inference", "cluster", "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(text)
    _bands_are_estimates(rep)
    _check_sample(rep, panel)


def test_readme_yearbook_flow_runs_as_printed(book, tmp_path, monkeypatch, capsys):
    """Every line of the README's "The yearbook flow" block, run as printed on the synthetic workbook, a zone
    file as typed in China and a table + GAL with county numbers: exit 0 each, and what the prose promises."""
    import shlex
    import shutil

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The yearbook flow", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    commands = [shlex.split(c, comments=True) for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    assert [c[:2] for c in commands] == [["geo", "join"], ["geo", "moran"], ["geo", "map"], ["geo", "zones"],
                                         ["geo", "radiation"], ["geo", "sdm"], ["geo", "moran"]]
    monkeypatch.chdir(tmp_path)
    shutil.copy(book["xlsx"], tmp_path / "yearbook.xlsx")
    ids = [str(i) for i in range(10, 18)]  # county numbers, a ring of 8
    (tmp_path / "counties.gal").write_text(
        "0 8 x fips\n" + "".join(f"{ids[i]} 2\n{ids[(i - 1) % 8]} {ids[(i + 1) % 8]}\n" for i in range(8)),
        encoding="utf-8")
    pd.DataFrame({"fips": ids, "y": [1.0, 2.0, 2.5, 4.0, 3.0, 1.5, 0.5, 0.8]}).to_csv("counties.csv", index=False)
    texts = []
    for args in commands:
        if args[1] == "zones":  # the zone file needs the joined panel (one zone in a city without data)
            _zone_file(tmp_path, _frame(tmp_path / "joined.csv"), name="开发区.csv")
        rc, text, err = run(args[1:], capsys)
        assert rc == 0, (args, err)
        texts.append(text)
    panel = _frame(tmp_path / "joined.csv")
    assert "gdp_pc" in panel and "城市" in panel and (tmp_path / "lisa.html").exists()
    assert (tmp_path / "zones.gpkg").exists()
    n09 = int(panel.loc[panel["year"] == 2009, "log_gdp_pc"].notna().sum())
    assert f"note: {337 - n09} units of the boundaries have no data" in texts[2]
    assert "not analysed" in texts[4] and "unit-years without log_gdp_pc left out (nothing imputed)" in texts[4]
    assert "not observed in every period were dropped" in texts[5] and "observation(s) lost" in texts[5]
