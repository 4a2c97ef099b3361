"""The data and weights of a spatial model from a loaded table (shared by `geo sdm` and `geo compare`)."""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import OptionError


def split_list(values) -> list[str]:
    """Values of a repeatable option, each possibly comma-separated (--x a --x b, or --x a,b)."""
    out = []
    for v in values or ():
        out += [p.strip() for p in str(v).split(",") if p.strip()]
    return out


@dataclass(frozen=True)
class ModelInput:
    """What a model command fits: the rows, the units (for the weights), and what was left out."""

    frame: object  # DataFrame (panel, long) or GeoDataFrame (cross-section)
    units: object  # the units the weights are built on
    weights_data: object  # table for economic:VAR weights
    used: object  # ids with data (for units_without_data)
    balance: object | None  # BalanceReport for panels


def model_input(ud, columns, *, time_col, balance, data_path) -> ModelInput:
    """Panel: the gaps refused or the incomplete units dropped (``balance``); cross-section: one year's rows."""
    from geo._io import require_columns  # lazy: pandas; geo --help imports this module
    from geo.durbin.balance import balance_panel  # lazy: scipy (geo.durbin); as above

    if time_col is not None:
        require_columns(ud.table, columns, source=ud.source)
        table = ud.table
        present = set(table[ud.id_name])
        with_rows = ud.units.loc[[i for i in ud.units.index if i in present]]
        names = with_rows["name"].to_dict() if "name" in with_rows.columns else None
        frame, report = balance_panel(table, id=ud.id_name, time=ud.year_col, columns=columns, units=with_rows.index,
                                      names=names, policy=balance, option="--balance drop")
        dropped = set(report.dropped_units)
        units = with_rows.loc[[i for i in with_rows.index if i not in dropped]]
        # every column of the table, so economic:VAR may name a variable that is not in the model
        return ModelInput(frame, units, table.set_index(ud.id_name), with_rows.index, report)
    year = None
    if ud.year_col is not None:
        years = ud.years
        if len(years) > 1:
            raise OptionError(
                f"{data_path}: has years {years[0]}-{years[-1]}; give --time {ud.year_col} for a panel model"
            )
        year = years[0]
    gdf = ud.cross_section(year=year, columns=columns)
    return ModelInput(gdf, gdf, ud.cross_section(year=year), gdf.index, None)
