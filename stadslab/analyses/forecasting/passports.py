"""SIMULATED passport and ID-card demand for a municipality: a cohort model of the Dutch 2014 validity change.

Everything this module returns is **simulated** (``df.attrs["simulated"] is True``); it is a worked
example for forecasting with a known driver, not municipal data.

Why demand has a "dip" and a "peak"
-----------------------------------
From 9 March 2014 passports and identity cards of adults (18+) are valid for ten years instead of
five (Paspoortwet, wijziging 2014; documents of minors stay five years). Adult documents issued
before March 2014 expired after five years and came back as renewals in 2009–2019. The adult
documents issued from March 2014 on come back only from March 2024 on. Between roughly 2019 and
2023 almost no adult documents expire, so municipalities saw a dip, followed by a peak from 2024
as the first ten-year cohort returns (the peak that the Rijksdienst voor Identiteitsgegevens and
municipalities prepared for; years and sizes here come from the model, not from their figures).

The cohort model (monthly)
--------------------------
Two stocks of documents, adult and minor. In month *t*::

    expiring_adult(t) = adult docs issued at t-60 if issued before 2014-03, plus those issued at
                        t-120 if issued from 2014-03 on
    expiring_minor(t) = minor docs issued at t-60
    renewals(t)       = season(t) * sum_d w_d * r * expiring(t - d)   (renewal a few months before or
                                                                      after expiry, spread w_d)
    first_issues(t)   = season(t) * population(t) * rate / 12       (newcomers, second documents,
                                                                      lost/stolen, first child documents)
    issued(t)         = Poisson(LogNormal-noise * (renewals + first_issues))

A share of renewed minor documents becomes adult (the holder turned 18). The population grows
geometrically from the reference year (default Utrecht 2024: 374,238 inhabitants, the figure in
the mission brief; about 1.6 %/yr, which gives ≈ 272k in 2004). The simulation warms up from 1984 so that 2004 already has cohort
echoes; the output is 2004-01 … 2030-12.

Drivers a municipality really knows (every document in its register has an expiry date):
``issued_5y_ago``, ``issued_10y_ago`` (all documents issued 60/120 months earlier),
``expiring`` (documents whose validity ends this month, by the rule in force when they were
issued) and ``expiring_7m`` (its centred 7-month mean, t-3 … t+3: people renew in the months
around expiry, so the monthly count is a noisy driver). Only the ``expiring`` drivers carry the
rule: before 2024 the ten-year cohorts have never returned, so a regression on ``issued_10y_ago``
cannot learn their effect from history — :func:`passport_demo` shows both.

Not modelled: the 2020–2021 COVID travel stop, the 2014 "wait for the ten-year document" shift,
appointment capacity limits. Real series have them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

CHANGE_MONTH = pd.Timestamp("2014-03-01")  # first month of ten-year adult validity (in force 9 March 2014)
UTRECHT_2024 = 374_238

# Relative demand per calendar month (Jan..Dec): spring/early summer before the holidays.
SEASON = np.array([0.85, 0.90, 1.05, 1.15, 1.20, 1.20, 1.10, 0.90, 0.85, 0.90, 0.95, 0.95])
SEASON = SEASON / SEASON.mean()
# Renewal timing around expiry, months -4 … +7: most renew just before or in the month it expires.
RENEWAL_OFFSETS = np.arange(-4, 8)
RENEWAL_WEIGHTS = np.array([0.04, 0.07, 0.12, 0.20, 0.22, 0.12, 0.08, 0.05, 0.04, 0.03, 0.02, 0.01])
RENEWAL_WEIGHTS = RENEWAL_WEIGHTS / RENEWAL_WEIGHTS.sum()


@dataclass(frozen=True)
class PassportParams:
    """Knobs of the simulation. Defaults give ≈ 0.2 documents per inhabitant per year in the five-year era."""

    population: int = UTRECHT_2024
    reference_year: int = 2024
    growth: float = 0.016            # per year
    minor_share: float = 0.18        # of the population under 18
    first_rate_adult: float = 0.040  # first/extra documents per adult per year
    first_rate_minor: float = 0.05   # first documents per minor per year (children travel on own documents)
    renew_adult: float = 0.80        # share of expiring adult documents that is renewed here
    renew_minor: float = 0.80
    minor_to_adult: float = 0.35     # share of renewed minor documents issued to someone now 18+
    noise_sd: float = 0.04           # month-to-month lognormal noise on top of Poisson
    start: str = "2004-01"
    end: str = "2030-12"
    unique_id: str = "paspoorten_id_kaarten"


def simulate_passports(params: PassportParams | None = None, *, seed: int = 0) -> pd.DataFrame:
    """Simulate monthly issued passports + ID cards (SIMULATED data, see module docstring).

    Parameters
    ----------
    params : PassportParams, optional
        Population, growth, rates; default Utrecht 2024.
    seed : int
        Seed of the random generator; the same seed gives the same series.

    Returns
    -------
    pandas.DataFrame
        One row per month in statsforecast long format: ``unique_id``, ``ds`` (month start), ``y``
        (issued), the drivers ``expiring``, ``expiring_7m``, ``issued_5y_ago``, ``issued_10y_ago``, and for inspection
        ``issued_adult``, ``issued_minor``, ``renewals_adult``, ``renewals_minor``, ``population``.
        ``df.attrs`` holds ``simulated=True`` and the parameters.
    """
    p = params or PassportParams()
    warm = 240  # 20 years before the output start: cohort echoes settle, and t-120 exists for 2004
    months = pd.date_range(pd.Timestamp(p.start) - pd.DateOffset(months=warm), p.end, freq="MS")
    n = len(months)
    rng = np.random.default_rng(seed)
    years = months.year + (months.month - 1) / 12
    pop = p.population * (1 + p.growth) ** (years - p.reference_year)
    season = SEASON[months.month - 1]
    ten_year = months >= CHANGE_MONTH            # validity of an adult document issued in that month
    noise = np.exp(rng.normal(0.0, p.noise_sd, n) - p.noise_sd ** 2 / 2)

    adult = np.zeros(n)
    minor = np.zeros(n)
    exp_adult = np.zeros(n + 130)                # expiring documents by month index (future included)
    exp_minor = np.zeros(n + 130)
    ren_adult = np.zeros(n)
    ren_minor = np.zeros(n)
    # Steady state before the warm-up: five-year documents at the first-issue level / (1 - renew).
    base_a = pop[0] * (1 - p.minor_share) * p.first_rate_adult / 12 / (1 - p.renew_adult)
    base_m = pop[0] * p.minor_share * p.first_rate_minor / 12 / (1 - p.renew_minor)
    exp_adult[:60] = base_a
    exp_minor[:60] = base_m
    # A month loop over ~560 months: the recursion (issued now → expiring later) is inherently sequential.
    for t in range(n):
        lo, hi = max(t - RENEWAL_OFFSETS[-1], 0), t - RENEWAL_OFFSETS[0]
        idx = np.arange(lo, hi + 1)
        w = RENEWAL_WEIGHTS[(t - idx) - RENEWAL_OFFSETS[0]]
        due_a = p.renew_adult * float(w @ exp_adult[idx])
        due_m = p.renew_minor * float(w @ exp_minor[idx])
        ren_a = season[t] * (due_a + p.minor_to_adult * due_m)
        ren_m = season[t] * (1 - p.minor_to_adult) * due_m
        first_a = season[t] * pop[t] * (1 - p.minor_share) * p.first_rate_adult / 12
        first_m = season[t] * pop[t] * p.minor_share * p.first_rate_minor / 12
        adult[t] = rng.poisson(noise[t] * (ren_a + first_a))
        minor[t] = rng.poisson(noise[t] * (ren_m + first_m))
        ren_adult[t], ren_minor[t] = ren_a, ren_m
        exp_adult[t + (120 if ten_year[t] else 60)] += adult[t]
        exp_minor[t + 60] += minor[t]

    issued = adult + minor
    expiring = exp_adult + exp_minor
    # centred mean over t-3 … t+3; the future expiries are known (documents already issued)
    expiring_7m = np.convolve(expiring, np.ones(7) / 7, mode="same")[:n]
    df = pd.DataFrame({
        "unique_id": p.unique_id, "ds": months, "y": issued,
        "expiring": expiring[:n], "expiring_7m": np.round(expiring_7m, 2),
        "issued_5y_ago": _lag(issued, 60), "issued_10y_ago": _lag(issued, 120),
        "issued_adult": adult, "issued_minor": minor,
        "renewals_adult": np.round(ren_adult, 1), "renewals_minor": np.round(ren_minor, 1),
        "population": np.round(pop).astype(int),
    })
    df = df[df["ds"] >= pd.Timestamp(p.start)].reset_index(drop=True)
    df.attrs.update({"simulated": True, "params": asdict(p), "seed": seed})
    return df


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full_like(x, np.nan, dtype=float)
    out[k:] = x[:-k]
    return out


def passport_demo(*, seed: int = 0, params: PassportParams | None = None, holdout: tuple[str, str] = ("2024-01", "2025-12"),
                  models: tuple[str, ...] = ("ets", "arima", "arimax"), n_jobs: int = 1) -> dict[str, Any]:
    """Backtest on the SIMULATED series: train up to the month before ``holdout``, forecast the holdout.

    Compares SeasonalNaive, AutoETS, AutoARIMA without drivers, AutoARIMA with the rule-aware driver
    ``expiring_7m`` (``AutoARIMA_X``), and AutoARIMA with the raw cohort counts ``issued_5y_ago`` +
    ``issued_10y_ago`` (``AutoARIMA_X_raw``). MASE as in :mod:`~stadslab.analyses.forecasting.backtest`.
    """
    from stadslab.analyses.forecasting.backtest import backtest

    df = simulate_passports(params, seed=seed)
    start, end = pd.Timestamp(holdout[0]), pd.Timestamp(holdout[1])
    h = (end.year - start.year) * 12 + end.month - start.month + 1
    data = df[df["ds"] <= end]
    main = backtest(data[["unique_id", "ds", "y", "expiring_7m"]], h=h, n_windows=1, models=models,
                    exog=["expiring_7m"] if "arimax" in models else (), n_jobs=n_jobs)
    raw_cols = ["issued_5y_ago", "issued_10y_ago"]
    raw = backtest(data[["unique_id", "ds", "y", *raw_cols]], h=h, n_windows=1, models=["arimax"], exog=raw_cols,
                   n_jobs=n_jobs)
    result = {name: dict(m) for name, m in main.summary["models"].items()}
    result["AutoARIMA_X_raw"] = dict(raw.summary["models"]["AutoARIMA_X"])
    mase = {name: m["mase_mean"] for name, m in result.items()}
    return {"simulated": True, "seed": seed, "holdout": [f"{start:%Y-%m}", f"{end:%Y-%m}"], "horizon": h,
            "drivers": {"AutoARIMA_X": ["expiring_7m"], "AutoARIMA_X_raw": raw_cols},
            "mase": mase, "models": result, "best_model": min(mase, key=lambda k: mase[k]),
            "forecasts": pd.concat([main.points, raw.points[raw.points["model"] == "AutoARIMA_X"]
                                    .assign(model="AutoARIMA_X_raw")], ignore_index=True)}
