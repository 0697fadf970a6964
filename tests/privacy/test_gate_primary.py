"""Primary suppression, margins, derived figures, threshold override and output shape."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from stadslab.errors import AnalysisError, PrivacyError
from stadslab.privacy.gate import min_cell_for, protect


def grid(counts: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame([(f"R{i}", f"K{j}", v) for i, row in enumerate(counts) for j, v in enumerate(row)],
                        columns=["rij", "kol", "n"])


def cell(frame: pd.DataFrame, **where) -> pd.Series:
    m = np.ones(len(frame), dtype=bool)
    for k, v in where.items():
        m &= frame[k].to_numpy() == v
    assert m.sum() == 1, where
    return frame[m].iloc[0]


def test_threshold_rule_suppresses_1_to_14_and_publishes_15_and_zero():
    df = pd.DataFrame({"cat": list("ABCDEF"), "n": [0, 1, 14, 15, 40, 60]})
    out = protect(df, count="n", dims=["cat"]).to_pandas()
    assert cell(out, cat="A").n == 0 and cell(out, cat="A").suppressed == ""
    assert cell(out, cat="D").n == 15
    for c in "BC":
        assert pd.isna(cell(out, cat=c).n) and cell(out, cat=c).suppressed == "primair: n<15"
    assert cell(out, cat="Totaal").n == 130


def test_zeros_can_be_configured_as_unsafe():
    df = pd.DataFrame({"cat": list("ABC"), "n": [0, 30, 40]})
    out = protect(df, count="n", dims=["cat"], zeros="suppress").to_pandas()
    assert pd.isna(cell(out, cat="A").n) and cell(out, cat="A").suppressed.startswith("primair")
    with pytest.raises(PrivacyError):
        protect(df, count="n", dims=["cat"], zeros="soms")


def test_threshold_can_be_raised_per_dataset():
    df = pd.DataFrame({"cat": list("ABCD"), "n": [16, 19, 20, 90]})
    pt = protect(df, count="n", dims=["cat"], min_cell=20)
    out = pt.to_pandas()
    assert pd.isna(cell(out, cat="A").n) and cell(out, cat="A").suppressed == "primair: n<20"
    assert cell(out, cat="C").n == 20 and pt.provenance["min_cell"] == 20
    assert min_cell_for(SimpleNamespace(privacy={"min_cell": 20})) == 20
    assert min_cell_for(SimpleNamespace(privacy={"min_cell": 5})) == 15
    assert min_cell_for(SimpleNamespace(privacy={})) == 15


def test_lowering_the_threshold_needs_a_logged_reason(caplog):
    df = pd.DataFrame({"cat": list("ABC"), "n": [12, 40, 50]})
    with pytest.raises(PrivacyError, match="onder de norm"):
        protect(df, count="n", dims=["cat"], min_cell=10)
    with caplog.at_level(logging.WARNING, logger="stadslab.audit"):
        pt = protect(df, count="n", dims=["cat"], min_cell=10, override_reason="besluit privacyfunctionaris 2024-07")
    assert any(r.name == "stadslab.audit" and "besluit privacyfunctionaris" in r.getMessage() for r in caplog.records)
    assert pt.provenance["override"] == {"min_cell": 10, "default": 15, "reason": "besluit privacyfunctionaris 2024-07"}
    assert cell(pt.to_pandas(), cat="A").n == 12


def test_margins_are_computed_for_every_combination_including_the_grand_total():
    out = protect(grid([[20, 30], [40, 50]]), count="n", dims=["rij", "kol"]).to_pandas()
    assert len(out) == 9
    assert cell(out, rij="R0", kol="Totaal").n == 50
    assert cell(out, rij="Totaal", kol="K1").n == 80
    assert cell(out, rij="Totaal", kol="Totaal").n == 140


def test_hierarchy_gives_wijk_subtotals_from_a_column_or_a_mapping():
    df = pd.DataFrame({"buurt": ["B1", "B2", "B3"], "wijk": ["W1", "W1", "W2"], "n": [20, 30, 40]})
    out = protect(df, count="n", dims=["buurt"], hierarchy={"buurt": "wijk"}).to_pandas()
    assert cell(out, buurt="Totaal", wijk="W1").n == 50
    assert cell(out, buurt="Totaal", wijk="Totaal").n == 90
    out2 = protect(df.drop(columns="wijk"), count="n", dims=["buurt"],
                   hierarchy={"buurt": {"B1": "W1", "B2": "W1", "B3": "W2"}}).to_pandas()
    assert cell(out2, buurt="Totaal", buurt_parent="W1").n == 50


def test_derived_figures_follow_their_cell_and_margins_are_count_weighted():
    df = pd.DataFrame({"cat": list("ABC"), "n": [10, 30, 60], "aandeel": [0.5, 0.2, 0.1],
                       "bedrag": [100.0, 200.0, 300.0]})
    pt = protect(df, count="n", dims=["cat"], values={"aandeel": "mean", "bedrag": "sum"})
    out = pt.to_pandas()
    assert pd.isna(cell(out, cat="A").aandeel) and pd.isna(cell(out, cat="A").bedrag)
    assert cell(out, cat="Totaal").aandeel == pytest.approx((5 + 6 + 6) / 100)
    assert cell(out, cat="Totaal").bedrag == pytest.approx(600.0)
    assert cell(out, cat="C").aandeel == pytest.approx(0.1)
    assert out.loc[out.n.isna(), "aandeel"].isna().all()


def test_suppressed_is_null_never_zero_in_pandas_and_arrow():
    pt = protect(grid([[3, 30], [40, 50]]), count="n", dims=["rij", "kol"])
    df = pt.to_pandas()
    assert str(df.n.dtype) == "Int64" and df.n.isna().sum() == pt.stats["suppressed"]
    tbl = pt.to_arrow(public=True)
    assert isinstance(tbl, pa.Table) and tbl.column("n").null_count == pt.stats["suppressed"]
    assert set(tbl.column("suppressed").to_pylist()) == {"", "onderdrukt"}
    assert pt.stats == {"cells": 4, "margins": 5, "primary": 1, "secondary": 3, "suppressed": 4,
                        "published": 5, "secondary_margins": 0}
    assert pt.provenance["min_cell"] == 15 and pt.provenance["algorithm"]


def test_input_errors_are_named():
    ok = pd.DataFrame({"cat": ["A", "B"], "n": [20, 30]})
    with pytest.raises(AnalysisError, match="Totaal"):
        protect(pd.DataFrame({"cat": ["A", "Totaal"], "n": [20, 30]}), count="n", dims=["cat"])
    with pytest.raises(AnalysisError, match="meer dan eens"):
        protect(pd.DataFrame({"cat": ["A", "A"], "n": [20, 30]}), count="n", dims=["cat"])
    with pytest.raises(AnalysisError, match="rij 2"):
        protect(pd.DataFrame({"cat": ["A", "B"], "n": [20, -1]}), count="n", dims=["cat"])
    with pytest.raises(AnalysisError, match="ontbreken"):
        protect(ok, count="aantal", dims=["cat"])
    with pytest.raises(AnalysisError, match="meer dan één ouder"):
        protect(pd.DataFrame({"b": ["B1", "B1"], "w": ["W1", "W2"], "c": ["x", "y"], "n": [20, 30]}),
                count="n", dims=["b", "c"], hierarchy={"b": "w"})
    with pytest.raises(AnalysisError, match="lege tabel"):
        protect(ok.iloc[:0], count="n", dims=["cat"])
    with pytest.raises(PrivacyError, match="structure_id"):
        protect(ok, count="n", dims=["cat"], store=object())


def test_arrow_input_is_accepted():
    tbl = pa.table({"cat": ["A", "B", "C"], "n": [5, 30, 40]})
    out = protect(tbl, count="n", dims=["cat"]).to_pandas()
    assert pd.isna(cell(out, cat="A").n)
