"""JSON written by orjson (compact when piped, NaN -> null) and the per-unit LISA table (`geo moran --out`)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.cli import main
from geo.cli.options import dumps_json, to_jsonable

DEMO = "layers/demo_panel_synthetic.csv"


def test_dumps_json_matches_the_recursive_conversion():
    payload = {
        "a": np.array([1.5, np.nan, np.inf]), "b": np.float64("nan"), "c": np.int64(7), "d": (1, 2),
        "e": [{"id": "x", "v": np.float32(0.25)}], 3: "key as int", "f": np.bool_(True), "g": "中文 <b>&",
        "h": np.arange(3, dtype=np.int32), "i": -0.0, "j": 1e-300, "k": None,
    }
    assert json.loads(dumps_json(payload)) == json.loads(json.dumps(to_jsonable(payload), allow_nan=False))
    assert b"\n" not in dumps_json(payload) and b"\n" in dumps_json(payload, indent=True)
    assert "中文".encode() in dumps_json(payload)  # UTF-8 as is (ensure_ascii=False before)


def test_dumps_json_refuses_unknown_objects():
    with pytest.raises(TypeError):
        dumps_json({"x": object()})


def test_moran_local_out_tables(tmp_path, capsys):
    args = ["moran", "--data", DEMO, "--var", "log_gdp_pc_synthetic", "--year", "2023", "--seed", "1",
            "--permutations", "99", "--local"]
    assert main([*args, "--json", "--out", str(tmp_path / "lisa.csv")]) == 0
    payload = json.loads(capsys.readouterr().out)  # compact JSON (stdout is not a terminal)
    table = pd.read_csv(tmp_path / "lisa.csv", dtype={"adcode": str}).set_index("adcode")
    assert len(table) == len(payload["local"]) == 337
    by_id = {r["id"]: r for r in payload["local"]}
    for uid in ("110000", "330100", "460100"):
        assert math.isclose(table.loc[uid, "Ii"], by_id[uid]["Ii"], rel_tol=1e-12)
        assert table.loc[uid, "p_sim"] == pytest.approx(by_id[uid]["p_sim"])
    assert main([*args, "--out", str(tmp_path / "lisa.gpkg")]) == 0
    capsys.readouterr()
    gdf = gpd.read_file(tmp_path / "lisa.gpkg")
    assert len(gdf) == 337 and gdf.geometry.notna().all() and "Ii" in gdf.columns
    assert main([*args, "--out", str(tmp_path / "lisa.parquet")]) == 0
    capsys.readouterr()
    assert len(pd.read_parquet(tmp_path / "lisa.parquet")) == 337


def test_moran_out_needs_local(tmp_path, capsys):
    code = main(["moran", "--data", DEMO, "--var", "log_gdp_pc_synthetic", "--year", "2023",
                 "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "--local" in err
    assert not (tmp_path / "x.csv").exists()
