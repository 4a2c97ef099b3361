"""Indicator layers: read city tables as users have them, match them to boundary units, load joined data.

The join itself (several tables, yearbook formats, old and new names, merges,
splits, ``derive``) lives in :mod:`geo.join` and is re-exported here;
matching codes and names through the crosswalk of prefecture changes lives in
:mod:`geo.crosswalk`.

``load_data`` is what the analyses use: a joined file (or any table with an id
column, or a vector file, or a table with a weights file and ids of any kind)
becomes a :class:`UnitData` of units and rows; ``weights_for`` gives its
weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo import join as _join
from geo._io import is_vector_file, read_table, read_vector, require_columns
from geo.boundaries import load, normalise_code
from geo.crosswalk import clean_id, crosswalk, digit_lookup, name_key, unit_of
from geo.errors import JoinError, OptionError, SchemaError
from geo.join import JoinResult, MatchReport, derive, join, split_shares, year_values  # noqa: F401 (re-exported)

MERGED_POLICIES, SHAPES, SPLIT_POLICIES = _join.MERGED_POLICIES, _join.SHAPES, _join.SPLIT_POLICIES
__all__ = [n for n in _join.__all__ if n != "year_values"] + ["UnitData", "load_data", "weights_for", "crosswalk",
                                                             "name_key"]


# --------------------------------------------------------------------------- analysis input


@dataclass(frozen=True)
class UnitData:
    """Units (GeoDataFrame indexed by id) and their rows (``table``: id column, optional ``year``, variables)."""

    units: object
    table: pd.DataFrame
    id_name: str
    year_col: str | None = None
    source: str = ""
    synthetic: bool = False
    dropped_units: tuple = field(default=())

    @property
    def has_geometry(self) -> bool:
        """False for a table read with a weights file and no boundaries (ids of any kind, no shapes)."""
        geom = self.units.geometry
        return bool(len(geom)) and not geom.isna().all()

    @property
    def years(self) -> list[int]:
        return sorted(self.table[self.year_col].unique().tolist()) if self.year_col else []

    def _check_columns(self, columns):
        require_columns(self.table, list(columns or []), source=self.source)

    def cross_section(self, year: int | None = None, columns=None):
        """Units with their values for one year (or the cross-section) as a GeoDataFrame indexed by id.

        Units without a row are left out (their ids are in ``attrs['dropped_units']``).
        """
        import geopandas as gpd

        self._check_columns(columns)
        table = self.table
        if self.year_col:
            if year is None:
                raise SchemaError(
                    f"{self.source}: has years {self.years[0]}-{self.years[-1]}; choose one (--year)"
                )
            if year not in set(self.years):
                raise SchemaError(f"{self.source}: no rows for year {year} (years {self.years[0]}-{self.years[-1]})")
            table = table[table[self.year_col] == year]
        cols = list(columns) if columns is not None else [c for c in table.columns if c not in (self.id_name,)]
        values = table.set_index(self.id_name)[[c for c in cols if c != "geometry"]]
        gdf = self.units.drop(columns=[c for c in values.columns if c in self.units.columns]).join(values, how="inner")
        gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=self.units.crs)
        gdf.attrs["dropped_units"] = [i for i in self.units.index if i not in values.index]
        gdf.attrs["synthetic"] = self.synthetic
        return gdf

    def panel(self, columns, *, balanced: bool = True):
        """(units, DataFrame indexed by (id, year)) for a balanced panel of ``columns``.

        Raises SchemaError naming a missing (id, year) or an empty value.  With ``balanced=False`` the
        unit-years where any of ``columns`` is empty are left out instead (an unbalanced panel, nothing
        imputed), and ``units`` are the units with at least one unit-year left; the frame's
        ``attrs["left_out"]`` counts the unit-years left out of the table's rows.
        """
        self._check_columns(columns)
        if not self.year_col:
            raise SchemaError(f"{self.source}: has no year column; a panel needs one (--time)")
        t = self.table[[self.id_name, self.year_col] + list(columns)]
        if not balanced:
            t = t.rename(columns={self.year_col: "year"})
            keep_rows = t[list(columns)].notna().all(axis=1)
            kept = t[keep_rows].set_index([self.id_name, "year"]).sort_index()
            if kept.empty:
                raise SchemaError(f"{self.source}: no unit-year has a value in every one of {list(columns)}")
            have = set(kept.index.get_level_values(0))
            units = self.units.loc[[i for i in self.units.index if i in have]]
            kept.attrs["left_out"] = int((~keep_rows).sum())
            return units, kept
        ids = sorted(t[self.id_name].unique())
        years = self.years
        full = pd.MultiIndex.from_product([ids, years], names=[self.id_name, "year"])
        t = t.rename(columns={self.year_col: "year"}).set_index([self.id_name, "year"]).sort_index()
        missing = full.difference(t.index)
        if len(missing):
            raise SchemaError(
                f"{self.source}: unbalanced panel: no row for {self.id_name} {missing[0][0]} in {missing[0][1]} "
                f"({len(missing)} missing of {len(full)})"
            )
        na = t[list(columns)].isna()
        if na.any().any():
            row = na.any(axis=1)
            first = t.index[row.to_numpy()][0]
            colname = na.columns[na.loc[first].to_numpy()][0]
            raise SchemaError(
                f"{self.source}: column {colname!r} is empty for {self.id_name} {first[0]} in {first[1]}"
            )
        keep = set(ids)
        units = self.units.loc[[i for i in self.units.index if i in keep]]
        return units, t.loc[full]


def weights_for(units, spec, *, data=None, transform: str = "r", islands: str | None = None, restrict: bool = False):
    """The weights of ``units``: built from their shapes (:func:`geo.weights.build`), or, for units without
    geometry (a table read with a weights file, see :func:`load_data`), read from the file with the units'
    ids (:func:`geo.weights.read`; ``restrict``: the file may hold more units, e.g. those without a value this
    year).  Without shapes, units with no neighbour cannot be linked: they are kept as islands only when
    ``islands="keep"``, else the error says so."""
    from geo import weights as gw  # lazy: scipy.sparse (~0.2 s), which maps and joins do not need

    geom = units.geometry
    if len(geom) and not geom.isna().all():
        kwargs = {"islands": islands} if islands is not None else {}
        return gw.build(spec, units, data=data, transform=transform, **kwargs)
    if not gw.is_file_spec(str(spec)):
        raise OptionError(f"--weights {spec}: the units have no shapes (a table with ids of any kind); give a "
                          "weights file (.gal, .gwt, .parquet) or boundaries (--boundaries)")
    graph = gw.read(spec, ids=units.index, transform=transform, restrict=restrict)
    found = gw.info(graph).islands
    if found and islands != "keep":
        raise OptionError(f"{spec}: {len(found)} units have no neighbour (e.g. {list(found[:5])}); without "
                          "boundaries they cannot be linked: pass --islands keep (or give --boundaries)")
    return graph


def _is_weights_file(spec) -> bool:
    from geo.weights import is_file_spec  # lazy: scipy.sparse (~0.2 s), which maps and joins do not need

    return is_file_spec(str(spec))


def load_data(
    data,
    *,
    id_col: str | None = None,
    year_col: str | None = None,
    boundaries=None,
    boundary_id: str | None = None,
    scope: str = "prefecture-and-above",
    weights=None,
) -> UnitData:
    """Load analysis input: a joined file from ``geo join``, any table with an id column, or a vector file.

    Tables are placed on ``boundaries`` (a GeoDataFrame, a path with
    ``boundary_id``, or by default the embedded prefectures); vector files
    carry their own geometry.  Ids must all be units of the boundaries: run
    ``geo join`` first to match names or old codes.

    With ``weights`` a weights file (``.gal``/``.gwt``/``.parquet``) and no
    ``boundaries``, the table alone is enough: its ids (of any kind: 0-based
    numbers, FIPS codes…) are the units, which then have no geometry
    (``UnitData.has_geometry`` is False) and take their neighbours from the
    file (:func:`geo.weights.read` checks that the ids match).
    """
    import geopandas as gpd

    if isinstance(data, pd.DataFrame):
        src = data.attrs.get("source", "<DataFrame>")
        df = data.copy()
        vector = isinstance(data, gpd.GeoDataFrame)
    else:
        src = str(data)
        vector = is_vector_file(data)
        if vector:
            df = read_vector(data)
        else:
            # the id column is read as text so codes such as 001 keep their leading zeros
            df = read_table(data, dtype={id_col or "adcode": str})
    if id_col is None:
        if "adcode" in df.columns:
            id_col = "adcode"
        elif df.index.name and df.index.name not in df.columns:
            df = df.reset_index()
            id_col = df.columns[0]
        else:
            raise SchemaError(f"{src}: no 'adcode' column; name the id column (--id COL)")
    if id_col not in df.columns and df.index.name == id_col:
        df = df.reset_index()
    if year_col is None and "year" in df.columns:
        year_col = "year"
    require_columns(df, [id_col, year_col], source=src)
    if year_col and year_col != "year" and "year" in df.columns:
        raise SchemaError(
            f"{src}: the period column is {year_col!r} but the table also has a column 'year'; "
            "rename or drop one of them"
        )
    df[id_col] = df[id_col].map(clean_id)
    if year_col:
        df[year_col] = year_values(df, year_col, src)
    if df.duplicated([id_col] + ([year_col] if year_col else [])).any():
        first = df[df.duplicated([id_col] + ([year_col] if year_col else []), keep=False)].iloc[0]
        raise JoinError(
            f"{src}: duplicate rows for {id_col} {first[id_col]!r}" + (f" in {first[year_col]}" if year_col else "")
        )
    if vector:
        gdf = df.to_crs("EPSG:4326") if df.crs is not None else df
        units = gdf[[id_col, "geometry"] + [c for c in ("name",) if c in gdf.columns]].drop_duplicates(id_col)
        units = units.set_index(id_col)
        if "name" not in units.columns:
            units["name"] = units.index
        table = pd.DataFrame(df.drop(columns="geometry"))
    elif boundaries is None and weights is not None and _is_weights_file(weights):
        table = df
        ids = pd.Index(pd.unique(table[id_col].astype(str)), name=id_col)
        if table[id_col].isna().any():
            raise SchemaError(f"{src}: column {id_col!r} has empty ids (row {int(table[id_col].isna().to_numpy().argmax()) + 2})")
        units = gpd.GeoDataFrame({"name": ids.to_numpy()}, index=ids, geometry=[None] * len(ids), crs=None)
    else:
        units = boundaries if isinstance(boundaries, gpd.GeoDataFrame) else load(boundaries, boundary_id, scope=scope)
        table = df
        if boundaries is None:
            codes = table[id_col].map(normalise_code)
            if codes.notna().all():
                keys = [id_col] + ([year_col] if year_col else [])
                twice = table.assign(**{id_col: codes}).duplicated(keys, keep=False)
                if twice.any():
                    raw = table.loc[twice, id_col].tolist()
                    raise JoinError(f"{src}: rows {raw[:4]} in column {id_col!r} are the same unit {codes[twice].iloc[0]!r}"
                                    + (" in the same year" if year_col else ""))
                table[id_col] = codes
        unknown = ~table[id_col].isin(units.index)
        if unknown.any():
            # ids written with and without leading zeros (007 vs 7) name the same unit; 9/12-digit codes name
            # the unit of their 6-digit code when the boundary file's codes were normalised
            digits = digit_lookup(units.index.astype(str))
            known = set(units.index.astype(str))
            table[id_col] = [
                unit_of(v, known, digits) if bad else v for v, bad in zip(table[id_col], unknown)
            ]
            unknown = ~table[id_col].isin(units.index.astype(str))
        if unknown.any():
            bad = table.loc[unknown, id_col].unique()
            raise JoinError(
                f"{src}: {len(bad)} ids in column {id_col!r} are not units of the boundaries (e.g. {bad[0]!r}); "
                "run `geo join` to match names and old codes first"
            )
    units = units.copy()
    units.index = units.index.astype(str)
    units.index.name = id_col
    table = table.rename(columns={year_col: "year"}) if year_col and year_col != "year" else table
    name = Path(src).name.lower()
    flag = table["synthetic"] if "synthetic" in table.columns else None
    synthetic = (
        "synthetic" in name
        or any(str(c).endswith("_synthetic") for c in table.columns)
        or (flag is not None and flag.astype(str).str.lower().isin(["true", "1"]).any())
    )
    present = set(table[id_col])
    dropped = tuple(i for i in units.index if i not in present)
    return UnitData(
        units=units,
        table=table.reset_index(drop=True),
        id_name=id_col,
        year_col="year" if year_col else None,
        source=src,
        synthetic=synthetic,
        dropped_units=dropped,
    )
