"""geo sdm on panels: unbalanced input (--balance), --transform/--islands, degenerate data as one error line."""

import json

import numpy as np
import pandas as pd
import pytest

from geo._paths import LAYERS_DIR
from geo.cli import main

Y, X = "log_gdp_pc_synthetic", "invest_share_synthetic"


@pytest.fixture(scope="module")
def demo():
    return pd.read_csv(LAYERS_DIR / "demo_panel_synthetic.csv", dtype={"adcode": str})


@pytest.fixture(scope="module")
def holed(demo, tmp_path_factory):
    d = demo.copy()
    first = sorted(d["year"].unique())[0]
    d = d[~((d["adcode"] == "130100") & (d["year"] == first))]  # Shijiazhuang misses the first year
    d.loc[(d["adcode"] == "320500") & (d["year"] == first + 1), X] = np.nan  # Suzhou: an empty cell
    path = tmp_path_factory.mktemp("holed") / "holed_synthetic.csv"
    d.to_csv(path, index=False)
    return str(path), first


def test_unbalanced_panel_is_one_error_line_offering_balance_drop(holed, capsys):
    path, first = holed
    assert main(["sdm", "--data", path, "--y", Y, "--x", X, "--time", "year", "--draws", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert "unbalanced panel: 2 of 337 units" in err[0] and f"130100 石家庄市 lacks {first}" in err[0]
    assert "--balance drop" in err[0] and "Traceback" not in err[0]


def test_balance_drop_lists_units_by_code_and_name(holed, capsys):
    path, first = holed
    args = ["sdm", "--data", path, "--y", Y, "--x", X, "--time", "year", "--draws", "0", "--balance", "drop"]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    b = out["balance"]
    assert {d["id"] for d in b["dropped_units"]} == {"130100", "320500"}
    assert {d["name"] for d in b["dropped_units"]} == {"石家庄市", "苏州市"}
    n_years = b["periods"]
    assert b["observations_lost"] == 2 * n_years - 2 and b["units_kept"] == 335 and out["n"] == 335
    assert out["units_without_data"] == []
    assert main(args) == 0
    assert "2 unit(s) not observed in every period were dropped (130100 石家庄市" in capsys.readouterr().out


def test_transform_and_islands_reach_the_weights(demo, capsys):
    path = str(LAYERS_DIR / "demo_panel_synthetic.csv")
    base = ["sdm", "--data", path, "--y", Y, "--x", X, "--time", "year", "--draws", "0", "--effects", "individual",
            "--json"]
    assert main(base) == 0
    r = json.loads(capsys.readouterr().out)
    assert main([*base, "--transform", "b"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert r["rho"]["estimate"] != pytest.approx(b["rho"]["estimate"], abs=1e-6)
    assert main([*base, "--islands", "error"]) == 2  # the embedded map has islands (Hainan, Taiwan …)
    assert "islands" in capsys.readouterr().err


def test_constant_y_is_one_error_line(demo, tmp_path, capsys):
    d = demo.assign(const_synthetic=1.0)
    path = tmp_path / "const_synthetic.csv"
    d.to_csv(path, index=False)
    assert main(["sdm", "--data", str(path), "--y", "const_synthetic", "--x", X, "--time", "year", "--draws", "0"]) == 2
    cap = capsys.readouterr()
    assert cap.err.count("\n") == 1 and "'const_synthetic' (the dependent variable) is constant" in cap.err
    assert "RuntimeWarning" not in cap.err
    assert main(["sdm", "--data", str(path), "--y", Y, "--x", f"{X},{Y}_copy", "--time", "year"]) == 2
    capsys.readouterr()
    d[f"{Y}_copy"] = d[Y]
    d.to_csv(path, index=False)
    assert main(["sdm", "--data", str(path), "--y", Y, "--x", f"{X},{Y}_copy", "--time", "year", "--draws", "0"]) == 2
    err = capsys.readouterr().err
    assert f"exact linear combination of '{X}', '{Y}_copy'" in err and "remove the regressor" in err
