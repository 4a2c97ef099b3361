"""Generate yearbook-shaped inputs for the tests (all values invented: SYNTHETIC, not statistics).

The shape copies what users of the China City Statistical Yearbook have (issue 11): a workbook with
one sheet per variable, a title row above the header and a source note below, years as column headers
(``2005年`` in one sheet, Excel numbers ``2005`` in the other), a 说明 sheet with no id column, GBK
"Save as CSV" exports of the sheets, 北京 in one sheet and 北京市 in the other, old and new names of
one unit in separate rows (襄樊 until 2010 then 襄阳, 思茅 then 普洱, 毕节地区 then 毕节市),
莱芜 until its merger into 济南, thousands separators, full-width digits, missing marks (``—``, ``..``)
and whole gaps, for about 270 of the 337 prefecture-level units.

The process (documented here; the same seed gives the same files): for each chosen unit a level
``a = 0.35·zlon + 0.25·zlat + N(0, 0.4)`` (zlon, zlat: the standardised centroid coordinates, so neighbours
are alike and Moran's I is positive) and a trend ``b ~ U(0.05, 0.12)``; GDP (万元) = 3e6·exp(a + b·(t-2005)) rounded,
population (万人) = 400·exp(a/2 + 0.01·(t-2005)) to one decimal; 12 % of cells become a missing mark
and 8 % of (unit, year) pairs are gaps in both sheets.  Titles and notes say "合成数据 (synthetic)".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

YEARS = list(range(2005, 2013))
SYNTHETIC_NOTE = "资料来源：合成数据（synthetic，由 tests/yearbook.py 生成，不是统计数据）"
#: (old name, new name, last year of the old name) written as two rows of one unit
RENAMES = [("襄樊", "襄阳", 2010), ("思茅", "普洱", 2006), ("毕节地区", "毕节市", 2011)]
FULLWIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def _fmt(value: float, rng, *, decimals: int) -> str | float:
    r = rng.random()
    if decimals == 0:
        if r < 0.5:
            return f"{value:,.0f}"  # 1,234
        if r < 0.55:
            return f"{value:.0f}".translate(FULLWIDTH)  # full-width digits
        return float(round(value))
    return round(value, decimals) if r < 0.9 else f"{value:.{decimals}f}"


def frames(*, seed: int = 0, n_units: int = 270, marks=("—", "..")):
    """(gdp, population) wide frames with a 城市 column and one column per year, plus the truth (long).

    ``marks``: the missing marks written in the GDP sheet (the first also in the population sheet)."""
    from geo import boundaries

    rng = np.random.default_rng(seed)
    units = boundaries.china()
    cent = boundaries.centroids(units)
    zlon = (cent.x - cent.x.mean()) / cent.x.std()
    zlat = (cent.y - cent.y.mean()) / cent.y.std()
    special = {"110000", "420600", "530800", "520500", "370100"}
    pool = [c for c in units.index if c not in special]
    chosen = sorted(special | set(rng.choice(pool, size=n_units - len(special), replace=False).tolist()))
    names = {c: str(units.loc[c, "name"]) for c in chosen}
    rows_gdp, rows_pop, truth = [], [], []
    for code in chosen + ["371200"]:  # 莱芜 (merged into 济南 in 2019) is an old unit of its own
        a = (0.35 * zlon.get(code, 0.0) + 0.25 * zlat.get(code, 0.0)) + rng.normal(0, 0.4)
        b = rng.uniform(0.05, 0.12)
        gdp = {t: 3e6 * np.exp(a + b * (t - 2005)) for t in YEARS}
        pop = {t: 400 * np.exp(a / 2 + 0.01 * (t - 2005)) for t in YEARS}
        gaps = {t for t in YEARS if rng.random() < 0.08}
        gmiss = {t for t in YEARS if rng.random() < 0.12}
        pmiss = {t for t in YEARS if rng.random() < 0.12}
        if code == "371200":
            gmiss, pmiss, gaps = {2007}, set(), set()  # one missing part-year for the merge rule
        if code == "370100":
            gmiss, pmiss, gaps = set(), set(), set()
        for t in YEARS:
            truth.append({"adcode": code, "year": t,
                          "gdp": np.nan if t in gaps | gmiss else float(round(gdp[t])),
                          "pop": np.nan if t in gaps | pmiss else round(pop[t], 1)})
        rename = {"420600": RENAMES[0], "530800": RENAMES[1], "520500": RENAMES[2]}.get(code)
        spans = ([(rename[0], [t for t in YEARS if t <= rename[2]]), (rename[1], [t for t in YEARS if t > rename[2]])]
                 if rename else [("莱芜" if code == "371200" else names[code], YEARS)])
        for label, span in spans:
            g = {"城市": label}
            p = {"城市": label}
            for t in YEARS:
                if t not in span or t in gaps:
                    g[t] = p[t] = None  # a gap: blank cell
                    continue
                g[t] = str(rng.choice(list(marks))) if t in gmiss else _fmt(gdp[t], rng, decimals=0)
                p[t] = marks[0] if t in pmiss else _fmt(pop[t], rng, decimals=1)
            if code == "110000":
                p["城市"] = "北京市"  # 北京 in one sheet, 北京市 in the other
                g["城市"] = "北京"
            rows_gdp.append(g)
            rows_pop.append(p)
    gdp = pd.DataFrame(rows_gdp)
    pop = pd.DataFrame(rows_pop)
    return gdp, pop, pd.DataFrame(truth)


def _grid(title: str, frame: pd.DataFrame, header) -> list[list]:
    return [[title], ["城市"] + header] + frame.astype(object).where(frame.notna(), None).values.tolist() + [
        [SYNTHETIC_NOTE]
    ]


def write(folder, *, seed: int = 0, n_units: int = 270) -> dict:
    """Write ``yearbook.xlsx`` (sheets 地区生产总值, 年末总人口, 说明) and GBK CSV exports of the two
    variable sheets into ``folder``; return their paths and the truth (long frame)."""
    from openpyxl import Workbook

    folder = Path(folder)
    gdp, pop, truth = frames(seed=seed, n_units=n_units)
    book = Workbook()
    ws = book.active
    ws.title = "地区生产总值"
    for row in _grid(f"{YEARS[0]}-{YEARS[-1]}年各市地区生产总值（万元，合成数据 synthetic）", gdp,
                     [f"{t}年" for t in YEARS]):
        ws.append(row)
    ws2 = book.create_sheet("年末总人口")
    for row in _grid("年末总人口（万人，合成数据 synthetic）", pop, list(YEARS)):
        ws2.append(row)
    ws3 = book.create_sheet("说明")
    ws3.append(["本工作簿的数值是合成数据（synthetic），由 tests/yearbook.py 生成。"])
    ws3.append(["缺失值记为 — 或 ..。"])
    paths = {"xlsx": folder / "yearbook_synthetic.xlsx"}
    book.save(paths["xlsx"])
    for key, frame, header in (("gdp_csv", gdp, [f"{t}年" for t in YEARS]), ("pop_csv", pop, [str(t) for t in YEARS])):
        name = "地区生产总值" if key == "gdp_csv" else "年末总人口"
        lines = [f"{name}（合成数据 synthetic）"]
        body = pd.DataFrame(frame.values, columns=["城市"] + header)
        lines.append(body.to_csv(index=False, lineterminator="\r\n").rstrip("\r\n"))
        lines.append(SYNTHETIC_NOTE)
        p = folder / f"{name}_synthetic.csv"
        p.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
        paths[key] = p
    paths["truth"] = truth
    return paths


#: the sheets of the held-out-like workbook that hold the two variables (the third is a decoy variable)
HELDOUT_SHEETS = ("GDP总量", "户籍人口")


def write_heldout(folder, *, seed: int = 7, n_units: int = 262) -> dict:
    """A second extract shaped differently from :func:`write`, to show the flow is not tuned to one file
    (values SYNTHETIC, same process as :func:`frames` with another seed, so another set of ~75 cities
    missing): a workbook whose variable sheets have other names (``GDP总量``, ``户籍人口``) beside a decoy
    variable sheet (``财政收入``, to be left out with ``--sheet``) and a 填表说明 sheet, two title rows
    (title, then a 单位 line) above each header, years written ``2005年`` (GDP) and ``2005年末``
    (population), missing marks ``…``, ``NA``, ``空``, ``-``; and Excel "Unicode text" exports of the two
    sheets (UTF-16 with BOM, tab-separated, a title row).  Returns the paths, the sheet names and the truth."""
    from openpyxl import Workbook

    folder = Path(folder)
    gdp, pop, truth = frames(seed=seed, n_units=n_units, marks=("…", "NA", "空", "-"))
    heads = {"GDP总量": [f"{t}年" for t in YEARS], "户籍人口": [f"{t}年末" for t in YEARS]}
    book = Workbook()
    first = True
    for sheet, frame, unit in (("GDP总量", gdp, "万元"), ("户籍人口", pop, "万人")):
        ws = book.active if first else book.create_sheet(sheet)
        ws.title = sheet
        first = False
        ws.append([f"各地级市{sheet}（合成数据 synthetic）"])
        ws.append([f"单位：{unit}"])
        for row in _grid("", frame, heads[sheet])[1:]:
            ws.append(row)
    decoy = book.create_sheet("财政收入")
    decoy.append(["城市"] + [f"{t}年" for t in YEARS])
    decoy.append(["北京市"] + ["不是本次要用的数据"] * len(YEARS))  # unreadable on purpose: --sheet must skip it
    notes = book.create_sheet("填表说明")
    notes.append(["数值为合成数据（synthetic），由 tests/yearbook.py write_heldout 生成。"])
    paths = {"xlsx": folder / "heldout_synthetic.xlsx", "sheets": HELDOUT_SHEETS}
    book.save(paths["xlsx"])
    for key, sheet, frame in (("gdp_txt", "GDP总量", gdp), ("pop_txt", "户籍人口", pop)):
        body = pd.DataFrame(frame.values, columns=["城市"] + heads[sheet])
        text = f"{sheet}（合成数据 synthetic）\r\n" + body.to_csv(index=False, sep="\t", lineterminator="\r\n")
        out = folder / f"{sheet}_unicode_synthetic.csv"
        out.write_bytes(text.encode("utf-16"))  # Excel's "Unicode text": UTF-16 LE with a BOM, tabs
        paths[key] = out
    paths["truth"] = truth
    return paths
