"""The conditional test for two Poisson counts and rates per 1000 inhabitants."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from stadslab.analyses.hotspots import LABEL_CHANCE, LABEL_DOWN, LABEL_UP, change_test, rate_per_1000
from stadslab.errors import AnalysisError


def exact_two_sided(c: int, p: int, pi: float = 0.5) -> float:
    """2·min(P(X ≥ c), P(X ≤ c)) for X ~ Bin(c + p, pi), summed term by term."""
    n = c + p
    pmf = [comb(n, k) * pi ** k * (1 - pi) ** (n - k) for k in range(n + 1)]
    return min(1.0, 2 * min(sum(pmf[c:]), sum(pmf[: c + 1])))


@pytest.mark.parametrize("cur, prev", [(30, 10), (10, 30), (12, 9), (0, 7), (5, 0), (100, 130), (1, 1)])
def test_equal_periods_match_exact_binomial(cur: int, prev: int) -> None:
    row = change_test(cur, prev).iloc[0]
    assert row.p == pytest.approx(exact_two_sided(cur, prev), rel=1e-10)
    assert row.change == cur - prev


def test_known_value_and_labels() -> None:
    # 30 vs 10: P(X ≥ 30 | Bin(40, ½)) = 0.0011106…, two-sided 0.0022211…
    out = change_test([30, 10, 12], [10, 30, 9])
    assert out.p[0] == pytest.approx(2 * stats.binom.sf(29, 40, 0.5), rel=1e-12)
    assert out.p[0] == pytest.approx(0.0022211, abs=1e-6)
    assert out.label.tolist() == [LABEL_UP, LABEL_DOWN, LABEL_CHANCE]
    assert LABEL_UP == "significant gestegen" and LABEL_DOWN == "significant gedaald"
    assert out.p[0] == pytest.approx(out.p[1])                # symmetric
    assert out.ratio.tolist()[:2] == [3.0, pytest.approx(1 / 3)]


def test_unequal_period_lengths() -> None:
    # 20 in 2 weeks vs 20 in 4 weeks: the rate doubled. Under H0 π = 2/6.
    row = change_test(20, 20, current_length=14, previous_length=28).iloc[0]
    assert row.p == pytest.approx(exact_two_sided(20, 20, 1 / 3), rel=1e-10)
    assert row.ratio == pytest.approx(2.0) and row.label == LABEL_UP
    # Same counts in equal periods: no change at all.
    assert change_test(20, 20).iloc[0].label == LABEL_CHANCE
    # Equal *rates* over unequal periods are not a change.
    assert change_test(10, 40, current_length=1, previous_length=4).p[0] == pytest.approx(1.0)


def test_zero_counts() -> None:
    row = change_test(0, 0).iloc[0]
    assert row.p == 1.0 and np.isnan(row.ratio) and row.label == LABEL_CHANCE
    row = change_test(10, 0).iloc[0]
    assert np.isnan(row.ratio) and row.p == pytest.approx(2 * 0.5 ** 10) and row.label == LABEL_UP


def test_size_is_at_most_alpha() -> None:
    rng = np.random.default_rng(0)
    lam = rng.uniform(0.5, 40, 20000)
    cur, prev = rng.poisson(lam), rng.poisson(lam)
    out = change_test(cur, prev)
    assert (out.p < 0.05).mean() <= 0.05                      # exact and conservative
    assert len(out) == 20000


def test_agrees_with_scipy_e_test_on_clear_cases() -> None:
    for cur, prev in [(30, 10), (60, 90), (15, 14)]:
        e = stats.poisson_means_test(cur, 1, prev, 1).pvalue
        assert (change_test(cur, prev).p[0] < 0.05) == (e < 0.05)


@pytest.mark.parametrize("cur, prev, kw", [(-1, 3, {}), (2.5, 3, {}), (np.nan, 3, {}), (3, 3, {"current_length": 0}),
                                           ("a", 3, {}), (3, 3, {"alpha": 0})])
def test_bad_input(cur, prev, kw) -> None:
    with pytest.raises(AnalysisError):
        change_test(cur, prev, **kw)


def test_rate_per_1000() -> None:
    assert rate_per_1000(5, 2500) == 2.0
    assert np.isnan(rate_per_1000(5, 0)) and np.isnan(rate_per_1000(5, None)) and np.isnan(rate_per_1000(5, -3))
    out = rate_per_1000(np.array([1, 2, 3, 4]), [1000, None, 0, np.nan])
    assert out[0] == 1.0 and np.isnan(out[1:]).all()
    s = rate_per_1000(pd.Series([10, 0]), pd.Series([5000.0, 100.0]))
    assert s.tolist() == [2.0, 0.0]                           # zero incidents with people: a real 0
    assert np.isnan(rate_per_1000(None, 100))
