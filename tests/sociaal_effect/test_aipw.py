"""The estimator against known values: an exact linear world, statsmodels' own GMM standard error,
the naive difference and standardised mean differences computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.treatment.treatment_effects import TreatmentEffect

from stadslab.analyses.sociaal.aipw import CLIP, aipw


def test_exact_linear_world_gives_the_true_ate_and_its_textbook_se():
    # y is exactly linear per arm (no noise): both outcome models are right, residuals are 0, so
    # AIPW = regression adjustment = 3 + mean(x), and ψ_i − ATE = x_i − mean(x): se = sd(x)/√n.
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    y = 1 + 2 * x + t * (3 + x)
    fit = aipw(y, t, x[:, None], ["x"])
    assert fit.ate == pytest.approx(3 + x.mean(), abs=1e-9)
    assert fit.ra == pytest.approx(3 + x.mean(), abs=1e-9)
    assert fit.se == pytest.approx(x.std(ddof=1) / np.sqrt(n), rel=1e-9)
    assert fit.ci[0] < fit.ate < fit.ci[1]
    assert fit.naive == pytest.approx(y[t == 1].mean() - y[t == 0].mean())


def test_point_estimate_and_se_agree_with_statsmodels_gmm():
    rng = np.random.default_rng(3)
    n, k = 1500, 3
    X = rng.normal(size=(n, k))
    t = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + X[:, 0] + 0.5 * X[:, 1])))).astype(int)
    y = 1 + X.sum(1) * 2 - 2 * t + rng.normal(size=n)
    fit = aipw(y, t, X, ["a", "b", "c"])
    Xc = sm.add_constant(X)
    sel = sm.Logit(t, Xc).fit(disp=0)
    teff = TreatmentEffect(sm.OLS(y, Xc), t, results_select=sel)
    teff.prob_select = np.clip(teff.prob_select, CLIP, 1 - CLIP)
    ref = teff.aipw()                                  # statsmodels' joint GMM (slow; fine at this size)
    assert fit.ate == pytest.approx(float(ref.effect[0]), abs=2e-3)
    assert fit.se == pytest.approx(float(ref.sd[0]), rel=0.1)
    assert abs(fit.ate + 2) < 4 * fit.se


def test_balance_smd_by_hand_and_weighting_removes_imbalance():
    rng = np.random.default_rng(5)
    n = 3000
    b = (rng.random(n) < 0.3).astype(float)
    t = (rng.random(n) < np.where(b == 1, 0.6, 0.15)).astype(float)
    y = 2 * b - 1.5 * t + rng.normal(size=n)
    fit = aipw(y, t, b[:, None], ["bijstand=ja"])
    p1, p0 = b[t == 1].mean(), b[t == 0].mean()
    smd = (p1 - p0) / np.sqrt((b[t == 1].var(ddof=1) + b[t == 0].var(ddof=1)) / 2)
    bal = fit.balance[0]
    assert bal.smd_before == pytest.approx(smd)
    assert abs(bal.smd_before) > 0.5 and abs(bal.smd_after) < 0.05 and not bal.imbalanced
    assert fit.naive > fit.ate + 0.5, "confounding by b biases the naive difference upwards"
    assert fit.ci[0] < -1.5 < fit.ci[1]


def test_extreme_weights_are_clipped_and_counted():
    # strong selection on x: some weights would exceed 100 (treated with e < 0.01, controls with e > 0.99)
    rng = np.random.default_rng(9)
    n = 4000
    x = rng.normal(size=n) * 3
    t = (rng.random(n) < 1 / (1 + np.exp(-(-2 + 2 * x)))).astype(float)
    y = x + t + rng.normal(size=n)
    fit = aipw(y, t, x[:, None], ["x"])
    e = sm.Logit(t, sm.add_constant(x)).fit(disp=0).predict()
    expected = np.mean(((t == 1) & (e < CLIP)) | ((t == 0) & (e > 1 - CLIP)))
    assert expected > 0 and fit.clipped_share == pytest.approx(expected)
    assert fit.propensity_range["behandeld"][0] < CLIP or fit.propensity_range["controle"][1] > 1 - CLIP
