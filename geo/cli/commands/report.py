"""geo report: one self-contained HTML report from the results folder of a run.

The results folder (``--results DIR``) holds what the run's commands wrote:

* ``*.html`` — maps written by ``geo map … --out DIR/name.html`` (embedded as iframes);
* ``*.json`` — results printed with ``--json`` and saved, e.g. ``geo radiation … --json > DIR/bands.json``
  (shown as tables: scalar entries, then each list of records);
* ``*.csv`` — per-unit tables written with ``--out DIR/name.csv`` (first 500 rows);
* ``provenance.json`` (optional) — ``{"synthetic": true|false, "title": …, "sources": […], "description": …}``;
* ``commands.txt`` (optional) — the commands of the run, one per line.

Sections follow the file names in sorted order (prefix them 01_, 02_, … to choose the order).
"""

import click

from geo.cli.paths import InputDir, OutputPath
from geo.cli.options import emit, json_option

_SPECIAL = ("provenance.json", "commands.txt")


@click.command(name="report")
@click.option("--results", "results_dir", metavar="DIR", type=InputDir(), required=True,
              help="Folder of the run's outputs: *.html maps, *.json results, *.csv tables, "
              "optional provenance.json and commands.txt.")
@click.option("--out", "out_path", metavar="FILE.html", type=OutputPath(), required=True,
              help="The report: one self-contained HTML file.")
@click.option("--title", default=None, help="Report title (default: provenance.json's title, else the folder name).")
@click.option("--synthetic/--real", "synthetic", default=None,
              help="State that the data are synthetic / real (overrides provenance.json).")
@json_option
def command(results_dir, out_path, title, synthetic, as_json):
    """Bundle the maps and results of a run into one HTML report (opens offline).

    Example: geo report --results results/ --out report.html
    """
    import json
    from pathlib import Path

    from geo._io import read_table, write_text
    from geo.errors import InputError
    from geo.report import HTMLPage, build_report

    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    out = Path(out_path).resolve()
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
        commands = [ln.rstrip() for ln in cmd_file.read_text(encoding="utf-8").splitlines() if ln.strip()]

    sections = []
    used = []
    for path in sorted(folder.iterdir()):
        if path.name in _SPECIAL or path.name.startswith(".") or path.resolve() == out or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".html":
            try:
                page = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}: not UTF-8 text ({exc.reason}); save the page as UTF-8") from None
            sections.append((path.stem, HTMLPage(page, title=path.stem)))
        elif suffix == ".json":
            try:
                obj = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: not valid JSON ({exc})") from None
            sections.append((path.stem, obj if isinstance(obj, dict) else {"value": obj}))
        elif suffix == ".csv":
            sections.append((path.stem, read_table(path)))
        else:
            continue
        used.append(path.name)
    if not sections:
        raise InputError(f"{folder}: no *.html, *.json or *.csv results to report")
    text = build_report(sections, title=title, provenance=provenance or "not stated", commands=commands)
    write_text(out, text)

    class _Done:
        def to_json(self):
            return {"out": str(out_path), "sections": used, "bytes": len(text.encode("utf-8"))}

        def summary(self):
            return f"report with {len(used)} sections written to {out_path} ({len(text.encode('utf-8')) / 1e6:.2f} MB)"

    emit(_Done(), as_json)
