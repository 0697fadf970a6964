"""Exact Poisson p-values of neighbourhood counts (Besag & Newell 1991), used for sparse grids."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from stadslab.analyses.hotspots import grid_hotspots, poisson_neighbourhood_p
from stadslab.errors import AnalysisError


def test_hand_values_on_a_path():
    w = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    # λ = 2; neighbourhoods (self included) hold 2, 3, 3, 2 cells: S = 8, 8, 2, 0 against μ = 4, 6, 6, 4
    got = poisson_neighbourhood_p(np.array([6, 2, 0, 0]), w)
    want = [min(1, 2 * min(stats.poisson.sf(s - 1, m), stats.poisson.cdf(s, m))) for s, m in
            [(8, 4), (8, 6), (2, 6), (0, 4)]]
    assert np.allclose(got, want)
    assert got[0] == pytest.approx(0.10227, abs=1e-5)


def test_empty_cells_among_empty_cells_are_not_cold_when_counts_are_sparse():
    rng = np.random.default_rng(3)
    side = 40
    counts = np.zeros(side * side, dtype=int)
    counts[rng.choice(counts.size, 30, replace=False)] = 1     # 30 scattered incidents
    ids = [f"E{i % side}N{i // side}" for i in range(counts.size)]
    import pandas as pd

    pts = pd.DataFrame({"grid_125m": ids, "n": counts})
    out = grid_hotspots(pts, count_column="n", study_cells=ids, polygons=False)      # auto → Poisson
    assert not out.hot.any() and not out.cold.any()
    normal = grid_hotspots(pts, count_column="n", study_cells=ids, polygons=False, p_method="normal")
    assert normal.hot.sum() >= out.hot.sum()


def test_weighted_weights_are_refused():
    with pytest.raises(AnalysisError):
        poisson_neighbourhood_p(np.array([1, 2, 3]), sp.csr_matrix(np.array([[0, .5, 0], [.5, 0, .5], [0, .5, 0]])))
