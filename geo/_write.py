"""Writing outputs so that nothing is lost: atomic files, all-or-nothing folders, one path rule.

* :func:`atomic_path` / :func:`atomic_paths` -- each output is written to a temporary file in its
  destination folder and renamed into place only when *every* output of the call is complete; a
  failure (an exception) leaves none of them behind and never truncates an existing file.
* :func:`publish_dir` -- a multi-file output (the demo gallery) is built in a sibling staging folder
  that already holds links to the user's other files of the destination, and swapped with the
  destination in one ``renameat2(RENAME_EXCHANGE)`` call: a run killed at any moment leaves the
  complete old set or the complete new set.  Where the exchange is impossible (not Linux, or a file
  system without it) every new file is staged before the first old one is replaced.
* :func:`same_file` / :func:`inside` -- the path rule behind "an output never destroys an input"
  (symlinks, ``..`` and hard links included); :mod:`geo.cli.paths` applies it to every command.
* :func:`write_frame` -- GeoPackages (GDAL's ``OGR_CURRENT_DATE``) and Excel workbooks carry a fixed
  date, so identical runs give identical bytes.  (Infinite values are refused by the computations that could
  overflow, e.g. zonal statistics, not here: an open distance band's upper edge is legitimately ``inf``.)
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterator

from geo.errors import InputError

__all__ = [
    "atomic_path",
    "atomic_paths",
    "atomic_write",
    "check_output_path",
    "check_output_dir",
    "check_writable",
    "publish_dir",
    "same_file",
    "inside",
    "write_frame",
    "write_json",
    "write_text",
    "GPKG_DATE",
]

#: the date written into every GeoPackage (``last_change``) and workbook (GDAL and openpyxl would write the clock's)
GPKG_DATE = "2000-01-01T00:00:00.000Z"
#: test hook: seconds to sleep before each link/rename of a publish, so tests can kill a run mid-publish
_SLOW_ENV = "GEO_TEST_SLOW_RENAMES"
#: test hook: a file where each slowed step is logged before its sleep
_LOG_ENV = "GEO_TEST_PUBLISH_LOG"
#: test hook: any value disables RENAME_EXCHANGE, to test the fallback
_NO_EXCHANGE_ENV = "GEO_TEST_NO_EXCHANGE"


# ------------------------------------------------------------------------------------------ path rule


def _real(path) -> str:
    # realpath resolves symlinks component by component, so "link/.." means what the OS means by it
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def same_file(a, b) -> bool:
    """True when ``a`` and ``b`` name the same file: equal after resolving symlinks and ``..``,
    or (when both exist) the same inode -- hard links, bind mounts, case-insensitive file systems."""
    if _real(a) == _real(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def inside(path, folder) -> bool:
    """True when ``path`` lies somewhere below ``folder`` (after resolving both; hard-linked or
    bind-mounted folders count by inode)."""
    real = Path(_real(path))
    for parent in real.parents:
        if same_file(parent, folder):
            return True
    return False


# ------------------------------------------------------------------------------------------ checks


def check_output_path(path) -> Path:
    """Return ``path`` as a Path after checking it can be an output file (its folder exists; it is not a folder)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: output path is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"{p}: output folder {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{p}: {parent} is not a folder")
    if p.exists() and not p.is_file():
        raise InputError(f"{p}: output path exists and is not a regular file; give a file name")
    return p


def check_output_dir(path) -> Path:
    """Return ``path`` as a Path after checking it can be an output folder (missing, or a folder; its parent exists)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{p}: output folder is a file; give a folder name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{p}: folder {parent} does not exist")
    return p


def check_writable(folder, *, output) -> None:
    """Raise InputError unless a file can be created in ``folder`` (tried, not guessed: ``os.access``
    says yes to root and no on some network file systems)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".geo-probe-", dir=folder)
    except OSError as exc:
        raise InputError(f"{output}: cannot write in {folder}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)


# ------------------------------------------------------------------------------------------ atomic files


def _temp_beside(dest: Path) -> Path:
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp" + dest.suffix, dir=parent)
    except OSError as exc:
        raise InputError(f"{dest}: cannot write in {parent}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)  # writers such as pyogrio refuse to overwrite an existing file
    return Path(tmp)


def _slow(step: str) -> None:
    """Test hook: with GEO_TEST_SLOW_RENAMES=SECONDS, append ``step`` to the file named by
    GEO_TEST_PUBLISH_LOG (if any) and sleep, so a test can kill the run right after a known step."""
    delay = os.environ.get(_SLOW_ENV)
    if delay:
        log = os.environ.get(_LOG_ENV)
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(step + "\n")
        time.sleep(float(delay))


@contextlib.contextmanager
def atomic_paths(*paths) -> Iterator[list]:
    """Yield one temporary path next to each of ``paths`` (None stays None); rename them all into
    place once the block has finished without an exception.

    A failure anywhere in the block removes every temporary file and leaves every destination as it
    was: ``geo map --out m.html --png m.png`` whose screenshot fails writes no HTML either.
    """
    dests = [None if p is None else check_output_path(p) for p in paths]
    tmps: list = []
    try:
        for d in dests:
            tmps.append(None if d is None else _temp_beside(d))
        yield list(tmps)
        missing = [str(d) for t, d in zip(tmps, dests) if d is not None and not t.exists()]
        if missing:
            raise RuntimeError(f"writer produced no file for {', '.join(missing)}")
        for t, d in zip(tmps, dests):
            if d is not None:
                _slow(f"rename {d.name}")
                os.replace(t, d)
    finally:
        for t in tmps:
            if t is not None and t.exists():
                t.unlink()


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    """
    with atomic_paths(path) as (tmp,):
        yield tmp


def atomic_write(path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path, obj) -> Path:
    return write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


# ------------------------------------------------------------------------------------------ folders


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False when unsupported.

    Written here because neither the standard library nor a maintained package exposes the call.
    """
    if os.environ.get(_NO_EXCHANGE_ENV) or not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # glibc < 2.28, musl
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV, errno.EBUSY):  # no support; mount points
        return False
    raise OSError(err, os.strerror(err), str(b))


def _link_tree(src: Path, dst: Path) -> None:
    """Give ``dst`` every entry of ``src`` that it lacks (hard links, else copies; symlinks as symlinks)."""
    for entry in os.scandir(src):
        target = dst / entry.name
        if entry.is_dir(follow_symlinks=False):
            if target.is_dir() and not target.is_symlink():
                _link_tree(Path(entry.path), target)
                continue
            if target.exists() or target.is_symlink():
                continue  # the run's new file replaces the user's folder of that name
            shutil.copytree(entry.path, target, symlinks=True, copy_function=_link_or_copy)
        elif not (target.exists() or target.is_symlink()):
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), target)
            else:
                _link_or_copy(entry.path, target)


def _link_or_copy(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _stale_stages(out: Path) -> None:
    """Remove staging folders of earlier publishes into ``out`` whose process is gone (killed runs)."""
    parent = out.parent if str(out.parent) else Path(".")
    pattern = re.compile(re.escape(f".{out.name}.geo-stage-") + r"(\d+)-")
    for entry in parent.iterdir():
        m = pattern.match(entry.name)
        if m and entry.is_dir():
            try:
                os.kill(int(m.group(1)), 0)
            except ProcessLookupError:
                shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                pass


@contextlib.contextmanager
def publish_dir(out) -> Iterator[Path]:
    """Yield an empty staging folder; on success publish its content into ``out`` as a whole.

    Files of the run (the staging folder's content, subfolders included) replace those of the same
    name in ``out``; the user's other files in ``out`` stay.  A run that fails (an exception) changes
    nothing.  A run killed at any moment leaves the complete old or the complete new set (Linux:
    the staging folder, completed with hard links to the user's other files, is exchanged with
    ``out`` in one system call).  Elsewhere every new file exists before the first old one is
    replaced, so only a kill during the final renames can mix the two sets.
    """
    given = check_output_dir(out)
    # the real folder: "." and "x/.." get a name and a parent, and a symlinked folder is published
    # into its target instead of being swapped away with the link
    out = Path(os.path.realpath(given))
    parent = out.parent
    check_writable(parent, output=given)
    _stale_stages(out)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.geo-stage-{os.getpid()}-", dir=parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes it private; a published folder is not
        yield stage
        _publish(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _publish(stage: Path, out: Path) -> None:
    if not out.exists():
        _slow("start")
        os.rename(stage, out)
        return
    shutil.copymode(out, stage)
    new = [p.relative_to(stage) for p in sorted(stage.rglob("*")) if not p.is_dir()]
    # the working directory (a shell's too) would be left in the swapped-out folder: publish file by file
    swap = not inside(os.getcwd(), out) and not same_file(os.getcwd(), out)
    _slow("start")
    if swap:
        _link_tree(out, stage)
    _slow("linked")
    if swap and _exchange(stage, out):
        # `stage` now holds the old folder; files the user added to `out` while we linked go back
        _slow("exchanged")
        _link_tree(stage, out)
        return
    # fallback: every new file already exists in the staging folder; replace the old ones one by one
    for rel in new:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        _slow(f"replace {rel}")
        os.replace(stage / rel, dest)


# ------------------------------------------------------------------------------------------ tables


@contextlib.contextmanager
def _fixed_gdal_date():
    """GDAL stamps GeoPackages with the wall-clock time unless OGR_CURRENT_DATE is set; set it while writing."""
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _fixed_xlsx_dates(path: Path) -> None:
    """openpyxl stamps the workbook (docProps/core.xml) and every zip entry with the wall-clock time;
    rewrite the archive with the fixed date so identical runs give identical bytes."""
    with zipfile.ZipFile(path) as zin:
        items = [(info, zin.read(info.filename)) for info in zin.infolist()]
    stamp = GPKG_DATE[:19].encode() + b"Z"
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in items:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)


def write_frame(frame, path) -> Path:
    """Write a (Geo)DataFrame by extension: .gpkg .geojson .parquet .csv .xlsx .json."""
    import geopandas as gpd
    import pandas as pd

    p = check_output_path(path)
    suffix = p.suffix.lower()
    is_geo = isinstance(frame, gpd.GeoDataFrame)

    def writer(tmp: Path) -> None:
        if suffix == ".csv":
            out = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if is_geo else frame
            out.to_csv(tmp, index=True, encoding="utf-8")
        elif suffix == ".xlsx":
            out = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if is_geo else frame
            out.to_excel(tmp, index=True)
            _fixed_xlsx_dates(tmp)
        elif suffix in (".parquet", ".geoparquet"):
            frame.to_parquet(tmp)
        elif suffix in (".gpkg", ".geojson", ".fgb", ".shp"):
            if not is_geo:
                raise InputError(f"{p}: {suffix} needs geometries; write a table as .csv or .parquet")
            driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".fgb": "FlatGeobuf", ".shp": "ESRI Shapefile"}[suffix]
            # the layer is named after the destination (GDAL would take the temporary file's random name)
            layer = re.sub(r"\W", "_", p.stem) or "layer"
            with _fixed_gdal_date():
                frame.reset_index().to_file(tmp, driver=driver, engine="pyogrio", layer=layer)
        elif suffix == ".json":
            out = pd.DataFrame(frame.drop(columns=frame.geometry.name)) if is_geo else frame
            tmp.write_text(out.reset_index().to_json(orient="records", force_ascii=False), encoding="utf-8")
        else:
            raise InputError(
                f"{p}: unknown output format {suffix!r}; use .gpkg, .geojson, .parquet, .csv, .xlsx or .json"
            )

    if suffix == ".shp":
        raise InputError(f"{p}: writing Shapefiles is not supported (many files); use .gpkg")
    return atomic_write(p, writer)
