"""The Word report (python-docx): title, provenance box (synthetic data flagged), one section per analysis
with a readable heading, its tables as real Word tables, its figures as pictures with numbered captions.

Interactive maps cannot live in Word: a section holding one gets its static image when the caller gives
one (an :class:`~geo.report.Image` next to it) and a line saying the interactive map is in the HTML report.
All text passes through python-docx, which escapes it: user text stays text.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo._io import check_output_path
from geo.errors import SchemaError
from geo.labels import check_lang, t
from geo.report._html import provenance_text, status_text
from geo.report._items import Image
from geo.tables import PubTable, Row, _docx_fonts, save_docx

__all__ = ["build_docx"]


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _frame_table(document, df: pd.DataFrame, *, max_rows: int = 60) -> None:
    """A DataFrame as a Word table (text cells, header bold); long frames cut with a note."""
    df = pd.DataFrame(df.drop(columns=[c for c in df.columns if c == "geometry"]))
    note = ()
    if len(df) > max_rows:
        note = (f"first {max_rows} of {len(df)} rows",)
        df = df.head(max_rows)
    show_index = not isinstance(df.index, pd.RangeIndex)
    if not show_index:
        first, rest = df.columns[0], list(df.columns[1:])
        labels = df[first].astype(str).tolist()
        cols = rest
    else:
        labels = df.index.astype(str).tolist()
        cols = list(df.columns)
    rows = tuple(Row(lab, tuple("" if pd.isna(v) else str(v) for v in df.loc[idx, cols]), "coef")
                 for lab, idx in zip(labels, df.index))
    table = PubTable("", tuple(str(c) for c in cols), rows, note, "en", "frame")
    table.add_to_docx(document, caption="")
    # the first header cell: the frame's own first column name, not "Variable"
    document.tables[-1].cell(0, 0).paragraphs[0].runs[0].text = str(df.index.name or "") if show_index else str(first)


def _add_item(document, item, *, lang: str, counter: list, html_name: str | None) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    if isinstance(item, list):  # several items of one section
        for x in item:
            _add_item(document, x, lang=lang, counter=counter, html_name=html_name)
        return
    if isinstance(item, Image):
        if item.mime != "image/png":
            return  # Word takes PNG here; SVG figures appear in the HTML report
        document.add_picture(io.BytesIO(item.data), width=Cm(item.width_cm))
        document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        counter[0] += 1
        sep = " " if lang == "zh" else ". "
        p = document.add_paragraph(f"{t('Figure', lang)} {counter[0]}{sep}{item.caption}".rstrip(". "))
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.runs[0].font.size = Pt(9)
        return
    if isinstance(item, PubTable):
        counter[1] += 1
        sep = " " if lang == "zh" else ". "
        item.add_to_docx(document, caption=f"{t('Table', lang)} {counter[1]}{sep}{item.title}".rstrip(". "))
        return
    if isinstance(item, (pd.DataFrame, pd.Series)):
        _frame_table(document, item.to_frame() if isinstance(item, pd.Series) else item)
        return
    if isinstance(item, str):
        for para in item.split("\n\n"):
            document.add_paragraph(para)
        return
    if hasattr(item, "snippet") or hasattr(item, "to_html"):
        where = f" ({html_name})" if html_name else ""
        text = ("交互地图见 HTML 报告" if lang == "zh" else "The interactive map is in the HTML report") + where + "."
        document.add_paragraph(text).runs[0].italic = True
        return
    if hasattr(item, "summary") or hasattr(item, "to_frame"):
        if hasattr(item, "to_frame"):
            _frame_table(document, item.to_frame())
        elif hasattr(item, "summary"):
            document.add_paragraph(item.summary())
        return
    if isinstance(item, dict):
        raise SchemaError("a Word report section cannot hold a raw dict: describe it first (geo.report.describe)")
    raise SchemaError(f"report section of type {type(item).__name__} cannot be written to Word")


def build_docx(
    sections, path, *, title: str, provenance, commands=(), generated: str | None = None, lang: str = "en",
    html_name: str | None = None, skipped=(),
) -> Path:
    """Write the Word report to ``path`` (atomically).  ``sections``: (heading, item or list of items) pairs
    with items as for :func:`build_report` (Images, PubTables, DataFrames, text; maps get a pointer to the
    HTML report ``html_name``)."""
    import docx
    from docx.shared import Pt, RGBColor

    check_lang(lang)
    out = check_output_path(path)
    synthetic, rows = provenance_text(provenance)
    document = docx.Document()
    _docx_fonts(document, lang)
    document.core_properties.title = str(title)
    document.core_properties.author = "geo"
    document.add_heading(str(title), level=0)
    if generated:
        document.add_paragraph(t("generated", lang, when=generated)).runs[0].font.size = Pt(8)
    box = document.add_table(rows=1, cols=1)
    cell = box.cell(0, 0)
    _shade(cell, "FDECEA" if synthetic else "EAF2F8")
    head = cell.paragraphs[0].add_run(f"{t('Provenance', lang)}: {status_text(synthetic, lang)}")
    head.bold = True
    if synthetic:
        head.font.color.rgb = RGBColor(0xB0, 0x20, 0x10)
    for k, v in rows:
        p = cell.add_paragraph()
        p.add_run(f"{k}: ").bold = True
        p.add_run(str(v))
    counter = [0, 0]  # figures, tables
    for n, section in enumerate(sections, 1):
        if isinstance(section, tuple) and len(section) == 2 and isinstance(section[0], str):
            heading, item = section
        else:
            heading, item = f"Section {n}", section
        document.add_heading(str(heading), level=1)
        _add_item(document, item, lang=lang, counter=counter, html_name=html_name)
    skipped = list(skipped or [])
    if skipped:
        document.add_heading(t("skipped", lang), level=1)
        for name, why in skipped:
            document.add_paragraph(f"{name}: {why}", style="List Bullet")
    commands = list(commands or [])
    if commands:
        document.add_heading(t("Commands", lang), level=1)
        for c in commands:
            p = document.add_paragraph()
            r = p.add_run(str(c))
            r.font.name = "Courier New"
            r.font.size = Pt(8)
    return save_docx(document, out)
