"""Rolling-origin backtests: MASE per series and model, interval coverage, an honest verdict.

Method
------
statsforecast's ``cross_validation`` refits every model at ``n_windows`` forecast origins (cutoffs),
``step_size`` periods apart, and forecasts ``h`` periods from each (rolling origin, Tashman 2000).

Accuracy is the **mean absolute scaled error** (Hyndman & Koehler 2006, "Another look at measures of
forecast accuracy", *Int. J. Forecasting* 22(4), 679–688, eq. for MASE with seasonal scaling)::

    MASE = mean_h |y_t - ŷ_t|  /  ( 1/(n-m) · Σ_{t=m+1..n} |y_t - y_{t-m}| )

The denominator is the in-sample MAE of the seasonal naive forecast (season ``m``: 12 for months)
on the training part of that window only — no look-ahead. MASE < 1: better than the seasonal naive
method did in-sample. It is scale-free, so series of 5 and of 50,000 per month can be averaged, and
it is defined for zero counts, unless the training data has no seasonal change at all (scale 0): then
it is undefined, reported as ``null`` and left out of the averages (never silently set to 0).

A series' MASE is the mean over its windows. Every model is compared with ``SeasonalNaive`` on the
same windows (out of sample, so SeasonalNaive's own MASE is usually near but not exactly 1).
Coverage is the share of actual values inside the 80 % / 95 % intervals over all series and windows;
well-calibrated intervals give ≈ 0.80 / 0.95.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.forecasting.models import DEFAULT_LEVELS, REFERENCE, check_length, run_statsforecast, to_long
from stadslab.analyses.forecasting.series import frequency
from stadslab.formatting import nl_number


def mase(y_true: Sequence[float], y_pred: Sequence[float], y_train: Sequence[float], m: int) -> float:
    """MASE of one forecast (Hyndman & Koehler 2006), scaled by the in-sample seasonal naive MAE.

    >>> mase([12, 14], [10, 15], y_train=[1, 2, 3, 5, 6, 7], m=3)   # scale = (4+4+4)/3 = 4
    0.375
    """
    y_true, y_pred, y_train = (np.asarray(a, dtype=float) for a in (y_true, y_pred, y_train))
    if len(y_train) <= m:
        raise ValueError(f"need more than m={m} training values, got {len(y_train)}")
    scale = np.mean(np.abs(y_train[m:] - y_train[:-m]))
    if scale == 0:
        return float("nan")
    return float(np.mean(np.abs(y_true - y_pred)) / scale)


@dataclass
class BacktestResult:
    """``summary`` is the JSON report; ``points`` every backtest forecast in long format."""

    summary: dict[str, Any]
    points: pd.DataFrame = field(repr=False)
    per_window: pd.DataFrame = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return self.summary


def backtest(df: pd.DataFrame, *, h: int = 12, n_windows: int = 3, step_size: int | None = None,
             models: Sequence[str] = ("ets", "arima"), freq: str = "M", level: Sequence[int] = DEFAULT_LEVELS,
             exog: Sequence[str] = (), n_jobs: int = 1, nonnegative: bool = True, refit: bool = True,
             progress: Callable[[int, int], None] | None = None) -> BacktestResult:
    """Rolling-origin backtest of ``models`` against SeasonalNaive.

    Parameters
    ----------
    df : long format ``unique_id, ds, y`` (+ ``exog`` columns for ``arimax``; their actual values
        are used in the test windows, which is right only for regressors known in advance).
    h : horizon per window (12 months).
    n_windows, step_size : number of forecast origins and the periods between them (default ``h``:
        non-overlapping years).
    refit : True re-estimates every model at every origin; False estimates it once, at the first
        origin, and rolls it forward over the later windows with the newer observations only (its
        parameters and order stay as chosen then). Both are out of sample; False is about
        ``n_windows`` times cheaper and a slightly harder test for the model.

    Returns
    -------
    BacktestResult
        ``summary``: ``{"series", "horizon", "windows", "models": {name: {"mase_mean", "mase_median",
        "coverage_80", "coverage_95", "share_beats_seasonal_naive", "series_scored"}}, "per_series": [...],
        "best_model", "verdict"}``.
    """
    _, pd_freq, m = frequency(freq)
    step = step_size or h
    check_length(df, h + step * (n_windows - 1) + 2 * m, "toetsen",
                 hint=f"minder toetsvensters (nu {n_windows}), een kortere horizon, of een langere periode")
    wide = run_statsforecast(df, h, models=models, pd_freq=pd_freq, season_length=m, level=level, exog=exog,
                             cv={"n_windows": n_windows, "step_size": step, "refit": refit}, n_jobs=n_jobs,
                             progress=progress)
    points = to_long(wide, level=level, nonnegative=nonnegative)
    return score(points, df, m=m, level=level, h=h, n_windows=n_windows, step=step)


def score(points: pd.DataFrame, df: pd.DataFrame, *, m: int, level: Sequence[int] = DEFAULT_LEVELS, h: int,
          n_windows: int, step: int) -> BacktestResult:
    """Score backtest forecasts (long format from ``to_long``, with ``cutoff`` and ``y``) against the
    history ``df``; lets separate runs per model be combined into one report."""
    if REFERENCE not in set(points["model"]):
        raise ValueError(f"{REFERENCE} must be among the scored models")
    per_window = _scaled_errors(points, df, m)
    summary = _summarise(points, per_window, level=level, h=h, n_windows=n_windows, step=step)
    return BacktestResult(summary=summary, points=points, per_window=per_window)


def _scaled_errors(points: pd.DataFrame, df: pd.DataFrame, m: int) -> pd.DataFrame:
    """MASE per (series, cutoff, model); scale from the training data up to that cutoff."""
    hist = df[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"]).copy()
    hist["ad"] = (hist["y"] - hist.groupby("unique_id")["y"].shift(m)).abs()
    hist["scale"] = (hist.groupby("unique_id")["ad"].cumsum()
                     / hist["ad"].notna().groupby(hist["unique_id"]).cumsum())
    scales = hist[["unique_id", "ds", "scale"]].rename(columns={"ds": "cutoff"})
    err = points.assign(ae=(points["y"] - points["forecast"]).abs())
    mae = err.groupby(["unique_id", "cutoff", "model"], as_index=False)["ae"].mean()
    out = mae.merge(scales, on=["unique_id", "cutoff"], how="left")
    out["mase"] = np.where(out["scale"] > 0, out["ae"] / out["scale"].where(out["scale"] > 0), np.nan)
    return out


def _summarise(points: pd.DataFrame, per_window: pd.DataFrame, *, level: Sequence[int], h: int,
               n_windows: int, step: int) -> dict[str, Any]:
    per_series = per_window.groupby(["unique_id", "model"])["mase"].mean().unstack("model")
    model_names = list(per_series.columns)
    challengers = [c for c in model_names if c != REFERENCE]
    ref = per_series[REFERENCE]
    models: dict[str, Any] = {}
    for name in model_names:
        col = per_series[name]
        pts = points[points["model"] == name]
        scored = col.dropna()
        entry = {"mase_mean": _r(scored.mean()) if len(scored) else None,
                 "mase_median": _r(scored.median()) if len(scored) else None, "series_scored": len(scored)}
        for lv in level:
            inside = (pts["y"] >= pts[f"lo_{lv}"]) & (pts["y"] <= pts[f"hi_{lv}"])
            entry[f"coverage_{lv}"] = _r(inside.mean())
        if name != REFERENCE:
            both = col.notna() & ref.notna()
            entry["share_beats_seasonal_naive"] = _r((col[both] < ref[both]).mean()) if both.any() else None
        models[name] = entry
    means = {n: models[n]["mase_mean"] for n in model_names if models[n]["mase_mean"] is not None}
    best = min(means, key=means.get) if means else None
    best_challenger = min((n for n in challengers if n in means), key=means.get, default=None)
    rows = []
    for uid, row in per_series.iterrows():
        beats = {n: (bool(row[n] < row[REFERENCE]) if pd.notna(row[n]) and pd.notna(row[REFERENCE]) else None)
                 for n in challengers}
        rows.append({"unique_id": str(uid), "mase": {n: _r(row[n]) for n in model_names},
                     "beats_seasonal_naive": beats.get(best_challenger) if best_challenger else None,
                     "beats_seasonal_naive_by_model": beats})
    return {"series": int(per_series.shape[0]), "horizon": h, "windows": n_windows, "step_size": step,
            "method": "MASE (Hyndman & Koehler 2006), schaal: in-sample seizoensnaïeve MAE per venster",
            "models": models, "per_series": rows, "best_model": best, "best_challenger": best_challenger,
            "verdict": _verdict(models, best_challenger, per_series)}


def _verdict(models: dict[str, Any], challenger: str | None, per_series: pd.DataFrame) -> str:
    ref = models[REFERENCE]["mase_mean"]
    if challenger is None or ref is None:
        return "Geen MASE te berekenen: de reeksen hebben geen seizoensvariatie in de trainingsperiode."
    c = models[challenger]
    n_scored = int((per_series[challenger].notna() & per_series[REFERENCE].notna()).sum())
    n_beat = int(round((c.get("share_beats_seasonal_naive") or 0) * n_scored))
    if c["mase_mean"] < ref:
        return (f"{challenger} is gemiddeld beter dan {REFERENCE} (MASE {nl_number(c['mase_mean'], 3)} tegen "
                f"{nl_number(ref, 3)}) "
                f"en wint op {n_beat} van {n_scored} reeksen.")
    return (f"Geen model is gemiddeld beter dan {REFERENCE}: beste alternatief {challenger} heeft MASE "
            f"{nl_number(c['mase_mean'], 3)} tegen {nl_number(ref, 3)} (wint op {n_beat} van {n_scored} reeksen). "
            "Gebruik de eenvoudige seizoensvoorspelling.")


def _r(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 4)
