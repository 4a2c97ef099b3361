"""geo figure: plots for papers (event study, distance decay, impacts, Moran scatter) to PNG, SVG or PDF."""

import click

from geo.cli.commands.map import _check_year, _data_option, _load
from geo.cli.options import boundaries_options, emit, json_option, seed_option, weights_option


def _common(f):
    f = json_option(f)
    f = click.option("--out", "out_path", metavar="FILE", type=click.Path(dir_okay=False), required=True,
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

    from geo.errors import InputError

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


@command.command(name="event-study")
@click.option("--from", "source", metavar="RESULT.json", type=click.Path(dir_okay=False), required=True,
              help="A radiation result with an event study (geo radiation … --event-study --json).")
@_common
def event_study_cmd(source, out_path, dpi, size, title, lang, as_json):
    """Event-study coefficients by ring with confidence bands."""
    from geo.figures import plots

    _done(plots.event_study_plot(_read_json(source), lang=lang, title=title, size=size or "16x10cm"), out_path, dpi,
          as_json)


@command.command(name="decay")
@click.option("--from", "source", metavar="RESULT.json", type=click.Path(dir_okay=False), required=True,
              help="A radiation result (geo radiation … --json).")
@_common
def decay_cmd(source, out_path, dpi, size, title, lang, as_json):
    """The radiation effect by distance band with its interval."""
    from geo.figures import plots

    _done(plots.decay_plot(_read_json(source), lang=lang, title=title, size=size or "14x9cm"), out_path, dpi, as_json)


@command.command(name="impacts")
@click.option("--from", "source", metavar="RESULT.json", type=click.Path(dir_okay=False), required=True,
              help="A model with impacts (geo sdm … --json).")
@_common
def impacts_cmd(source, out_path, dpi, size, title, lang, as_json):
    """Direct, indirect and total impacts with intervals (dot-whisker)."""
    from geo.figures import plots

    _done(plots.impacts_plot(_read_json(source), lang=lang, title=title, size=size or "14x9cm"), out_path, dpi,
          as_json)


@command.command(name="moran-scatter")
@_data_option(required=True)
@boundaries_options
@click.option("--var", required=True, metavar="COL", help="The variable whose local Moran's I is computed.")
@click.option("--year", type=int, default=None, help="Year of a panel to use.")
@weights_option
@click.option("--permutations", type=int, default=999, show_default=True, help="Conditional permutations for p_sim.")
@seed_option
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")
@click.option("--correction", type=click.Choice(["none", "bonferroni", "fdr"]), default="none", show_default=True,
              help="Multiple-testing correction of the pseudo p-values.")
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
