"""geo radiation: distance bands around zones or a corridor, band-DID, event study and spatial DID."""

import click

from geo.cli.paths import InputPath
from geo.cli.options import (
    boundaries_options,
    data_options,
    emit,
    json_option,
    left_out,
    out_option,
    seed_option,
    weights_option,
)


def zone_options(f):
    """--zones / --zone-kind / --zone-crs / --bands / --corridor / --corridor-file / --assign (shared with scenario)."""
    f = click.option(
        "--assign",
        type=click.Choice(["centroid", "area"]),
        default="centroid",
        show_default=True,
        help="Band of each unit: by its centroid's distance, or the band holding the largest share of its area.",
    )(f)
    f = click.option(
        "--corridor-file",
        metavar="FILE",
        type=InputPath(),
        default=None,
        help="Corridor nodes in order: a table with lon/lat (and optional name, adcode, year) or adcode/name columns.",
    )(f)
    f = click.option(
        "--corridor-year",
        type=int,
        default=None,
        help="Start year of a --corridor / --corridor-file without joining years (G60 has its own).",
    )(f)
    f = click.option(
        "--corridor",
        "corridor_cities",
        metavar="CITY,CITY,…",
        default=None,
        help="A corridor through these cities' centres, in order (names or adcodes), or G60 for the G60 corridor.",
    )(f)
    f = click.option(
        "--bands",
        default="50,100,200,300",
        show_default=True,
        help="Band edges in km, e.g. 50,100,200.",
    )(f)
    f = click.option(
        "--zone-crs",
        type=click.Choice(["wgs84", "gcj02", "bd09"]),
        default="wgs84",
        show_default=True,
        help="Coordinate system of lon/lat in --zones.",
    )(f)
    f = click.option(
        "--zone-kind",
        metavar="KIND[,KIND]",
        default=None,
        help="Use the built-in registry: new-zone (state-level new zones, the default), high-tech (national "
        "high-tech zones), or both as separate treatments: new-zone,high-tech.",
    )(f)
    f = click.option(
        "--zones",
        "zones_path",
        metavar="FILE",
        type=InputPath(),
        default=None,
        help="Your zones: a table (name, approval_date, lon/lat and/or host_adcode) or a vector file.",
    )(f)
    return f


def panel_options(f):
    f = click.option(
        "--controls",
        metavar="VAR",
        multiple=True,
        help="Control variables (repeat, or separate with commas): --controls invest --controls density.",
    )(f)
    f = click.option("--time", "time_col", metavar="COL", default=None, help="Year column of --data (default 'year').")(f)
    f = click.option("--y", "y", metavar="VAR", required=True, help="Outcome column, e.g. log_gdp_pc.")(f)
    return f


def split_controls(controls) -> list[str]:
    out = []
    for c in controls or ():
        out += [p.strip() for p in str(c).split(",") if p.strip()]
    return out


def load_inputs(data_path, id_col, time_col, y, controls, boundaries_path, boundary_id, scope, weights_spec=None,
                *, balanced=True):
    """(UnitData, units restricted to the data, long panel DataFrame with id/year columns).

    ``balanced=False``: unit-years with an empty outcome or control are left out (an unbalanced panel;
    the frame's ``attrs["left_out"]`` counts them) instead of being an error."""
    from geo.layers import load_data

    ud = load_data(
        data_path, id_col=id_col, year_col=time_col, boundaries=boundaries_path, boundary_id=boundary_id, scope=scope
    )
    columns = [y] + [c for c in controls if c != y]
    spec = str(weights_spec or "")
    if spec.lower().startswith("economic:"):  # economic weights need their indicator
        var = spec.split(":")[1]
        if var and var not in columns:
            columns.append(var)
    units, panel = ud.panel(columns, balanced=balanced)
    left = panel.attrs.get("left_out", 0)
    panel = panel.reset_index()
    panel.attrs["left_out"] = left
    return ud, units, panel


def load_target(units, zones_path, zone_kind, zone_crs, corridor_cities, corridor_file, corridor_year=None):
    """(zones, corridor): exactly one is not None."""
    from geo import radiation, zones
    from geo.errors import OptionError

    given = [x is not None for x in (zones_path, zone_kind, corridor_cities, corridor_file)]
    if sum(given) > 1:
        raise OptionError("give only one of --zones, --zone-kind, --corridor, --corridor-file")
    if corridor_cities is not None:
        if corridor_cities.strip().upper() == "G60":
            return None, radiation.corridor(None, units=units, year=corridor_year)
        cor = radiation.corridor(corridor_cities, units=units, year=corridor_year)
        return None, _check_years(cor, "--corridor")
    if corridor_file is not None:
        from geo._io import read_table

        cor = radiation.corridor(read_table(corridor_file), units=units, year=corridor_year)
        return None, _check_years(cor, f"{corridor_file}")
    if zones_path is not None:
        return zones.from_file(zones_path, crs=zone_crs, units=units), None
    kinds = parse_kinds(zone_kind) or ("new-zone",)
    if len(kinds) == 1:
        return zones.registry(kind=kinds[0]), None
    z = zones.registry()
    return z[z["kind"].isin(kinds)].reset_index(drop=True), None


def parse_kinds(zone_kind) -> tuple:
    """``"new-zone,high-tech"`` -> ("new-zone", "high-tech"), each checked against the registry's kinds."""
    from geo.errors import check_choice
    from geo.zones import KINDS

    if zone_kind is None:
        return ()
    kinds = tuple(dict.fromkeys(k.strip() for k in str(zone_kind).replace("，", ",").split(",") if k.strip()))
    for k in kinds:
        check_choice("--zone-kind", k, KINDS)
    return kinds


def treatment_kinds(zone_kind, zones) -> tuple:
    """Kinds to treat separately: several --zone-kind values, or the distinct values of a zone file's kind column."""
    kinds = parse_kinds(zone_kind)
    if len(kinds) > 1:
        return kinds
    if zones is not None and zone_kind is None and "kind" in zones.columns:
        distinct = tuple(dict.fromkeys(zones["kind"].astype(str).str.strip()))
        if len(distinct) > 1:
            return distinct
    return ()


def _check_years(cor, what):
    from geo.errors import OptionError

    if cor.members["year"].isna().all():
        raise OptionError(f"{what}: the corridor has no start year; give --corridor-year Y (or a year column)")
    return cor


@click.command(name="radiation")
@data_options
@panel_options
@boundaries_options
@zone_options
@click.option(
    "--estimator",
    type=click.Choice(["imputation", "cs", "stacked", "twfe"]),
    default="imputation",
    show_default=True,
    help="imputation: BJS/Gardner two-stage with rings (robust to heterogeneous and dynamic effects); cs: "
    "Callaway-Sant'Anna ATT(g,t) per ring held in year t (--control-group; --controls by outcome regression on "
    "their base-year values; not with count exposure); stacked: "
    "stacked DID with clean controls; twfe: classic two-way fixed effects (biased under dynamic effects).",
)
@click.option(
    "--exposure",
    type=click.Choice(["nearest", "count", "static"]),
    default="nearest",
    show_default=True,
    help="nearest: each unit-year's ring from the nearest zone already approved; count: approved zones per ring; "
    "static: one band and year per unit from the nearest zone (the old rule).",
)
@click.option(
    "--inference",
    default=None,
    metavar="cluster|wild|ri|conley[:KM]",
    help="Default wild. wild: restricted wild cluster bootstrap (Webb weights, "
    "--draws, --seed; seed 0 when not given); "
    "cluster: clustered by unit, t(G-1) (over-covers less than nominal with few zones); ri: randomization "
    "inference over placebo zones (--placebo); conley:KM: spatial HAC with a KM cutoff (default 200).",
)
@click.option("--draws", type=int, default=999, show_default=True,
              help="Bootstrap draws (wild) or placebo draws (ri).")
@click.option("--placebo", type=click.Choice(["zones", "years"]), default="zones", show_default=True,
              help="Randomization inference: move the zones to random cities, or permute their approval years.")
@click.option("--control-group", type=click.Choice(["notyet", "never"]), default="notyet", show_default=True,
              help="--estimator cs: compare with never or not-yet exposed units (notyet), or never exposed only.")
@click.option("--event-study", is_flag=True, help="Also fit the event study (leads and lags) to check pre-trends.")
@click.option("--window", default="5,5", show_default=True, help="Event-study/stacked window: years before,after.")
@click.option(
    "--spatial", is_flag=True, help="Also fit a spatial DID (see --spatial-model).",
)
@click.option(
    "--spatial-model", type=click.Choice(["rings", "queen"]), default="rings", show_default=True,
    help="rings: spatial Durbin panel in the zone dummy D, W D and the ring exposures (W from --spatial-weights; "
    "unbalanced panels by exact ML on the observed cells); queen: panel SDM "
    "with D = host x post and WD on --weights, static geography.",
)
@click.option("--spatial-weights", default="idw:1:300km", show_default=True, metavar="SPEC",
              help="W of the rings spatial DID (inverse distance within 300 km, row-standardised).")
@click.option(
    "--reach", "reach_rule", type=click.Choice(["rings", "curve", "cv"]), default="rings", show_default=True,
    help="Rule behind reach_km. rings: last ring of --bands, from the nearest, whose interval excludes zero; "
    "curve: distance curve of narrow rings (--reach-step to --reach-max) read through its uniform band; "
    "cv: Clarke's (2017) cross-validated reach (bin widths --reach-step, 2x, ... up to --reach-max; "
    "--reach-folds folds by unit).",
)
@click.option("--reach-step", type=float, default=50.0, show_default=True, metavar="KM",
              help="Ring width of the distance curve; smallest bin width of the CV grid.")
@click.option("--reach-max", type=float, default=None, metavar="KM",
              help="Farthest distance of the curve and the CV grid (default: the last --bands edge).")
@click.option("--reach-folds", type=int, default=10, show_default=True, metavar="K",
              help="Folds (of units) of the cross-validated reach.")
@weights_option
@seed_option
@out_option(required=False, help="Write each unit's band, nearest zone, distance and treatment year (.csv, .gpkg, …).")
@json_option
def command(
    data_path, id_col, y, time_col, controls, boundaries_path, boundary_id, scope, zones_path, zone_kind, zone_crs,
    bands, corridor_cities, corridor_year, corridor_file, assign, estimator, exposure, inference, draws, placebo,
    control_group, event_study, window, spatial, spatial_model, spatial_weights, reach_rule, reach_step, reach_max,
    reach_folds, weights_spec, seed, out_path, as_json,
):
    """How far does a zone's effect reach? Distance-band DID around zones or a corridor.

    Each unit-year is a host (from its first zone's approval), in the ring of
    the nearest zone already approved, or unexposed; the imputation estimator
    fits unit and year effects on unexposed unit-years and averages the
    imputed effects per group (host first, then the rings).

    Example: geo radiation --data layers/demo_panel_synthetic.csv --y log_gdp_pc_synthetic
    --bands 100,200,300 --event-study --json
    """
    from geo import radiation
    from geo.errors import OptionError

    if inference is not None:
        radiation.parse_inference(inference)
    if draws < 19:
        raise OptionError(f"--draws {draws}: give at least 19 (999 for published p-values)")
    controls = split_controls(controls)
    try:
        win = tuple(int(v) for v in window.split(","))
        if len(win) != 2:
            raise ValueError
    except ValueError:
        raise OptionError(f"--window {window!r}: give years before,after, e.g. 5,5") from None
    edges = radiation.parse_bands(bands)
    if reach_rule != "rings":  # bad reach options fail before the data are read
        radiation.ring_edges(reach_step, edges[-1] if reach_max is None else reach_max)
    # the band-DID takes unbalanced panels: unit-years without the outcome or a control are left out (counted
    # below), nothing is imputed; units and years used are in the result's sample
    ud, units, panel = load_inputs(
        data_path, id_col, time_col, y, controls, boundaries_path, boundary_id, scope, weights_spec, balanced=False
    )
    # zones are placed on every boundary unit: a zone whose host has no data still counts for distances and bands
    zones, cor = load_target(ud.units, zones_path, zone_kind, zone_crs, corridor_cities, corridor_file,
                             corridor_year)
    from geo.cli.options import progress

    with progress(disable=as_json or reach_rule != "cv") as bar:
        task = bar.add_task("cross-validated reach", total=None)
        result = radiation.analyse(
            panel, y, units=units, zones=zones, corridor=cor, bands=edges, assign=assign, controls=controls,
            id=ud.id_name, time="year", estimator=estimator, exposure=exposure,
            kinds=treatment_kinds(zone_kind, zones), inference=inference, draws=draws, placebo=placebo,
            event=event_study, spatial=spatial, spatial_model=spatial_model, spatial_weights=spatial_weights,
            weights=weights_spec, window=win, seed=seed, synthetic=ud.synthetic, reach=reach_rule,
            reach_step_km=reach_step, reach_max_km=reach_max, reach_folds=reach_folds, control_group=control_group,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if out_path:
        import numpy as np

        from geo._io import write_frame

        frame = result.assignment.to_frame()
        if "upper_km" in frame.columns:  # the open outer band has no upper bound: an empty cell, never inf
            frame["upper_km"] = frame["upper_km"].where(np.isfinite(frame["upper_km"].astype(float)))
        if str(out_path).lower().endswith((".gpkg", ".geojson", ".parquet", ".fgb")):
            import geopandas as gpd

            frame = gpd.GeoDataFrame(frame, geometry=units.geometry.reindex(frame.index), crs=units.crs)
        write_frame(frame, out_path)
    extra, notes = left_out(ud.units, units.index, weights=bool(spatial))
    if panel.attrs["left_out"]:
        notes.append(f"note: unbalanced panel: {panel.attrs['left_out']} unit-years without {y}"
                     f"{' or a control' if controls else ''} left out (nothing imputed); {len(panel)} unit-years of "
                     f"{panel[ud.id_name].nunique()} units have them (the sample used is in the result)")
    extra["unit_years_left_out"] = int(panel.attrs["left_out"])
    emit(result, as_json, extra=extra, notes=notes)
