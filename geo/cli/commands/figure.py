"""geo figure: plots for papers (event study, distance decay, impacts, Moran scatter) to PNG, SVG or PDF."""

import click

from geo.cli.commands.map import _check_year, _data_option, _load, lisa_options
from geo.cli.options import boundaries_options, emit, json_option
from geo.cli.paths import InputPath, OutputPath
from geo.errors import InputError


def _common(f):
    f = json_option(f)
    f = click.option("--out", "out_path", metavar="FILE", type=OutputPath(), required=True,
                     help="The figure: .png, .svg or .pdf.")(f)
    f = click.option("--dpi", type=int, default=300, show_default=True, help="Resolution (PNG).")(f)
    f = click.option("--size", default=None, help="WIDTHxHEIGHT in cm, mm or in (e.g. 16x10cm).")(f)
    f = click.option("--title", default=None, help="Figure title.")(f)
    f = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
                     help="Language of the labels the figure writes.")(f)
    return f


def _read_json(path):
    import json
    from pathlib import Path

    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not a JSON result ({exc})") from None


def _done(plot, out_path, dpi, as_json):
    plot.save(out_path, dpi=dpi)
    emit(plot, as_json, extra={"out": str(out_path)}, notes=[f"  written: {out_path}"])


@click.group(name="figure")
def command():
    """Plots for papers from saved results (--json output of geo radiation, geo sdm) to PNG/SVG/PDF.

    Example: geo radiation … --event-study --json > rad.json; geo figure event-study --from rad.json --out es.pdf
    """


def _from_json(name: str, builder: str, default_size: str, source_help: str, doc: str):
    """A subcommand drawing ``geo.figures.plots.<builder>`` from one saved JSON result."""

    @command.command(name=name, help=doc)
    @click.option("--from", "source", metavar="RESULT.json", type=InputPath(), required=True,
                  help=source_help)
    @_common
    def run(source, out_path, dpi, size, title, lang, as_json):
        from pathlib import Path

        from geo.figures import plots

        if Path(source).resolve() == Path(out_path).resolve():
            raise InputError(f"{out_path}: the output is the --from input; choose another file")

        plot = getattr(plots, builder)(_read_json(source), lang=lang, title=title, size=size or default_size)
        _done(plot, out_path, dpi, as_json)

    return run


_from_json("event-study", "event_study_plot", "16x10cm",
           "A radiation result with an event study (geo radiation … --event-study --json).",
           "Event-study coefficients by ring with confidence bands.")
_from_json("decay", "decay_plot", "14x9cm", "A radiation result (geo radiation … --json).",
           "The radiation effect by distance band with its interval.")
_from_json("impacts", "impacts_plot", "14x9cm", "A model with impacts (geo sdm … --json).",
           "Direct, indirect and total impacts with intervals (dot-whisker).")


@command.command(name="moran-scatter")
@_data_option(required=True)
@boundaries_options
@click.option("--var", required=True, metavar="COL", help="The variable whose local Moran's I is computed.")
@click.option("--year", type=int, default=None, help="Year of a panel to use.")
@lisa_options
@_common
def moran_cmd(data_path, id_col, boundaries_path, boundary_id, scope, var, year, weights_spec, permutations, seed,
              alpha, correction, out_path, dpi, size, title, lang, as_json):
    """Standardised values against their spatial lag, coloured by LISA cluster, with the Moran's I slope.

    Example: geo figure moran-scatter --data layers/demo_panel_synthetic.csv --var log_gdp_pc_synthetic
    --year 2023 --seed 1 --out moran.pdf
    """
    from geo.autocorr import local_moran
    from geo.figures import plots

    ud, _units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    _check_year(ud, year)
    cs = ud.cross_section(year, columns=[var])
    lisa = local_moran(cs, var, weights=weights_spec, permutations=permutations, seed=seed, adjust=correction,
                       alpha=alpha)
    _done(plots.moran_scatter(lisa, alpha=alpha, correction=correction, lang=lang, title=title,
                              size=size or "12x12cm"), out_path, dpi, as_json)
