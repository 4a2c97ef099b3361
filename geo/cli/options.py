"""Options shared by several commands, defined once (rasterio's ``rio/options.py`` is the model)."""

from __future__ import annotations

import math
import sys

import click

from geo._guards import check_emitted
from geo.cli.paths import InputPath, OutputPath, SpecOrInput

__all__ = [
    "boundaries_options",
    "data_options",
    "json_option",
    "seed_option",
    "weights_option",
    "out_option",
    "emit",
    "left_out",
    "to_jsonable",
    "dumps_json",
    "progress",
    "load_units",
    "split_values",
    "many_values_option",
]


def _boundary_crs(ctx, param, value):
    """Read --boundaries files that declare no CRS in this one, for the rest of the command."""
    if value:
        from geo import boundaries  # lazy: pandas; geo --help imports this module

        token = boundaries._ASSUMED_CRS.set(value)
        ctx.call_on_close(lambda: boundaries._ASSUMED_CRS.reset(token))
    return value


def boundaries_options(f):
    f = click.option(
        "--boundary-crs",
        "boundary_crs",
        metavar="EPSG:…",
        default=None,
        expose_value=False,
        callback=_boundary_crs,
        help="CRS of a --boundaries file that declares none, e.g. EPSG:4326 (also --crs where the command has "
        "no --crs of its own). Without it such a file still gives contiguity weights (queen, rook), not distances.",
    )(f)
    f = click.option(
        "--scope",
        type=click.Choice(["prefecture-and-above", "all"]),
        default="prefecture-and-above",
        show_default=True,
        help="Which embedded units: the 337 prefecture-level units and municipalities, or all 372 (adds "
        "province-governed county-level units, Hong Kong, Macao, Taiwan). Ignored with --boundaries.",
    )(f)
    f = click.option(
        "--boundary-id",
        metavar="COL",
        default=None,
        help="Id column of the --boundaries file, e.g. --boundary-id adcode.",
    )(f)
    f = click.option(
        "--boundaries",
        "boundaries_path",
        metavar="FILE",
        type=InputPath(),
        default=None,
        help="Your own boundary file (GeoPackage, Shapefile, GeoJSON, GeoParquet) in any CRS; "
        "default: the embedded prefecture boundaries of China.",
    )(f)
    return f


def data_options(f):
    f = click.option(
        "--id",
        "id_col",
        metavar="COL",
        default=None,
        help="Column of --data holding unit ids (adcodes, or the --boundary-id values); default 'adcode'.",
    )(f)
    f = click.option(
        "--data",
        "data_path",
        metavar="FILE",
        type=InputPath(),
        required=True,
        help="A joined file from `geo join` (or any table with an id column: CSV, Excel, Parquet), "
        "or a vector file with geometry.",
    )(f)
    return f


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")(f)


def seed_option(f):
    return click.option(
        "--seed", type=int, default=None, help="Seed for permutations / simulation draws (same seed, same output)."
    )(f)


def weights_option(f):
    return click.option(
        "--weights",
        "weights_spec",
        metavar="SPEC|FILE",
        type=SpecOrInput(),
        default="queen",
        show_default=True,
        help="Spatial weights: queen, rook, knn:6, distance:150km, idw:2, idw:2:300km, "
        "kernel:triangular:8, economic:gdp_pc, or a weights file (.gal, .gwt, .parquet).",
    )(f)


def out_option(required: bool = True, help: str = "Output file; the format follows the extension."):
    return click.option(
        "--out", "out_path", metavar="FILE", type=OutputPath(), required=required, help=help
    )


def to_jsonable(obj):
    """Convert numpy scalars/arrays and non-finite floats to plain JSON values (NaN/inf -> null)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _json_default(obj):
    """Values orjson does not serialise natively (numpy of other dtypes, pandas scalars, paths)."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        return to_jsonable(obj)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    try:
        import pandas as pd

        if obj is pd.NA or obj is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps_json(payload, *, indent: bool = False) -> bytes:
    """``payload`` as UTF-8 JSON bytes: numpy arrays and scalars written directly, NaN/inf -> null.

    orjson rather than ``json.dumps(to_jsonable(...))``: the recursive conversion of 100,000
    per-unit dicts and the pure-Python indenting encoder took ~4.5 s for a LISA at N = 100,000.
    """
    import orjson

    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    return orjson.dumps(payload, default=_json_default, option=option)


def emit(result, as_json: bool, *, extra: dict | None = None, notes=()) -> None:
    """Print ``result.to_json()`` (plus ``extra`` keys) as JSON, or ``result.summary()`` (plus ``notes``) as text.

    The JSON is indented when stdout is a terminal and compact (one line) when it is piped or
    redirected, as scripts read it; the content is the same.
    """
    check_emitted(result, as_json)  # geo._guards: no NaN/inf printed as a result
    if as_json:
        payload = result.to_json() if hasattr(result, "to_json") else result
        if extra:
            payload = {**payload, **extra}
        indent = bool(getattr(sys.stdout, "isatty", lambda: False)())
        click.echo(dumps_json(payload, indent=indent) + b"\n", nl=False)
    else:
        text = result.summary() if hasattr(result, "summary") else str(result)
        click.echo("\n".join([str(text), *notes]))


def left_out(units, used_ids, *, weights: bool = True) -> tuple[dict, list]:
    """(extra JSON keys, note lines) naming the boundary units an analysis left out for lack of data.

    ``units``: the boundary units (a frame indexed by id; its ``name`` column, when there is one, names
    them in the note as ``110000 北京市``) or their ids.  The JSON always carries ``units_without_data``
    (the ids; empty when every unit was used), so nothing is dropped silently; the text note appears only
    when some unit was left out.
    """
    import pandas as pd  # the callers have it loaded already; kept out of this module's imports (start-up)

    names = {}
    if isinstance(units, pd.DataFrame):
        if "name" in units.columns:
            names = {str(i): str(n) for i, n in zip(units.index, units["name"]) if pd.notna(n) and str(n) != str(i)}
        units = units.index
    used = set(map(str, used_ids))
    missing = [str(i) for i in units if str(i) not in used]
    notes = []
    if missing:
        shown = ", ".join(f"{i} {names[i]}" if i in names else i for i in missing[:12]) + (
            " …" if len(missing) > 12 else "")
        notes.append(
            f"note: {len(missing)} units of the boundaries have no data and were left out "
            + ("(the weights were built without them)" if weights else "(nothing imputed)") + f": {shown}"
        )
    return {"units_without_data": missing}, notes


def progress(*, disable: bool = False):
    """A rich progress bar on stderr (hidden with --json or when stderr is not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),  # "done/total", "done/?" while the total is unknown (never "N/None")
        TimeElapsedColumn(),
        console=console,
        disable=disable or not console.is_terminal,
        transient=True,
    )


def load_units(boundaries_path, boundary_id, scope="prefecture-and-above"):
    """The boundaries named by --boundaries/--boundary-id, or the embedded ones."""
    from geo import boundaries  # lazy: pandas; geo --help imports this module

    return boundaries.load(boundaries_path, boundary_id, scope=scope)


def split_values(values) -> list[str]:
    """The values of a multi-value option, however written: ``--x a b c`` (click passes the extra words as
    arguments of a command that accepts them), ``--x a,b,c``, ``--x a --x b``, or a mix; order kept,
    empty items dropped."""
    out: list[str] = []
    for value in values or ():
        for item in str(value).replace("，", ",").split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


class _ManyValues(click.Option):
    """A repeatable option that also takes several words after one flag (``--sheet a b c``).

    click has no such option kind (its options take a fixed number of values), so the parser's handler for
    this option is wrapped to also take the following words that do not start with ``-``.
    """

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            opt = parser._long_opt.get(name) or parser._short_opt.get(name)
            if opt is None:
                continue
            take = opt.process

            def process(value, state, take=take):
                take(value, state)
                while state.rargs and not str(state.rargs[0]).startswith("-"):
                    take(state.rargs.pop(0), state)

            opt.process = process


def many_values_option(*decls, **kwargs):
    """``click.option`` for a list: ``--x a b c``, ``--x a,b,c`` and ``--x a --x b`` all give ``(a, b, c)``
    once passed through :func:`split_values`."""
    return click.option(*decls, cls=_ManyValues, multiple=True, **kwargs)
