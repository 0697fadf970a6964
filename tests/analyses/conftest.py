"""Synthetic incident data for the risk-model tests (generated at test time, seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

CELL = 125.0
X0, Y0 = 120_000.0, 480_000.0  # RD origin of the synthetic town (cell E960N3840)


def points_in_cells(rng: np.random.Generator, cells_x: np.ndarray, cells_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points inside the given cells (integer cell offsets from X0, Y0)."""
    x = X0 + (cells_x + rng.uniform(0.02, 0.98, len(cells_x))) * CELL
    y = Y0 + (cells_y + rng.uniform(0.02, 0.98, len(cells_y))) * CELL
    return np.round(x, 1), np.round(y, 1)


def poisson_incidents(rng: np.random.Generator, rates: np.ndarray, start: str, end: str,
                      period_days: int = 14) -> pd.DataFrame:
    """Incidents from a rate per (period, cell): ``rates(t0) -> array[n, n]`` per ``period_days``."""
    rows = []
    for t0 in pd.date_range(start, end, freq=f"{period_days}D"):
        lam = rates(t0)
        counts = rng.poisson(lam)
        cy, cx = np.nonzero(counts)
        reps = counts[cy, cx]
        cx, cy = np.repeat(cx, reps), np.repeat(cy, reps)
        x, y = points_in_cells(rng, cx, cy)
        secs = rng.uniform(0, period_days * 86400, len(cx)).astype(np.int64)
        ts = t0 + pd.to_timedelta(secs, unit="s")
        rows.append(pd.DataFrame({"begin_tijd": ts, "x_rd": x, "y_rd": y}))
    df = pd.concat(rows, ignore_index=True).sort_values("begin_tijd", kind="stable").reset_index(drop=True)
    df["begin_tijd"] = df["begin_tijd"].astype("datetime64[us]")
    return df


@pytest.fixture(scope="session")
def risk_small() -> pd.DataFrame:
    """A 10×10-cell town, two years: a few stable hot cells, some noise, buurt codes by column."""
    rng = np.random.default_rng(7)
    base = np.full((10, 10), 0.05)
    base[2, 3], base[7, 7], base[5, 1] = 1.5, 1.0, 0.6
    df = poisson_incidents(rng, lambda t0: base, "2020-01-03", "2021-12-24")
    df["buurt_code"] = np.where(df.x_rd < X0 + 5 * CELL, "BU00000001", "BU00000002")
    return df


@pytest.fixture(scope="session")
def risk_seasonal() -> pd.DataFrame:
    """Planted stable-but-shifting hotspots on a 40×40 grid: group A is hot in January–June, group
    B in July–December (rate 1 per 14 days when hot, 0.1 when not), background 0.01."""
    rng = np.random.default_rng(11)
    cells = rng.permutation(1600)[:120]
    a, b = cells[:60], cells[60:]

    def rates(t0: pd.Timestamp) -> np.ndarray:
        lam = np.full(1600, 0.01)
        hot, cold = (a, b) if t0.month <= 6 else (b, a)
        lam[hot], lam[cold] = 1.0, 0.1
        return lam.reshape(40, 40)

    return poisson_incidents(rng, rates, "2019-01-04", "2021-12-24")

