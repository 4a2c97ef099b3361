"""Reports: one self-contained HTML page (figures as embedded images, interactive maps after them) or a
Word document, composed from results.  The only package that composes several results.

* :func:`build_report` — the HTML report (``geo report``);
* :func:`build_docx` — the Word report (``geo report --format docx``);
* :func:`describe` — a result's JSON as a readable section (tables and figures, never a raw dump);
* :class:`Image`, :class:`HTMLPage` — items of a section; :func:`is_geo_page` — pages geo wrote (its marker).
"""

from geo.report._docx import build_docx
from geo.report._html import HTMLPage, build_report, provenance_text, status_text
from geo.report._items import GEO_MARKER, Image, is_geo_page, mark_page
from geo.report._results import describe, fmt_value, readable_title

__all__ = [
    "build_report",
    "build_docx",
    "describe",
    "HTMLPage",
    "Image",
    "GEO_MARKER",
    "is_geo_page",
    "mark_page",
    "provenance_text",
    "status_text",
    "fmt_value",
    "readable_title",
]
