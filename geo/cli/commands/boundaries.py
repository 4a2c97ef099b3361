"""geo boundaries: write the embedded (or a user's) boundaries and report their coverage."""

import click

from geo.cli.options import boundaries_options, emit, json_option, out_option


@click.command(name="boundaries")
@boundaries_options
@click.option("--repair", is_flag=True, help="Repair invalid geometries of --boundaries with make_valid.")
@out_option(required=False, help="Write the units here; .gpkg, .parquet or .geojson (e.g. --out china.gpkg).")
@json_option
def command(boundaries_path, boundary_id, scope, repair, out_path, as_json):
    """Write the prefecture boundaries and report units, islands and components.

    Example: geo boundaries --out china.gpkg --json
    """
    from geo import boundaries
    from geo._io import write_frame

    units = boundaries.load(boundaries_path, boundary_id, scope=scope, repair=repair)
    report = boundaries.check_coverage(units)
    if out_path:
        write_frame(units, out_path)
    emit(report, as_json)
