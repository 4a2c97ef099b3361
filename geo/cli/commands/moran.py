"""geo moran: global Moran's I (and LISA with --local) of a variable; a series by year for a panel."""

import click

from geo.cli.options import (boundaries_options, data_options, emit, json_option, left_out, out_option, seed_option,
                             weights_option)
from geo.errors import OptionError, SchemaError


@click.command(name="moran")
@data_options
@click.option("--var", required=True, metavar="VAR", help="Column to test, e.g. --var gdp_pc.")
@click.option("--stat", "statistic", type=click.Choice(["moran", "geary", "g"]), default="moran", show_default=True,
              help="Global statistic: Moran's I, Geary's C or Getis-Ord General G.")
@click.option("--year", type=int, default=None,
              help="Year of a panel to use; without it a panel gives Moran's I for every year.")
@weights_option
@click.option("--transform", type=click.Choice(["r", "b", "v", "o"]), default="r", show_default=True,
              help="Weights transformation (r row-standardised).")
@click.option("--islands", default="link", show_default=True, metavar="POLICY",
              help="Units without neighbours: link (to the nearest unit), link:K, keep, drop, error.")
@click.option("--permutations", type=click.IntRange(min=0), default=999, show_default=True,
              help="Random permutations for the pseudo p-values (0: none).")
@seed_option
@click.option("--local", "local", is_flag=True, help="Also local Moran (LISA) per unit with cluster labels.")
@click.option("--adjust", type=click.Choice(["none", "fdr", "bonferroni"]), default="none", show_default=True,
              help="Multiple-testing adjustment of the local p-values.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
              show_default=True, help="Significance level for the LISA cluster labels.")
@out_option(required=False, help="With --local: write the per-unit results as a table "
           "(.parquet, .csv, .gpkg with geometry, .xlsx).")
@boundaries_options
@json_option
def command(data_path, id_col, var, statistic, year, weights_spec, transform, islands, permutations, seed, local, adjust,
            alpha, out_path, boundaries_path, boundary_id, scope, as_json):
    """Moran's I of VAR: I, E[I], variance, z and p under normality and randomisation, and a
    permutation pseudo p-value; with --local the LISA of every unit (Ii, z, p_sim, HH/LL/HL/LH/ns).

    Example: geo moran --data cities.csv --var gdp_pc --year 2019 --weights queen --seed 1 --local --json
    """
    from geo import autocorr as ac
    from geo import weights as gw
    from geo.layers import load_data, weights_for

    if out_path is not None and not local:
        raise OptionError(f"--out {out_path}: the per-unit table comes with --local")
    ud = load_data(data_path, id_col=id_col, boundaries=boundaries_path, boundary_id=boundary_id, scope=scope,
                   weights=weights_spec)
    gw.parse_spec(weights_spec)  # a bad spec fails before any work
    if ud.year_col is not None and year is None and len(ud.years) > 1:
        if local:
            raise OptionError(
                f"{data_path}: has years {ud.years[0]}-{ud.years[-1]}; --local needs one year (--year)"
            )
        ud._check_columns([var])
        # each year uses the units with a value that year; weights are built on them (islands per year)
        panel = ud.table.set_index(ud.id_name)[["year", var]]
        result = ac.moran_by_year(panel, var, weights=weights_spec, units=ud.units, statistic=statistic,
                                  permutations=permutations, seed=seed, transform=transform, islands=islands,
                                  data=ud.table.set_index(ud.id_name))
        used = set(ud.table.loc[ud.table[var].notna(), ud.id_name])
        extra, notes = left_out(ud.units, used)
        if any(result.left_out):
            notes.append("note: unbalanced panel: each year uses the units with a value that year (counts in the "
                         "table); the weights are rebuilt on them and the islands policy applied per year; nothing "
                         "is imputed")
        emit(result, as_json, extra=extra, notes=notes)
        return
    if ud.year_col is None and year is not None:
        raise OptionError(f"{data_path}: --year {year} given, but the data have no year column")
    if ud.year_col is not None and year is None:
        year = ud.years[0]
    gdf = ud.cross_section(year=year if ud.year_col else None)
    if var not in gdf.columns:
        cols = ", ".join(c for c in gdf.columns if c != "geometry")
        raise SchemaError(f"{data_path}: no column {var!r} (columns are: {cols})")
    if local and statistic != "moran":
        raise OptionError(f"--local gives the local Moran (LISA); it goes with --stat moran, not --stat {statistic}")
    # units whose value is missing this year are left out (and named), not imputed
    with_value = gdf[var].notna()
    gdf = gdf[with_value]
    graph = weights_for(gdf, weights_spec, data=gdf, transform=transform, islands=islands,
                        restrict=not bool(with_value.all()))
    func = {"moran": ac.moran, "geary": ac.geary, "g": ac.general_g}[statistic]
    result = func(gdf, var, weights=graph, permutations=permutations, seed=seed)
    extra, notes = left_out(ud.units, gdf.index)
    if not local:
        emit(result, as_json, extra=extra, notes=notes)
        return
    lisa = ac.local_moran(gdf, var, weights=graph, permutations=permutations, seed=seed, adjust=adjust, alpha=alpha)
    if out_path is not None:
        from geo._io import write_frame

        write_frame(lisa.to_frame(), out_path)
    emit(_WithLocal(result, lisa, year), as_json, extra=extra, notes=notes)


class _WithLocal:
    def __init__(self, global_result, lisa, year):
        self.g = global_result
        self.l = lisa
        self.year = year

    def to_json(self):
        lj = self.l.to_json()
        return self.g.to_json() | {
            "year": self.year,
            "local_convention": lj["convention"],
            "local_adjust": lj["adjust"],
            "local_alpha": lj["alpha"],
            "local_counts": lj["counts"],
            "local": [{k: r[k] for k in ("id", "Ii", "EIi", "VIi", "z", "p_norm", "p_sim", "p", "quadrant")} for r in lj["local"]],
        }

    def summary(self):
        return self.g.summary() + "\n" + self.l.summary()

