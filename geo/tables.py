"""Publication tables (esttab / modelsummary style) to Word, Excel, LaTeX, HTML and Markdown.

Built from the results' documented JSON (``to_json()``, keys in ``docs/methods.md``), never from the
result classes, so a saved ``geo sdm … --json > sdm.json`` is enough and the tables do not depend on how
the estimators are written:

* :func:`models_table` — several fitted models side by side: coefficients with significance stars and
  standard errors (or t/z statistics) beneath, W·x terms after the x terms, ρ/λ, then fixed effects, N, T,
  observations, log-likelihood, AIC and R² (when the JSON has it);
* :func:`impacts_table` — direct, indirect and total impacts of one model, each with SE or interval;
* :func:`radiation_table` — the host and each distance band by estimator (one column per result);
* :func:`compare_table` — a ``geo compare`` result: one row per (weights, model) fit with log-likelihood,
  AIC, BIC, posterior model probability, ρ and λ;
* :func:`table_from_json` — picks one of these from the JSON's keys.

Each returns a :class:`PubTable` (frozen) with ``to_markdown()``, ``to_html()``, ``to_latex()``,
``to_frame()``, ``to_json()``, ``summary()``, ``save(path)`` (``.docx``, ``.xlsx``, ``.tex``, ``.html``, ``.md``
by suffix) and ``add_to_docx(document)``.  User text (variable and model names, titles) is escaped for
each format.  Word tables are real tables in the three-line style (三线表) of Chinese journals.

Why python-docx and openpyxl rather than pandoc or a template: both are pure-Python, well-kept and write
real Word/Excel tables; nothing here needs a program outside Python.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo._io import atomic_write, check_output_path, write_text
from geo._numbers import finite_or_none as _finite
from geo.errors import OptionError, SchemaError, check_choice
from geo.labels import band_label, check_lang, t

__all__ = [
    "PubTable",
    "Row",
    "models_table",
    "impacts_table",
    "radiation_table",
    "compare_table",
    "table_from_json",
    "fmt_estimate",
    "stars",
    "FORMATS",
    "KINDS",
]

FORMATS = ("docx", "xlsx", "tex", "html", "md")
KINDS = ("auto", "models", "impacts", "radiation", "compare")
STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))


def fmt_estimate(x, digits: int = 3) -> str:
    """A number for a table or report: ``digits`` decimals; values too small for them in scientific
    notation (3 significant digits); numerical noise (|x| < 1e-12) as ``~0``; missing as empty."""
    v = _finite(x)
    if v is None:
        return ""
    if v == 0:
        return f"{0:.{digits}f}"
    if abs(v) < 1e-12:
        return "~0"
    if abs(v) < 0.5 * 10.0**-digits:
        return f"{v:.2e}"
    return f"{v:,.{digits}f}"


def stars(p) -> str:
    """``***`` p<0.01, ``**`` p<0.05, ``*`` p<0.10 (empty when p is missing)."""
    v = _finite(p)
    if v is None:
        return ""
    for level, mark in STAR_LEVELS:
        if v < level:
            return mark
    return ""


@dataclass(frozen=True)
class Row:
    """One table row: ``kind`` is ``coef`` (estimates), ``se`` (beneath, in parentheses), ``stat`` (model
    statistics, after a rule) or ``group`` (a sub-heading)."""

    label: str
    cells: tuple
    kind: str = "coef"


@dataclass(frozen=True)
class PubTable:
    title: str
    columns: tuple
    rows: tuple
    notes: tuple = field(default_factory=tuple)
    lang: str = "en"
    kind: str = "models"
    head: str = ""  # the first column's heading (default: "Variable")

    def _head(self) -> str:
        return self.head or t("Variable", self.lang)

    # ----------------------------------------------------------- plain forms
    def to_frame(self) -> pd.DataFrame:
        head = self._head()
        return pd.DataFrame([[r.label, *r.cells] for r in self.rows], columns=[head, *self.columns])

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [{"label": r.label, "cells": list(r.cells), "kind": r.kind} for r in self.rows],
            "notes": list(self.notes),
            "lang": self.lang,
            "head": self._head(),
        }

    def summary(self) -> str:
        frame = self.to_frame()
        widths = [max(len(str(c)), *(len(str(v)) for v in frame[c])) for c in frame.columns]
        line = "  ".join(str(c).ljust(w) for c, w in zip(frame.columns, widths))
        out = ([self.title] if self.title else []) + [line, "-" * len(line)]
        prev = None
        for r in self.rows:
            if r.kind == "stat" and prev != "stat":
                out.append("-" * len(line))
            out.append("  ".join(str(v).ljust(w) for v, w in zip([r.label, *r.cells], widths)))
            prev = r.kind
        out += list(self.notes)
        return "\n".join(out)

    # ----------------------------------------------------------- markdown
    def to_markdown(self) -> str:
        head = [self._head(), *self.columns]
        lines = []
        if self.title:
            lines += [f"**{_md(self.title)}**", ""]
        lines.append("| " + " | ".join(_md(h) for h in head) + " |")
        lines.append("|" + "|".join([":---"] + [":---:"] * len(self.columns)) + "|")
        for r in self.rows:
            label = f"*{_md(r.label)}*" if r.kind == "group" else _md(r.label)
            lines.append("| " + " | ".join([label, *(_md(c) for c in r.cells)]) + " |")
        if self.notes:
            lines += [""] + [_md(n) for n in self.notes]
        return "\n".join(lines) + "\n"

    # ----------------------------------------------------------- html
    def to_html(self, *, standalone: bool = True) -> str:
        esc = _html
        head = "".join(f"<th>{esc(h)}</th>" for h in [self._head(), *self.columns])
        body = []
        prev = None
        for r in self.rows:
            cls = f"geo-{r.kind}" + (" geo-first-stat" if r.kind == "stat" and prev != "stat" else "")
            cells = "".join(f"<td>{esc(c)}</td>" for c in r.cells)
            body.append(f'<tr class="{cls}"><th scope="row">{esc(r.label)}</th>{cells}</tr>')
            prev = r.kind
        notes = "".join(f"<p class=\"geo-table-note\">{esc(n)}</p>" for n in self.notes)
        caption = f"<caption>{esc(self.title)}</caption>" if self.title else ""
        table = (
            f'<table class="geo-pubtable">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{notes}"
        )
        if not standalone:
            return table
        lang = "zh-CN" if self.lang == "zh" else "en"
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{esc(self.title)}</title>'
            f"<style>{TABLE_CSS}</style></head><body>{table}</body></html>\n"
        )

    # ----------------------------------------------------------- latex
    def to_latex(self) -> str:
        """A booktabs table (needs ``\\usepackage{booktabs}``; Chinese text needs ctex or xeCJK)."""
        k = len(self.columns)
        lines = [
            "% geo table: \\usepackage{booktabs}" + (" and ctex (xelatex) for Chinese" if self.lang == "zh" else ""),
            "\\begin{table}[htbp]",
            "\\centering",
        ]
        if self.title:
            lines.append(f"\\caption{{{latex_escape(self.title)}}}")
        lines += [
            f"\\begin{{tabular}}{{l*{{{k}}}{{c}}}}",
            "\\toprule",
            " & ".join([latex_escape(self._head()), *(latex_escape(c) for c in self.columns)]) + " \\\\",
            "\\midrule",
        ]
        prev = None
        for r in self.rows:
            if r.kind == "stat" and prev != "stat":
                lines.append("\\midrule")
            label = f"\\textit{{{latex_escape(r.label)}}}" if r.kind == "group" else latex_escape(r.label)
            cells = [_latex_cell(c) for c in r.cells]
            lines.append(" & ".join([label, *cells]) + " \\\\")
            prev = r.kind
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.notes:
            lines.append("\\par\\smallskip{\\footnotesize " + " ".join(latex_escape(n) for n in self.notes) + "}")
        lines.append("\\end{table}")
        return "\n".join(lines) + "\n"

    # ----------------------------------------------------------- word / excel
    def add_to_docx(self, document, *, caption: str | None = None) -> None:
        """Append this table to a python-docx Document (caption paragraph, three-line table, notes)."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        cap = caption if caption is not None else self.title
        if cap:
            p = document.add_paragraph()
            run = p.add_run(cap)
            run.bold = True
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        head = [self._head(), *self.columns]
        table = document.add_table(rows=1 + len(self.rows), cols=len(head))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for j, h in enumerate(head):
            _cell_text(table.cell(0, j), h, bold=True, center=j > 0)
        for i, r in enumerate(self.rows, start=1):
            _cell_text(table.cell(i, 0), r.label, italic=r.kind == "group")
            for j, c in enumerate(r.cells, start=1):
                _cell_text(table.cell(i, j), c, center=True)
        n = len(self.rows)
        first_stat = next((i for i, r in enumerate(self.rows, start=1) if r.kind == "stat"), None)
        for j in range(len(head)):
            _border(table.cell(0, j), top=12, bottom=6)
            _border(table.cell(n, j), bottom=12)
            if first_stat:
                _border(table.cell(first_stat, j), top=4)
        for note in self.notes:
            p = document.add_paragraph()
            run = p.add_run(note)
            run.font.size = Pt(8)

    def save(self, path, *, format: str | None = None) -> Path:  # noqa: A002 - the usual word
        """Write the table (atomically) as docx, xlsx, tex, html or md (from ``format`` or the suffix)."""
        out = check_output_path(path)
        fmt = (format or out.suffix.lstrip(".")).lower()
        if fmt not in FORMATS:
            raise OptionError(f"table format {fmt!r} (from {out.name}) is not one of {', '.join(FORMATS)}")
        if fmt == "md":
            return write_text(out, self.to_markdown())
        if fmt == "html":
            return write_text(out, self.to_html())
        if fmt == "tex":
            return write_text(out, self.to_latex())
        if fmt == "docx":
            import docx

            document = docx.Document()
            _docx_fonts(document, self.lang)
            self.add_to_docx(document)
            return save_docx(document, out)
        return atomic_write(out, self._write_xlsx)

    def _write_xlsx(self, tmp: Path) -> None:
        import io

        buf = io.BytesIO()
        self._fill_xlsx(buf)
        tmp.write_bytes(fixed_zip(buf.getvalue()))

    def _fill_xlsx(self, target) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Border, Font, Side

        wb = Workbook()
        ws = wb.active
        ws.title = "table"
        row = 1
        if self.title:
            ws.cell(row=1, column=1, value=_xl(self.title)).font = Font(bold=True)
            row = 2
        head = [self._head(), *self.columns]
        thick, thin = Side(style="medium"), Side(style="thin")
        for j, h in enumerate(head, start=1):
            c = ws.cell(row=row, column=j, value=_xl(h))
            c.font = Font(bold=True)
            c.border = Border(top=thick, bottom=thin)
            c.alignment = Alignment(horizontal="center" if j > 1 else "left")
        prev = None
        for r in self.rows:
            row += 1
            for j, v in enumerate([r.label, *r.cells], start=1):
                c = ws.cell(row=row, column=j, value=_xl(v))
                c.alignment = Alignment(horizontal="center" if j > 1 else "left")
                if r.kind == "stat" and prev != "stat":
                    c.border = Border(top=thin)
            prev = r.kind
        for j in range(1, len(head) + 1):
            c = ws.cell(row=row, column=j)
            c.border = Border(top=c.border.top, bottom=thick)
        for note in self.notes:
            row += 1
            ws.cell(row=row, column=1, value=_xl(note)).font = Font(size=8)
        ws.column_dimensions["A"].width = max(14, min(48, max(len(str(r.label)) for r in self.rows) + 2)) if self.rows else 14
        wb.save(target)


TABLE_CSS = """
table.geo-pubtable { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; border-top: 2px solid #222;
  border-bottom: 2px solid #222; }
table.geo-pubtable caption { font-weight: 600; margin-bottom: .3rem; }
table.geo-pubtable thead th { border-bottom: 1px solid #222; padding: 3px 10px; }
table.geo-pubtable td { text-align: center; padding: 1px 10px; }
table.geo-pubtable tbody th { text-align: left; font-weight: 400; padding: 1px 10px; }
table.geo-pubtable tr.geo-se td { color: #444; }
table.geo-pubtable tr.geo-first-stat td, table.geo-pubtable tr.geo-first-stat th { border-top: 1px solid #222; }
table.geo-pubtable tr.geo-group th { font-style: italic; }
.geo-table-note { font-size: .8rem; color: #444; margin: .2rem 0; }
"""


# ------------------------------------------------------------------ escaping

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md(text) -> str:
    """Markdown cell text: HTML-escaped (so ``<script>`` is text) and Markdown punctuation backslashed."""
    s = html.escape(str(text), quote=False).replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _html(text) -> str:
    return html.escape(str(text), quote=True)


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def latex_escape(text) -> str:
    """Text safe in LaTeX: the ten special characters and < > escaped."""
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


def _latex_cell(cell: str) -> str:
    """Numbers with stars as superscripts; everything else escaped."""
    m = re.fullmatch(r"(.*?)(\*{1,3})", str(cell))
    if m and m.group(1):
        return f"{latex_escape(m.group(1))}$^{{{m.group(2)}}}$"
    return latex_escape(cell)


def _xl(value) -> str:
    """A cell value for Excel: text starting with = + - @ would be read as a formula; prefix a quote."""
    s = str(value)
    if s[:1] in ("=", "+", "@") or (s[:1] == "-" and not re.fullmatch(r"-[0-9.,]+(e-?\d+)?\**", s)):
        return "'" + s
    return s


# ------------------------------------------------------------------ word helpers


def _docx_fonts(document, lang: str) -> None:
    """Times New Roman for Latin text; an East-Asian font (宋体) for Chinese (w:eastAsia)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(10.5)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:  # pragma: no cover - python-docx's default template has it
        from docx.oxml import OxmlElement

        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), "宋体" if lang == "zh" else "SimSun")


#: the date written into Word files (core properties and zip entries): fixed, so the same input gives the
#: same bytes (a report's own text carries the date when the caller gives one)
DOCX_DATE = (2000, 1, 1, 0, 0, 0)


def fixed_zip(data: bytes) -> bytes:
    """An Office file (a zip) with fixed dates: zip entries and docProps/core.xml's created/modified."""
    import io
    import zipfile

    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % DOCX_DATE
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rf"\g<1>{stamp}\g<2>", text)
                body = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=DOCX_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, body)
    return out.getvalue()


def save_docx(document, path) -> Path:
    """Write a python-docx Document atomically with fixed dates (same input, same bytes)."""
    import io

    buf = io.BytesIO()
    document.save(buf)
    data = fixed_zip(buf.getvalue())
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _cell_text(cell, text, *, bold=False, italic=False, center=False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    p = cell.paragraphs[0]
    run = p.add_run(str(text))  # python-docx escapes XML: user text stays text
    run.bold = bold
    run.italic = italic
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _border(cell, *, top: int | None = None, bottom: int | None = None) -> None:
    """Set a cell's top/bottom border (eighths of a point); python-docx has no API for borders."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for side, size in (("top", top), ("bottom", bottom)):
        if size is None:
            continue
        el = borders.find(qn(f"w:{side}"))
        if el is None:
            el = OxmlElement(f"w:{side}")
            borders.append(el)
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(int(size)))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")


# ------------------------------------------------------------------ builders


def _est(block: dict | None, digits: int) -> tuple[str, str, str]:
    """(estimate with stars, SE text, t text) from {"estimate", "se", "z"|"t", "p"}."""
    if not isinstance(block, dict):
        return "", "", ""
    est = _finite(block.get("estimate"))
    se = _finite(block.get("se"))
    stat = _finite(block.get("z", block.get("t")))
    if stat is None and est is not None and se:
        stat = est / se
    p = block.get("p")
    return (
        (fmt_estimate(est, digits) + stars(p)) if est is not None else "",
        f"({fmt_estimate(se, digits)})" if se is not None else "",
        f"[{fmt_estimate(stat, 2)}]" if stat is not None else "",
    )


def _check_result(obj, what: str, keys) -> dict:
    if not isinstance(obj, dict):
        raise SchemaError(f"{what}: expected a result's JSON object, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise SchemaError(f"{what}: no key {missing[0]!r} (is it the --json output of geo sdm / geo radiation?)")
    return obj


def _model_name(res: dict, i: int) -> str:
    model = str(res.get("model", f"({i + 1})")).upper()
    return f"({i + 1}) {model}"


def _term_label(name: str) -> str:
    return f"W·{name[2:]}" if name.startswith("W_") else name


def _test_cell(block) -> str:
    """ "statistic [p]" of a test's JSON ({statistic, df, p}); empty when absent."""
    if not isinstance(block, dict) or _finite(block.get("statistic")) is None:
        return ""
    p = _finite(block.get("p"))
    ptxt = "" if p is None else (" [<0.001]" if p < 0.001 else f" [{p:.3f}]")
    return fmt_estimate(block.get("statistic"), 2) + ptxt


def models_table(
    results, *, names=None, stat: str = "se", digits: int = 3, lang: str = "en", title: str | None = None
) -> PubTable:
    """Several models side by side from their JSON (``DurbinResult.to_json()``: ``coefficients``, ``rho`` or
    ``lambda``, ``effects``, ``n``, ``t``, ``loglik``, ``aic``, optional ``r2``/``pseudo_r2``)."""
    check_lang(lang)
    check_choice("stat", stat, ("se", "t"))
    results = list(results)
    if not results:
        raise OptionError("models_table needs at least one result")
    for i, r in enumerate(results):
        _check_result(r, f"result {i + 1}", ("coefficients",))
    names = list(names) if names else [_model_name(r, i) for i, r in enumerate(results)]
    if len(names) != len(results):
        raise OptionError(f"{len(names)} names for {len(results)} results")
    terms: list[str] = []
    for r in results:
        for name in r["coefficients"]:
            if name not in terms:
                terms.append(str(name))
    terms = [x for x in terms if not x.startswith("W_")] + [x for x in terms if x.startswith("W_")]
    rows = []
    for term in terms:
        ests, beneath = [], []
        for r in results:
            e, se, tt = _est(r["coefficients"].get(term), digits)
            ests.append(e)
            beneath.append(se if stat == "se" else tt)
        rows.append(Row(_term_label(term), tuple(ests)))
        rows.append(Row("", tuple(beneath), "se"))
    # spatial parameters: rho, lambda (SAC/GNS), and the dynamic panel's tau (y_{t-1}) and eta (W y_{t-1})
    for key in ("rho", "lambda", "tau", "eta"):
        label = t(key, lang)
        if any(isinstance(r.get(key), dict) for r in results):
            ests, beneath = [], []
            for r in results:
                e, se, tt = _est(r.get(key) if isinstance(r.get(key), dict) else None, digits)
                ests.append(e)
                beneath.append(se if stat == "se" else tt)
            rows.append(Row(label, tuple(ests)))
            rows.append(Row("", tuple(beneath), "se"))

    def stat_row(label, fn):
        cells = tuple(fn(r) for r in results)
        if any(c != "" for c in cells):
            rows.append(Row(label, cells, "stat"))

    def effects(r):
        e = r.get("effects")
        return "" if e is None else (t(e, lang) if e in ("twoways", "individual", "time", "none", "random") else str(e))

    def integer(v):
        v = _finite(v)
        return "" if v is None else f"{int(round(v)):,}"

    any_random = any(r.get("effects") == "random" for r in results)
    stat_row(t("Effects" if any_random else "Fixed effects", lang), effects)
    stat_row("N", lambda r: integer(r.get("n")))
    stat_row("T", lambda r: integer(r.get("t")))
    stat_row(t("Observations", lang), lambda r: integer(_finite(r.get("n")) * _finite(r.get("t")))
             if _finite(r.get("n")) is not None and _finite(r.get("t")) is not None else integer(r.get("n_obs")))
    stat_row(t("Log-likelihood", lang), lambda r: fmt_estimate(r.get("loglik"), 1))
    stat_row(t("AIC", lang), lambda r: fmt_estimate(r.get("aic"), 1))
    stat_row(t("R2", lang), lambda r: fmt_estimate(r.get("r2"), 3))
    stat_row(t("Pseudo R2", lang), lambda r: fmt_estimate(r.get("pseudo_r2"), 3))
    # random effects: the variance ratio, the unit-effect variance and the Hausman test against fixed effects
    stat_row(t("phi", lang), lambda r: fmt_estimate(r.get("phi"), digits))
    stat_row(t("sigma2_mu", lang), lambda r: fmt_estimate(r.get("sigma2_mu"), digits))
    stat_row(t("Hausman", lang), lambda r: _test_cell(r.get("hausman")))
    # dynamic panels: whether the process is stable (spectral radius of (I - rho W)^-1 (tau I + eta W) < 1)
    stat_row(t("Stable", lang), lambda r: "" if not r.get("dynamic") or r.get("stable") is None
             else t("yes" if r.get("stable") else "no", lang))
    notes = [t("stars_note" if stat == "se" else "t_note", lang)]
    ys = sorted({str(r.get("y")) for r in results if r.get("y")})
    if ys:
        notes.append(("因变量：" if lang == "zh" else "Dependent variable: ") + ", ".join(ys))
    return PubTable(title or "", tuple(names), tuple(rows), tuple(notes), lang, "models")


def impacts_table(result, *, interval: bool = False, digits: int = 3, lang: str = "en",
                  title: str | None = None) -> PubTable:
    """Direct, indirect and total impacts per variable (``impacts`` of a model's JSON, or an ``impacts``
    mapping itself; a radiation result's ``spatial_did`` works too), each with its SE (or interval)."""
    check_lang(lang)
    impacts = result.get("impacts") if isinstance(result, dict) and "impacts" in result else None
    if impacts is None and isinstance(result, dict) and {"direct", "indirect", "total"} <= set(result):
        impacts = {str(result.get("zone_dummy", "effect")): result}
    if impacts is None and isinstance(result, dict) and isinstance(result.get("spatial_did"), dict):
        sd = result["spatial_did"]
        impacts = {str(sd.get("zone_dummy", "zone")): sd}
    if not isinstance(impacts, dict) or not impacts:
        raise SchemaError("impacts: the JSON has no 'impacts' (fit the model with impacts, e.g. geo sdm … --json)")
    parts = ("direct", "indirect", "total")
    rows = []
    level = None
    # a dynamic panel (geo sdm --dynamic): short-run impacts, then long-run impacts, each under a sub-heading
    long_run = result.get("impacts_long_run") if isinstance(result, dict) and result.get("dynamic") else None
    blocks = [(t("Short run", lang), impacts), (t("Long run", lang), long_run)] if isinstance(long_run, dict) \
        and long_run else [(None, impacts)]
    for heading, group in blocks:
        if heading is not None:
            rows.append(Row(heading, ("",) * len(parts), "group"))
        for var, block in group.items():
            if not isinstance(block, dict) or not all(isinstance(block.get(p), dict) for p in parts):
                raise SchemaError(f"impacts of {var!r}: expected direct, indirect and total with estimate and se")
            ests, beneath = [], []
            for p in parts:
                b = block[p]
                e, se, _tt = _est(b, digits)
                ests.append(e)
                lo, hi = _finite(b.get("lower")), _finite(b.get("upper"))
                if interval and lo is not None and hi is not None:
                    beneath.append(f"[{fmt_estimate(lo, digits)}, {fmt_estimate(hi, digits)}]")
                    level = b.get("level", 0.95)
                else:
                    beneath.append(se)
            rows.append(Row(_term_label(str(var)), tuple(ests)))
            rows.append(Row("", tuple(beneath), "se"))
    notes = [t("stars_note", lang)] if not interval else [t("ci_note", lang, level=f"{100 * float(level or 0.95):g}")]
    if isinstance(result, dict) and result.get("impacts_inference"):
        notes.append(str(result["impacts_inference"]))
    columns = tuple(t(x, lang) for x in ("Direct", "Indirect", "Total"))
    return PubTable(title or t("Impacts", lang), columns, tuple(rows), tuple(notes), lang, "impacts")


def _bands_of(res: dict) -> list[dict]:
    bands = res.get("bands")
    if not isinstance(bands, list) or not all(isinstance(b, dict) and "band" in b for b in bands):
        raise SchemaError("radiation: no 'bands' list of records with 'band', 'estimate', 'se', 'p' "
                          "(is it the --json output of geo radiation?)")
    return bands


#: column names for the radiation estimators' ``method`` keys
_METHODS = {
    "twfe": "TWFE",
    "stacked": "Stacked DID",
    "imputation": "Imputation (BJS)",
    "cs": "Callaway-Sant'Anna",
    "spatial_did": "Spatial DID",
}


def radiation_table(results, *, names=None, digits: int = 3, lang: str = "en", title: str | None = None) -> PubTable:
    """The host and each distance band (rows) by estimator (columns), from radiation JSON (``bands``)."""
    check_lang(lang)
    results = list(results)
    if not results:
        raise OptionError("radiation_table needs at least one result")
    if names:
        names = list(names)
    else:
        names = [_METHODS.get(str(r.get("method")), str(r.get("method") or f"({i + 1})")) for i, r in enumerate(results)]
    if len(names) != len(results):
        raise OptionError(f"{len(names)} names for {len(results)} results")
    order: list[str] = []
    by_res = []
    for r in results:
        recs = {str(b["band"]): b for b in _bands_of(r)}
        by_res.append(recs)
        for b in recs:
            if b not in order:
                order.append(b)
    rows = []
    for band in order:
        ests, beneath = [], []
        for recs in by_res:
            e, se, _tt = _est(recs.get(band), digits)
            ests.append(e)
            beneath.append(se)
        rows.append(Row(band_label(band, lang), tuple(ests)))
        rows.append(Row("", tuple(beneath), "se"))

    def stat_row(label, key):
        cells = tuple("" if _finite(r.get(key)) is None else f"{int(r[key]):,}" for r in results)
        if any(cells):
            rows.append(Row(label, cells, "stat"))

    stat_row(t("Observations", lang), "n_obs")
    stat_row("N", "n_units")
    notes = [t("stars_note", lang)]
    ys = sorted({str(r.get("y")) for r in results if r.get("y")})
    if ys:
        notes.append(("因变量：" if lang == "zh" else "Dependent variable: ") + ", ".join(ys))
    if any(r.get("synthetic_data") for r in results):
        notes.append(t("synthetic", lang))
    return PubTable(title or t("Radiation", lang), tuple(names), tuple(rows), tuple(notes), lang, "radiation")


def compare_table(result, *, digits: int = 3, lang: str = "en", title: str | None = None) -> PubTable:
    """One row per fit of a comparison (``geo compare --json``: ``fits``): weights (row label), model,
    log-likelihood, AIC, BIC, posterior model probability and the spatial parameters ρ and λ with stars; the
    LR tests between nested forms and the comparison's conventions as notes."""
    check_lang(lang)
    if not isinstance(result, dict) or not isinstance(result.get("fits"), list) or not result["fits"]:
        raise SchemaError("compare: no 'fits' list (is it the --json output of geo compare?)")
    fits = result["fits"]
    for i, f in enumerate(fits):
        _check_result(f, f"fit {i + 1}", ("weights", "model", "loglik"))
    has_lambda = any(isinstance(f.get("lambda"), dict) for f in fits)
    columns = [t("Model", lang), t("Log-likelihood", lang), t("AIC", lang), t("BIC", lang),
               t("Posterior probability", lang), t("rho", lang)] + ([t("lambda", lang)] if has_lambda else [])

    def prob(v):
        v = _finite(v)
        if v is None:
            return ""
        return "<0.001" if 0 < v < 0.0005 else f"{v:.3f}"

    rows = []
    for f in fits:
        cells = [str(f["model"]).upper(), fmt_estimate(f.get("loglik"), 1), fmt_estimate(f.get("aic"), 1),
                 fmt_estimate(f.get("bic"), 1), prob(f.get("posterior_probability")),
                 _est(f.get("rho"), digits)[0]]
        if has_lambda:
            cells.append(_est(f.get("lambda"), digits)[0])
        rows.append(Row(str(f["weights"]), tuple(cells)))
    notes = []
    for test in result.get("lr_tests") or []:
        if isinstance(test, dict) and _finite(test.get("statistic")) is not None:
            p = _finite(test.get("p"))
            notes.append(f"LR {test.get('weights')}: {str(test.get('full')).upper()} vs "
                         f"{str(test.get('restricted')).upper()} ({test.get('restriction')}): "
                         f"{fmt_estimate(test['statistic'], 2)}, df {test.get('df')}, "
                         f"p {'<0.001' if p is not None and p < 0.001 else fmt_estimate(p, 3)}")
    if result.get("posterior_convention"):
        notes.append(f"{t('Posterior probability', lang)}: {result['posterior_convention']}")
    notes += [str(n) for n in result.get("notes") or []]
    notes.append(t("stars_only", lang))
    if result.get("y"):
        notes.append(("因变量：" if lang == "zh" else "Dependent variable: ") + str(result["y"]))
    return PubTable(title or t("Comparison", lang), tuple(columns), tuple(rows), tuple(notes), lang, "compare",
                    head=t("Weights", lang))


def table_from_json(objs, *, kind: str = "auto", names=None, stat: str = "se", digits: int = 3, lang: str = "en",
                    title: str | None = None, interval: bool = False) -> PubTable:
    """A table from one or several results' JSON: ``kind`` models, impacts, radiation or auto (from the keys)."""
    check_choice("kind", kind, KINDS)
    objs = list(objs) if isinstance(objs, (list, tuple)) else [objs]
    if not objs:
        raise OptionError("no results given")
    if kind == "auto":
        first = objs[0]
        if not isinstance(first, dict):
            raise SchemaError("a result's JSON must be an object")
        if "bands" in first:
            kind = "radiation"
        elif isinstance(first.get("fits"), list):
            kind = "compare"
        elif "coefficients" in first:
            kind = "models"
        elif "impacts" in first or {"direct", "indirect", "total"} <= set(first):
            kind = "impacts"
        else:
            raise SchemaError(
                f"cannot tell which table to make from keys {', '.join(list(first)[:8])}: give --kind models, "
                "impacts or radiation"
            )
    if kind == "models":
        return models_table(objs, names=names, stat=stat, digits=digits, lang=lang, title=title)
    if kind == "radiation":
        return radiation_table(objs, names=names, digits=digits, lang=lang, title=title)
    if kind == "compare":
        if len(objs) != 1:
            raise OptionError("a comparison table is made from one geo compare result")
        return compare_table(objs[0], digits=digits, lang=lang, title=title)
    if len(objs) != 1:
        raise OptionError("an impacts table is made from one result")
    return impacts_table(objs[0], interval=interval, digits=digits, lang=lang, title=title)
