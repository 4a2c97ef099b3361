"""The ``geo`` command: one subcommand per module in ``geo/cli/commands/``.

Each command module defines a click command named ``command`` and keeps its
heavy imports inside the function body, so ``geo --help`` stays fast.  The
CLI adds only argument parsing, progress bars and error handling: user errors
(:class:`geo.errors.GeoError`) print one line ``error: <message>`` to stderr
and exit with status 2, with no traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import sys
import traceback
import warnings

import click

from geo import __version__
from geo._guards import is_edge_error
from geo.errors import GeoError

__all__ = ["cli", "main"]

_COMMANDS_PACKAGE = "geo.cli.commands"


def _command_modules() -> dict[str, str]:
    pkg = importlib.import_module(_COMMANDS_PACKAGE)
    return {
        m.name.replace("_", "-"): f"{_COMMANDS_PACKAGE}.{m.name}"
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_")
    }


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_command_modules())

    def get_command(self, ctx, name):
        module = _command_modules().get(name)
        if module is None:
            return None
        return _alias_boundary_crs(importlib.import_module(module).command)


def _alias_boundary_crs(command):
    """Let ``--crs`` name ``--boundary-crs`` in commands (and subcommands) that have no ``--crs`` of their own."""
    for sub in getattr(command, "commands", {}).values():
        _alias_boundary_crs(sub)
    params = getattr(command, "params", [])
    taken = any("--crs" in p.opts for p in params if isinstance(p, click.Option))
    for p in params:
        if isinstance(p, click.Option) and p.name == "boundary_crs" and not taken:
            p.opts.append("--crs")
    return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="geo")
@click.option("--debug", is_flag=True, hidden=True, help="Show the traceback of an unexpected error (or GEO_DEBUG=1).")
def cli(debug):
    """Zones and their spillovers: boundaries, joins, weights, Moran, spatial Durbin, radiation, maps.

    Every command reads the embedded prefecture boundaries of China unless
    --boundaries FILE --boundary-id COL name your own. Add --json for
    machine-readable output. Example: geo boundaries --out china.gpkg
    """


def main(argv=None) -> int:
    """Entry point: run the CLI; anything a user can cause ends as one line ``error: …``.

    User errors (GeoError) and file-system errors exit 2; an unexpected exception prints one line
    naming it (its traceback with the hidden ``geo --debug …`` or ``GEO_DEBUG=1``) and exits 1.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("GEO_DEBUG", "") not in ("", "0") or "--debug" in args[: _first_command(args)]
    with warnings.catch_warnings(record=not debug) as caught:
        if not debug:
            warnings.simplefilter("default")
        status = _run(args, debug)
    if status == 0:  # a run that failed says so in one line; the warnings that led there are noise
        for text in dict.fromkeys(f"warning: {w.message}" for w in caught or ()):
            click.echo(text, err=True)
    return status


def _run(args, debug) -> int:
    try:
        cli.main(args=args, prog_name="geo", standalone_mode=False)
    except GeoError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:  # `geo … | head`: the reader left; nothing to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush quiet
        return 1
    except Exception as exc:  # the last edge: one line, never a traceback unless asked for
        if debug:
            traceback.print_exc()
        click.echo(f"error: {describe_error(exc)}", err=True)
        return 2 if _user_caused(exc) else 1
    return 0


def _first_command(args) -> int:
    """Index of the first argument that is not a group option (``--debug`` counts only before it)."""
    for i, a in enumerate(args):
        if not a.startswith("-"):
            return i
    return len(args)


def _user_caused(exc) -> bool:
    return isinstance(exc, MemoryError) or is_edge_error(exc)


def describe_error(exc) -> str:
    """One line for an exception that escaped every reader: the file and what went wrong."""
    if isinstance(exc, OSError) and (exc.filename or exc.strerror):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, MemoryError):
        return "out of memory; use a smaller input (or --chunksize / --engine dask where offered)"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    if _user_caused(exc):
        return text
    return f"unexpected {type(exc).__name__}: {text} (a bug in geo: rerun with GEO_DEBUG=1 and report the traceback)"


#: environment variables that set the thread count of the BLAS/LAPACK behind numpy and scipy
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _console_main():  # pragma: no cover - the console script
    # One BLAS thread unless the user chose otherwise: the dense algebra of a command (eigenvalues
    # of W up to a few thousand units, small solves) is fast on one thread, and OpenBLAS's spinning
    # threads make it up to 300x slower when other processes share the cores (measured: eigvalsh of
    # a 337 x 337 matrix, 0.013 s on one thread, 3.8 s on two on a loaded 2-core machine).  numba's
    # parallel kernels use their own threads and are not affected.  Set before numpy is imported.
    import os

    if not any(os.environ.get(v) for v in _BLAS_THREAD_VARS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["MKL_NUM_THREADS"] = "1"
    sys.exit(main())
