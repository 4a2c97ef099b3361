"""geo join: match one or several city tables onto the boundaries and print the match report."""

import click

from geo.cli.options import boundaries_options, emit, json_option, many_values_option, out_option, split_values
from geo.cli.paths import InputPath
from geo.errors import OptionError, SchemaError


@click.command(name="join")
@many_values_option("--data", "data_paths", metavar="FILE", type=InputPath(), required=True,
              help="City table: CSV/TSV (any encoding), Excel (every sheet), Stata .dta or Parquet; several "
              "(--data A B, or --data A --data B) are merged into one panel on (unit, year).")
@click.option("--id", "id_col", metavar="COL", default=None, help="Match by codes in COL (6/9/12-digit adcodes).")
@click.option("--name", "name_col", metavar="COL", default=None, help="Match by Chinese names in COL (济南, 济南市…).")
@click.option("--year-col", metavar="COL", default=None, help="Year column of a long table (wide tables are reshaped).")
@click.option("--wide", "shape", flag_value="wide", help="Reshape the year columns (2005, 2005年, gdp_2005…) to rows.")
@click.option("--long", "shape", flag_value="long", help="Never reshape: read the columns as they are.")
@click.option("--value-name", metavar="NAME", default=None,
              help="Name of the variable in year columns without one (default: the sheet or file name).")
@click.option("--encoding", metavar="ENC", default=None,
              help="Text encoding of CSV files (default: detected; e.g. gb18030, utf-16, utf-8).")
@many_values_option("--sheet", "sheets", metavar="NAME",
              help="Read only this sheet of a workbook (repeatable, or NAME1,NAME2); default every sheet.")
@click.option("--header-row", type=click.IntRange(min=1), default=None,
              help="Row number of the header (1-based); default: detected, title rows above skipped.")
@many_values_option("--derive", "derive_exprs", metavar="NAME=EXPR",
              help="New column after the join (repeatable), e.g. --derive \"gdp_pc=地区生产总值/年末总人口\" "
              "--derive \"log_gdp_pc=log(gdp_pc)\"; log/exp/sqrt allowed; non-finite results become missing.")
@boundaries_options
@click.option(
    "--merged",
    type=click.Choice(["drop", "aggregate", "keep"]),
    default="drop",
    show_default=True,
    help="Rows of units merged into another (莱芜 -> 济南): drop (listed), aggregate (sum each variable "
    "into the successor; a year where a part is missing stays missing; right for totals only) or keep under "
    "the old code.",
)
@click.option("--split", type=click.Choice(["report", "apportion"]), default="report", show_default=True,
              help="Rows of units dissolved and split among several (巢湖, 2011): report them as unmatched with "
              "their successors, or apportion each value to the successors (totals only) by county areas or "
              "--split-shares.")
@click.option("--split-shares", metavar="FILE", type=InputPath(), default=None,
              help="Shares for --split apportion: a table with old_adcode, successor_adcode, share (summing to 1).")
@click.option("--strict", is_flag=True, help="Fail if any row is unmatched.")
@out_option(required=True, help="Joined output: .csv/.parquet/.xlsx/.dta (table) or .gpkg/.geojson (with geometry).")
@json_option
def command(data_paths, id_col, name_col, year_col, shape, value_name, encoding, sheets, header_row, derive_exprs,
            boundaries_path, boundary_id, scope, merged, split, split_shares, strict, out_path, as_json):
    """Join city statistics tables to the boundary units, by code or by name.

    Example: geo join --data yearbook.xlsx --name 城市 --derive "gdp_pc=地区生产总值/年末总人口" --out joined.csv
    """
    from geo import boundaries, layers
    from geo._io import check_output_path, write_frame

    if (id_col is None) == (name_col is None):
        raise SchemaError("give exactly one of --id COL or --name COL")
    check_output_path(out_path)
    if split_shares is not None and split != "apportion":
        raise OptionError("--split-shares goes with --split apportion")
    units = None if boundaries_path is None and scope == "prefecture-and-above" else boundaries.load(
        boundaries_path, boundary_id, scope=scope
    )
    result = layers.join(
        list(data_paths), id=id_col, name=name_col, year=year_col, boundaries=units, strict=strict, merged=merged,
        encoding=encoding, sheets=split_values(sheets) or None, header_row=header_row, shape=shape or "auto",
        value_name=value_name, derive_exprs=derive_exprs, split=split, split_shares_table=split_shares,
    )
    frame = result.frame
    if str(out_path).lower().endswith(".dta"):
        from geo._tables_in import write_stata

        write_stata(frame, out_path, labels=result.labels)
    else:
        if str(out_path).lower().endswith((".gpkg", ".geojson", ".fgb")):
            frame = result.to_geodataframe(units if units is not None else boundaries.china())
        write_frame(frame.set_index(frame.columns[0]), out_path)
    emit(result, as_json)
