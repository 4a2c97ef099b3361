"""Indicator layers: read city tables, match them to boundary units, and load joined data.

``join`` brings a user's table (long or wide; CSV, Excel or Parquet) onto the
boundaries by code (6-digit adcode, 9-digit ``156…`` or 12-digit statistical
code) or by Chinese name (with or without 市/地区/自治州/盟 and ethnic
suffixes, pinyin, and the old names of the crosswalk).  Prefecture-level
changes since 2000 (``layers/prefecture_crosswalk.csv``) are applied so a
2000-2023 panel lands on one boundary vintage: renamed and recoded units are
recoded; units merged into another (莱芜 → 济南, 2019) follow the explicit
``merged`` policy; units split among several (巢湖, 2011) cannot be assigned and
are reported.  Every join returns a :class:`MatchReport`; nothing is dropped
without being listed there.

``load_data`` is what the analyses use: a joined file (or any table with an id
column, or a vector file) becomes a :class:`UnitData` of units and rows.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo._paths import LAYERS_DIR
from geo.boundaries import id_text
from geo.errors import JoinError, SchemaError, check_choice

__all__ = [
    "MERGED_POLICIES",
    "MatchReport",
    "JoinResult",
    "UnitData",
    "join",
    "load_data",
    "to_long",
    "crosswalk",
    "name_key",
]

MERGED_POLICIES = ("aggregate", "drop", "keep")

_ETHNIC = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 "
    "京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
_ETHNIC_RE = re.compile("(?:" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")族?$")
_SUFFIXES = ("特别行政区", "自治州", "地区", "市", "盟", "省")
_YEAR_COL_RE = re.compile(r"^(?P<var>.*?)[_\-\s]?(?P<year>(?:19|20)\d{2})$")


def name_key(name) -> str:
    """The comparable core of a Chinese unit name: 延边朝鲜族自治州 → 延边, 济南市 → 济南."""
    text = re.sub(r"\s+", "", str(name))
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            if suffix == "自治州":
                while True:
                    stripped = _ETHNIC_RE.sub("", text)
                    if stripped == text or not stripped:
                        break
                    text = stripped
            break
    return text


# --------------------------------------------------------------------------- crosswalk


@dataclass(frozen=True)
class _Change:
    old_code: str | None
    old_name: str
    successors: tuple[str, ...]
    kind: str  # "recode" | "merge" | "split"
    year: int
    note: str


def crosswalk() -> pd.DataFrame:
    """The prefecture-level changes since 2000 (``layers/prefecture_crosswalk.csv``)."""
    return pd.read_csv(LAYERS_DIR / "prefecture_crosswalk.csv", dtype=str)


def _changes(units_index) -> list[_Change]:
    out = []
    for _, r in crosswalk().iterrows():
        old = str(r["old_adcode"]) if pd.notna(r["old_adcode"]) else ""
        if not re.fullmatch(r"\d{6}", old):
            continue  # new units and group rows carry no single old code
        succ = tuple(s for s in str(r["successor_adcode_2024"]).split(";") if re.fullmatch(r"\d{6}", s))
        if not succ or not all(s in units_index for s in succ):
            continue
        note = str(r["breaks_panel_join"])
        if len(succ) > 1:
            kind = "split"
        elif "aggregate" in note or (r["change_type"] == "划转"):
            kind = "merge"
        elif old == succ[0]:
            kind = "rename"
        else:
            kind = "recode"
        name = re.sub(r"\s*\(.*\)$", "", str(r["old_name"]))
        out.append(_Change(old, name, succ, kind, int(r["code_table_year"]), note))
    return out


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class MatchReport:
    """What a join matched, recoded, merged, left unmatched, and which units got no data."""

    source: str
    rows: int
    matched: int
    unmatched: tuple = ()  # ({row, value, candidates, reason})
    duplicates: tuple = ()  # ({id, year, rows})
    units_without_data: tuple = ()
    recoded: tuple = ()  # ({value, adcode, kind, rows})
    merged: tuple = ()  # ({value, into, rows, policy})
    by: str = "id"
    merged_policy: str = "drop"

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
        }

    def summary(self) -> str:
        lines = [
            f"join of {self.source} by {self.by}: {self.matched} of {self.rows} rows matched",
        ]
        for r in self.recoded:
            lines.append(f"  recoded {r['value']!s} -> {r['adcode']} ({r['kind']}, {r['rows']} rows)")
        for m in self.merged:
            lines.append(f"  merged {m['value']!s} -> {m['into']} ({m['rows']} rows, policy {m['policy']})")
        if self.unmatched:
            lines.append(f"  unmatched rows: {len(self.unmatched)}")
            for u in self.unmatched[:20]:
                cand = ", ".join(u["candidates"]) or "no close candidate"
                lines.append(f"    row {u['row']}: {u['value']!r} ({u['reason']}; candidates: {cand})")
            if len(self.unmatched) > 20:
                lines.append(f"    … and {len(self.unmatched) - 20} more (see --json)")
        if self.duplicates:
            lines.append(f"  duplicate (id, year): {len(self.duplicates)}")
        lines.append(f"  boundary units with no data: {len(self.units_without_data)}")
        if self.units_without_data:
            shown = ", ".join(self.units_without_data[:15])
            more = " …" if len(self.units_without_data) > 15 else ""
            lines.append(f"    {shown}{more}")
        return "\n".join(lines)

    __str__ = summary


@dataclass(frozen=True)
class JoinResult:
    """The joined rows (``frame``: the unit id column first, then ``year`` if any) and the match report."""

    frame: pd.DataFrame
    report: MatchReport

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


def to_long(df: pd.DataFrame, key: str, *, value_name: str = "value") -> pd.DataFrame:
    """Wide (one column per year: ``gdp_2010``, ``gdp2011``, ``2012``…) to long (key, year, variables).

    Columns that carry no year are kept as constant attributes of the key.
    """
    year_cols = {c: _YEAR_COL_RE.match(str(c)) for c in df.columns if c != key}
    year_cols = {c: m for c, m in year_cols.items() if m}
    if not year_cols:
        raise SchemaError(f"no year column and no year-suffixed columns (like gdp_2010) to reshape")
    other = [c for c in df.columns if c != key and c not in year_cols]
    long = df[[key] + list(year_cols)].melt(id_vars=key, var_name="_col", value_name="_value")
    long["_var"] = long["_col"].map(lambda c: year_cols[c].group("var") or value_name)
    long["year"] = long["_col"].map(lambda c: int(year_cols[c].group("year")))
    wide = long.pivot_table(index=[key, "year"], columns="_var", values="_value", aggfunc="first", dropna=False)
    wide.columns.name = None
    wide = wide.reset_index()
    if other:
        wide = wide.merge(df[[key] + other].drop_duplicates(key), on=key, how="left")
    return wide


def _year_values(df: pd.DataFrame, year_col: str, source) -> pd.Series:
    raw = df[year_col]
    years = pd.to_numeric(raw, errors="coerce")
    bad = years.isna() | (years % 1 != 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise SchemaError(f"{source}: column {year_col!r}: row {i + 1} has {raw.iloc[i]!r}, not a whole year")
    return years.astype(int)


def _read(data, source, id_col=None):
    from geo._io import check_input_path, is_vector_file, read_table, read_vector

    if isinstance(data, pd.DataFrame):
        return data.copy(), source or "<DataFrame>"
    if is_vector_file(check_input_path(data)):
        return read_vector(data), source or str(data)
    # the id column is read as text so codes such as 001 keep their leading zeros
    return read_table(data, dtype={id_col: str} if id_col else None), source or str(data)


def _digit_lookup(index) -> dict:
    """Unit ids made of digits keyed by their integer value ("007" -> 7), where that value is unique."""
    keys: dict[int, list] = {}
    for u in index:
        text = str(u)
        if text.isdigit():
            keys.setdefault(int(text), []).append(u)
    return {k: v[0] for k, v in keys.items() if len(v) == 1}


def _unit_of(value, known, digits):
    """The unit id ``value`` stands for: itself, its 6-digit adcode, or the id with the same digits."""
    from geo.boundaries import normalise_code

    text = str(value)
    code = normalise_code(text)
    if code is not None and code in known:
        return code
    if text.isdigit():
        return digits.get(int(text), text)
    return text


# --------------------------------------------------------------------------- matching


class _Matcher:
    """Maps raw id or name values to unit ids, with crosswalk and candidates."""

    def __init__(self, units, by: str, embedded: bool):
        self.units = units
        self.by = by
        self.embedded = embedded
        self.changes = _changes(units.index) if embedded else []
        self.by_code = {c.old_code: c for c in self.changes}
        self.digits = _digit_lookup(units.index) if by == "id" and not embedded else {}
        aliases: dict[str, set] = {}

        def add(alias, code):
            if alias:
                aliases.setdefault(alias, set()).add(code)

        if by == "name":
            for code, row in units.iterrows():
                add(str(row.get("name", code)), code)
                add(name_key(row.get("name", code)), code)
                if "name_en" in units.columns and isinstance(row.get("name_en"), str):
                    add(row["name_en"].lower().replace(" ", "").replace("'", ""), code)
        self.aliases = aliases
        self.by_name: dict[str, _Change] = {}
        for c in self.changes:
            for alias in (c.old_name, name_key(c.old_name)):
                # an old name that is also a current unit's name (伊犁地区 vs 伊犁) stays with the current unit
                if alias and alias not in aliases:
                    self.by_name[alias] = c

    def match(self, value):
        """-> (adcode or None, change or None, reason)."""
        if self.by == "id":
            if self.embedded:
                from geo.boundaries import normalise_code

                code = normalise_code(value)
            else:
                code = id_text(value)
                if code not in self.units.index:
                    # 007 vs 7, or a 12-digit code whose unit the boundary file holds under its 6-digit code
                    code = _unit_of(code, self.units.index, self.digits)
            if code is None:
                return None, None, "not a 6-, 9- or 12-digit code"
            if code in self.units.index:
                return code, None, ""
            change = self.by_code.get(code)
            if change is not None:
                return self._from_change(change)
            return None, None, "code not in the boundaries"
        key = re.sub(r"\s+", "", str(value))
        for alias in (key, name_key(key), key.lower().replace("'", "")):
            codes = self.aliases.get(alias)
            if codes and len(codes) == 1:
                return next(iter(codes)), None, ""
            if codes:
                return None, None, f"ambiguous name ({', '.join(sorted(codes))})"
        for alias in (key, name_key(key)):
            change = self.by_name.get(alias)
            if change is not None:
                return self._from_change(change)
        return None, None, "name not in the boundaries"

    def _from_change(self, change: _Change):
        if change.kind == "split":
            names = [str(self.units.loc[s, "name"]) if "name" in self.units.columns else s for s in change.successors]
            return None, change, f"dissolved in {change.year} and split among {', '.join(names)}"
        return change.successors[0], change, ""

    def candidates(self, value, n: int = 3) -> list[str]:
        if self.by == "id":
            text = re.sub(r"\D", "", str(value))[:6]
            pool = list(self.units.index)
            near = [c for c in pool if text and c[:4] == text[:4]] or difflib.get_close_matches(text, pool, n=n)
            return near[:n]
        key = name_key(value)
        names = {name_key(n_): c for c, n_ in self.units["name"].items()} if "name" in self.units.columns else {}
        close = difflib.get_close_matches(key, list(names), n=n, cutoff=0.4)
        return [f"{names[k]} {self.units.loc[names[k], 'name']}" for k in close]


def _check_id_types(values: pd.Series, by: str, col: str, source, embedded: bool) -> None:
    text = values.dropna().astype(str).str.strip()
    if text.empty:
        raise SchemaError(f"{source}: column {col!r} is empty")
    is_number = text.str.fullmatch(r"\d+(\.0)?")
    if by == "id" and embedded:
        if not is_number.any():
            raise SchemaError(
                f"{source}: column {col!r} holds no codes (e.g. {text.iloc[0]!r}); match names with --name {col}"
            )
        if not is_number.all():
            example = text[~is_number].iloc[0]
            raise SchemaError(
                f"{source}: column {col!r} has ids of mixed types: codes and text such as {example!r}"
            )
    if by == "name" and is_number.any():
        if is_number.all():
            raise SchemaError(f"{source}: column {col!r} holds codes, not names; match with --id {col}")
        example = text[is_number].iloc[0]
        raise SchemaError(f"{source}: column {col!r} has ids of mixed types: names and numbers such as {example!r}")


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
) -> JoinResult:
    """Match a table's rows to boundary units.

    Parameters
    ----------
    data : path or DataFrame
        Long form (one row per unit and year) or wide form (``gdp_2010``,
        ``gdp_2011``… or year-named columns), CSV/Excel/Parquet.
    id, name : str
        The column to match by: codes (``id``) or Chinese names (``name``); exactly one.
    year : str, optional
        The year column of a long table; without it, a table with
        year-suffixed columns is reshaped from wide to long, and any other
        table is a cross-section.
    boundaries : GeoDataFrame, optional
        Units to match onto (indexed by id, with ``name``); default the embedded
        prefecture boundaries (and then the crosswalk of changes since 2000 applies).
    strict : bool
        Raise JoinError if any row is unmatched.
    merged : {"drop", "aggregate", "keep"}
        Rows of a unit merged into another (莱芜 into 济南 in 2019): ``drop``
        them (listed in the report), ``aggregate`` them into the successor by
        summing every numeric column (right for totals such as GDP or
        population, wrong for ratios: recompute those afterwards), or ``keep``
        them under their old code (they then have no geometry).

    Raises SchemaError for unknown columns or wrong id/year types, JoinError
    for duplicate (id, year) rows or, with ``strict``, unmatched rows.
    """
    from geo._io import require_columns
    from geo.boundaries import china

    check_choice("merged", merged, MERGED_POLICIES)
    if (id is None) == (name is None):
        raise SchemaError("match by exactly one of id (--id COL) or name (--name COL)")
    df, src = _read(data, source, id if id is not None else name)
    if hasattr(df, "geometry") and "geometry" in df.columns:
        df = pd.DataFrame(df.drop(columns="geometry"))
    col = id if id is not None else name
    require_columns(df, [col, year], source=src)
    if year is not None and year != "year" and "year" in df.columns:
        raise SchemaError(
            f"{src}: the year column is {year!r} but the table also has a column 'year'; rename or drop one of them"
        )
    by = "id" if id is not None else "name"
    embedded = boundaries is None
    units = china() if embedded else boundaries
    key = units.index.name or "adcode"

    # keep ids as text: a numeric CSV column would have lost leading zeros only if it had any
    df[col] = df[col].map(id_text)
    _check_id_types(df[col], by, col, src, embedded)
    df["_row"] = np.arange(1, len(df) + 1)
    if year is None and any(_YEAR_COL_RE.match(str(c)) for c in df.columns if c != col):
        df = to_long(df, col)
        year = "year"
    if year is not None:
        df[year] = _year_values(df, year, src)

    dup_mask = df.duplicated([col] + ([year] if year else []), keep=False) & df[col].notna()
    if dup_mask.any():
        dups = df[dup_mask].groupby([col] + ([year] if year else [])).size()
        first = dups.index[0]
        first_id, first_year = (first if year else (first, None))
        desc = f"{first_id!r}" + (f" in {first_year}" if year else "")
        raise JoinError(f"{src}: duplicate rows for {col} {desc} ({len(dups)} duplicated keys); remove or aggregate them")

    matcher = _Matcher(units, by, embedded)
    codes, unmatched, recoded, merges = [], [], {}, {}
    seen_rows = set()
    for i, (value, row) in enumerate(zip(df[col], df["_row"])):
        if pd.isna(value) or str(value).strip() == "":
            codes.append(None)
            if row not in seen_rows:
                unmatched.append({"row": int(row), "value": None, "candidates": [], "reason": "empty id"})
                seen_rows.add(row)
            continue
        code, change, reason = matcher.match(value)
        if code is None:
            codes.append(None)
            if row not in seen_rows:
                cand = list(change.successors) if change is not None else matcher.candidates(value)
                unmatched.append({"row": int(row), "value": str(value), "candidates": cand, "reason": reason})
                seen_rows.add(row)
            continue
        if change is not None and change.kind == "merge":
            merges.setdefault(str(value), {"value": str(value), "into": code, "rows": 0, "policy": merged, "_idx": []})
            merges[str(value)]["rows"] += 1
            merges[str(value)]["_idx"].append(i)
            codes.append(code if merged != "keep" else change.old_code)
            continue
        if change is not None:
            r = recoded.setdefault(str(value), {"value": str(value), "adcode": code, "kind": change.kind, "rows": 0})
            r["rows"] += 1
        codes.append(code)

    df = df.copy()
    if col == key:  # the table's id column has the units' id name: keep the raw values aside
        df = df.rename(columns={col: "_raw_id"})
        col = "_raw_id"
    df.insert(0, key, codes)
    merged_idx = [i for m in merges.values() for i in m.pop("_idx")]
    is_merged = np.zeros(len(df), dtype=bool)
    is_merged[merged_idx] = True
    matched_mask = df[key].notna().to_numpy()
    out = df[matched_mask & ~is_merged]
    merged_rows = df[matched_mask & is_merged]
    if merged == "aggregate" and len(merged_rows):
        out = _aggregate(out, merged_rows, key, year, src)
    elif merged == "keep":
        out = pd.concat([out, merged_rows])
    out = out.drop(columns=[col, "_row"])

    kk = [key] + ([year] if year else [])
    dup_after = out.duplicated(kk, keep=False)
    if dup_after.any():
        first = out[dup_after].iloc[0]
        raise JoinError(
            f"{src}: two rows map to unit {first[key]}" + (f" in {first[year]}" if year else "")
            + " after applying the crosswalk (an old and a new name for the same year?); keep one"
        )
    if year and year != "year":
        out = out.rename(columns={year: "year"})
    out = out.sort_values([key] + (["year"] if year else [])).reset_index(drop=True)
    with_data = set(out[key])
    report = MatchReport(
        source=src,
        rows=int(df["_row"].nunique()),
        matched=int(df.loc[matched_mask, "_row"].nunique()),
        unmatched=tuple(unmatched),
        duplicates=(),
        units_without_data=tuple(c for c in units.index if c not in with_data),
        recoded=tuple(recoded.values()),
        merged=tuple(merges.values()),
        by=by,
        merged_policy=merged,
    )
    if strict and unmatched:
        u = unmatched[0]
        cand = ", ".join(u["candidates"]) or "no close candidate"
        raise JoinError(
            f"{src}: {len(unmatched)} unmatched rows (strict); first: row {u['row']} {col}={u['value']!r} "
            f"({u['reason']}; candidates: {cand})"
        )
    return JoinResult(frame=out, report=report)


def _aggregate(out: pd.DataFrame, merged_rows: pd.DataFrame, key: str, year: str | None, src) -> pd.DataFrame:
    numeric = [c for c in merged_rows.columns if c not in (key, year) and pd.api.types.is_numeric_dtype(merged_rows[c])]
    kk = [key] + ([year] if year else [])
    targets = out.set_index(kk)
    add = merged_rows.set_index(kk)[numeric]
    missing = add.index.difference(targets.index)
    if len(missing):
        first = missing[0]
        raise JoinError(
            f"{src}: cannot aggregate merged rows into unit {first[0] if year else first}"
            + (f" for {first[1]}" if year else "") + ": that unit has no row to add to; use merged='drop' or 'keep'"
        )
    add = add.groupby(level=kk).sum(min_count=1)
    targets.loc[add.index, numeric] = targets.loc[add.index, numeric].add(add, fill_value=0)
    return targets.reset_index()


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
    def years(self) -> list[int]:
        return sorted(self.table[self.year_col].unique().tolist()) if self.year_col else []

    def _check_columns(self, columns):
        from geo._io import require_columns

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

    def panel(self, columns):
        """(units, DataFrame indexed by (id, year)) for a balanced panel of ``columns``.

        Raises SchemaError naming a missing (id, year) or an empty value.
        """
        self._check_columns(columns)
        if not self.year_col:
            raise SchemaError(f"{self.source}: has no year column; a panel needs one (--time)")
        t = self.table[[self.id_name, self.year_col] + list(columns)]
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


def load_data(
    data,
    *,
    id_col: str | None = None,
    year_col: str | None = None,
    boundaries=None,
    boundary_id: str | None = None,
    scope: str = "prefecture-and-above",
) -> UnitData:
    """Load analysis input: a joined file from ``geo join``, any table with an id column, or a vector file.

    Tables are placed on ``boundaries`` (a GeoDataFrame, a path with
    ``boundary_id``, or by default the embedded prefectures); vector files
    carry their own geometry.  Ids must all be units of the boundaries: run
    ``geo join`` first to match names or old codes.
    """
    import geopandas as gpd

    from geo._io import is_vector_file, read_vector, require_columns
    from geo.boundaries import load, normalise_code

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
            from geo._io import read_table

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
    df[id_col] = df[id_col].map(id_text)
    if year_col:
        df[year_col] = _year_values(df, year_col, src)
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
            digits = _digit_lookup(units.index.astype(str))
            known = set(units.index.astype(str))
            table[id_col] = [
                _unit_of(v, known, digits) if bad else v for v, bad in zip(table[id_col], unknown)
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
