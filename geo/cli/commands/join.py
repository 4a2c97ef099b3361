"""geo join: match a city table onto the boundaries and print the match report."""

import click

from geo.cli.paths import InputPath
from geo.cli.options import boundaries_options, emit, json_option, out_option


@click.command(name="join")
@click.option("--data", "data_path", metavar="FILE", type=InputPath(), required=True, help="City table: CSV, Excel or Parquet.")
@click.option("--id", "id_col", metavar="COL", default=None, help="Match by codes in COL (6/9/12-digit adcodes).")
@click.option("--name", "name_col", metavar="COL", default=None, help="Match by Chinese names in COL (济南, 济南市…).")
@click.option("--year-col", metavar="COL", default=None, help="Year column of a long table (wide tables are reshaped).")
@boundaries_options
@click.option(
    "--merged",
    type=click.Choice(["drop", "aggregate", "keep"]),
    default="drop",
    show_default=True,
    help="Rows of units merged into another (莱芜 -> 济南): drop (listed), aggregate (sum numeric columns "
    "into the successor; right for totals only) or keep under the old code.",
)
@click.option("--strict", is_flag=True, help="Fail if any row is unmatched.")
@out_option(required=True, help="Joined output: .csv/.parquet (table) or .gpkg/.geojson (with geometry).")
@json_option
def command(data_path, id_col, name_col, year_col, boundaries_path, boundary_id, scope, merged, strict, out_path, as_json):
    """Join a city statistics table to the boundary units, by code or by name.

    Example: geo join --data gdp.csv --name city --year-col year --out joined.csv
    """
    from geo import boundaries, layers
    from geo._io import check_output_path, write_frame
    from geo.errors import SchemaError

    if (id_col is None) == (name_col is None):
        raise SchemaError("give exactly one of --id COL or --name COL")
    check_output_path(out_path)
    units = None if boundaries_path is None and scope == "prefecture-and-above" else boundaries.load(
        boundaries_path, boundary_id, scope=scope
    )
    result = layers.join(data_path, id=id_col, name=name_col, year=year_col, boundaries=units, strict=strict, merged=merged)
    frame = result.frame
    if str(out_path).lower().endswith((".gpkg", ".geojson", ".fgb")):
        frame = result.to_geodataframe(units if units is not None else boundaries.china())
    write_frame(frame.set_index(frame.columns[0]), out_path)
    emit(result, as_json)
