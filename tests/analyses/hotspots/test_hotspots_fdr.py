"""Benjamini–Hochberg against scipy and the worked example of the 1995 paper."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stadslab.analyses.hotspots import fdr_bh, fdr_bh_adjusted
from stadslab.errors import AnalysisError

# Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 BH rejects the 4 smallest
# (Bonferroni only the 3 smallest).
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
           0.4262, 0.5719, 0.6528, 0.7590, 1.0000]


def test_paper_example() -> None:
    assert fdr_bh(BH_1995, 0.05).tolist() == [True] * 4 + [False] * 11


@pytest.mark.parametrize("seed", range(20))
def test_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 400))
    p = np.concatenate([rng.uniform(0, 1, m), rng.uniform(0, 0.01, m // 4)])
    p = np.round(p, 3)                                      # ties
    rng.shuffle(p)
    adj = stats.false_discovery_control(p, method="bh")
    for alpha in (0.01, 0.05, 0.1):
        np.testing.assert_array_equal(fdr_bh(p, alpha), adj <= alpha)
    np.testing.assert_allclose(fdr_bh_adjusted(p), adj, rtol=1e-12)


def test_nan_is_never_significant_and_not_counted() -> None:
    p = np.array([0.01, np.nan, 0.04, np.nan])
    assert fdr_bh(p, 0.05).tolist() == [True, False, True, False]
    q = fdr_bh_adjusted(p)
    assert np.isnan(q[1]) and q[2] == pytest.approx(0.04)


def test_fdr_never_more_than_unadjusted() -> None:
    p = np.random.default_rng(1).beta(0.3, 1.0, 2000)
    assert fdr_bh(p, 0.05).sum() <= (p <= 0.05).sum()


def test_empty_and_bad_alpha() -> None:
    assert fdr_bh([], 0.05).size == 0
    assert np.isnan(fdr_bh_adjusted([np.nan])).all()
    with pytest.raises(AnalysisError):
        fdr_bh([0.1], alpha=1.5)
