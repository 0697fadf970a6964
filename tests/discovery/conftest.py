"""Fixtures for the discovery tests: random area positions with distance classes, smooth spatial fields."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.discovery.stats import distance_classes


@pytest.fixture(scope="module")
def layout():
    """111 'buurten' at random positions in a 10 km square, with their distance classes."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10_000, (111, 2))
    return xy, distance_classes(xy)


def smooth_field(xy: np.ndarray, rng: np.random.Generator, scale: float = 2_500.0, noise: float = 0.3) -> np.ndarray:
    """A spatially autocorrelated variable: a sum of bumps plus a little noise."""
    centres = rng.uniform(0, 10_000, (6, 2))
    d = np.linalg.norm(xy[:, None] - centres[None], axis=2)
    return (rng.normal(size=6) * np.exp(-(d / scale) ** 2)).sum(axis=1) + noise * rng.normal(size=len(xy))
