"""Synthetic series for the forecasting tests (generated here, never committed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

PROFILE = np.array([80, 85, 100, 110, 120, 125, 115, 90, 85, 95, 100, 105], dtype=float)


def seasonal_frame(n_series: int = 3, n_months: int = 72, *, noise: float = 5.0, trend: float = 0.0,
                   seed: int = 1, start: str = "2015-01-01") -> pd.DataFrame:
    """Monthly series ``unique_id, ds, y``: a yearly profile × level, plus trend and Gaussian noise."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=n_months, freq="MS")
    t = np.arange(n_months)
    parts = []
    for i in range(n_series):
        y = PROFILE[ds.month - 1] * (1 + i) + trend * t + rng.normal(0, noise, n_months)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": np.maximum(y, 0)}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def seasonal() -> pd.DataFrame:
    return seasonal_frame()


@pytest.fixture
def make_seasonal():
    """The generator itself, for tests that need other shapes."""
    return seasonal_frame
