"""Rebuild the zone registry, the G60 corridor and the prefecture crosswalk in ``layers/``.

Inputs are the project's verified reference tables (``../shared/reference/`` in the
steering checkout; pass another folder as the first argument).  Every confidence
flag is carried into the output columns; nothing unverified is promoted.

    .venv/bin/python layers/build_registry.py [REFERENCE_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def build(ref: Path) -> None:
    new = pd.read_csv(ref / "state_level_new_areas.csv", dtype=str)
    out = pd.DataFrame(
        {
            "zone_id": "NZ" + new["seq"].str.zfill(2),
            "name": new["name_zh"],
            "name_en": new["name_en"],
            "province": new["province"],
            "host_adcodes": new["host_prefecture_adcodes"],
            "host_names": new["host_prefecture_names"],
            "approval_date": new["approval_date"],
            "approval_doc": new["approval_doc"],
            "date_verified": new["date_verified"].str.startswith("yes").map({True: "yes", False: "no"}),
            "lon": new["centre_lon"],
            "lat": new["centre_lat"],
            "location_method": new["centre_method"],
            "coverage_of_units": new["zone_coverage_of_units"],
            "constituent_county_adcodes": new["constituent_county_adcodes"],
            "source": new["date_source"],
        }
    )
    out.to_csv(HERE / "state_level_new_areas.csv", index=False)

    ht = pd.read_csv(ref / "national_high_tech_zones.csv", dtype=str)
    ht = ht.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "zone_id": [f"HT{i + 1:03d}" for i in range(len(ht))],
            "name": ht["zone_name_zh"],
            "host_adcode": ht["host_prefecture_adcode"],
            "host_name": ht["host_prefecture_name"],
            "approval_year": ht["approval_year"].fillna(""),
            "year_status": ht["year_status"],
            "source": ht["source_or_note"],
        }
    )
    out.to_csv(HERE / "national_high_tech_zones.csv", index=False)

    g60 = pd.read_csv(ref / "g60_corridor_members.csv", dtype=str)
    g60 = g60[["member_zh", "member_en", "member_adcode", "host_prefecture_adcode", "joined_year", "verified", "source"]]
    # `order` is the order along the corridor line drawn through the members' centres: the G60 expressway
    # axis 松江-嘉兴-杭州-金华 and the western arm 松江-苏州-湖州-宣城-芜湖-合肥, as one polyline from 合肥 to 金华
    # (the sources list members by joining date, which would draw a long 金华-苏州 leg across Zhejiang).
    line = ["340100", "340200", "341800", "330500", "320500", "310117", "330400", "330100", "330700"]
    g60.insert(0, "order", g60["member_adcode"].map({code: i + 1 for i, code in enumerate(line)}))
    g60 = g60.sort_values("order")
    g60.to_csv(HERE / "g60_corridor.csv", index=False)

    ch = pd.read_csv(ref / "prefecture_changes_since_2000.csv", dtype=str)
    ch.to_csv(HERE / "prefecture_crosswalk.csv", index=False)
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.csv"))))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "reference")
