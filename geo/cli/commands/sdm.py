"""geo sdm: spatial Durbin-family models (cross-section or fixed-effects panel) with impacts and tests."""

import click

from geo.cli.commands._model_input import model_input, split_list
from geo.cli.options import boundaries_options, data_options, emit, json_option, left_out, seed_option, weights_option
from geo.cli.paths import OutputPath
from geo.errors import OptionError


@click.command(name="sdm")
@data_options
@click.option("--y", "y", metavar="VAR", required=True, help="Dependent variable, e.g. log_gdp_pc.")
@click.option(
    "--x",
    "x",
    metavar="VAR",
    multiple=True,
    required=True,
    help="Regressors: repeat the option or separate with commas (--x inv --x pop, or --x inv,pop). "
    "An intercept is added; it is never lagged.",
)
@click.option("--time", "time_col", metavar="COL", default=None, help="Period column: fits a fixed-effects panel.")
@click.option(
    "--effects",
    type=click.Choice(["none", "individual", "time", "twoways", "random"]),
    default=None,
    help="Fixed effects of a panel (default twoways with --time, none without), or random (SAR/SDM/SEM, with a "
    "Hausman test against fixed effects).",
)
@click.option(
    "--bias-correction",
    type=click.Choice(["lee-yu", "none"]),
    default="lee-yu",
    show_default=True,
    help="Two-way panels: Lee & Yu (2010) transformation, or none (Elhorst's direct approach).",
)
@click.option(
    "--model",
    type=click.Choice(["sdm", "sar", "sem", "slx", "sdem", "ols", "sac", "gns"]),
    default="sdm",
    show_default=True,
    help="sdm: y = rho Wy + Xb + WXt; sar; sem; slx (OLS with WX); sdem (error with WX); "
    "ols (with LM-lag/LM-error/robust/SARMA diagnostics); sac (lag + error) and gns (sac with WX), "
    "cross-section only.",
)
@weights_option
@click.option("--transform", type=click.Choice(["r", "b", "v", "o"]), default="r", show_default=True,
              help="Weights transformation (r row-standardised).")
@click.option("--islands", default="link", show_default=True, metavar="POLICY",
              help="Units without neighbours: link (to the nearest unit), link:K, keep, drop, error.")
@click.option("--dynamic", is_flag=True,
              help="Panels: dynamic spatial Durbin (or lag) model with y_t-1 and W y_t-1, bias-corrected QML, "
              "short- and long-run impacts.")
@click.option("--balance", type=click.Choice(["error", "drop", "ml"]), default="error", show_default=True,
              help="Unbalanced panels: error (name the gaps), drop (keep the units observed in every period), or ml "
              "(SAR/SDM: exact ML on the observed outcomes, missing at random; regressors needed everywhere).")
@boundaries_options
@click.option(
    "--logdet",
    type=click.Choice(["auto", "eigen", "lu", "chebyshev", "mc"]),
    default="auto",
    show_default=True,
    help="log|I - rho W|: auto = eigenvalues up to 1,500 units, sparse LU up to 300,000, Chebyshev beyond.",
)
@click.option("--draws", type=int, default=1000, show_default=True, help="Simulation draws for the impacts' inference.")
@seed_option
@click.option("--order", "impacts_order", type=int, default=5, show_default=True,
              help="Decompose impacts by neighbour order up to W^ORDER (cross-section).")
@click.option("--latex", "latex_path", metavar="FILE", type=OutputPath(), default=None, help="Also write a LaTeX table to FILE.")
@click.option("--html", "html_path", metavar="FILE", type=OutputPath(), default=None, help="Also write an HTML table to FILE.")
@json_option
def command(data_path, id_col, y, x, time_col, effects, bias_correction, model, weights_spec, transform, islands,
            dynamic, balance, boundaries_path, boundary_id, scope, logdet, draws, seed, impacts_order, latex_path, html_path,
            as_json):
    """Fit a spatial Durbin model (or SAR/SEM/SLX/SDEM) and report direct, indirect and total impacts.

    --data is a vector file with geometry (the weights are built from it) or a table whose --id values
    match the boundaries (embedded prefectures, or --boundaries FILE --boundary-id COL) or a weights file.

    Example: geo sdm --data cities.csv --id adcode --y log_gdp_pc --x log_inv,log_pop --weights queen --seed 1
    """
    from geo._io import write_text
    from geo.durbin import fit
    from geo.layers import load_data, weights_for

    xs = split_list(x)
    if not xs:
        raise OptionError("--x: give at least one regressor")
    if draws < 0:
        raise OptionError(f"--draws={draws} must be >= 0")
    ud = load_data(data_path, id_col=id_col, year_col=time_col, boundaries=boundaries_path,
                   boundary_id=boundary_id, scope=scope, weights=weights_spec)
    columns = [y] + xs
    if time_col is None and effects not in (None, "none"):
        raise OptionError(f"--effects {effects} needs a panel: give --time COL")
    if time_col is None and dynamic:
        raise OptionError("--dynamic needs a panel: give --time COL")
    mi = model_input(ud, columns, time_col=time_col, balance=balance, data_path=data_path)
    graph = weights_for(mi.units, weights_spec, data=mi.weights_data, transform=transform, islands=islands)
    if time_col is not None:
        result = fit(
            mi.frame, y, xs, weights=graph, model=model, effects=effects or "twoways",
            id=ud.id_name, time=ud.year_col, bias_correction=bias_correction, logdet=logdet, draws=draws, seed=seed,
            impacts_order=impacts_order, dynamic=dynamic,
        )
    else:
        result = fit(mi.frame, y, xs, weights=graph, model=model, draws=draws, seed=seed, logdet=logdet,
                     impacts_order=impacts_order)
    used = mi.used
    extra = {} if mi.balance is None else {"balance": mi.balance.to_json()}
    balance_note = None if mi.balance is None else mi.balance.note()
    if latex_path:
        write_text(latex_path, result.to_latex())
    if html_path:
        write_text(html_path, result.to_html())
    left, notes = left_out(ud.units, used)
    if balance_note:
        notes.append(f"note: {balance_note}")
    emit(result, as_json, extra={**left, **extra, "weights": weights_spec}, notes=notes)
