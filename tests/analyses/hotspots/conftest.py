"""Fixtures for the hotspot tests: synthetic lattices and a planted incident cluster (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

RTOL = 1e-10
ATOL = 1e-12
CELL = 125
IX0, IY0 = 1000, 4000          # cell E1000N4000 (RD 125000, 500000), inside the RD domain


def lattice_matrix(nrows: int, ncols: int, rook: bool = False) -> np.ndarray:
    """Dense binary contiguity of a nrows×ncols lattice, units in row-major order (as libpysal.lat2W)."""
    n = nrows * ncols
    w = np.zeros((n, n))
    for r in range(nrows):
        for c in range(ncols):
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if (dr, dc) == (0, 0) or (rook and dr and dc):
                        continue
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < nrows and 0 <= cc < ncols:
                        w[r * ncols + c, rr * ncols + cc] = 1
    return w


def planted_points(seed: int = 3, n_background: int = 400, n_cluster: int = 300) -> pd.DataFrame:
    """Points on a 30×30-cell town: uniform background plus a dense cluster in cells (10..12, 20..22)."""
    rng = np.random.default_rng(seed)
    bx = rng.integers(0, 30, n_background)
    by = rng.integers(0, 30, n_background)
    cx = rng.integers(10, 13, n_cluster)
    cy = rng.integers(20, 23, n_cluster)
    ix = np.concatenate([bx, cx]) + IX0
    iy = np.concatenate([by, cy]) + IY0
    x = (ix + rng.uniform(0, 1, ix.size)) * CELL
    y = (iy + rng.uniform(0, 1, iy.size)) * CELL
    cells = "E" + pd.Series(ix).astype(str) + "N" + pd.Series(iy).astype(str)
    return pd.DataFrame({"grid_125m": cells, "x_rd": x, "y_rd": y})


@pytest.fixture(scope="session")
def planted() -> pd.DataFrame:
    return planted_points()


@pytest.fixture(scope="session")
def lattice():
    """The lattice_matrix helper, as a fixture (test modules cannot import conftest in importlib mode)."""
    return lattice_matrix
