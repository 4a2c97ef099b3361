"""geo report: one self-contained HTML report (or a Word document) from the results folder of a run.

The results folder (``--results DIR``) holds what the run's commands wrote:

* ``*.html`` — maps written by ``geo map … --out DIR/name.html`` (embedded as sandboxed iframes; only pages
  geo wrote, recognised by the marker geo writes into them: other pages are skipped and listed);
* ``*.png`` / ``*.svg`` — print maps and figures (``geo map … --format png``, ``geo figure …``), embedded as
  images; a figure with the same name as a map (``lisa.png`` and ``lisa.html``) comes first, the
  interactive map after it;
* ``*.json`` — results printed with ``--json`` and saved, e.g. ``geo radiation … --json > DIR/bands.json``
  (shown as tables and figures: models side by side, impacts, bands, event study, never the raw JSON);
* ``*.csv`` — per-unit tables written with ``--out DIR/name.csv`` (first 500 rows);
* ``provenance.json`` (optional) — ``{"synthetic": true|false, "title": …, "sources": […], "description": …}``;
* ``commands.txt`` (optional) — the commands of the run, one per line.

Sections follow the file names in sorted order (prefix them 01_, 02_, … to choose the order); headings come
from the results (e.g. "Spatial Durbin model (panel): y") or the file name made readable.
"""

import click

from geo.cli.options import emit, json_option
from geo.cli.paths import InputDir, OutputPath
from geo.errors import InputError, OptionError

_SPECIAL = ("provenance.json", "commands.txt")
_IMAGES = {".png": "image/png", ".svg": "image/svg+xml"}


@click.command(name="report")
@click.option("--results", "results_dir", metavar="DIR", type=InputDir(), required=True,
              help="Folder of the run's outputs: *.html maps, *.png/*.svg figures, *.json results, *.csv tables, "
              "optional provenance.json and commands.txt.")
@click.option("--out", "out_path", metavar="FILE", type=OutputPath(), required=True,
              help="The report: FILE.html (one self-contained page) or FILE.docx (Word).")
@click.option("--format", "fmt", type=click.Choice(["html", "docx"]), default=None,
              help="Report kind (default: from --out's suffix, else html).")
@click.option("--title", default=None, help="Report title (default: provenance.json's title, else the folder name).")
@click.option("--synthetic/--real", "synthetic", default=None,
              help="State that the data are synthetic / real (overrides provenance.json).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the labels the report writes (headings, captions, tables).")
@json_option
def command(results_dir, out_path, fmt, title, synthetic, lang, as_json):
    """Bundle the maps, figures and results of a run into one report (HTML that opens offline, or Word).

    Example: geo report --results results/ --out report.html
    """
    import json
    from pathlib import Path

    from geo._io import read_table, write_text
    from geo.report import HTMLPage, Image, build_docx, build_report, describe, is_geo_page, readable_title

    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    out = Path(out_path).resolve()
    suffix = out.suffix.lower().lstrip(".")
    fmt = fmt or ("docx" if suffix == "docx" else "html")
    if suffix and suffix != fmt and suffix in ("html", "docx"):
        raise OptionError(f"--out {out_path} does not end in .{fmt} (--format {fmt})")
    prov_file = folder / "provenance.json"
    provenance = {}
    if prov_file.exists():
        try:
            provenance = json.loads(prov_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{prov_file}: not valid JSON ({exc})") from None
        if not isinstance(provenance, dict):
            raise InputError(f"{prov_file}: must hold a JSON object such as {{\"synthetic\": true}}")
    if synthetic is not None:
        provenance["synthetic"] = synthetic
    title = title or provenance.pop("title", None) or folder.resolve().name
    provenance.pop("title", None)
    commands = []
    cmd_file = folder / "commands.txt"
    if cmd_file.exists():
        try:
            commands = [ln.rstrip() for ln in cmd_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except UnicodeDecodeError as exc:
            raise InputError(f"{cmd_file}: not UTF-8 text ({exc.reason})") from None

    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.name not in _SPECIAL and p.resolve() != out)
    stems_with_map = {p.stem for p in files if p.suffix.lower() == ".html"}
    sections, used, skipped = [], [], []
    pending_images: dict[str, list] = {}
    for path in files:
        suffix = path.suffix.lower()
        if suffix in _IMAGES:
            image = Image(path.read_bytes(), readable_title(path.stem), _IMAGES[suffix])
            if path.stem in stems_with_map:  # shown with its map, before the interactive version
                pending_images.setdefault(path.stem, []).append(image)
            else:
                sections.append((readable_title(path.stem), image))
            used.append(path.name)
        elif suffix == ".html":
            try:
                page = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                skipped.append((path.name, "not UTF-8 text, so not a page geo wrote"))
                continue
            if not is_geo_page(page):
                why = ("不是 geo 写的页面（无 geo 标记）" if lang == "zh"
                       else "not written by geo (no geo marker); not embedded")
                skipped.append((path.name, why))
                continue
            sections.append((readable_title(path.stem), [HTMLPage(page, title=path.stem)]))
            used.append(path.name)
        elif suffix == ".json":
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: not valid JSON ({exc})") from None
            sections.append(describe(obj, stem=path.stem, lang=lang))
            used.append(path.name)
        elif suffix == ".csv":
            sections.append((readable_title(path.stem), read_table(path)))
            used.append(path.name)
    # each map's static image goes first, the interactive map after it
    for i, (heading, item) in enumerate(sections):
        if isinstance(item, list) and item and isinstance(item[0], HTMLPage):
            sections[i] = (heading, pending_images.get(item[0].title, []) + item)
    if not sections:
        why = "; ".join(f"skipped {name}: {reason}" for name, reason in skipped[:3])
        raise InputError(f"{folder}: no *.html, *.png, *.svg, *.json or *.csv results to report"
                         + (f" ({why})" if why else ""))
    prov = provenance or "not stated"
    if fmt == "docx":
        build_docx(sections, out, title=title, provenance=prov, commands=commands, lang=lang, skipped=skipped,
                   html_name="report.html")
        size = out.stat().st_size
    else:
        text = build_report(sections, title=title, provenance=prov, commands=commands, lang=lang, skipped=skipped)
        write_text(out, text)
        size = len(text.encode("utf-8"))

    class _Done:
        def to_json(self):
            return {"out": str(out_path), "format": fmt, "sections": used, "skipped": [n for n, _ in skipped],
                    "bytes": size}

        def summary(self):
            lines = [f"report with {len(used)} sections written to {out_path} ({size / 1e6:.2f} MB)"]
            lines += [f"  skipped {n}: {why}" for n, why in skipped]
            return "\n".join(lines)

    emit(_Done(), as_json)
