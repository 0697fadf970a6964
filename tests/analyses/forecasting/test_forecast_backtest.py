"""MASE (Hyndman & Koehler 2006) against hand-computed values; coverage and the honest verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.forecasting.backtest import backtest, mase, score


def test_mase_hand_computed():
    # scale: seasonal (m=3) differences of the training data: 5-1, 6-2, 7-3 → mean 4
    # errors: |12-10| = 2, |14-15| = 1 → MAE 1.5 → MASE 1.5 / 4
    assert mase([12, 14], [10, 15], y_train=[1, 2, 3, 5, 6, 7], m=3) == pytest.approx(0.375)
    # m=1 (naive): diffs 2, 1, 3 → scale 2; errors 1, 3 → MAE 2 → MASE 1
    assert mase([5, 9], [4, 6], y_train=[1, 3, 4, 7], m=1) == pytest.approx(1.0)
    assert math.isnan(mase([1], [1], y_train=[2, 2, 2, 2], m=1))   # no variation: undefined, not 0
    with pytest.raises(ValueError):
        mase([1], [1], y_train=[1, 2], m=3)


def test_seasonal_naive_scores_exactly_one_on_its_own_scale():
    # A pure seasonal profile plus a linear trend: every seasonal difference is 12 × slope, in the
    # training data and in every forecast (h ≤ 12), so seasonal naive's MASE is exactly 1.
    ds = pd.date_range("2010-01-01", periods=96, freq="MS")
    profile = np.array([5, 3, 8, 9, 14, 20, 22, 18, 11, 7, 6, 4], dtype=float)
    y = profile[ds.month - 1] * 10 + 2.5 * np.arange(96)
    df = pd.DataFrame({"unique_id": "puur", "ds": ds, "y": y})
    res = backtest(df, h=12, n_windows=3, models=[])
    assert res.per_window["mase"].to_numpy() == pytest.approx(np.ones(3))
    assert res.summary["models"]["SeasonalNaive"]["mase_mean"] == pytest.approx(1.0)


def test_mase_is_undefined_without_seasonal_change():
    ds = pd.date_range("2010-01-01", periods=60, freq="MS")
    profile = np.array([5, 3, 8, 9, 14, 20, 22, 18, 11, 7, 6, 4], dtype=float)
    df = pd.DataFrame({"unique_id": "vast", "ds": ds, "y": profile[ds.month - 1]})
    res = backtest(df, h=12, n_windows=2, models=[])
    assert res.summary["per_series"][0]["mase"]["SeasonalNaive"] is None
    assert res.summary["models"]["SeasonalNaive"]["series_scored"] == 0
    assert "Geen MASE" in res.summary["verdict"]


def test_window_mase_matches_the_reference_function(seasonal):
    res = backtest(seasonal, h=12, n_windows=2, models=["ets"])
    pts = res.points
    for (uid, cutoff, model), grp in pts.groupby(["unique_id", "cutoff", "model"]):
        train = seasonal[(seasonal["unique_id"] == uid) & (seasonal["ds"] <= cutoff)]["y"]
        expected = mase(grp["y"], grp["forecast"], train, m=12)
        got = res.per_window.set_index(["unique_id", "cutoff", "model"]).loc[(uid, cutoff, model), "mase"]
        assert got == pytest.approx(expected)
    assert len(res.summary["per_series"]) == 3
    assert res.summary["horizon"] == 12 and res.summary["windows"] == 2


def _points(forecasts: dict[str, list[float]], y: list[float], half_width: dict[str, float]) -> pd.DataFrame:
    ds = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    rows = []
    for model, f in forecasts.items():
        w = half_width[model]
        rows.append(pd.DataFrame({"unique_id": "x", "ds": ds, "cutoff": pd.Timestamp("2019-12-01"), "y": y,
                                  "model": model, "forecast": f, "lo_80": np.array(f) - w, "hi_80": np.array(f) + w,
                                  "lo_95": np.array(f) - 2 * w, "hi_95": np.array(f) + 2 * w}))
    return pd.concat(rows, ignore_index=True)


def test_coverage_and_an_honest_verdict_when_the_model_loses():
    # history with seasonal differences of 10 everywhere → scale 10
    hist_ds = pd.date_range("2018-01-01", "2019-12-01", freq="MS")
    hist = pd.DataFrame({"unique_id": "x", "ds": hist_ds, "y": np.arange(24) * 10 / 12})
    y = [100.0, 100.0, 100.0, 100.0]
    pts = _points({"SeasonalNaive": [98, 102, 99, 101], "AutoETS": [70, 130, 90, 110]}, y,
                  {"SeasonalNaive": 1.5, "AutoETS": 15.0})
    res = score(pts, hist, m=12, h=4, n_windows=1, step=4)
    s = res.summary
    assert s["models"]["SeasonalNaive"]["mase_mean"] == pytest.approx(0.15)   # MAE 1.5 / 10
    assert s["models"]["AutoETS"]["mase_mean"] == pytest.approx(2.0)          # MAE 20 / 10
    assert s["models"]["SeasonalNaive"]["coverage_80"] == pytest.approx(0.5)  # |e| = 2, 2, 1, 1 vs 1.5
    assert s["models"]["SeasonalNaive"]["coverage_95"] == pytest.approx(1.0)
    assert s["models"]["AutoETS"]["coverage_80"] == pytest.approx(0.5)        # |e| = 30, 30, 10, 10 vs 15
    assert s["best_model"] == "SeasonalNaive"
    assert s["per_series"][0]["beats_seasonal_naive"] is False
    assert s["verdict"].startswith("Geen model is gemiddeld beter dan SeasonalNaive")
