"""One self-contained HTML report: maps and result tables, data provenance, the commands that made it.

The only module that composes several results.  Everything user-supplied (titles, headings,
table cells, commands, provenance text) is HTML-escaped; maps are embedded as ``<iframe srcdoc>``
(escaped) with ``sandbox="allow-scripts"`` (the map's script runs in an opaque origin and cannot reach
the report), so each map keeps its own scripts and styles and the report needs no network.  Figures
(:class:`geo.report.Image`) are ``<img>`` with a data URI, so copy/paste and pandoc keep them.

What a section can be (``sections`` is a list of these, or of ``(heading, item)`` pairs):

* a :class:`geo.viz.MapResult` (or an object with ``snippet()``) -> the map in an iframe;
* a :class:`geo.report.Image` -> the figure with its caption;
* a :class:`geo.tables.PubTable` -> the publication table;
* a list of these -> each in turn;
* a pandas DataFrame or Series -> a table;
* a result object with ``to_frame()`` (and optionally ``summary()``) -> its summary text and table;
* a result object with ``summary()`` only -> its text;
* a ``dict`` (e.g. ``result.to_json()``) -> a table of its scalar entries and of its lists of records;
* a ``str`` -> a paragraph of text;
* an :class:`HTMLPage` (a finished HTML page, e.g. a saved map) -> an iframe;
* any other object with ``to_html()`` -> its HTML in a sandboxed iframe (no scripts run).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from geo.errors import SchemaError
from geo.labels import check_lang, t
from geo.report._items import GEO_MARKER, Image
from geo.tables import TABLE_CSS, PubTable

__all__ = ["build_report", "HTMLPage", "provenance_text", "status_text"]


@dataclass(frozen=True)
class HTMLPage:
    """A finished HTML page (e.g. a map written by ``geo map``) to embed as an iframe."""

    html: str
    title: str = "map"
    height: int = 600
    sandbox: bool = False  # True: no scripts run inside (for pages we did not make)

    def snippet(self, *, height: int | None = None) -> str:
        h = int(height or self.height)
        # geo's own pages run their script in an opaque origin (no allow-same-origin): it cannot reach the report
        sandbox = ' sandbox=""' if self.sandbox else ' sandbox="allow-scripts"'
        return (
            f'<iframe class="geo-map" title="{_esc(self.title)}"{sandbox} '
            f'srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width:100%;height:{h}px;border:1px solid #ccc" loading="lazy"></iframe>'
        )


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
.geo-meta { color: #666; font-size: .85rem; }
.geo-provenance { border-left: 4px solid #2b8cbe; background: #f4f8fb; padding: .6rem 1rem; margin: 1rem 0; }
.geo-provenance.geo-synthetic { border-left-color: #d7301f; background: #fdf3f0; }
.geo-provenance strong { font-size: 1rem; }
table.geo-table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
table.geo-table th, table.geo-table td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
table.geo-table th { background: #f5f5f5; }
table.geo-table td:first-child, table.geo-table th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; font-size: .82rem; }
figure.geo-figure { margin: 1rem 0; } figure.geo-figure img { max-width: 100%; height: auto; }
figure.geo-figure figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
.geo-skipped { color: #8a4b00; }
.geo-table-wrap { overflow-x: auto; max-height: 600px; overflow-y: auto; }
"""


def _fmt_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}"
    return str(v)


def _frame_html(df: pd.DataFrame, *, max_rows: int = 500) -> str:
    """A table with every header and cell escaped (pandas' own to_html escapes too; we control the format)."""
    if isinstance(df, pd.Series):
        df = df.to_frame()
    note = ""
    if len(df) > max_rows:
        note = f'<p class="geo-meta">first {max_rows} of {len(df)} rows</p>'
        df = df.head(max_rows)
    df = pd.DataFrame(df.drop(columns=[c for c in df.columns if c == "geometry"]))
    index_name = df.index.name if df.index.name is not None else ""
    show_index = not isinstance(df.index, pd.RangeIndex)
    head = "".join(f"<th>{_esc(c)}</th>" for c in ([index_name] if show_index else []) + list(df.columns))
    body = []
    for idx, row in zip(df.index, df.itertuples(index=False)):
        cells = ([f"<td>{_esc(_fmt_cell(idx))}</td>"] if show_index else []) + [f"<td>{_esc(_fmt_cell(v))}</td>" for v in row]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'{note}<div class="geo-table-wrap"><table class="geo-table"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div>'
    )


def _dict_html(d: dict) -> str:
    scalars = {k: v for k, v in d.items() if not isinstance(v, (dict, list, tuple))}
    parts = []
    if scalars:
        keys = pd.Index(list(scalars), name="key")
        parts.append(_frame_html(pd.DataFrame({"value": [_fmt_cell(v) for v in scalars.values()]}, index=keys)))
    for k, v in d.items():
        if isinstance(v, dict):
            parts.append(f"<h3>{_esc(k)}</h3>" + _dict_html(v))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(r, dict) for r in v):
            flat = [{kk: (vv if not isinstance(vv, (dict, list)) else str(vv)) for kk, vv in r.items()} for r in v]
            parts.append(f"<h3>{_esc(k)}</h3>" + _frame_html(pd.DataFrame(flat)))
        elif isinstance(v, (list, tuple)):
            parts.append(f"<h3>{_esc(k)}</h3><p>{_esc(', '.join(_fmt_cell(x) for x in v))}</p>")
    return "".join(parts)


def _item_html(item, *, lang: str = "en", counter=None) -> str:
    if isinstance(item, list):  # several items of one section
        return "".join(_item_html(x, lang=lang, counter=counter) for x in item)
    if isinstance(item, Image):
        n = counter.next_figure() if counter else 0
        label = f"{t('Figure', lang)} {n}" + ("" if lang == "zh" else ".") if n else ""
        cap = f"{label} {item.caption}".strip()
        return (f'<figure class="geo-figure"><img alt="{_esc(item.caption or label)}" src="{item.data_uri()}">'
                f"<figcaption>{_esc(cap)}</figcaption></figure>")
    if isinstance(item, PubTable):
        return item.to_html(standalone=False)
    if isinstance(item, str):
        return f"<pre>{_esc(item)}</pre>" if "\n" in item else f"<p>{_esc(item)}</p>"
    if isinstance(item, (pd.DataFrame, pd.Series)):
        return _frame_html(item)
    if hasattr(item, "snippet"):
        heading = f'<p class="geo-meta">{_esc(t("Interactive map", lang))}</p>'
        return heading + item.snippet()
    if isinstance(item, dict):
        return _dict_html(item)
    parts = []
    if hasattr(item, "summary"):
        parts.append(f"<pre>{_esc(item.summary())}</pre>")
    if hasattr(item, "to_frame"):
        parts.append(_frame_html(item.to_frame()))
    if parts:
        return "".join(parts)
    if hasattr(item, "to_html"):  # someone else's HTML: shown in a sandbox where no script runs
        return HTMLPage(str(item.to_html()), title="table", height=400, sandbox=True).snippet()
    raise SchemaError(
        f"report section of type {type(item).__name__} cannot be shown: give a map, a DataFrame, "
        "a result with to_frame()/summary(), a dict or text"
    )


def provenance_text(provenance) -> tuple[bool | None, list[tuple[str, str]]]:
    """(synthetic flag, (label, text) rows) from a provenance mapping or text."""
    if isinstance(provenance, str):
        return None, [("source", provenance)]
    if not isinstance(provenance, dict):
        raise SchemaError("provenance must be a dict (with key 'synthetic': true/false) or text")
    synthetic = provenance.get("synthetic")
    if synthetic is not None and not isinstance(synthetic, bool):
        raise SchemaError(f"provenance['synthetic'] must be true or false, not {synthetic!r}")
    rows = []
    for k, v in provenance.items():
        if k == "synthetic":
            continue
        if isinstance(v, (list, tuple)):
            v = "; ".join(map(str, v))
        rows.append((str(k), str(v)))
    return synthetic, rows


class _Counter:
    def __init__(self):
        self.figures = 0

    def next_figure(self) -> int:
        self.figures += 1
        return self.figures


def status_text(synthetic, lang: str = "en") -> str:
    key = "status_synthetic" if synthetic is True else "status_real" if synthetic is False else "status_unknown"
    return t(key, lang)


def build_report(
    sections, *, title: str, provenance, commands=(), generated: str | None = None, lang: str = "en", skipped=(),
) -> str:
    """The report as one HTML string (no network needed to open it).

    ``provenance``: a dict whose key ``synthetic`` (True/False) says whether the data are real;
    its other keys (e.g. ``sources``, ``description``) are listed; or plain text (then the report
    says real vs synthetic was not stated).  ``commands``: the command lines that produced the
    results, shown verbatim.  ``generated``: a timestamp text (default: now, UTC; pass a fixed
    value for byte-identical reports).  ``lang``: the language of the labels the report writes.
    ``skipped``: (file, reason) pairs listed at the end (pages not embedded).
    """
    check_lang(lang)
    synthetic, rows = provenance_text(provenance)
    status = status_text(synthetic, lang)
    cls = "geo-provenance geo-synthetic" if synthetic else "geo-provenance"
    prov = "".join(f"<div><b>{_esc(k)}:</b> {_esc(v)}</div>" for k, v in rows)
    when = generated if generated is not None else datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">{GEO_MARKER}',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}{TABLE_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="geo-meta">{_esc(t("generated", lang, when=when))}</p>',
        f'<section class="{cls}" id="provenance"><strong>{_esc(status)}</strong>{prov}</section>',
    ]
    counter = _Counter()
    for n, section in enumerate(sections, 1):
        if isinstance(section, tuple) and len(section) == 2 and isinstance(section[0], str):
            heading, item = section
        else:
            heading, item = getattr(section, "title", None) or f"Section {n}", section
        body = _item_html(item, lang=lang, counter=counter)
        out.append(f'<section class="geo-section"><h2>{_esc(heading)}</h2>{body}</section>')
    skipped = list(skipped or [])
    if skipped:
        items = "".join(f"<li><code>{_esc(name)}</code>: {_esc(why)}</li>" for name, why in skipped)
        out.append(f'<section id="skipped" class="geo-skipped"><h2>{_esc(t("skipped", lang))}</h2><ul>{items}</ul></section>')
    commands = list(commands or [])
    if commands:
        out.append(f'<section id="commands"><h2>{_esc(t("Commands", lang))}</h2><pre>'
                   + _esc("\n".join(map(str, commands))) + "</pre></section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
