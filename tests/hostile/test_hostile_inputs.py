"""Odd files, unwritable folders, library errors and garbage results: one line `error: …`, never a traceback.

Inputs are generated in the tests (no committed binaries); path options are enumerated from the click
commands, so a new input or output option is covered automatically.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo._guards import check_finite_result
from geo._write import write_frame
from geo.cli import main
from geo.cli.paths import InputPath, OutputDir, OutputPath, SpecOrInput
from geo.errors import ResultError

from hostile_helpers import base_args, leaf_commands, one_error_line, option_name, params_of

COMMANDS = leaf_commands()


def _input_cases():
    return [
        pytest.param(prefix, cmd, p, id=f"{' '.join(prefix)} {option_name(p)}")
        for prefix, cmd in COMMANDS for p in params_of(cmd, (InputPath, SpecOrInput))
    ]


def _output_cases():
    return [
        (prefix, option_name(p), isinstance(p.type, OutputDir))
        for prefix, cmd in COMMANDS for p in params_of(cmd, (OutputPath, OutputDir))
    ]


@pytest.mark.parametrize("prefix,cmd,param", _input_cases())
def test_fifo_as_any_input_is_refused_without_hanging(prefix, cmd, param, files, capsys):
    fifo = files["tmp"] / "pipe.csv"
    os.mkfifo(fifo)
    done = threading.Event()

    def unblock():  # if the guard failed, a reader would wait forever for a writer: give it EOF
        if not done.wait(30):
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)

    threading.Thread(target=unblock, daemon=True).start()
    o = option_name(param)
    rc = main([*prefix, *base_args(cmd, files, skip={o}), o, str(fifo)])
    done.set()
    err = capsys.readouterr().err
    assert rc == 2 and one_error_line(err) and "named pipe" in err and "pipe.csv" in err, err


def test_fifo_to_the_library_readers(tmp_path):
    from geo import points, raster
    from geo._io import read_table, read_vector
    from geo.errors import InputError

    fifo = tmp_path / "p.tif"
    os.mkfifo(fifo)
    for call in (lambda: read_table(fifo), lambda: read_vector(fifo), lambda: raster.zonal_stats(fifo),
                 lambda: points.aggregate_points(fifo, None)):
        with pytest.raises(InputError, match="named pipe"):
            call()


@contextlib.contextmanager
def unwritable(folder: Path):
    """``folder`` (created) where no file can be created: mode 555, or for root (who writes anywhere)
    the immutable attribute (chattr +i)."""
    folder.mkdir()
    root = os.geteuid() == 0
    if root:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
            pytest.skip("running as root without chattr +i: cannot make a folder unwritable")
    else:
        os.chmod(folder, 0o555)
    try:
        yield folder
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            os.chmod(folder, 0o755)


@pytest.mark.parametrize("prefix,cmd,param", [
    pytest.param(prefix, cmd, p, id=f"{' '.join(prefix)} {option_name(p)}")
    for prefix, cmd in COMMANDS for p in params_of(cmd, (OutputPath, OutputDir))
])
def test_unwritable_output_folder_is_refused_before_any_work(prefix, cmd, param, files, capsys):
    """Every output option of every command, into a folder nobody can write: exit 2, one line, at parse time."""
    o = option_name(param)
    with unwritable(files["tmp"] / "ro") as ro:
        target = ro / ("gallery" if isinstance(param.type, OutputDir) else "out.csv")
        rc = main([*prefix, *base_args(cmd, files, skip={o}), o, str(target)])
        err = capsys.readouterr().err
        assert rc == 2 and one_error_line(err) and "cannot write in" in err, err
        assert os.listdir(ro) == []


def test_unwritable_cases_exist():
    assert len(_output_cases()) >= 15


# ---------------------------------------------------------------------------------------------- broken files


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    import geopandas as gpd
    import rasterio
    from rasterio.transform import from_origin
    from shapely.geometry import GeometryCollection, Point, box

    d = tmp_path_factory.mktemp("broken")
    rng = np.random.default_rng(0)
    pd.DataFrame({"adcode": ["110000", "120000"] * 500, "v": rng.random(1000), "lon": 116.4, "lat": 39.9}).to_parquet(
        d / "full.parquet")
    raw = (d / "full.parquet").read_bytes()
    (d / "trunc.parquet").write_bytes(raw[: len(raw) // 2])
    with rasterio.open(d / "full.tif", "w", driver="GTiff", height=400, width=600, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(100, 45, 0.05, 0.05)) as dst:
        dst.write(rng.random((400, 600)).astype("float32"), 1)
    raw = (d / "full.tif").read_bytes()
    (d / "trunc.tif").write_bytes(raw[: len(raw) // 2])
    with rasterio.open(d / "huge.tif", "w", driver="GTiff", height=60, width=80, count=1, dtype="float64",
                       crs="EPSG:4326", transform=from_origin(110, 40, 0.25, 0.25)) as dst:
        dst.write(np.full((60, 80), 1e308), 1)
    with rasterio.open(d / "far.tif", "w", driver="GTiff", height=10, width=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(-50, 10, 0.1, 0.1)) as dst:
        dst.write(np.ones((10, 10), "float32"), 1)  # in the Atlantic: no unit of China has a pixel
    a, b = box(110, 30, 111, 31), box(111, 30, 112, 31)
    gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[a, GeometryCollection([b, Point(0, 0)])], crs=4326).to_file(
        d / "collection.gpkg")
    gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[a, Point(111, 30)], crs=4326).to_file(d / "mixed.gpkg")
    gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[box(5e5, 3e6, 5.1e5, 3.01e6), box(5.1e5, 3e6, 5.2e5, 3.01e6)],
                     crs=4326).to_file(d / "projected_as_lonlat.gpkg")
    raw = (d / "mixed.gpkg").read_bytes()
    (d / "trunc.gpkg").write_bytes(raw[: len(raw) // 3])
    res = d / "latin1"
    res.mkdir()
    (res / "t.csv").write_bytes("name,v\nSão Paulo,1\n".encode("latin-1"))
    res2 = d / "latin1_html"
    res2.mkdir()
    (res2 / "m.html").write_bytes("<p>café</p>".encode("latin-1"))
    return d


CASES = {
    "truncated parquet table": (["join", "--data", "{d}/trunc.parquet", "--id", "adcode", "--out", "{o}/j.csv"], "trunc.parquet"),
    "truncated parquet points": (["aggregate", "--points", "{d}/trunc.parquet", "--out", "{o}/a.csv"], "trunc.parquet"),
    "truncated GeoTIFF": (["zonal", "--raster", "{d}/trunc.tif", "--out", "{o}/z.csv"], "trunc.tif"),
    "truncated GeoPackage": (["boundaries", "--boundaries", "{d}/trunc.gpkg", "--boundary-id", "id"], "trunc.gpkg"),
    "GeometryCollection": (["boundaries", "--boundaries", "{d}/collection.gpkg", "--boundary-id", "id"], "GeometryCollection"),
    "mixed geometry types": (["boundaries", "--boundaries", "{d}/mixed.gpkg", "--boundary-id", "id"], "mixes geometry types"),
    "lon/lat out of range": (["boundaries", "--boundaries", "{d}/projected_as_lonlat.gpkg", "--boundary-id", "id"],
                             "outside longitude"),
    "latin-1 page in a report folder": (["report", "--results", "{d}/latin1_html", "--out", "{o}/r.html"], "m.html"),
    "raster outside every unit": (["zonal", "--raster", "{d}/far.tif", "--out", "{o}/z.csv"], "no unit has a valid pixel"),
    "infinite zonal statistics": (["zonal", "--raster", "{d}/huge.tif", "--stats", "mean,sum", "--out", "{o}/z.csv"],
                                  "overflows to infinity"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_input_is_one_error_line(case, broken, tmp_path, capsys):
    args, needle = CASES[case]
    rc = main([a.format(d=broken, o=tmp_path) for a in args])
    err = capsys.readouterr().err
    assert rc == 2 and one_error_line(err) and needle in err, err
    assert os.listdir(tmp_path) == []  # nothing written


# ---------------------------------------------------------------------------------------------- main()


def test_unexpected_exception_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    from geo import boundaries

    def boom(units):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(boundaries, "check_coverage", boom)
    assert main(["boundaries"]) == 1
    err = capsys.readouterr().err
    assert one_error_line(err) and "unexpected ZeroDivisionError" in err and "GEO_DEBUG=1" in err
    assert main(["--debug", "boundaries"]) == 1
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("GEO_DEBUG", "1")
    assert main(["boundaries"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_os_and_library_errors_name_the_file(monkeypatch, capsys):
    from geo import boundaries

    def denied(units):
        raise PermissionError(13, "Permission denied", "/data/x.gpkg")

    monkeypatch.setattr(boundaries, "check_coverage", denied)
    assert main(["boundaries"]) == 2
    err = capsys.readouterr().err
    assert one_error_line(err) and err.strip() == "error: /data/x.gpkg: Permission denied"


# ---------------------------------------------------------------------------------------------- garbage


def test_overflowing_moran_is_an_error_in_text_and_json(tmp_path, capsys):
    from geo import boundaries

    units = boundaries.china()
    rng = np.random.default_rng(1)
    data = tmp_path / "big.csv"
    pd.DataFrame({"adcode": units.index, "v": rng.random(len(units)) * 1e300}).to_csv(data, index=False)
    for extra in ([], ["--json"]):
        rc = main(["moran", "--data", str(data), "--var", "v", "--permutations", "9", "--seed", "1", *extra])
        out, err = capsys.readouterr()
        assert rc == 2 and one_error_line(err) and "not finite" in err and "rescale" in err, err
        assert out == ""  # nothing printed as a result


def test_finite_guard_rules():
    check_finite_result(payload={"I": 0.1, "rows": [{"id": "a", "mean": math.nan}], "note": None})  # NaN per unit: data
    check_finite_result(text="Nanjing  information  I = 0.1234  p = 0.001")  # words that contain nan/inf
    for bad in ({"I": math.nan}, {"a": {"b": [1.0, math.inf]}}, {"rows": [{"mean": -math.inf}]},
                {"I": np.float64("nan")}):
        with pytest.raises(ResultError):
            check_finite_result(payload=bad)
    for text in ("I = nan   p = 0.001", "total: inf", "effect -inf", "NaN"):
        with pytest.raises(ResultError):
            check_finite_result(text=text)


@pytest.mark.parametrize("suffix", [".gpkg", ".xlsx", ".parquet", ".geojson", ".fgb", ".csv", ".json"])
def test_same_data_same_bytes_in_every_format(tmp_path, suffix):
    """GeoPackages (GDAL's last_change) and workbooks (openpyxl's dates) carry no wall-clock time."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"v": [1.5, 2.5]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326,
                             index=pd.Index(["a", "b"], name="id"))
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    write_frame(frame, tmp_path / "1" / f"u{suffix}")
    time.sleep(2.1)  # GDAL's dates have one-second resolution, zip entries two seconds
    write_frame(frame, tmp_path / "2" / f"u{suffix}")
    assert (tmp_path / "1" / f"u{suffix}").read_bytes() == (tmp_path / "2" / f"u{suffix}").read_bytes()
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # the setting does not leak
    if suffix == ".xlsx":
        back = pd.read_excel(tmp_path / "1" / "u.xlsx", index_col=0)
        assert back["v"].tolist() == [1.5, 2.5]


def test_emit_guard_judges_by_structure():
    from dataclasses import dataclass

    from geo._guards import check_emitted

    @dataclass(frozen=True)
    class Stat:
        I: float
        p_sim: float

        def to_json(self):  # the usual habit: NaN becomes null
            return {"I": None if math.isnan(self.I) else self.I, "p_sim": self.p_sim}

        def summary(self):
            return f"I = {self.I:.3f}  p = {self.p_sim}"

    check_emitted(Stat(0.2, 0.01), True)
    check_emitted(Stat(0.2, 0.01), False)
    for as_json in (True, False):  # nulled in JSON, still caught: the summary shows "I = nan"
        with pytest.raises(ResultError, match="not a finite number"):
            check_emitted(Stat(math.nan, 0.001), as_json)

    class Bands:  # a table with a band that has no units: a missing cell, not garbage
        def to_json(self):
            return {"bands": [{"band": "0-50 km", "estimate": None}, {"band": "50-100 km", "estimate": 0.1}]}

        def summary(self):
            return "0-50 km   nan\n50-100 km 0.100"

    check_emitted(Bands(), False)


def test_latin1_table_in_a_report_folder_is_read_with_its_detected_encoding(broken, tmp_path, capsys):
    """A non-UTF-8 CSV is no longer an error: geo._io detects the encoding (charset-normalizer) and reads it."""
    out = tmp_path / "r.html"
    rc = main(["report", "--results", str(broken / "latin1"), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert "Paulo" in out.read_text(encoding="utf-8")
