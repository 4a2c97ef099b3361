"""Publication tables from results' JSON: the numbers are the JSON's (rounded), stars follow the p-values,
W·x terms and ρ come after the x terms, and every format escapes user text (<script>, LaTeX specials)."""

from __future__ import annotations

import json
import re

import pytest

from geo.errors import OptionError, SchemaError
from geo.tables import fmt_estimate, impacts_table, latex_escape, models_table, radiation_table, stars, table_from_json

EVIL = "<script>alert(1)</script> & 100% $x_1$ #{~^}\\"


def _model(model="sdm", rho=0.4, extra=None, name="gdp"):
    coefs = {
        name: {"estimate": 0.78338, "se": 0.0204, "z": 38.4, "p": 0.0},
        "pop": {"estimate": 0.0977, "se": 0.0598, "z": 1.63, "p": 0.103},
        f"W_{name}": {"estimate": 0.265, "se": 0.12, "z": 2.2, "p": 0.028},
    }
    coefs.update(extra or {})
    out = {"model": model, "effects": "twoways", "n": 337, "t": 24, "y": "log_gdp", "coefficients": coefs,
           "loglik": 11634.605, "aic": -23257.21}
    if rho is not None:
        out["rho"] = {"estimate": rho, "se": 0.0143, "z": 27.8, "p": 1e-160}
    out["impacts"] = {
        name: {k: {"estimate": v, "se": 0.02, "p": 0.001, "lower": v - 0.04, "upper": v + 0.04}
               for k, v in (("direct", 0.837), ("indirect", 1e-19), ("total", 0.837))}
    }
    return out


def test_numbers_and_stars():
    assert stars(0.009) == "***" and stars(0.01) == "**" and stars(0.049) == "**" and stars(0.05) == "*"
    assert stars(0.0999) == "*" and stars(0.1) == "" and stars(None) == "" and stars(float("nan")) == ""
    assert fmt_estimate(0.78338) == "0.783" and fmt_estimate(-23257.21, 1) == "-23,257.2"
    assert fmt_estimate(1e-19) == "~0" and fmt_estimate(0.00012) == "1.20e-04" and fmt_estimate(None) == ""
    assert fmt_estimate(float("inf")) == ""


def test_models_side_by_side():
    sar = _model("sar", extra={})
    sar["coefficients"] = {k: v for k, v in sar["coefficients"].items() if not k.startswith("W_")}
    sem = _model("sem", rho=None)
    sem["lambda"] = {"estimate": 0.5, "se": 0.02, "p": 0.2}
    table = models_table([sar, _model(), sem])
    frame = table.to_frame()
    assert list(frame.columns) == ["Variable", "(1) SAR", "(2) SDM", "(3) SEM"]
    labels = [r.label for r in table.rows]
    # x terms, then W·x, then rho and lambda, then the statistics
    assert labels[:6] == ["gdp", "", "pop", "", "W·gdp", ""]
    assert labels.index("ρ (W·y)") < labels.index("λ (W·u)") < labels.index("Fixed effects")
    gdp = table.rows[0]
    assert gdp.cells == ("0.783***", "0.783***", "0.783***")
    assert table.rows[1].cells == ("(0.020)",) * 3
    assert table.rows[2].cells[0] == "0.098"  # p = 0.103: no star
    assert table.rows[4].cells == ("", "0.265**", "0.265**")  # SAR has no W·x
    lam = table.rows[labels.index("λ (W·u)")]
    assert lam.cells == ("", "", "0.500")
    stats = {r.label: r.cells for r in table.rows if r.kind == "stat"}
    assert stats["N"] == ("337",) * 3 and stats["T"] == ("24",) * 3 and stats["Observations"] == ("8,088",) * 3
    assert stats["Log-likelihood"] == ("11,634.6",) * 3 and stats["AIC"] == ("-23,257.2",) * 3
    assert "R²" not in stats  # not in the JSON: no row
    tt = models_table([_model()], stat="t")
    assert tt.rows[1].cells == ("[38.40]",)


def test_impacts_and_radiation():
    imp = impacts_table(_model())
    assert imp.columns == ("Direct", "Indirect", "Total")
    assert imp.rows[0].cells == ("0.837***", "~0***", "0.837***")
    ci = impacts_table(_model(), interval=True)
    assert ci.rows[1].cells[0] == "[0.797, 0.877]"
    rad = {"method": "twfe", "y": "y", "n_obs": 7944, "n_units": 331, "synthetic_data": True,
           "bands": [{"band": "host", "estimate": 0.13, "se": 0.005, "p": 1e-70},
                     {"band": "0-100 km", "estimate": 0.068, "se": 0.007, "p": 0.2}]}
    other = dict(rad, method="stacked", bands=[{"band": "0-100 km", "estimate": 0.05, "se": 0.01, "p": 0.04}])
    table = radiation_table([rad, other], lang="zh")
    assert table.columns == ("TWFE", "Stacked DID")
    assert [r.label for r in table.rows if r.kind == "coef"] == ["所在城市", "0-100 千米"]
    assert table.rows[0].cells == ("0.130***", "") and table.rows[2].cells == ("0.068", "0.050**")
    assert "模拟数据" in table.notes


def test_auto_kind_and_errors():
    assert table_from_json([_model()]).kind == "models"
    assert table_from_json([{"bands": [{"band": "host", "estimate": 1, "se": 1, "p": 0.5}]}]).kind == "radiation"
    with pytest.raises(SchemaError):
        table_from_json([{"foo": 1}])
    with pytest.raises(OptionError):
        models_table([_model()], names=["a", "b"])
    with pytest.raises(SchemaError):
        impacts_table({"model": "ols", "impacts": {}})


@pytest.fixture()
def evil_table():
    return models_table([_model(name=EVIL)], names=[EVIL], title=EVIL)


def test_markdown_and_html_escape(evil_table):
    md = evil_table.to_markdown()
    assert "<script>" not in md and "&lt;script&gt;" in md
    # every table line has exactly the right number of unescaped pipes
    for line in md.splitlines():
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 3
    page = evil_table.to_html()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_latex_escapes_specials(evil_table):
    tex = evil_table.to_latex()
    assert "<script>" not in tex
    assert latex_escape("100% $x_1$ #{~^}\\&") == (
        r"100\% \$x\_1\$ \#\{\textasciitilde{}\textasciicircum{}\}\textbackslash{}\&"
    )
    escaped = latex_escape(EVIL)
    assert EVIL not in tex
    # the title (caption), the column name and the row label: each the escaped text
    assert f"\\caption{{{escaped}}}" in tex
    assert f"& {escaped} \\\\" in tex
    assert f"\n{escaped} & 0.783$^{{***}}$ \\\\" in tex
    assert f"W·{escaped} & 0.265$^{{**}}$" in tex
    assert "\\toprule" in tex and "\\bottomrule" in tex


def test_docx_real_table_and_text(evil_table, tmp_path):
    import docx

    path = evil_table.save(tmp_path / "t.docx")
    d = docx.Document(str(path))
    assert len(d.tables) == 1
    tab = d.tables[0]
    assert len(tab.rows) == 1 + len(evil_table.rows) and len(tab.columns) == 2
    assert tab.cell(0, 1).text == EVIL and tab.cell(1, 0).text == EVIL  # the text, as typed, not markup
    xml = tab._tbl.xml
    assert "w:tcBorders" in xml  # three-line table rules


def test_xlsx_and_formula_guard(tmp_path):
    import openpyxl

    table = models_table([_model(name="=HYPERLINK(\"x\")")])
    path = table.save(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path).active
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "'=HYPERLINK(\"x\")" in values and "0.783***" in values and "-23,257.2" in values
    assert all(not str(v).startswith("=") for v in values)


def test_lang_zh_has_no_english_labels():
    table = models_table([_model()], lang="zh")
    text = json.dumps(table.to_json(), ensure_ascii=False)
    for word in ("Variable", "Fixed effects", "Observations", "Log-likelihood", "Standard errors", "unit and year",
                 "Dependent variable"):
        assert word not in text
    assert "固定效应" in text and "对数似然" in text


def test_cli_table(tmp_path, capsys):
    from geo.cli import main

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_model("sar")), encoding="utf-8")
    b.write_text(json.dumps(_model()), encoding="utf-8")
    out = tmp_path / "t.tex"
    assert main(["table", "--from", str(a), "--from", str(b), "--out", str(out), "--names", "SAR,SDM"]) in (0, None)
    assert "SAR & SDM" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["table", "--from", str(a), "--out", str(tmp_path / "t.pptx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "pptx" in err[0]
    assert main(["table", "--from", str(a), "--out", str(a)]) == 2
    assert json.loads(a.read_text(encoding="utf-8"))["model"] == "sar"  # the input is intact


def test_office_files_are_byte_identical(tmp_path):
    import time

    table = models_table([_model()])
    for ext in ("docx", "xlsx"):
        a = table.save(tmp_path / f"a.{ext}").read_bytes()
        time.sleep(1.1)  # a wall-clock date would change between the two files
        b = table.save(tmp_path / f"b.{ext}").read_bytes()
        assert a == b, ext
