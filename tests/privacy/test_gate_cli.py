"""``stadslab gate protect``: the gate can be checked from outside through a CSV in and a CSV out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stadslab.cli.gate import app
from stadslab.errors import AnalysisError, PrivacyError, ReaderError

runner = CliRunner()


@pytest.fixture
def table_csv(tmp_path):
    rng = np.random.default_rng(4)
    rows = [(f"W{w}", f"W{w}B{b}", f"K{c}") for w in range(3) for b in range(4) for c in range(5)]
    df = pd.DataFrame(rows, columns=["wijk", "buurt", "cat"])
    df["n"] = rng.negative_binomial(1.2, 1.2 / 23.2, size=len(df))
    path = tmp_path / "cellen.csv"
    df.to_csv(path, index=False, sep=";")
    return path, df


def run(*args: str):
    return runner.invoke(app, ["protect", *args])


def test_protect_writes_every_cell_and_margin_with_reason(table_csv, tmp_path):
    src, df = table_csv
    out = tmp_path / "uit" / "beschermd.csv"
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--hierarchy", "buurt:wijk", "--out", str(out))
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(got.columns) == ["buurt", "wijk", "cat", "n", "suppressed"]
    assert len(got) == (12 + 3 + 1) * (5 + 1)
    empty = got.n == ""
    assert (got.suppressed[empty] != "").all() and (got.suppressed[~empty] == "").all()
    shown = got.n[~empty].astype(int)
    assert ((shown >= 15) | (shown == 0)).all()
    total = got[(got.buurt == "Totaal") & (got.wijk == "Totaal") & (got.cat == "Totaal")]
    assert total.n.iloc[0] == str(df.n.sum())
    w0 = got[(got.buurt == "Totaal") & (got.wijk == "W0") & (got.cat == "Totaal")]
    assert w0.n.iloc[0] == str(df[df.wijk == "W0"].n.sum())
    assert "primair: n<15" in set(got.suppressed)
    assert any(r.startswith("secundair: beschermt cel") for r in got.suppressed)


def test_json_and_audit(table_csv, tmp_path):
    src, _ = table_csv
    out = tmp_path / "b.csv"
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--hierarchy", "buurt:wijk", "--out", str(out),
              "--json", "--audit")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["audit"]["passed"] and data["audit"]["checked"] == data["stats"]["primary"] > 0
    assert data["provenance"]["min_cell"] == 15 and data["stats"]["margins"] == 16 * 6 - 60


def test_public_mode_hides_reasons(table_csv, tmp_path):
    src, _ = table_csv
    out = tmp_path / "p.csv"
    assert run(str(src), "--count", "n", "--dims", "buurt,cat", "--out", str(out), "--public").exit_code == 0
    assert set(pd.read_csv(out, keep_default_na=False).suppressed) == {"", "onderdrukt"}


def test_min_cell_below_15_needs_a_reason(table_csv, tmp_path):
    src, _ = table_csv
    out = tmp_path / "x.csv"
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--out", str(out), "--min-cell", "10")
    assert isinstance(res.exception, PrivacyError) and res.exception.exit_code == 10
    assert not out.exists()
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--out", str(out), "--min-cell", "10",
              "--override-reason", "proef met toestemming", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["provenance"]["override"]["min_cell"] == 10


def test_bad_arguments_are_named(table_csv, tmp_path):
    src, _ = table_csv
    out = str(tmp_path / "y.csv")
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--hierarchy", "wijk", "--out", out)
    assert isinstance(res.exception, AnalysisError) and "kind:ouder" in str(res.exception)
    res = run(str(src), "--count", "n", "--dims", "buurt,cat", "--hierarchy", "wijk:buurt", "--out", out)
    assert isinstance(res.exception, AnalysisError)
    res = run(str(tmp_path / "bestaat_niet.csv"), "--count", "n", "--dims", "cat", "--out", out)
    assert isinstance(res.exception, ReaderError)
    res = run(str(src), "--count", "aantal", "--dims", "cat", "--out", out)
    assert isinstance(res.exception, AnalysisError) and "aantal" in str(res.exception)
