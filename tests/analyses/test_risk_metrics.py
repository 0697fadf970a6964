"""Hit rate, PAI, PEI and ranking on toy examples computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.risk.metrics import (calibration, evaluate_ranking, hit_rate, n_flagged, pai, pei,
                                            rank_cells)


def test_pai_pei_by_hand():
    # 10 cells, area = 10 cells; 10 incidents: cell0 5, cell1 3, cell4 2
    observed = np.array([5, 3, 0, 0, 2, 0, 0, 0, 0, 0], float)
    score = np.array([9, 0, 0, 0, 8, 0, 0, 0, 0, 0], float)  # flags cells 0 and 4 at 20 %
    ev = evaluate_ranking(score, np.zeros(10), observed, 10.0, np.sort(observed)[::-1], [0.2, 0.1], 10.0)
    # 20 %: k = 2, hits 5 + 2 = 7 → hit rate 0.7, PAI 0.7 / 0.2 = 3.5, best 2 cells 5 + 3 = 8 → PEI 7/8
    assert ev["0.2"]["k"] == 2
    assert ev["0.2"]["hit_rate"] == pytest.approx(0.7)
    assert ev["0.2"]["pai"] == pytest.approx(3.5)
    assert ev["0.2"]["pei"] == pytest.approx(0.875)
    # 10 %: k = 1 (cell 0): hit 0.5, PAI 5, PEI 1 (it is the best possible cell)
    assert ev["0.1"]["hit_rate"] == pytest.approx(0.5)
    assert ev["0.1"]["pai"] == pytest.approx(5.0)
    assert ev["0.1"]["pei"] == pytest.approx(1.0)


def test_total_includes_incidents_outside_candidates():
    # 2 of 12 incidents happened outside the candidate cells: they count as misses, and the best
    # possible set may include such a cell (best_sorted holds all cells of the study area)
    observed = np.array([6, 4, 0], float)
    best = np.array([6, 4, 2])
    ev = evaluate_ranking(np.array([3.0, 2.0, 1.0]), np.zeros(3), observed, 12.0, best, [0.5], 4.0)
    assert ev["0.5"]["k"] == 2
    assert ev["0.5"]["hit_rate"] == pytest.approx(10 / 12)
    assert ev["0.5"]["pai"] == pytest.approx((10 / 12) / 0.5)
    assert ev["0.5"]["pei"] == pytest.approx(1.0)


def test_ties_broken_by_longterm_then_cell_order():
    score = np.array([1.0, 1.0, 1.0, 0.0, np.nan])
    longterm = np.array([2.0, 5.0, 2.0, 9.0, 9.0])
    assert rank_cells(score, longterm).tolist() == [1, 0, 2, 3, 4]


def test_n_flagged_rounding_and_bounds():
    assert n_flagged(0.03, 6100.48, 10_000) == 183   # Groningen 2017: 9532 ha
    assert n_flagged(0.05, 6100.48, 10_000) == 305
    assert n_flagged(0.001, 100, 50) == 1              # at least one cell
    assert n_flagged(0.5, 1000, 50) == 50              # at most the candidates


def test_no_incidents_gives_nan_not_zero():
    assert np.isnan(hit_rate(np.zeros(3), np.array([0]), 0.0))
    assert np.isnan(pei(float("nan"), np.zeros(3), 1, 0.0))
    assert pai(0.25, 0.05) == pytest.approx(5.0)


def test_calibration_deciles():
    pred = np.arange(100, dtype=float)
    obs = pred * 2
    cal = calibration(pred, obs)
    assert len(cal["deciles"]) == 10
    assert cal["deciles"][0]["predicted_mean"] == pytest.approx(4.5)
    assert cal["deciles"][-1]["observed_mean"] == pytest.approx(189.0)
    assert cal["ratio_predicted_observed"] == pytest.approx(0.5)
