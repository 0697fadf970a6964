"""The statistics against independent computations: scipy for the correlations, esda for Moran's I per
distance class, and a plain matrix implementation of the Clifford–Richardson–Hémon / Dutilleul effective
sample size (explicit n × n matrices, one pair at a time) for the vectorised one."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from stadslab.analyses.discovery.stats import all_pairs, pair_tests
from tests.discovery.conftest import smooth_field


def plain_n_eff(x: np.ndarray, y: np.ndarray, W: np.ndarray, controls: np.ndarray | None = None) -> float:
    """Dutilleul (1993): n_eff = 1 + tr(MΣx) tr(MΣy) / tr(MΣx M Σy), Σ from Moran's I per class, written out."""
    n = len(x)
    D = np.ones((n, 1)) if controls is None else np.column_stack([np.ones(n), controls])
    M = np.eye(n) - D @ np.linalg.pinv(D)
    def sigma(v):
        z = M @ v
        S = np.eye(n)
        for Wk in W:
            S += (n / Wk.sum()) * (z @ Wk @ z) / (z @ z) * Wk
        return S
    Sx, Sy = sigma(x), sigma(y)
    return 1 + np.trace(M @ Sx) * np.trace(M @ Sy) / np.trace(M @ Sx @ M @ Sy)


@pytest.fixture(scope="module")
def data(layout):
    xy, _ = layout
    rng = np.random.default_rng(3)
    X = np.column_stack([smooth_field(xy, rng) for _ in range(5)] + [rng.normal(size=len(xy)) for _ in range(2)])
    X[[4, 9], 1] = np.nan           # missing areas: pairwise complete
    X[17, 3] = np.nan
    return X


def test_correlations_agree_with_scipy(data, layout):
    _, classes = layout
    i, j = all_pairs(data.shape[1])
    sp = pair_tests(data, i, j, classes, rank=True)
    pe = pair_tests(data, i, j, classes, rank=False)
    for k in range(i.size):
        m = ~np.isnan(data[:, i[k]]) & ~np.isnan(data[:, j[k]])
        assert sp.n[k] == m.sum()
        assert sp.r[k] == pytest.approx(stats.spearmanr(data[m, i[k]], data[m, j[k]])[0], abs=1e-12)
        r, p = stats.pearsonr(data[m, i[k]], data[m, j[k]])
        assert pe.r[k] == pytest.approx(r, abs=1e-12)
        assert pe.p_naive[k] == pytest.approx(p, rel=1e-6, abs=1e-12)   # textbook test = scipy's


def test_moran_per_class_agrees_with_esda(layout):
    esda = pytest.importorskip("esda")
    from libpysal.weights import full2W

    xy, classes = layout
    x = smooth_field(xy, np.random.default_rng(11))
    z = x - x.mean()
    for Wk in classes.W[:4]:
        ours = (len(x) / Wk.sum()) * (z @ Wk @ z) / (z @ z)
        mi = esda.Moran(x, full2W(Wk), transformation="B", permutations=0)
        assert ours == pytest.approx(mi.I, rel=1e-10)


def test_effective_sample_size_agrees_with_plain_computation(data, layout):
    _, classes = layout
    i, j = all_pairs(data.shape[1])
    pe = pair_tests(data, i, j, classes, rank=False)
    sp = pair_tests(data, i, j, classes, rank=True)
    for k in range(0, i.size, 3):   # every third pair: smooth × smooth, smooth × noise, with missing areas
        m = ~np.isnan(data[:, i[k]]) & ~np.isnan(data[:, j[k]])
        W = classes.W[:, m][:, :, m]
        x, y = data[m, i[k]], data[m, j[k]]
        assert pe.n_eff[k] == pytest.approx(np.clip(plain_n_eff(x, y, W), 3, m.sum()), rel=1e-8)
        rx, ry = stats.rankdata(x), stats.rankdata(y)
        assert sp.n_eff[k] == pytest.approx(np.clip(plain_n_eff(rx, ry, W), 3, m.sum()), rel=1e-8)
        df = pe.n_eff[k] - 2
        t = pe.r[k] * np.sqrt(df / (1 - pe.r[k] ** 2))
        assert pe.p[k] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)


def test_autocorrelated_pairs_lose_effective_sample_size(data, layout):
    """Two smooth fields carry far fewer independent observations than 111; two noise columns about 111."""
    _, classes = layout
    i, j = all_pairs(data.shape[1])
    pe = pair_tests(data, i, j, classes, rank=False)
    smooth = (i == 0) & (j == 2)
    noise = (i == 5) & (j == 6)
    assert pe.n_eff[smooth][0] < 40
    assert pe.n_eff[noise][0] > 90
    # and the spatial p-value is never more optimistic than the textbook one for the smooth pair
    assert pe.p[smooth][0] >= pe.p_naive[smooth][0]


def test_partial_correlation_agrees_with_regression_residuals(data, layout):
    _, classes = layout
    rng = np.random.default_rng(5)
    C = np.column_stack([smooth_field(layout[0], rng), rng.normal(size=data.shape[0])])
    i, j = np.array([0, 2, 5]), np.array([2, 4, 6])
    t = pair_tests(data, i, j, classes, rank=True, controls=C)
    for k in range(i.size):
        m = ~np.isnan(data[:, i[k]]) & ~np.isnan(data[:, j[k]])
        rx, ry = stats.rankdata(data[m, i[k]]), stats.rankdata(data[m, j[k]])
        D = np.column_stack([np.ones(m.sum()), stats.rankdata(C[m], axis=0)])
        ex = rx - D @ np.linalg.lstsq(D, rx, rcond=None)[0]
        ey = ry - D @ np.linalg.lstsq(D, ry, rcond=None)[0]
        assert t.r[k] == pytest.approx(stats.pearsonr(ex, ey)[0], abs=1e-10)
        W = classes.W[:, m][:, :, m]
        expect = np.clip(plain_n_eff(rx, ry, W, stats.rankdata(C[m], axis=0)), 3, m.sum() - 2)
        assert t.n_eff[k] == pytest.approx(expect, rel=1e-8)
