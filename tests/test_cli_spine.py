"""The boundaries, zones and join commands: outputs, --json, and one-line errors for bad input."""

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from geo.cli import main


def run(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_boundaries_writes_and_reports(tmp_path, capsys):
    rc, out, err = run(["boundaries", "--out", str(tmp_path / "c.gpkg"), "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(out)
    assert rep["n"] == 337 and rep["coverage_valid"] is True
    assert set(rep["islands"]) == {"330900", "460100", "460200", "460300", "460400"}
    back = gpd.read_file(tmp_path / "c.gpkg")
    assert len(back) == 337 and back.crs.to_epsg() == 4326
    assert (back["adcode"] == "370100").sum() == 1


@pytest.mark.parametrize("suffix", [".parquet", ".geojson"])
def test_boundaries_formats(tmp_path, capsys, suffix):
    rc, _, err = run(["boundaries", "--scope", "all", "--out", str(tmp_path / f"c{suffix}")], capsys)
    assert rc == 0, err
    back = gpd.read_parquet(tmp_path / f"c{suffix}") if suffix == ".parquet" else gpd.read_file(tmp_path / f"c{suffix}")
    assert len(back) == 372


def test_zones_command(tmp_path, capsys):
    rc, out, _ = run(["zones", "--kind", "new-zone", "--out", str(tmp_path / "z.csv"), "--json"], capsys)
    assert rc == 0
    assert json.loads(out)["n"] == 19
    z = pd.read_csv(tmp_path / "z.csv", dtype=str)
    assert "上海浦东新区" in set(z["name"])


def test_join_command_json_report(tmp_path, capsys):
    src = tmp_path / "gdp.csv"
    src.write_text("city,year,gdp\n襄樊市,2009,1.5\n济南市,2009,2.0\n巢湖市,2009,0.5\n", encoding="utf-8")
    out_path = tmp_path / "joined.csv"
    rc, out, err = run(["join", "--data", str(src), "--name", "city", "--year-col", "year", "--out", str(out_path), "--json"], capsys)
    assert rc == 0, err
    rep = json.loads(out)
    assert rep["matched"] == 2
    assert rep["unmatched"][0]["value"] == "巢湖市"
    assert rep["duplicates"] == [] and len(rep["units_without_data"]) == 335
    joined = pd.read_csv(out_path, dtype={"adcode": str})
    assert list(joined["adcode"]) == ["370100", "420600"]


def test_join_to_geopackage_has_geometry(tmp_path, capsys):
    src = tmp_path / "gdp.csv"
    src.write_text("code,v\n370100,1\n370200,2\n", encoding="utf-8")
    rc, _, err = run(["join", "--data", str(src), "--id", "code", "--out", str(tmp_path / "j.gpkg")], capsys)
    assert rc == 0, err
    back = gpd.read_file(tmp_path / "j.gpkg")
    assert len(back) == 2 and back.geometry.notna().all()


@pytest.mark.parametrize(
    "content, args, message",
    [
        (None, ["--id", "code"], "no such file"),
        ("", ["--id", "code"], "file is empty"),
        ("code,v\n370100,1\n", ["--id", "adcode"], "no column 'adcode'"),
        ("code,year,v\n370100,2010,1\n", ["--id", "code", "--year-col", "yr"], "no column 'yr'"),
        ("code,v\n370100,1\n济南,2\n", ["--id", "code"], "ids of mixed types"),
        ("code,year,v\n370100,2010,1\n370100,2010,2\n", ["--id", "code", "--year-col", "year"], "rows 2 (code 370100) and 3 (code 370100) both give 'v' for unit 370100 济南市 in 2010"),
        ("code,v\n370100,1\n999999,2\n", ["--id", "code", "--strict"], "1 unmatched rows (strict)"),
        ("code,v\n370100,1\n", [], "give exactly one of --id COL or --name COL"),
    ],
)
def test_join_bad_input_one_line_exit_2(tmp_path, capsys, content, args, message):
    src = tmp_path / "in.csv"
    if content is not None:
        src.write_text(content, encoding="utf-8")
    out_path = tmp_path / "out.csv"
    rc, out, err = run(["join", "--data", str(src), *args, "--out", str(out_path)], capsys)
    assert rc == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out_path.exists()


def test_output_folder_missing(tmp_path, capsys):
    rc, _, err = run(["boundaries", "--out", str(tmp_path / "no" / "dir" / "c.gpkg")], capsys)
    assert rc == 2 and "output folder" in err and "does not exist" in err


def test_failed_write_keeps_existing_output(tmp_path, capsys):
    out_path = tmp_path / "joined.csv"
    out_path.write_text("precious\n")
    src = tmp_path / "in.csv"
    src.write_text("code,v\n999999,1\n", encoding="utf-8")
    rc, _, _ = run(["join", "--data", str(src), "--id", "code", "--strict", "--out", str(out_path)], capsys)
    assert rc == 2
    assert out_path.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == sorted(["joined.csv", "in.csv"]) or len(list(tmp_path.iterdir())) == 2


def test_user_boundaries_through_cli(tmp_path, capsys):
    bad = tmp_path / "nocrs.shp"
    from shapely.geometry import box

    gpd.GeoDataFrame({"code": ["a"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(bad)
    bad.with_suffix(".prj").unlink()
    # a file without a CRS is read as it is (contiguity works on it) and the output says so;
    # --crs EPSG:… gives it one (issue 11)
    rc, out, _ = run(["boundaries", "--boundaries", str(bad), "--boundary-id", "code"], capsys)
    assert rc == 0 and "declares no CRS" in out
    rc, out, _ = run(["boundaries", "--boundaries", str(bad), "--boundary-id", "code", "--crs", "EPSG:4326"], capsys)
    assert rc == 0 and "no CRS" not in out


def test_console_script_exit_status(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from geo.cli import _console_main; sys.argv=['geo','join','--data','nope.csv','--id','c','--out','o.csv']; _console_main()"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: nope.csv: no such file"
