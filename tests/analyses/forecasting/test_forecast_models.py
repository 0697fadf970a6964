"""Forecast output: intervals nested, SeasonalNaive always present, drivers need their future values."""

from __future__ import annotations

import pandas as pd
import pytest

from stadslab.analyses.forecasting.models import forecast, parse_models
from stadslab.errors import AnalysisError


def test_forecasts_have_nested_intervals_for_every_model(seasonal):
    fc = forecast(seasonal, 12, models=["ets", "arima"])
    assert set(fc["model"]) == {"AutoETS", "AutoARIMA", "SeasonalNaive"}
    assert len(fc) == 3 * 3 * 12
    assert fc.groupby(["unique_id", "model"])["ds"].min().eq(pd.Timestamp("2021-01-01")).all()
    eps = 1e-9
    assert (fc["lo_95"] <= fc["lo_80"] + eps).all()
    assert (fc["lo_80"] <= fc["forecast"] + eps).all()
    assert (fc["forecast"] <= fc["hi_80"] + eps).all()
    assert (fc["hi_80"] <= fc["hi_95"] + eps).all()
    assert (fc["hi_95"] - fc["lo_95"] > fc["hi_80"] - fc["lo_80"]).all()   # strictly wider, not just equal


def test_counts_are_never_forecast_negative(make_seasonal):
    small = make_seasonal(n_series=1, noise=40.0, seed=3)
    small["y"] = (small["y"] / 40).round()
    fc = forecast(small, 12, models=["ets"])
    assert (fc[["forecast", "lo_80", "lo_95"]] >= 0).all().all()
    assert (fc["lo_95"] == 0).any()      # the clip was needed: the model's own bound lies below zero


def test_driver_needs_future_values(make_seasonal):
    df = make_seasonal(n_series=1)
    df["drv"] = df["y"].shift(1).bfill()
    with pytest.raises(AnalysisError, match="toekomstige waarden"):
        forecast(df, 6, models=["arimax"], exog=["drv"])
    future = pd.DataFrame({"unique_id": "s0", "ds": pd.date_range("2021-01-01", periods=5, freq="MS"), "drv": 100.0})
    with pytest.raises(AnalysisError, match="ontbreekt voor s0 2021-06-01"):
        forecast(df, 6, models=["arimax"], exog=["drv"], future=future)
    future = pd.DataFrame({"unique_id": "s0", "ds": pd.date_range("2021-01-01", periods=6, freq="MS"), "drv": 100.0})
    fc = forecast(df, 6, models=["arimax"], exog=["drv"], future=future)
    assert set(fc["model"]) == {"AutoARIMA_X", "SeasonalNaive"} and len(fc) == 12


def test_model_names_and_short_series_are_checked(make_seasonal):
    assert parse_models("ets, arima") == ["ets", "arima", "snaive"]
    with pytest.raises(AnalysisError, match="onbekend model: prophet"):
        parse_models("ets,prophet")
    with pytest.raises(AnalysisError, match="te korte reeksen"):
        forecast(make_seasonal(n_series=1, n_months=10), 12, models=["ets"])
    with pytest.raises(AnalysisError, match="verklarende variabelen"):
        forecast(make_seasonal(n_series=1), 12, models=["arimax"])


def test_predict_demand_from_an_ibis_memtable(make_seasonal):
    import ibis

    from stadslab.analyses.forecasting import predict_demand

    monthly = make_seasonal(n_series=2, n_months=36).rename(columns={"unique_id": "soort", "ds": "maand", "y": "n"})
    monthly = monthly[~((monthly["soort"] == "s1") & (monthly["maand"] == "2016-05-01"))]   # a month without a row
    run = predict_demand(ibis.memtable(monthly), time="maand", key="soort", value="n", horizon=6, models="ets")
    assert run.series.attrs["filled"] == 1
    assert run.series.set_index(["unique_id", "ds"]).loc[("s1", pd.Timestamp("2016-05-01")), "y"] == 0
    assert len(run.forecasts) == 2 * 2 * 6 and run.backtest is None
    assert run.params["models"] == ["AutoETS", "SeasonalNaive"] and run.params["value"] == "n"
    summary = run.summary()
    assert [r["unique_id"] for r in summary["per_series"]] == ["s1", "s0"]     # largest first
    with pytest.raises(AnalysisError, match="arimax"):
        predict_demand(ibis.memtable(monthly), time="maand", key="soort", value="n", models="arimax")
