"""Backtest: baselines against an independent computation, the JSON shape, and sanity checks."""

from __future__ import annotations

import json
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.risk.backtest import backtest, backtest_table
from stadslab.analyses.risk.features import FeatureConfig, StudyArea
from stadslab.analyses.risk.models import GBMPoisson

FRACTIONS = [0.01, 0.03, 0.05, 0.1]
CFG = FeatureConfig(windows=(14, 28, 365), decay_days=(30.0,), season_lags=(), kde_bandwidth_m=200.0,
                    kde_decay_days=60.0)


def town_cells() -> tuple[str, ...]:
    """The 10×10 synthetic town plus one ring of cells (12×12 = 144 cells)."""
    return tuple(f"E{960 + i}N{3840 + j}" for i in range(-1, 11) for j in range(-1, 11))


def reference_baselines(df: pd.DataFrame, cells: list[str], n_area: float, t0: pd.Timestamp, days: int,
                        bw: float, tau: float, max_window: int) -> dict:
    """Straightforward pandas/numpy computation of the three baselines' hit rates for one period."""
    df = df.assign(cx=np.floor(df.x_rd / 125).astype(int), cy=np.floor(df.y_rd / 125).astype(int))
    df["cell"] = "E" + df.cx.astype(str) + "N" + df.cy.astype(str)
    past = df[df.begin_tijd < t0]
    age = (t0 - past.begin_tijd).dt.total_seconds() / 86400
    fut = df[(df.begin_tijd >= t0) & (df.begin_tijd < t0 + pd.Timedelta(days=days)) & df.cell.isin(cells)]
    obs = fut.cell.value_counts().reindex(cells, fill_value=0).to_numpy(float)
    n365 = past[age < 365].cell.value_counts().reindex(cells, fill_value=0).to_numpy(float)
    last = past[age < days].cell.value_counts().reindex(cells, fill_value=0).to_numpy(float)
    # KDE: exponential decay of whole-day age × separable discrete Gaussian (normalised, radius 3σ)
    s = bw / 125
    r = int(3 * s + 0.5)
    k1 = np.exp(-0.5 * (np.arange(-r, r + 1) / s) ** 2)
    k1 /= k1.sum()
    p = past[age < max_window]
    w = np.exp(-np.floor(age[age < max_window]) / tau)
    ix = np.array([int(c[1:c.index("N")]) for c in cells])
    iy = np.array([int(c[c.index("N") + 1:]) for c in cells])
    kde = np.zeros(len(cells))
    for cx, cy, wi in zip(p.cx, p.cy, w):
        dx, dy = ix - cx, iy - cy
        ok = (np.abs(dx) <= r) & (np.abs(dy) <= r)
        kde[ok] += wi * k1[dx[ok] + r] * k1[dy[ok] + r]
    out = {}
    for name, score in (("last_period", last), ("last_365d", n365), ("kde", kde)):
        order = sorted(range(len(cells)), key=lambda i: (-score[i], -n365[i], cells[i]))
        out[name] = {}
        for f in FRACTIONS:
            k = min(max(1, int(np.floor(f * n_area + 0.5))), len(cells))
            hit = obs[order[:k]].sum() / obs.sum()
            best = np.sort(obs)[::-1][:k].sum()
            out[name][str(f)] = (hit, hit / (k / n_area), hit * obs.sum() / best)
    return out


@pytest.fixture(scope="module")
def small_result(risk_small):
    study = StudyArea(cells=town_cells(), land_area_ha=144 * 1.5625, source="test")
    res = backtest(ibis.memtable(risk_small), start="2021-03-05", end="2021-06-26", study=study, config=CFG,
                   model=GBMPoisson(num_boost_round=30), train_periods=10, refit_every=4)
    return res


def test_baselines_match_independent_computation(risk_small, small_result):
    cells = sorted(town_cells())
    assert small_result["periods"] == 8
    for p in small_result["per_period"]:
        ref = reference_baselines(risk_small, cells, 144.0, pd.Timestamp(p["t0"]), 14, 200.0, 60.0, 365)
        for name in ("last_period", "last_365d", "kde"):
            for f in map(str, FRACTIONS):
                hit, pai, pei = ref[name][f]
                got = p["models"][name]
                assert got["hit_rate"][f] == pytest.approx(hit, abs=1e-12), (p["t0"], name, f)
                assert got["pai"][f] == pytest.approx(pai, abs=1e-9)
                assert got["pei"][f] == pytest.approx(pei, abs=1e-12)


def test_json_shape(small_result):
    res = small_result
    text = json.dumps(res, allow_nan=False)  # strict JSON: no NaN
    assert json.loads(text)["periods"] == 8
    assert res["area_fractions"] == FRACTIONS
    assert set(res["models"]) == {"gbm_poisson", "last_period", "last_365d", "kde"}
    for m in res["models"].values():
        for meas in ("hit_rate", "pai", "pei"):
            assert set(m[meas]) == {"0.01", "0.03", "0.05", "0.1"}
    assert res["best_baseline"] in {"last_period", "last_365d", "kde"}
    assert isinstance(res["model_beats_best_baseline"], bool)
    assert len(res["per_period"]) == res["periods"]
    assert {"t0", "end", "incidents", "models"} <= set(res["per_period"][0])
    assert set(res["comparison"]["0.03"]) >= {"ratio", "periods_won", "periods_lost", "sign_test_p"}
    cal = res["calibration"]
    assert len(cal["deciles"]) == 10 and cal["total_observed"] == sum(p["incidents"] for p in res["per_period"])
    t = backtest_table(res)
    assert len(t) == 8 * 4 * 4 and set(t.model) == set(res["models"])


@dataclass
class Noise:
    """A 'model' that scores cells at random."""

    name: str = "gbm_poisson"

    def fit(self, fs, train, Y):
        return self

    def predict(self, fs, o):
        return np.random.default_rng(o).random(len(fs.cells))


@pytest.fixture(scope="module")
def seasonal_runs(risk_seasonal):
    inc = ibis.memtable(risk_seasonal)
    cfg = FeatureConfig(windows=(14, 28, 91, 365), decay_days=(30.0,), season_lags=(365,))
    common = dict(start="2021-01-01", end="2021-12-24", config=cfg, train_periods=52, refit_every=13,
                  study=StudyArea(land_area_ha=1600 * 1.5625))
    gbm = backtest(inc, model=GBMPoisson(num_boost_round=80), **common)
    noise = backtest(inc, model=Noise(), **common)
    return gbm, noise


def test_model_beats_baselines_on_planted_pattern(seasonal_runs):
    gbm, _ = seasonal_runs
    assert gbm["model_beats_best_baseline"] is True
    for f in ("0.03", "0.05"):  # at 1 % (16 cells) last_period also finds only hot cells
        assert gbm["comparison"][f]["ratio"] > 1.2, f
    assert gbm["comparison"]["0.01"]["ratio"] >= 0.95
    # well calibrated in total (within 15 %)
    assert 0.85 < gbm["calibration"]["ratio_predicted_observed"] < 1.15


def test_noise_does_not_beat_baselines(seasonal_runs):
    _, noise = seasonal_runs
    assert noise["model_beats_best_baseline"] is False
    assert noise["comparison"]["0.03"]["ratio"] < 0.5
    # the baselines are computed by the same code either way
    assert noise["models"]["last_365d"] == seasonal_runs[0]["models"]["last_365d"]
