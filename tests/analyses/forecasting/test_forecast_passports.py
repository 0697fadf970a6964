"""The SIMULATED passport generator: the 2014 validity change, and a driver that pays off."""

from __future__ import annotations

import pandas as pd
import pytest

from stadslab.analyses.forecasting.backtest import backtest
from stadslab.analyses.forecasting.passports import PassportParams, simulate_passports


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate_passports(seed=7)


def _yearly(df: pd.DataFrame, col: str) -> pd.Series:
    return df.groupby(df["ds"].dt.year)[col].sum()


def test_marked_simulated_and_reproducible(sim):
    assert sim.attrs["simulated"] is True
    assert sim["ds"].min() == pd.Timestamp("2004-01-01") and sim["ds"].max() == pd.Timestamp("2030-12-01")
    assert sim.loc[sim["ds"] == "2024-01-01", "population"].item() == 374_238
    again = simulate_passports(seed=7)
    pd.testing.assert_frame_equal(sim, again)
    assert not simulate_passports(seed=8)["y"].equals(sim["y"])


def test_cohort_drivers_are_lags_of_the_issued_series(sim):
    y = sim.set_index("ds")["y"]
    lag10 = sim.set_index("ds")["issued_10y_ago"]
    assert lag10[pd.Timestamp("2025-05-01")] == y[pd.Timestamp("2015-05-01")]
    assert sim.set_index("ds")["issued_5y_ago"][pd.Timestamp("2021-03-01")] == y[pd.Timestamp("2016-03-01")]
    # expiring in 2025 = adult documents of 2015 (ten years, new rule) + minor documents of 2020 (five years)
    assert _yearly(sim, "expiring")[2025] == _yearly(sim, "issued_adult")[2015] + _yearly(sim, "issued_minor")[2020]
    # expiring in 2013 = all documents of 2008 (five years, old rule)
    assert _yearly(sim, "expiring")[2013] == _yearly(sim, "y")[2008]


def test_2014_validity_change_gives_the_dip_and_the_peak(sim):
    adult = _yearly(sim, "renewals_adult")
    before, dip, peak = adult.loc[2014:2018].sum(), adult.loc[2019:2023].sum(), adult.loc[2024:2028].sum()
    assert dip < 0.25 * before, (before, dip)      # adult documents from 2014+ do not come back after 5 years
    assert peak > 3 * dip                          # … they come back after 10 years
    minor = _yearly(sim, "renewals_minor")          # minors keep 5-year documents: no dip
    assert minor.loc[2019:2023].sum() > 0.9 * minor.loc[2014:2018].sum()
    issued = _yearly(sim, "y")
    assert issued.loc[2020:2022].mean() < 0.6 * issued.loc[2015:2017].mean()
    assert issued.loc[2025:2027].mean() > 2 * issued.loc[2020:2022].mean()


def test_spring_peak_and_population_scaling():
    a = simulate_passports(seed=1)
    month = a.groupby(a["ds"].dt.month)["y"].mean()
    assert month.loc[[5, 6]].mean() > 1.2 * month.loc[[9, 10]].mean()
    half = simulate_passports(PassportParams(population=374_238 // 2), seed=1)
    ratio = half["y"].sum() / a["y"].sum()
    assert ratio == pytest.approx(0.5, rel=0.03)


def test_driver_beats_no_driver_and_seasonal_naive_on_2024_2025(sim):
    data = sim[sim["ds"] <= "2025-12-01"][["unique_id", "ds", "y", "expiring_7m"]]
    res = backtest(data, h=24, n_windows=1, models=["arima", "arimax"], exog=["expiring_7m"])
    m = {k: v["mase_mean"] for k, v in res.summary["models"].items()}
    assert m["AutoARIMA_X"] < 0.5 * m["AutoARIMA"], m
    assert m["AutoARIMA_X"] < 0.5 * m["SeasonalNaive"], m
    assert m["AutoARIMA_X"] < 2.0, m
    assert res.summary["best_model"] == "AutoARIMA_X"
    assert res.summary["per_series"][0]["beats_seasonal_naive"] is True
