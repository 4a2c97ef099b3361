"""Analyses say which boundary units they left out for lack of data (nothing is dropped silently)."""

import json

import pandas as pd
import pytest

from geo._paths import LAYERS_DIR
from geo.cli import main


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    d = pd.read_csv(LAYERS_DIR / "demo_panel_synthetic.csv", dtype={"adcode": str})
    path = tmp_path_factory.mktemp("partial") / "partial_synthetic.csv"
    d[~d["adcode"].isin(["110000", "120000"])].to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "args",
    [
        ["moran", "--var", "log_gdp_pc_synthetic", "--year", "2023", "--permutations", "9"],
        ["moran", "--var", "log_gdp_pc_synthetic", "--permutations", "9"],
        ["sdm", "--y", "log_gdp_pc_synthetic", "--x", "invest_share_synthetic", "--time", "year", "--draws", "0"],
        ["radiation", "--y", "log_gdp_pc_synthetic", "--zone-kind", "new-zone"],
        ["scenario", "--y", "log_gdp_pc_synthetic", "--host", "郑州", "--year", "2024"],
    ],
)
def test_units_without_data_are_reported(partial, capsys, args):
    assert main([args[0], "--data", partial, *args[1:], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["units_without_data"] == ["110000", "120000"]
    assert main([args[0], "--data", partial, *args[1:]]) == 0
    text = capsys.readouterr().out
    assert "2 units of the boundaries have no data and were left out" in text and "110000 北京市, 120000 天津市" in text  # named, not codes alone


def test_nothing_left_out_is_an_empty_list(capsys):
    demo = str(LAYERS_DIR / "demo_panel_synthetic.csv")
    assert main(["moran", "--data", demo, "--var", "log_gdp_pc_synthetic", "--year", "2023", "--permutations", "9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["units_without_data"] == []
