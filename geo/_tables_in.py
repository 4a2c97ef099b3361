"""Reading statistics tables as users have them (yearbook extracts, CSMAR/CNRDS downloads, Stata files).

What this module knows about the tables of the field:

* **Layout.**  A sheet or CSV export often has title rows above the header
  ("2005-2010年各市地区生产总值") and source/footnote rows below the body
  ("资料来源：中国城市统计年鉴"); CSMAR and CNRDS files carry three header rows
  (variable, 中文标签, 单位).  :func:`read_tables` finds the header row, skips
  the rows above and the notes below (and says which), and keeps labels and
  units as metadata.  ``header_row`` overrides the guess.
* **Sheets.**  Every sheet of a workbook is a table of its own (a yearbook
  workbook has one sheet per variable); ``sheets`` picks some.
* **Numbers as yearbooks write them.**  :func:`parse_number` reads thousands
  separators (``1,234``), full-width digits and punctuation (``１２３．５``),
  trailing units (``123万元``, ``12.5%``) and the missing marks of
  :data:`MISSING_MARKS`; :func:`number_column` reads a whole column, counts
  the cells that became missing and why, and raises an error that names the
  file, row, unit and column of the first cell that is neither.
* **Year columns.**  :func:`year_column` reads ``2005``, ``2005年``,
  ``gdp_2005``, ``2005_gdp``, ``Y2005``, ``2005年末``; :func:`wide_plan`
  decides whether a table is wide (one column per year) and says why, so a
  cross-section whose columns happen to end in a year (``v1900``…``v2099``
  among ``v0``…``v9999``) is never reshaped behind the user's back.

The text encoding of CSV files is found by :func:`geo._io.detect_encoding`.
Everything here is plain parsing written for this project: the formats are
the field's conventions, which no library reads as a whole.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo._io import atomic_write, check_input_path, decode_text
from geo.errors import InputError, OptionError, SchemaError

__all__ = [
    "MISSING_MARKS",
    "NOTE_PREFIXES",
    "TableIn",
    "NumberColumn",
    "parse_number",
    "number_column",
    "looks_numeric",
    "year_column",
    "wide_plan",
    "read_tables",
    "read_stata",
    "write_stata",
]

#: Cell texts that mean "no value" (compared after NFKC normalisation and stripping; case-insensitive).
MISSING_MARKS = (
    "—", "——", "–", "-", "--", "---", "－", "..", "...", "…", "……", "NA", "N/A", "#N/A", "n.a.", "n/a",
    "nan", "null", "空", "无数据",
)
_MISSING = {unicodedata.normalize("NFKC", m).casefold() for m in MISSING_MARKS}

#: First words of footnote / source rows below a table body.
NOTE_PREFIXES = ("注", "资料来源", "数据来源", "来源", "说明", "备注", "source", "note", "*")

# a number: optional sign, digits with optional thousands groups, optional decimals and exponent
_NUMBER = re.compile(r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+)(?P<unit>.*)$")
# a trailing unit: Chinese characters (万元, 元/人, 平方公里), per cent / per mille, or a few Latin units
_UNIT = re.compile(r"^(?:%|‰|[\u3400-\u9fff]+(?:/[\u3400-\u9fff]+)?|km2|km²|km|m2|m²|kg|t|yuan|usd|us\$)$", re.I)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, str) and not value.strip()


# --------------------------------------------------------------------------- numbers


def parse_number(value):
    """One cell -> ``(float or None, why)``.

    ``why`` is ``""`` for a number, ``"blank"`` or the missing mark for a
    missing cell, ``"unit:<u>"`` when a trailing unit was stripped, and
    ``None`` when the cell is neither a number nor a missing mark.
    """
    if _blank(value):
        return None, "blank"
    if isinstance(value, (bool, np.bool_)):
        return None, None
    if isinstance(value, (int, np.integer)):
        return float(value), ""
    if isinstance(value, (float, np.floating)):
        return (float(value), "") if math.isfinite(value) else (None, None)
    text = _nfkc(str(value))
    if text.casefold() in _MISSING:
        return None, str(value).strip()  # the mark as written (… not its NFKC form ...), for the report
    m = _NUMBER.match(text)
    if m is None:
        return None, None
    number = float(m.group("num").replace(",", ""))
    if not math.isfinite(number):
        return None, None
    unit = m.group("unit").strip()
    if not unit:
        return number, ""
    if _UNIT.match(unit):
        return number, f"unit:{unit}"
    return None, None


@dataclass(frozen=True)
class NumberColumn:
    """A column read as numbers: the values, the cells made missing by reason, the unit stripped (if any)."""

    values: pd.Series
    missing: dict
    unit: str | None = None


def number_column(values: pd.Series, *, where) -> NumberColumn:
    """Read every cell of ``values`` with :func:`parse_number`.

    ``where(label)`` describes the cell at index ``label`` for the error
    message (file, row, unit, column).  Raises :class:`~geo.errors.SchemaError`
    for the first cell that is neither a number nor a missing mark, and when
    one column mixes trailing units (万元 and 亿元).
    """
    out = np.full(len(values), np.nan)
    missing: dict[str, int] = {}
    units: dict[str, object] = {}
    for i, (label, cell) in enumerate(values.items()):
        number, why = parse_number(cell)
        if why is None:
            raise SchemaError(f"{where(label)}: cannot read {str(cell)!r} as a number or a missing mark "
                              f"(missing marks: blank, {' '.join(MISSING_MARKS[:12])} …)")
        if number is None:
            missing[why] = missing.get(why, 0) + 1
            continue
        out[i] = number
        if why.startswith("unit:"):
            units.setdefault(why[5:], label)
    if len(units) > 1:
        (u1, l1), (u2, l2) = list(units.items())[:2]
        raise SchemaError(f"{where(l2)}: unit {u2!r} differs from {u1!r} earlier in the column; "
                          "convert the column to one unit first")
    return NumberColumn(pd.Series(out, index=values.index), missing, next(iter(units), None))


def looks_numeric(values: pd.Series, *, empty_ok: bool = True) -> bool:
    """True when at least half of the cells that are not missing marks read as numbers (a column of missing
    marks only is a numeric column with every value missing)."""
    numbers = other = 0
    for cell in values:
        number, why = parse_number(cell)
        if number is not None:
            numbers += 1
        elif why is None:
            other += 1
    return numbers >= other and (numbers > 0 or empty_ok)


# --------------------------------------------------------------------------- year columns

_YEAR = r"(?P<year>(?:19|20)\d{2})"
_YEAR_TAIL = r"(?:年末|年底|年度|年)?"
_PURE_YEAR = re.compile(rf"^[Yy]?{_YEAR}{_YEAR_TAIL}$")
_VAR_YEAR = re.compile(rf"^(?P<var>.*\D){_YEAR}{_YEAR_TAIL}$")
_YEAR_VAR = re.compile(rf"^{_YEAR}{_YEAR_TAIL}[_\-\s.]*(?P<var>\D.*)$")


def year_column(name):
    """``(variable or None, year)`` when a column name carries a year, else ``None``.

    ``2005``, ``2005.0`` (an Excel number), ``2005年``, ``Y2005``, ``2005年末`` → ``(None, 2005)``;
    ``gdp_2005``, ``gdp2005``, ``GDP 2005年`` → ``("gdp", 2005)``; ``2005_gdp``, ``2005年gdp`` → ``("gdp", 2005)``.
    A year is 1900-2099; the part before it must not end in a digit (``v12005`` is not a year column).
    """
    if isinstance(name, (int, np.integer)) or (isinstance(name, (float, np.floating)) and float(name).is_integer()):
        name = str(int(name))
    text = _nfkc(str(name))
    m = _PURE_YEAR.match(text)
    if m:
        return None, int(m.group("year"))
    for pattern in (_VAR_YEAR, _YEAR_VAR):
        m = pattern.match(text)
        if m:
            var = m.group("var").strip(" _-.")
            if var and not var.isdigit():
                return var, int(m.group("year"))
    return None


@dataclass(frozen=True)
class WidePlan:
    """Whether to reshape, the year columns (name -> (variable, year)) and the note that says why."""

    reshape: bool
    columns: dict
    note: str = ""


def _span(cols) -> str:
    cols = [str(c) for c in cols]
    return cols[0] if len(cols) == 1 else f"{cols[0]} … {cols[-1]}"


def wide_plan(df: pd.DataFrame, *, keys, mode: str = "auto", source="table") -> WidePlan:
    """Decide whether ``df`` is a wide table (one column per year) and which columns hold which year.

    ``mode="long"`` never reshapes; ``"wide"`` reshapes the year columns (an
    error when there are none); ``"auto"`` reshapes only when every other
    column holding numbers is a year column, and otherwise keeps the table
    as it is with a note naming the columns that end in a year.
    """
    if mode not in ("auto", "wide", "long"):
        raise OptionError(f"wide/long mode {mode!r} is not one of 'auto', 'wide', 'long'")
    keys = set(keys)
    years = {c: year_column(c) for c in df.columns if c not in keys}
    years = {c: v for c, v in years.items() if v is not None}
    if mode == "long":
        return WidePlan(False, {}, "")
    if not years:
        if mode == "wide":
            shown = ", ".join(map(str, [c for c in df.columns if c not in keys][:8]))
            raise SchemaError(f"{source}: --wide given but no column name carries a year (columns: {shown}); "
                              "year columns look like 2005, 2005年, gdp_2005, 2005_gdp, Y2005")
        return WidePlan(False, {}, "")
    seen: dict = {}
    for c, (var, yr) in years.items():
        other = seen.setdefault((var, yr), c)
        if other != c:
            raise SchemaError(f"{source}: columns {other!r} and {c!r} both read as "
                              f"{(var + ' ') if var else ''}{yr}; rename one")
    others = [c for c in df.columns if c not in keys and c not in years]
    numeric_others = [c for c in others if looks_numeric(df[c], empty_ok=False)]
    if mode == "wide":
        return WidePlan(True, years, f"note: {source}: reshaped {len(years)} year columns ({_span(years)}) to rows (--wide)")
    if numeric_others:
        return WidePlan(False, {}, (
            f"note: {source}: {len(years)} columns end in a year ({_span(years)}) but {len(numeric_others)} other "
            f"numeric columns do not ({_span(numeric_others)}); read as one row per unit. "
            "Pass --wide to reshape the year columns to rows"))
    return WidePlan(True, years, (
        f"note: {source}: read as a wide table: {len(years)} year columns ({_span(years)}) reshaped to rows "
        "(pass --long to keep the columns as they are)"))


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class TableIn:
    """One table read from a file (a CSV, or one sheet of a workbook).

    ``frame`` holds the cells as read (text or numbers, not yet parsed), its
    index the row numbers a spreadsheet shows (1-based, header included).
    ``skipped`` lists ``(row, kind, text)`` for title, label, note and blank
    rows left out; ``labels`` and ``units`` the CSMAR-style label and unit
    rows (column -> text).
    """

    frame: pd.DataFrame
    path: str
    sheet: str | None = None
    encoding: str | None = None
    header_row: int = 1
    skipped: tuple = ()
    labels: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    notes: tuple = ()

    @property
    def source(self) -> str:
        return f"{self.path} [sheet {self.sheet}]" if self.sheet is not None else self.path

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "skipped_rows": [{"row": r, "kind": k, "text": t} for r, k, t in self.skipped],
            "labels": dict(self.labels),
            "units": dict(self.units),
        }


def _cell_text(value) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _width(row) -> int:
    return sum(1 for v in row if not _blank(v))


def _is_note(row) -> bool:
    cells = [_cell_text(v) for v in row if not _blank(v)]
    if not cells:
        return True
    first = _nfkc(cells[0]).casefold()
    if any(first.startswith(p) for p in NOTE_PREFIXES):
        return True
    # one long text cell (a sentence), not a unit name with an empty value
    return len(cells) == 1 and (len(cells[0]) >= 12 or "：" in cells[0] or ":" in cells[0])


def _is_label_row(row) -> bool:
    cells = [v for v in row if not _blank(v)]
    return bool(cells) and all(parse_number(v)[0] is None and parse_number(v)[1] is None for v in cells)


def _layout(rows: list[list], *, header_row: int | None, where: str):
    """(header index, label-row indices, body indices, skipped) for a grid of cells."""
    widths = [_width(r) for r in rows]
    if not any(widths):
        return None
    wmax = max(widths)
    skipped = []
    if header_row is not None:
        if not 1 <= header_row <= len(rows):
            raise OptionError(f"{where}: --header-row {header_row} is outside the table (rows 1-{len(rows)})")
        h = header_row - 1
    else:
        need = max(2, math.ceil(0.5 * wmax)) if wmax >= 2 else 1
        h = next(i for i, w in enumerate(widths) if w >= need)
    for i in range(h):
        if widths[i]:
            skipped.append((i + 1, "title", " ".join(_cell_text(v) for v in rows[i] if not _blank(v))[:80]))
    end = len(rows)
    while end > h + 1 and (widths[end - 1] == 0 or _is_note(rows[end - 1])):
        if widths[end - 1]:
            skipped.append((end, "note", " ".join(_cell_text(v) for v in rows[end - 1] if not _blank(v))[:80]))
        end -= 1
    body = [i for i in range(h + 1, end)]
    # CSMAR/CNRDS: variable codes in the header (Stkcd, Year, GDP), then up to two rows of text filling every
    # column (中文标签, 单位) above a body with numbers
    header_cells = [_cell_text(v) for v in rows[h] if not _blank(v)]
    codes = sum(1 for c in header_cells if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c))
    labels = []
    if header_cells and codes * 2 >= len(header_cells):
        for i in body[:2]:
            if widths[i] >= widths[h] and _is_label_row(rows[i]):
                labels.append(i)
            else:
                break
    if labels and not re.search(r"[\u3400-\u9fff]", " ".join(_cell_text(v) for v in rows[labels[0]])):
        labels = []
    if labels:
        rest = [i for i in body if i not in labels]
        has_numbers = any(parse_number(rows[i][j])[0] is not None for i in rest[:50] for j in range(len(rows[i])))
        if not has_numbers:
            labels = []
    for i in labels:
        skipped.append((i + 1, "label" if i == labels[0] else "unit", ""))
    blank_rows = [i for i in body if i not in labels and widths[i] == 0]
    for i in blank_rows:
        skipped.append((i + 1, "blank", ""))
    body = [i for i in body if i not in labels and widths[i] > 0]
    return h, labels, body, sorted(skipped)


def _columns(header, where) -> list[str]:
    names = []
    for j, v in enumerate(header):
        text = _cell_text(v)
        names.append(text if text else f"column_{j + 1}")
    seen: dict[str, int] = {}
    for j, n in enumerate(names):
        if n in seen:
            raise SchemaError(f"{where}: columns {seen[n] + 1} and {j + 1} are both named {n!r}; rename one")
        seen[n] = j
    return names


def _table_from_grid(rows, *, path, sheet, encoding, header_row) -> TableIn | None:
    where = f"{path} [sheet {sheet}]" if sheet is not None else str(path)
    width = max((len(r) for r in rows), default=0)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    lay = _layout(rows, header_row=header_row, where=where)
    if lay is None:
        return None
    h, labels, body, skipped = lay
    named = [j for j in range(width) if not _blank(rows[h][j])]
    for i in body:
        beyond = [j for j in range(width) if j > (named[-1] if named else -1) and not _blank(rows[i][j])]
        if beyond:
            raise InputError(f"{where}: malformed table: row {i + 1} has a value in column {beyond[0] + 1} "
                             f"({_cell_text(rows[i][beyond[0]])!r}) beyond the {len(named)} named columns of the "
                             f"header (row {h + 1}); fix the row or give the header row with --header-row")
    # trailing columns that are empty everywhere (Excel's used range) are dropped
    used = [j for j in range(width) if any(not _blank(rows[i][j]) for i in [h] + body)]
    last = max(used) + 1 if used else 0
    cols = _columns(rows[h][:last], where)
    frame = pd.DataFrame([rows[i][:last] for i in body], columns=cols, index=[i + 1 for i in body], dtype=object)
    frame.index.name = "row"
    meta = [{c: _cell_text(rows[i][j]) for j, c in enumerate(cols) if _cell_text(rows[i][j])} for i in labels]
    return TableIn(
        frame=frame, path=str(path), sheet=sheet, encoding=encoding, header_row=h + 1, skipped=tuple(skipped),
        labels=meta[0] if meta else {}, units=meta[1] if len(meta) > 1 else {},
    )


def _sniff_sep(text: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    lines = text.splitlines()[:30]
    counts = {sep: sum(line.count(sep) for line in lines) for sep in (",", "\t", ";")}
    # a separator appears in most lines; thousands separators (1,234) inside quotes are counted too,
    # so prefer tab and semicolon when they are as frequent in as many lines
    best = max(counts, key=lambda s: (sum(1 for line in lines if s in line), counts[s]))
    return best if counts[best] else ","


def _csv_rows(p: Path, encoding: str | None):
    text, enc = decode_text(p, encoding=encoding)
    sep = _sniff_sep(text, p.suffix.lower())
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=sep, strict=True))
    except csv.Error as exc:
        raise InputError(f"{p}: malformed table: {exc}") from None
    return rows, enc


def _excel_sheets(p: Path, sheets):
    try:
        # keep_default_na=False: pandas would turn 'NA', 'N/A', 'null' … into blanks before the report could
        # count them by mark (and accept marks that are not ours); empty cells come back as '' -> None
        book = pd.read_excel(p, sheet_name=None, header=None, dtype=object, keep_default_na=False, na_values=[])
    except ImportError as exc:
        raise InputError(f"{p}: cannot read this workbook format ({exc}); save it as .xlsx") from None
    except Exception as exc:  # openpyxl/xlrd raise their own types; all mean "unreadable workbook"
        raise InputError(f"{p}: cannot read table (workbook): {type(exc).__name__}: {exc}") from None
    if sheets:
        missing = [s for s in sheets if s not in book]
        if missing:
            raise OptionError(f"{p}: no sheet {missing[0]!r} (sheets are: {', '.join(map(str, book))})")
        book = {s: book[s] for s in sheets}
    return {str(name): [[None if isinstance(v, str) and v == "" else v for v in row]
                        for row in sheet.to_numpy(dtype=object).tolist()] for name, sheet in book.items()}


def read_tables(path, *, encoding: str | None = None, sheets=None, header_row: int | None = None) -> list[TableIn]:
    """Every table of ``path``: a CSV/TSV/TXT (encoding detected unless given), each sheet of a workbook,
    a Stata ``.dta`` or a Parquet file.  Empty sheets are left out (a :class:`TableIn` per non-empty one)."""
    p = check_input_path(path)
    suffix = p.suffix.lower()
    if sheets and suffix not in (".xlsx", ".xlsm", ".xls"):
        raise OptionError(f"{p}: --sheet applies to workbooks (.xlsx, .xls), not {suffix or 'this file'}")
    if suffix in (".csv", ".tsv", ".txt"):
        rows, enc = _csv_rows(p, encoding)
        t = _table_from_grid(rows, path=p, sheet=None, encoding=enc, header_row=header_row)
        if t is None:
            raise InputError(f"{p}: table has no cells")
        if t.frame.empty:
            raise InputError(f"{p}: table has a header but no rows")
        return [t]
    if suffix in (".xlsx", ".xlsm", ".xls"):
        out = []
        for name, rows in _excel_sheets(p, sheets).items():
            t = _table_from_grid(rows, path=p, sheet=name, encoding=None, header_row=header_row)
            if t is not None:
                out.append(t)
        if not out:
            raise InputError(f"{p}: every sheet is empty")
        return out
    if suffix == ".dta":
        frame, labels, enc = read_stata(p)
        frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
        return [TableIn(frame=frame.astype(object), path=str(p), encoding=enc, labels=labels)]
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises its own types; all mean "unreadable"
            raise InputError(f"{p}: cannot read Parquet file: {type(exc).__name__}: {exc}") from None
        frame = pd.DataFrame(frame.drop(columns=[c for c in ("geometry",) if c in frame.columns]))
        frame.columns = [str(c) for c in frame.columns]
        frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
        return [TableIn(frame=frame.astype(object), path=str(p))]
    raise InputError(f"{p}: unknown table format {suffix!r}; use .csv, .tsv, .xlsx, .xls, .dta or .parquet")


# --------------------------------------------------------------------------- Stata


def _fix_gbk(text):
    """Old Stata files (format < 118) hold bytes in the writer's code page; pandas reads them as Latin-1.
    Text that re-encodes to valid GB18030 with Chinese characters in it is decoded that way."""
    if not isinstance(text, str) or text.isascii():
        return text, False
    try:
        fixed = text.encode("latin-1").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text, False
    return (fixed, True) if re.search(r"[\u3400-\u9fff]", fixed) else (text, False)


def read_stata(path):
    """(frame, variable labels, encoding) of a Stata ``.dta`` file; value labels become their text."""
    p = check_input_path(path)
    try:
        with pd.io.stata.StataReader(p) as reader:
            frame = reader.read(convert_categoricals=True)
            labels = reader.variable_labels()
            version = getattr(reader, "_format_version", 118)
    except Exception as exc:  # pandas raises ValueError/struct.error on damaged files
        raise InputError(f"{p}: cannot read Stata file: {type(exc).__name__}: {exc}") from None
    encoding = "utf-8" if version >= 118 else "latin-1"
    if version < 118:
        gbk = False
        cols = []
        for c in frame.columns:
            fixed, hit = _fix_gbk(c)
            cols.append(fixed)
            gbk |= hit
        frame.columns = cols
        for c in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[c]):
                values = frame[c].astype(object)
                fixed = [_fix_gbk(v) for v in values]
                if any(h for _, h in fixed):
                    gbk = True
                    frame[c] = pd.Series([v for v, _ in fixed], index=frame.index, dtype=object)
        labels = {_fix_gbk(k)[0]: _fix_gbk(v)[0] for k, v in labels.items()}
        if gbk:
            encoding = "gb18030"
    labels = {str(k): v for k, v in labels.items() if v}
    frame.columns = [str(c) for c in frame.columns]
    return frame, labels, encoding


def write_stata(frame: pd.DataFrame, path, *, labels: dict | None = None):
    """Write ``frame`` (its index as columns) as a Stata 14+ ``.dta`` (UTF-8), atomically."""
    out = frame.reset_index() if frame.index.name or isinstance(frame.index, pd.MultiIndex) else frame.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if _blank(v) else str(v))
    # Stata 14+ names: a letter or _ first, then letters, digits or _, at most 32 characters; pandas would
    # rename others silently, so they are an error here
    bad = [c for c in out.columns if not re.fullmatch(r"[^\W\d]\w{0,31}", str(c))]
    if bad:
        raise SchemaError(f"{path}: column {bad[0]!r} is not a Stata variable name (a letter first, then letters, "
                          "digits or _, at most 32 characters); rename it (e.g. --value-name) or write .csv/.parquet")
    var_labels = {c: str(v)[:80] for c, v in (labels or {}).items() if c in out.columns and v}

    def writer(tmp):
        out.to_stata(tmp, write_index=False, version=118, variable_labels=var_labels or None)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when it renames columns; we check names above
        return atomic_write(path, writer)
