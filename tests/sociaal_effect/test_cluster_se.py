"""The cluster-robust standard error (Liang & Zeger 1986) against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.sociaal.aipw import cluster_se


def test_singleton_clusters_give_the_independent_standard_error():
    d = np.random.default_rng(3).normal(size=500)
    d = d - d.mean()
    iid = np.sqrt(np.var(d, ddof=1) / len(d))
    assert cluster_se(d, np.arange(len(d))) == pytest.approx(iid, rel=1e-12)


def test_duplicated_members_widen_the_interval_by_the_known_factor():
    """Each value twice in its cluster: the cluster sums are 2·d, so SE = √(G/(G−1) · Σ(2d)²) / 2G — wider than
    the standard error that treats the copies as independent observations."""
    d = np.array([1.0, -2.0, 0.5, 0.5])
    clusters = np.repeat(np.arange(4), 2)
    twice = np.repeat(d, 2)
    g, n = 4, 8
    expected = np.sqrt(g / (g - 1) * np.sum((2 * d) ** 2)) / n
    assert cluster_se(twice, clusters) == pytest.approx(expected, rel=1e-12)
    naive = np.sqrt(np.var(twice, ddof=1) / n)
    assert cluster_se(twice, clusters) > naive
