"""geo table: publication tables (esttab style) from saved results' JSON, to .docx, .xlsx, .tex, .html or .md."""

import click

from geo.cli.options import emit, json_option
from geo.cli.paths import InputPath, OutputPath
from geo.errors import InputError


@click.command(name="table")
@click.option("--from", "sources", metavar="RESULT.json", type=InputPath(), multiple=True, required=True,
              help="A result saved with --json (geo sdm, geo radiation, …); repeat for several models side by side.")
@click.option("--out", "out_path", metavar="FILE", type=OutputPath(), required=True,
              help="The table: .docx (Word table), .xlsx, .tex (booktabs), .html or .md.")
@click.option("--kind", type=click.Choice(["auto", "models", "impacts", "radiation", "compare"]), default="auto", show_default=True,
              help="models: coefficients side by side; impacts: direct/indirect/total; radiation: bands by estimator; "
              "compare: one row per fit of geo compare.")
@click.option("--names", default=None, metavar="A,B,…", help="Column names, one per --from (default: model / method).")
@click.option("--stat", type=click.Choice(["se", "t"]), default="se", show_default=True,
              help="Beneath each coefficient: standard error or t/z statistic.")
@click.option("--interval", is_flag=True, help="Impacts: show the interval instead of the SE.")
@click.option("--digits", type=click.IntRange(0, 8), default=3, show_default=True, help="Decimals.")
@click.option("--title", default=None, help="Table caption.")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the labels the table writes.")
@json_option
def command(sources, out_path, kind, names, stat, interval, digits, title, lang, as_json):
    """Write a table for a paper from one or several results' JSON.

    Example: geo sdm … --model sar --json > sar.json; geo sdm … --model sdm --json > sdm.json;
    geo table --from sar.json --from sdm.json --out models.docx
    """
    import json
    from pathlib import Path

    from geo.tables import table_from_json

    objs = []
    for src in sources:
        path = Path(src)
        try:
            objs.append(json.loads(path.read_text(encoding="utf-8-sig")))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a JSON result ({exc})") from None
    out = Path(out_path).resolve()
    if any(Path(s).resolve() == out for s in sources):
        raise InputError(f"{out_path}: the output is one of the --from inputs; choose another file")
    name_list = [n.strip() for n in names.split(",")] if names else None
    table = table_from_json(objs, kind=kind, names=name_list, stat=stat, digits=digits, lang=lang, title=title,
                            interval=interval)
    table.save(out_path)
    emit(table, as_json, extra={"out": str(out_path)})
