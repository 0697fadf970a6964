"""Risk models on a :class:`~stadslab.analyses.risk.features.FeatureSet`, and ``predict_risk``.

Every model has ``name``, ``fit(fs, train, Y)`` (``train``: origin indices whose target periods end
at or before the prediction origin) and ``predict(fs, o)`` → one score per candidate cell.

- ``gbm_poisson``: gradient-boosted trees with a Poisson objective (LightGBM; Friedman 2001, Ke et
  al. 2017) from past periods' features to the next period's counts; its predictions are expected
  counts and are checked for calibration in the backtest.
- ``kde``: prospective hotspotting (Bowers, Johnson & Pease 2004): Gaussian kernel in space ×
  exponential decay in time over the incidents before ``t0`` (the ``kde`` feature).
- ``last_period``: incidents in the cell in the previous horizon-length window.
- ``last_365d``: incidents in the cell in the last 365 days (the long-term hotspot map).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

import ibis
import lightgbm as lgb
import numpy as np
import pandas as pd

from stadslab.analyses.risk.features import (CELL_M, FeatureConfig, FeatureSet, StudyArea, build_features,
                                              period_counts, resolve_study_area)
from stadslab.analyses.risk.metrics import n_flagged, rank_cells
from stadslab.errors import AnalysisError

LONGTERM = "n365_cell"  # tie-break feature (see metrics.py)


class RiskModel(Protocol):
    name: str

    def fit(self, fs: FeatureSet, train: np.ndarray, Y: np.ndarray) -> "RiskModel": ...

    def predict(self, fs: FeatureSet, o: int) -> np.ndarray: ...


@dataclass
class FeatureBaseline:
    """A naive baseline: the score is one feature column (no fitting)."""

    name: str
    feature: str

    def fit(self, fs: FeatureSet, train: np.ndarray, Y: np.ndarray) -> "FeatureBaseline":
        return self

    def predict(self, fs: FeatureSet, o: int) -> np.ndarray:
        return fs.col(self.feature)[o].astype(np.float64)


def baselines(period_days: int) -> list[FeatureBaseline]:
    return [FeatureBaseline("last_period", f"n{period_days}_cell"), FeatureBaseline("last_365d", "n365_cell"),
            FeatureBaseline("kde", "kde")]


DEFAULT_GBM_PARAMS: dict[str, Any] = {
    "objective": "poisson", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 200,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "max_bin": 63,
    "num_threads": min(2, os.cpu_count() or 1), "deterministic": True, "force_row_wise": True, "seed": 0, "verbose": -1,
}


@dataclass
class GBMPoisson:
    """LightGBM with ``objective='poisson'`` on (origin, cell) rows.

    To keep training fast, rows of cells without any incident in their 5×5 block in the last year
    are subsampled with probability ``zero_keep`` and weighted ``1 / zero_keep`` (inverse
    probability weighting keeps the Poisson fit unbiased in expectation)."""

    name: str = "gbm_poisson"
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 150
    zero_keep: float = 0.25
    features: list[str] | None = None
    booster: lgb.Booster | None = None

    def _cols(self, fs: FeatureSet) -> list[int]:
        names = self.features or fs.names
        return [fs.names.index(n) for n in names]

    def fit(self, fs: FeatureSet, train: np.ndarray, Y: np.ndarray) -> "GBMPoisson":
        if len(train) == 0:
            raise AnalysisError("geen trainingsperioden vóór de voorspelperiode",
                                hint="er is minstens één eerdere periode met een jaar historie nodig")
        cols = self._cols(fs)
        X = fs.X[train][:, :, cols].reshape(-1, len(cols))
        y = Y[train].reshape(-1)
        w = np.ones_like(y)
        if self.zero_keep < 1.0:
            quiet = fs.X[train][:, :, fs.names.index("n365_5x5")].reshape(-1) == 0
            keep = ~quiet | (np.random.default_rng(0).random(len(y)) < self.zero_keep)
            w = np.where(quiet, 1.0 / self.zero_keep, 1.0)[keep]
            X, y = X[keep], y[keep]
        params = {**DEFAULT_GBM_PARAMS, **self.params}
        data = lgb.Dataset(X, label=y, weight=w, feature_name=[fs.names[c] for c in cols], free_raw_data=True)
        self.booster = lgb.train(params, data, num_boost_round=self.num_boost_round)
        return self

    def predict(self, fs: FeatureSet, o: int) -> np.ndarray:
        return self.booster.predict(fs.X[o][:, self._cols(fs)]).astype(np.float64)

    def contributions(self, fs: FeatureSet, o: int) -> tuple[np.ndarray, list[str]]:
        """SHAP values (log scale; Lundberg et al. 2020, TreeSHAP) per cell and feature; the last
        column is the bias term."""
        cols = self._cols(fs)
        return self.booster.predict(fs.X[o][:, cols], pred_contrib=True), [fs.names[c] for c in cols]


@dataclass
class Blend:
    """Geometric blend of two scores on the expected-count scale:
    ``exp(w · log(a) + (1 − w) · log(b · sum(a) / sum(b)))``; ``b`` is rescaled to ``a``'s total."""

    a: RiskModel
    b: RiskModel
    weight: float = 0.5
    name: str = "gbm_kde_blend"
    fit_parts: bool = True  # False when ``a``/``b`` are fitted elsewhere (e.g. the backtest's main model)

    def fit(self, fs: FeatureSet, train: np.ndarray, Y: np.ndarray) -> "Blend":
        if self.fit_parts:
            self.a.fit(fs, train, Y)
            self.b.fit(fs, train, Y)
        return self

    def predict(self, fs: FeatureSet, o: int) -> np.ndarray:
        pa, pb = self.a.predict(fs, o), self.b.predict(fs, o)
        pb = pb * (pa.sum() / pb.sum()) if pb.sum() > 0 else pb
        eps = 1e-9
        return np.exp(self.weight * np.log(pa + eps) + (1 - self.weight) * np.log(pb + eps))


def training_origins(origins: pd.DatetimeIndex, fit_at: pd.Timestamp, period_days: int, *,
                     history_start: pd.Timestamp, min_history_days: int, train_periods: int) -> np.ndarray:
    """Indices of origins usable for training a model applied at ``fit_at``: the target period
    ``[o, o + horizon)`` ends at or before ``fit_at`` (no leakage), there are at least
    ``min_history_days`` of data before ``o`` (longer windows may be partly covered for the earliest
    origins), at most ``train_periods`` most recent."""
    ends = origins + pd.Timedelta(days=period_days)
    ok = (ends <= fit_at) & (origins - pd.Timedelta(days=min_history_days) >= history_start)
    idx = np.flatnonzero(ok)
    return idx[-train_periods:]


@dataclass
class RiskPrediction:
    at: pd.Timestamp
    period_days: int
    table: pd.DataFrame
    model: GBMPoisson
    features: FeatureSet
    params: dict[str, Any]


def predict_risk(incidents: ibis.Table, at: Any, *, period_days: int = 14, top: float = 0.03,
                 study: StudyArea | None = None, time_col: str = "begin_tijd",
                 config: FeatureConfig | None = None, train_periods: int = 52,
                 history_start: Any = None, min_history_days: int = 365, context: Any = None,
                 facilities: Mapping[str, ibis.Table] | None = None, explain_top: int = 3) -> RiskPrediction:
    """Expected incidents per cell in ``[at, at + period_days)`` from incidents before ``at``.

    Trains ``gbm_poisson`` on the ``train_periods`` most recent past periods (origins every
    ``period_days`` back from ``at``) and returns one row per candidate cell: ``cell_id``,
    centre ``x_rd``/``y_rd``, ``buurt_code``, ``expected`` (GBM), baseline scores, ``rank``
    (ties: see metrics.py), ``flagged`` (top ``top`` share of the study area) and ``toelichting``."""
    from stadslab.analyses.risk.explain import explain_cells

    at = pd.Timestamp(at)
    cfg = config or FeatureConfig()
    if period_days not in cfg.windows:
        cfg = FeatureConfig(**{**cfg.__dict__, "windows": tuple(sorted({*cfg.windows, period_days}))})
    if history_start is None:
        first = incidents.aggregate(m=incidents[time_col].min()).to_pandas().m.iloc[0]
        if pd.isna(first):
            raise AnalysisError("de incidententabel is leeg", hint="laad eerst incidenten")
        history_start = pd.Timestamp(first).floor("D")
    history_start = pd.Timestamp(history_start)
    n_back = int((at - history_start).days // period_days)
    origins = pd.DatetimeIndex([at - pd.Timedelta(days=period_days * k) for k in range(n_back, -1, -1)])
    study = resolve_study_area(incidents, study, at, time_col=time_col)
    train = training_origins(origins, at, period_days, history_start=history_start,
                             min_history_days=min_history_days, train_periods=train_periods)
    origins = origins[train.min():] if len(train) else origins[-1:]
    fs = build_features(incidents, origins, study=study, time_col=time_col, config=cfg, context=context,
                        facilities=facilities)
    train = training_origins(fs.origins, at, period_days, history_start=history_start,
                             min_history_days=min_history_days, train_periods=train_periods)
    targets = period_counts(incidents.filter(incidents[time_col] < at.to_pydatetime()), fs, period_days,
                            time_col=time_col)
    model = GBMPoisson().fit(fs, train, targets.Y)
    o = len(fs.origins) - 1
    expected = model.predict(fs, o)
    longterm = fs.col(LONGTERM)[o]
    order = rank_cells(expected, longterm)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    n_area = study.n_area_cells or float(len(fs.cells))
    k = n_flagged(top, n_area, len(fs.cells))
    table = pd.DataFrame({"cell_id": fs.cells, "x_rd": (fs.ix + 0.5) * CELL_M, "y_rd": (fs.iy + 0.5) * CELL_M,
                          "buurt_code": pd.Series(fs.buurt if fs.buurt is not None else [None] * len(fs.cells),
                                                  dtype="string"),
                          "expected": expected, "rank": rank, "flagged": rank <= k})
    for b in baselines(period_days):
        table[f"score_{b.name}"] = b.predict(fs, o)
    table["toelichting"] = explain_cells(model, fs, o, top=explain_top)
    table = table.sort_values("rank").reset_index(drop=True)
    params = {"at": at.isoformat(), "period_days": period_days, "top": top, "flagged_cells": k,
              "n_area_cells": n_area, "study_area": study.source, "train_periods": int(len(train)),
              "time_column": time_col, "features": fs.names}
    return RiskPrediction(at=at, period_days=period_days, table=table, model=model, features=fs, params=params)
