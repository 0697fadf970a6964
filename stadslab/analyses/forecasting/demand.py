"""Demand prediction for one table: series → forecasts (+ backtest). Used by the CLI and the web app.

The steps are the package's public functions; this module only chains them and records what was
done (``params``) so the stored result can be traced back (brief: "alleen presentaties waarin je
kunt terugzoeken").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import pandas as pd

from stadslab.analyses.forecasting.backtest import BacktestResult, backtest
from stadslab.analyses.forecasting.models import ALIASES, forecast, parse_models
from stadslab.analyses.forecasting.series import build_series
from stadslab.errors import AnalysisError

METHOD = ("statsforecast 2.1.1: AutoETS (Hyndman et al. 2002), AutoARIMA (Hyndman & Khandakar 2008), "
          "SeasonalNaive als referentie; intervallen 80/95 %; backtest met rollende oorsprong, "
          "MASE (Hyndman & Koehler 2006)")


@dataclass
class DemandRun:
    series: pd.DataFrame
    forecasts: pd.DataFrame
    backtest: BacktestResult | None
    params: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready overview: per series the history total and the forecast total per model."""
        totals = self.forecasts.groupby(["unique_id", "model"])["forecast"].sum().unstack("model").round(1)
        volume = self.series.groupby("unique_id")["y"].sum()
        rows = [{"unique_id": str(u), "history_total": float(volume[u]),
                 "forecast_total": {m: float(v) for m, v in totals.loc[u].items()}}
                for u in volume.sort_values(ascending=False).index]
        out: dict[str, Any] = {"params": self.params, "series": len(rows), "periods": int(self.series["ds"].nunique()),
                               "first": f"{self.series['ds'].min():%Y-%m-%d}", "last": f"{self.series['ds'].max():%Y-%m-%d}",
                               "rows_without_time": self.series.attrs.get("rows_without_time", 0),
                               "filled_with_zero": self.series.attrs.get("filled", 0),
                               "last_period_incomplete": bool(self.series.attrs.get("last_period_incomplete", False)),
                               "per_series": rows}
        if self.backtest is not None:
            out["backtest"] = self.backtest.summary
        return out


def predict_demand(table: ibis.Table, *, time: str, key: str | None = None, value: str | None = None,
                   freq: str = "M", horizon: int = 12, models: str | Sequence[str] = ("ets", "arima"),
                   fill: Literal["zero", "error"] = "zero", start: str | None = None, end: str | None = None,
                   run_backtest: bool = False, n_windows: int = 3, n_jobs: int = 1) -> DemandRun:
    """Build count series from ``table`` and forecast ``horizon`` periods with every model.

    Parameters are those of :func:`~stadslab.analyses.forecasting.series.build_series` and
    :func:`forecast_series`.
    """
    series = build_series(table, time=time, key=key, value=value, freq=freq, fill=fill, start=start, end=end)
    run = forecast_series(series, freq=freq, horizon=horizon, models=models, run_backtest=run_backtest,
                          n_windows=n_windows, n_jobs=n_jobs)
    run.params.update({"time": time, "key": key, "value": value, "fill": fill, "start": start, "end": end})
    return run


def forecast_series(series: pd.DataFrame, *, freq: str = "M", horizon: int = 12,
                    models: str | Sequence[str] = ("ets", "arima"), run_backtest: bool = False,
                    n_windows: int = 3, n_jobs: int = 1, refit: bool = True,
                    progress: Callable[[str, int, int], None] | None = None) -> DemandRun:
    """Forecast (and optionally backtest) series in long format (``unique_id, ds, y``).

    ``arimax`` is not offered here: a warehouse table carries no future values of a driver; use
    :func:`~stadslab.analyses.forecasting.models.forecast` with ``exog`` and ``future``.
    """
    names = parse_models(models)
    if "arimax" in names:
        raise AnalysisError("'arimax' kan hier niet: voor verklarende variabelen zijn toekomstige waarden nodig",
                            hint="gebruik de Python-functie forecast(..., exog=[...], future=...) of kies ets/arima")
    if horizon < 1:
        raise AnalysisError(f"horizon moet minstens 1 zijn, niet {horizon}")
    n_series = series["unique_id"].nunique()
    # one bar over both steps: a backtest with refit costs ~n_windows forecasts, without ~one
    cost_bt = (n_windows if refit else 1) if run_backtest else 0
    total = n_series * (1 + cost_bt)

    def step(label: str, offset: int, weight: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, _n: progress(f"{label} ({done}/{n_series} reeksen)", offset + weight * done, total)

    fc = forecast(series, horizon, models=names, freq=freq, n_jobs=n_jobs, progress=step("voorspellen", 0, 1))
    bt = backtest(series, h=horizon, n_windows=n_windows, models=names, freq=freq, n_jobs=n_jobs, refit=refit,
                  progress=step("toetsen", n_series, cost_bt)) if run_backtest else None
    params = {"freq": freq.upper(), "horizon": horizon, "models": [ALIASES[n] for n in names],
              "backtest": run_backtest, "windows": n_windows if run_backtest else None,
              "refit": refit if run_backtest else None}
    return DemandRun(series=series, forecasts=fc, backtest=bt, params=params)


def backtest_table(bt: BacktestResult) -> pd.DataFrame:
    """Per series and model: MASE and whether it beats SeasonalNaive (for storing as a result)."""
    rows = [{"unique_id": r["unique_id"], "model": m, "mase": v,
             "beats_seasonal_naive": r["beats_seasonal_naive_by_model"].get(m)}
            for r in bt.summary["per_series"] for m, v in r["mase"].items()]
    out = pd.DataFrame(rows, columns=["unique_id", "model", "mase", "beats_seasonal_naive"])
    return out.astype({"mase": "float64", "beats_seasonal_naive": "boolean"})
