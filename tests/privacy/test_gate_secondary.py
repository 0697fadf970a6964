"""Secondary suppression: known answers, certificates, the LP audit itself, minimality, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from stadslab.privacy.gate import protect
from stadslab.privacy.gate.lp_audit import attacker_intervals
from stadslab.privacy.gate.secondary import secondary_suppression
from stadslab.privacy.gate.primary import primary_mask, protection_need
from stadslab.privacy.gate.tables import from_frame
from stadslab.privacy.gate.witness import SupportCache, Term, check_witness


def grid(counts: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame([(f"R{i}", f"K{j}", v) for i, row in enumerate(counts) for j, v in enumerate(row)],
                        columns=["rij", "kol", "n"])


def suppressed_labels(pt, cols) -> set[tuple]:
    f = pt.to_pandas()
    return {tuple(r) for r in f.loc[f.n.isna(), cols].itertuples(index=False)}


def test_two_by_two_needs_the_whole_interior_and_no_margin():
    """Known answer: one small cell in a 2×2 table forces its row, column and opposite cell."""
    pt = protect(grid([[5, 20], [30, 40]]), count="n", dims=["rij", "kol"])
    assert suppressed_labels(pt, ["rij", "kol"]) == {("R0", "K0"), ("R0", "K1"), ("R1", "K0"), ("R1", "K1")}


def test_lp_audit_gives_the_textbook_interval():
    """x00 + x01 = 25, x00 + x10 = 35, x10 + x11 = 70, all ≥ 0  ⇒  x00 ∈ [0, 25]."""
    pt = protect(grid([[5, 20], [30, 40]]), count="n", dims=["rij", "kol"])
    lo, hi = attacker_intervals(pt.model, pt.suppressed, np.asarray([0]))
    assert (lo[0], hi[0]) == pytest.approx((0.0, 25.0))
    assert pt.audit() == {"checked": 1, "failed": 0, "failed_cells": [], "min_upper": 25.0, "min_width": 25.0,
                          "passed": True}


def test_one_dimension_takes_the_smallest_partner_that_is_large_enough():
    df = pd.DataFrame({"cat": list("ABCD"), "n": [3, 11, 40, 50]})   # 3 needs a partner with ≥ 12 persons
    pt = protect(df, count="n", dims=["cat"])
    assert suppressed_labels(pt, ["cat"]) == {("A",), ("B",), ("C",)}     # B is primary, C its partner
    assert pt.audit()["passed"]


def test_one_dimension_without_a_partner_suppresses_the_total():
    pt = protect(pd.DataFrame({"cat": ["A", "B"], "n": [3, 5]}), count="n", dims=["cat"])
    assert suppressed_labels(pt, ["cat"]) == {("A",), ("B",), ("Totaal",)}
    assert pt.audit()["passed"]


def test_a_small_buurt_is_protected_by_a_sibling_in_its_own_wijk():
    df = pd.DataFrame({"wijk": ["W1"] * 3 + ["W2"] * 3, "buurt": ["B1", "B2", "B3", "B4", "B5", "B6"],
                       "n": [4, 60, 30, 50, 50, 50]})
    pt = protect(df, count="n", dims=["buurt"], hierarchy={"buurt": "wijk"})
    assert suppressed_labels(pt, ["buurt", "wijk"]) == {("B1", "W1"), ("B3", "W1")}
    assert pt.stats["secondary_margins"] == 0


def test_a_wijk_with_one_buurt_takes_the_cheapest_of_partner_and_total():
    """The wijk total equals its only buurt, so both are primary. Partner B2 costs B2 + W2 = 41 + 91;
    the gemeente total costs 97: by "least total value" the total goes. With a bigger total the
    partner route wins."""
    df = pd.DataFrame({"wijk": ["W1", "W2", "W2"], "buurt": ["B1", "B2", "B3"], "n": [6, 40, 50]})
    pt = protect(df, count="n", dims=["buurt"], hierarchy={"buurt": "wijk"})
    assert suppressed_labels(pt, ["buurt", "wijk"]) == {("B1", "W1"), ("Totaal", "W1"), ("Totaal", "Totaal")}
    assert pt.audit()["passed"]
    df2 = pd.DataFrame({"wijk": ["W1", "W2", "W2", "W3"], "buurt": ["B1", "B2", "B3", "B4"], "n": [6, 20, 30, 400]})
    pt2 = protect(df2, count="n", dims=["buurt"], hierarchy={"buurt": "wijk"})
    assert suppressed_labels(pt2, ["buurt", "wijk"]) == {("B1", "W1"), ("Totaal", "W1"), ("B2", "W2"),
                                                          ("Totaal", "W2")}
    assert pt2.audit()["passed"]


def test_every_primary_cell_has_a_valid_witness_and_a_broken_one_is_caught():
    rng = np.random.default_rng(3)
    df = grid(rng.negative_binomial(1.2, 1.2 / 21.2, size=(6, 7)).tolist())
    model = from_frame(df, count="n", dims=["rij", "kol"], hierarchy=None, totals="Totaal", values={})
    prim = primary_mask(model.full, 15)
    need = protection_need(model.full, prim, 15)
    pattern = secondary_suppression(model, prim, need)
    cache = SupportCache(model)
    assert set(pattern.witnesses) == set(np.flatnonzero(prim.reshape(-1)).tolist())
    for p, terms in pattern.witnesses.items():
        assert check_witness(model, cache, pattern.suppressed, p, int(need.reshape(-1)[p]), terms) is None
    p, terms = next(iter(pattern.witnesses.items()))
    assert check_witness(model, cache, np.zeros_like(pattern.suppressed), p, 1, terms) is not None
    too_much = [Term(10_000, t.vecs) for t in terms]
    assert check_witness(model, cache, pattern.suppressed, p, 1, too_much) == "getuige maakt een cel negatief"


@pytest.mark.parametrize("seed", range(4))
def test_lp_audit_agrees_on_medium_hierarchical_tables(seed):
    rng = np.random.default_rng(seed)
    rows = [(f"W{w}", f"W{w}B{b}", f"G{c // 4}", f"C{c}") for w in range(4) for b in range(int(rng.integers(2, 7)))
            for c in range(12)]
    df = pd.DataFrame(rows, columns=["wijk", "buurt", "groep", "cat"])
    df["n"] = rng.negative_binomial(1.2, 1.2 / 21.2, size=len(df))
    pt = protect(df, count="n", dims=["buurt", "cat"], hierarchy={"buurt": "wijk", "cat": "groep"})
    report = pt.audit()
    assert report["passed"] and report["checked"] == pt.stats["primary"] > 20


def test_suppression_is_far_from_the_everything_bound():
    """Minimality check against the obvious bounds: never more than needed twice over on a sparse table."""
    rng = np.random.default_rng(9)
    df = grid(rng.negative_binomial(1.5, 1.5 / 31.5, size=(20, 25)).tolist())
    pt = protect(df, count="n", dims=["rij", "kol"])
    s = pt.stats
    assert s["secondary"] <= s["primary"]
    assert s["secondary_margins"] == 0
    f = pt.to_pandas()
    suppressed_value = pt.model.full.reshape(-1)[pt.suppressed.reshape(-1)].sum()
    assert suppressed_value < 0.35 * pt.model.full.sum() / 4     # a quarter of the grand total is all interior mass


def test_reasons_name_the_protected_cell():
    pt = protect(grid([[5, 20], [30, 40]]), count="n", dims=["rij", "kol"])
    f = pt.to_pandas()
    assert set(f.loc[f.n.isna(), "suppressed"]) == {"primair: n<15", "secundair: beschermt cel rij=R0, kol=K0"}
    assert set(pt.to_pandas(public=True).loc[f.n.isna(), "suppressed"]) == {"onderdrukt"}


def test_ten_thousand_cells_in_well_under_a_second():
    rng = np.random.default_rng(1)
    rows = np.repeat(np.arange(40), 250)
    df = pd.DataFrame({"wijk": [f"W{r // 8}" for r in rows], "buurt": [f"B{r}" for r in rows],
                       "cat": [f"C{c}" for c in np.tile(np.arange(250), 40)],
                       "n": rng.negative_binomial(2, 2 / 32, size=10_000)})
    t = time.perf_counter()
    pt = protect(df, count="n", dims=["buurt", "cat"], hierarchy={"buurt": "wijk"})
    assert time.perf_counter() - t < 1.5
    assert pt.stats["primary"] > 1000 and pt.provenance["certificates_checked"] == pt.stats["primary"]
