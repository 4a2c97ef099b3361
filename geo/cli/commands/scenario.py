"""geo scenario: the predicted effect of a hypothetical new zone (or corridor) on every city."""

import click

from geo.cli.commands.radiation import load_inputs, load_target, panel_options, split_controls, zone_options
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


@click.command(name="scenario")
@data_options
@panel_options
@boundaries_options
@zone_options
@click.option("--host", metavar="CITY", default=None, help="Host city of the new zone: adcode or name (郑州, 郑州市, Zhengzhou).")
@click.option("--at", "at", metavar="LON,LAT", default=None, help="Location of the new zone in degrees, lon first (in --zone-crs: WGS-84 by default, or GCJ-02/BD-09).")
@click.option(
    "--new-corridor",
    metavar="CITY,CITY,…",
    default=None,
    help="Instead of a zone: a new corridor through these cities (band model only).",
)
@click.option("--year", type=int, required=True, help="Start year of the new zone.")
@click.option(
    "--model",
    type=click.Choice(["bands", "rings", "sdm"]),
    default="bands",
    show_default=True,
    help="bands: the distance-band DID; rings: the spatial DID that sees rings (D, W D and the ring exposures "
    "of the nearest approved zone each year, W from --spatial-weights); sdm: the queen panel SDM with D and WD "
    "(static geography, --weights).",
)
@click.option("--spatial-weights", default="idw:1:300km", show_default=True, metavar="SPEC",
              help="W of --model rings (inverse distance within 300 km, row-standardised).")
@click.option("--estimator", type=click.Choice(["imputation", "stacked", "twfe"]), default="imputation",
              show_default=True, help="Band-DID estimator of the band model (see geo radiation).")
@click.option("--exposure", type=click.Choice(["nearest", "static"]), default="nearest", show_default=True,
              help="Band model: rings of the nearest zone already approved each year, or the old static rule.")
@click.option("--draws", type=int, default=1000, show_default=True,
              help="Simulation draws from the ML covariance for the rings/sdm intervals.")
@click.option("--top", type=int, default=10, show_default=True, help="Gainers and losers listed in the text output.")
@weights_option
@seed_option
@out_option(required=False, help="Write every unit's predicted change (.csv, .gpkg, …).")
@json_option
def command(
    data_path, id_col, y, time_col, controls, boundaries_path, boundary_id, scope, zones_path, zone_kind, zone_crs,
    bands, corridor_cities, corridor_year, corridor_file, assign, host, at, new_corridor, year, model,
    spatial_weights, estimator, exposure, draws, top, weights_spec, seed, out_path, as_json,
):
    """What would a new zone here do to the cities around it?

    The model (band-DID or spatial DID) is fitted on --data and the zones,
    then applied to a zone placed at --host CITY or --at LON,LAT from --year.

    Example: geo scenario --data layers/demo_panel_synthetic.csv --y log_gdp_pc_synthetic
    --host 郑州 --year 2025 --bands 100,200,300 --json
    """
    from geo import radiation, scenario
    from geo.errors import OptionError

    controls = split_controls(controls)
    n_where = sum(v is not None for v in (host, at, new_corridor))
    if n_where != 1:
        raise OptionError("give exactly one of --host CITY, --at LON,LAT or --new-corridor CITY,CITY,…")
    point = None
    if at is not None:
        try:
            point = tuple(float(v) for v in at.split(","))
            assert len(point) == 2
        except (ValueError, AssertionError):
            raise OptionError(f"--at {at!r}: give LON,LAT in degrees, e.g. --at 113.62,34.75") from None
        from geo.coords import to_wgs84

        lon, lat = to_wgs84([point[0]], [point[1]], zone_crs)  # --zone-crs applies to --at too (issue 11)
        point = (float(lon[0]), float(lat[0]))
    if draws < 1:
        raise OptionError(f"--draws {draws}: must be at least 1")
    edges = radiation.parse_bands(bands)
    ud, units, panel = load_inputs(
        data_path, id_col, time_col, y, controls, boundaries_path, boundary_id, scope, weights_spec,
        balanced=model != "rings",  # the rings model takes unbalanced panels (exact ML on the observed cells)
    )
    zones, cor = load_target(units, zones_path, zone_kind, zone_crs, corridor_cities, corridor_file, corridor_year)
    if model == "rings" and exposure == "static":
        raise OptionError("--model rings needs the time-varying exposure (--exposure nearest)")
    if exposure == "static" or model == "sdm":
        asg = treat = radiation.assign_bands(units, zones=zones, corridor=cor, bands=edges, assign=assign)
    else:
        treat = radiation.exposure(units, years=sorted(panel["year"].unique()), zones=zones, corridor=cor,
                                   bands=edges, assign=assign)
        asg = treat.assignment
    if model == "bands":
        fit = radiation.band_did(panel, y, treat, id=ud.id_name, time="year", controls=controls, estimator=estimator)
    elif model == "rings":
        fit = radiation.ring_spatial_did(panel, y, treat, units=units, weights=spatial_weights, id=ud.id_name,
                                         time="year", controls=controls, draws=max(draws, 2), seed=seed)
    else:
        fit = radiation.spatial_did(
            panel, y, asg, units=units, weights=weights_spec, id=ud.id_name, time="year", controls=controls,
            draws=0, seed=seed,
        )
    if new_corridor is not None:
        result = scenario.new_corridor(fit, new_corridor, year=year, units=units)
    else:
        result = scenario.new_zone(fit, host=host, at=point, year=year, units=units, draws=draws, seed=seed)
    if out_path:
        from geo._io import write_frame

        frame = result.to_frame()
        if str(out_path).lower().endswith((".gpkg", ".geojson", ".parquet", ".fgb")):
            import geopandas as gpd

            frame = gpd.GeoDataFrame(frame, geometry=units.geometry.reindex(frame.index), crs=units.crs)
        if ud.synthetic:  # results computed from synthetic data stay labelled as such
            frame = frame.assign(synthetic=True)
        write_frame(frame, out_path)
    extra, notes = left_out(ud.units, units.index)
    if as_json:
        emit(result, True, extra=extra)
    else:
        click.echo(("NOTE: the data are SYNTHETIC (demo panel), not real statistics\n" if ud.synthetic else "")
                   + result.summary(top) + "".join("\n" + n for n in notes))
