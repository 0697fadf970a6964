"""Gi* against esda, against hand-computed values and a slow reference, plus edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from stadslab.analyses.hotspots import getis_ord_gi_star
from stadslab.errors import AnalysisError

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")


def reference_gi_star(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Ord & Getis (1995) eq. 9 written out unit by unit (slow, obvious)."""
    n = len(x)
    w = w.copy()
    np.fill_diagonal(w, 1.0)
    mean = x.mean()
    s = np.sqrt((x ** 2).mean() - mean ** 2)
    z = np.empty(n)
    for i in range(n):
        wi = w[i].sum()
        s1 = (w[i] ** 2).sum()
        z[i] = ((w[i] * x).sum() - mean * wi) / (s * np.sqrt((n * s1 - wi ** 2) / (n - 1)))
    return z


@pytest.mark.parametrize("rook", [False, True])
def test_matches_esda_on_lattice(rook: bool) -> None:
    rng = np.random.default_rng(42)
    y = rng.poisson(3.0, 100).astype(float)
    y[:12] += 8                                           # a hot corner
    lw = libpysal.weights.lat2W(10, 10, rook=rook)
    ref = esda.G_Local(y, lw, transform="B", star=True, permutations=0)
    dense, _ = lw.full()
    res = getis_ord_gi_star(y, sp.csr_matrix(dense))
    np.testing.assert_allclose(res.z, ref.Zs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.p, 2 * ref.p_norm, rtol=1e-10, atol=1e-14)   # esda's p_norm is one-sided
    np.testing.assert_allclose(res.g, ref.Gs, rtol=1e-10)
    assert res.n_neighbours.tolist() == [lw.cardinalities[i] for i in lw.id_order]


def test_self_weight_given_or_not_is_the_same(lattice) -> None:
    y = np.random.default_rng(1).poisson(2.0, 36).astype(float)
    w = lattice(6, 6)
    a = getis_ord_gi_star(y, sp.csr_matrix(w))
    b = getis_ord_gi_star(y, sp.csr_matrix(w + np.eye(36)))
    c = getis_ord_gi_star(y, w)                              # dense input accepted too
    np.testing.assert_allclose(a.z, b.z)
    np.testing.assert_allclose(a.z, c.z)


def test_hand_computed_path_of_four() -> None:
    # x = [10, 2, 0, 0] on a path 0-1-2-3: mean 3, S² = 104/4 − 9 = 17.
    # Unit 0: neighbours {0,1}: Σwx = 12, W = 2, S1 = 2 → z = (12 − 6) / (√17 · √((8 − 4)/3)).
    # Unit 2: neighbours {1,2,3}: Σwx = 2, W = 3, S1 = 3 → z = (2 − 9) / (√17 · √((12 − 9)/3)).
    w = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    res = getis_ord_gi_star(np.array([10.0, 2.0, 0.0, 0.0]), w)
    assert res.z[0] == pytest.approx(6 / np.sqrt(17 * 4 / 3), rel=1e-12)
    assert res.z[2] == pytest.approx(-7 / np.sqrt(17), rel=1e-12)
    assert res.p[2] == pytest.approx(2 * stats.norm.sf(7 / np.sqrt(17)), rel=1e-12)
    assert res.g[0] == pytest.approx(12 / 12)


def test_general_weights_match_slow_reference(lattice) -> None:
    rng = np.random.default_rng(5)
    w = lattice(5, 7) * rng.uniform(0.2, 2.0, (35, 35))
    w = (w + w.T) / 2
    x = rng.gamma(2.0, 3.0, 35)
    np.testing.assert_allclose(getis_ord_gi_star(x, sp.csr_matrix(w)).z, reference_gi_star(x, w), rtol=1e-10)


def test_permutation_p_agrees_with_esda() -> None:
    rng = np.random.default_rng(8)
    y = rng.gamma(2.0, 2.0, 100)                             # continuous: no ties, so esda's p applies
    y[44:47] += 15
    lw = libpysal.weights.lat2W(10, 10, rook=False)
    ref = esda.G_Local(y, lw, transform="B", star=True, permutations=999, seed=3, n_jobs=1)
    dense, _ = lw.full()
    res = getis_ord_gi_star(y, sp.csr_matrix(dense), permutations=999, seed=3)
    # Ours is two-sided: twice esda's folded one-sided p. Two independent Monte Carlo estimates:
    # SE of each ≤ 0.032 on the doubled scale.
    assert np.abs(res.p_sim - np.minimum(1, 2 * ref.p_sim)).max() < 0.15
    assert np.corrcoef(res.p_sim, ref.p_sim)[0, 1] > 0.95
    assert res.p_sim.min() >= 2 / 1000 and res.p_sim.max() <= 1.0
    assert res.p_sim[45] <= 0.05 and ref.p_sim[45] <= 0.025  # the planted cluster


def test_permutation_ties_do_not_make_empty_cells_cold(lattice) -> None:
    y = np.zeros(400)
    y[:5] = [30, 20, 25, 10, 15]                             # a few busy cells, the rest empty
    res = getis_ord_gi_star(y, sp.csr_matrix(lattice(20, 20)), permutations=999, seed=1)
    far = res.p_sim[200:]                                    # empty cells among empty cells
    assert far.min() > 0.5
    assert res.p_sim[0] < 0.05


def test_permutations_are_reproducible_with_seed(lattice) -> None:
    y = np.random.default_rng(2).poisson(2.0, 49).astype(float)
    w = sp.csr_matrix(lattice(7, 7))
    a = getis_ord_gi_star(y, w, permutations=199, seed=11).p_sim
    b = getis_ord_gi_star(y, w, permutations=199, seed=11).p_sim
    np.testing.assert_array_equal(a, b)


def test_all_zeros_gives_undefined_not_hot(lattice) -> None:
    res = getis_ord_gi_star(np.zeros(16), sp.csr_matrix(lattice(4, 4)))
    assert np.isnan(res.z).all() and np.isnan(res.p).all()


def test_constant_non_integer_values_are_undefined(lattice) -> None:
    res = getis_ord_gi_star(np.full(16, 0.1), sp.csr_matrix(lattice(4, 4)))
    assert np.isnan(res.z).all()


def test_single_unit() -> None:
    res = getis_ord_gi_star(np.array([5.0]), sp.csr_matrix((1, 1)))
    assert np.isnan(res.z).all() and res.n_neighbours.tolist() == [0]


def test_island_is_nan_others_defined(lattice) -> None:
    w = np.zeros((10, 10))
    w[:9, :9] = lattice(3, 3)                                # unit 9 has no neighbours
    x = np.arange(10, dtype=float)
    res = getis_ord_gi_star(x, sp.csr_matrix(w))
    assert np.isnan(res.z[9]) and res.n_neighbours[9] == 0
    assert np.isfinite(res.z[:9]).all()


def test_unit_neighbouring_everyone_is_nan() -> None:
    w = np.zeros((5, 5))
    w[0, 1:] = w[1:, 0] = 1                                  # a star graph: the hub sees all
    res = getis_ord_gi_star(np.array([9.0, 1, 2, 3, 0]), sp.csr_matrix(w))
    assert np.isnan(res.z[0]) and np.isfinite(res.z[1:]).all()


def test_empty_input() -> None:
    res = getis_ord_gi_star(np.array([]), sp.csr_matrix((0, 0)))
    assert res.z.size == 0


@pytest.mark.parametrize("values, weights", [
    (np.array([1.0, np.nan, 2.0]), sp.identity(3)),
    (np.array([1.0, 2.0, 3.0]), sp.identity(4)),
    (np.array([1.0, 2.0]), sp.csr_matrix(np.array([[0, -1], [-1, 0]]))),
])
def test_bad_input_raises_typed_error(values, weights) -> None:
    with pytest.raises(AnalysisError):
        getis_ord_gi_star(values, weights)
