"""geo compare: one model under several weights and several forms, in one table (LR, AIC/BIC, posterior probabilities)."""

import click

from geo.cli.commands._model_input import model_input, split_list
from geo.cli.options import boundaries_options, data_options, emit, json_option, left_out, seed_option
from geo.errors import OptionError


@click.command(name="compare")
@data_options
@click.option("--y", "y", metavar="VAR", required=True, help="Dependent variable.")
@click.option("--x", "x", metavar="VAR", multiple=True, required=True,
              help="Regressors: repeat the option or separate with commas.")
@click.option("--time", "time_col", metavar="COL", default=None, help="Period column: compares fixed-effects panels.")
@click.option("--effects", type=click.Choice(["individual", "time", "twoways"]), default="twoways",
              show_default=True, help="Fixed effects of a panel.")
@click.option("--weights", "weights_specs", metavar="SPEC,SPEC,…", multiple=True, default=("queen",),
              show_default=True,
              help="Weights to compare, comma-separated or repeated: e.g. queen,knn:6,distance:200km,idw:2:500km,"
              "economic:gdp_pc, or weights files.")
@click.option("--model", "models", metavar="FORM,FORM,…", multiple=True, default=("sdm", "sar", "sem"),
              show_default=True,
              help="Model forms: sdm, sar, sem, sdem, slx, ols, sac, gns (panels: sdm, sar, sem).")
@click.option("--transform", type=click.Choice(["r", "b", "v", "o"]), default="r", show_default=True,
              help="Weights transformation (r row-standardised).")
@click.option("--islands", default="link", show_default=True, metavar="POLICY",
              help="Units without neighbours: link, link:K, keep, drop, error.")
@click.option("--balance", type=click.Choice(["error", "drop"]), default="error", show_default=True,
              help="Unbalanced panels: error (name the gaps) or drop (keep the units observed in every period).")
@click.option("--logdet", type=click.Choice(["auto", "eigen", "lu", "chebyshev", "mc"]), default="auto",
              show_default=True, help="log|I - rho W| method.")
@click.option("--draws", type=click.IntRange(min=0), default=0, show_default=True,
              help="Simulation draws for the impacts' inference (0: point estimates).")
@seed_option
@boundaries_options
@json_option
def command(data_path, id_col, y, x, time_col, effects, weights_specs, models, transform, islands, balance, logdet,
            draws, seed, boundaries_path, boundary_id, scope, as_json):
    """Fit one model under several weights and forms: log-likelihood, AIC/BIC, LR tests between nested forms,
    Bayesian posterior model probabilities (LeSage & Pace log-marginal likelihoods) and impacts side by side.

    Example: geo compare --data panel.csv --y log_gdp_pc --x log_inv --time year --weights queen,knn:6 --model sdm,sar,sem
    """
    from geo import weights as gw
    from geo.durbin.compare import compare
    from geo.layers import load_data, weights_for

    xs, specs, forms = split_list(x), split_list(weights_specs), split_list(models)
    if not xs:
        raise OptionError("--x: give at least one regressor")
    if len(set(specs)) != len(specs):
        raise OptionError(f"--weights lists a spec twice: {specs}")
    for spec in specs:
        gw.parse_spec(spec)  # a bad spec fails before any work
    files = [spec for spec in specs if gw.is_file_spec(spec)]
    ud = load_data(data_path, id_col=id_col, year_col=time_col, boundaries=boundaries_path,
                   boundary_id=boundary_id, scope=scope, weights=files[0] if files else None)
    mi = model_input(ud, [y] + xs, time_col=time_col, balance=balance, data_path=data_path)
    graphs = {spec: weights_for(mi.units, spec, data=mi.weights_data, transform=transform, islands=islands)
              for spec in specs}
    kw = dict(id=ud.id_name, time=ud.year_col, effects=effects) if time_col is not None else {}
    result = compare(mi.frame, y, xs, weights=graphs, models=forms, logdet=logdet, draws=draws, seed=seed, **kw)
    extra, notes = left_out(ud.units, mi.used)
    if mi.balance is not None:
        extra["balance"] = mi.balance.to_json()
        if mi.balance.note():
            notes.append(f"note: {mi.balance.note()}")
    emit(result, as_json, extra=extra, notes=notes)
