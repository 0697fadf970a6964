"""Spatial risk prediction per 125 m RD cell with honest backtests (the "burglary predictor").

    from stadslab.analyses.risk import backtest, predict_risk, StudyArea
    res = backtest(incidents, start="2016-01-01", end="2017-09-21", study=StudyArea(land_area_ha=9532))
    pred = predict_risk(incidents, "2017-09-21", period_days=14, top=0.03)

Modules: ``features`` (Ibis features without leakage), ``models`` (LightGBM Poisson, KDE and naive
baselines, ``predict_risk``), ``metrics`` (hit rate, PAI, PEI, calibration), ``backtest`` (rolling
origin), ``explain`` (Dutch reasons per cell), ``register`` (Algoritmeregister entry).
"""

from stadslab.analyses.risk.backtest import backtest, backtest_table
from stadslab.analyses.risk.features import (FeatureConfig, FeatureSet, StudyArea, build_features, period_counts,
                                              resolve_study_area, study_area_from_registry)
from stadslab.analyses.risk.models import Blend, FeatureBaseline, GBMPoisson, RiskPrediction, predict_risk
from stadslab.analyses.risk.register import register_entry, to_json, to_markdown

__all__ = ["backtest", "backtest_table", "FeatureConfig", "FeatureSet", "StudyArea", "build_features",
           "period_counts", "resolve_study_area", "study_area_from_registry", "Blend", "FeatureBaseline",
           "GBMPoisson", "RiskPrediction", "predict_risk", "register_entry", "to_json", "to_markdown"]
