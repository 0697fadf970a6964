"""Demand forecasting (ladder level 3, predictive analysis): count series → forecasts with intervals
→ honest backtests against the seasonal naive method.

    series.py    Ibis aggregation of a warehouse table to monthly/weekly/daily count series
    models.py    AutoETS, AutoARIMA (optionally with known drivers), SeasonalNaive (statsforecast)
    backtest.py  rolling-origin backtests, MASE (Hyndman & Koehler 2006), interval coverage
    demand.py    the chain used by ``stadslab predict demand``
    passports.py SIMULATED passport/ID-card demand with the 2014 validity change (worked example)
"""

from stadslab.analyses.forecasting.backtest import BacktestResult, backtest, mase
from stadslab.analyses.forecasting.demand import DemandRun, forecast_series, predict_demand
from stadslab.analyses.forecasting.models import forecast, parse_models
from stadslab.analyses.forecasting.passports import PassportParams, passport_demo, simulate_passports
from stadslab.analyses.forecasting.series import build_series, fill_policy

__all__ = ["BacktestResult", "DemandRun", "PassportParams", "backtest", "build_series", "fill_policy", "forecast",
           "forecast_series", "mase", "parse_models", "passport_demo", "predict_demand", "simulate_passports"]
