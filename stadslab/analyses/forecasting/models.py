"""Forecast models with prediction intervals (statsforecast 2.1.1), always next to a naive reference.

Models (short name → statsforecast model, alias in the output):

* ``ets``    → ``AutoETS(season_length)``: exponential smoothing, error/trend/season chosen by AICc
  (Hyndman, Koehler, Snyder & Grose 2002; Hyndman & Athanasopoulos, *FPP3*, ch. 8).
* ``arima``  → ``AutoARIMA(season_length)``: seasonal ARIMA chosen stepwise by AICc
  (Hyndman & Khandakar 2008).
* ``arimax`` → ``AutoARIMA`` with exogenous regressors (regression with ARIMA errors, FPP3 ch. 10),
  alias ``AutoARIMA_X``. The regressors must be known for the forecast horizon (``future``); e.g.
  passports whose validity ends in that month, known from the document register.
* ``snaive`` → ``SeasonalNaive(season_length)``: next year's month = this year's month. It is always
  added: a model that does not beat it is not worth its complexity (Hyndman & Koehler 2006).

Intervals are statsforecast's model-based normal intervals at the requested levels (80 and 95 by
default). For counts (``nonnegative=True``) point forecasts and bounds are clipped at 0: a negative
number of passports is impossible, and clipping never moves an interval away from a possible value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from stadslab.errors import AnalysisError

REFERENCE = "SeasonalNaive"
ALIASES = {"ets": "AutoETS", "arima": "AutoARIMA", "arimax": "AutoARIMA_X", "snaive": REFERENCE}
DEFAULT_LEVELS = (80, 95)
KEYS = ("unique_id", "ds", "cutoff")


def parse_models(spec: str | Sequence[str]) -> list[str]:
    """``"ets,arima"`` → ``["ets", "arima"]``, validated; ``snaive`` is added as the reference."""
    names = [s.strip().lower() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    unknown = [n for n in names if n not in ALIASES]
    if unknown:
        raise AnalysisError(f"onbekend model: {', '.join(unknown)}", hint=f"kies uit: {', '.join(ALIASES)}")
    return list(dict.fromkeys([*names, "snaive"]))


def _make(name: str, season_length: int) -> Any:
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    if name == "ets":
        return AutoETS(season_length=season_length, alias=ALIASES[name])
    if name in ("arima", "arimax"):
        return AutoARIMA(season_length=season_length, alias=ALIASES[name])
    return SeasonalNaive(season_length=season_length, alias=REFERENCE)


def run_statsforecast(df: pd.DataFrame, h: int, *, models: Sequence[str], pd_freq: str, season_length: int,
                      level: Sequence[int] = DEFAULT_LEVELS, exog: Sequence[str] = (),
                      future: pd.DataFrame | None = None, cv: dict[str, Any] | None = None,
                      n_jobs: int = 1, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run the models; wide statsforecast output (``cv`` given → ``cross_validation(**cv)``; ``cv`` may
    hold ``refit``: True = refit at every origin, False = fit once at the first origin and only update
    the state with the newer observations (statsforecast ``forward``), no look-ahead either way).

    Models without regressors see only ``unique_id, ds, y``; ``arimax`` also sees ``exog``. The two
    runs are merged on ``unique_id, ds`` (and ``cutoff``). With ``progress(done, total)`` the series
    are run in chunks (a few per worker) so the caller can show how far it is; results are identical,
    as every series is fitted on its own.
    """
    if progress is None:
        return _run(df, h, models=models, pd_freq=pd_freq, season_length=season_length, level=level, exog=exog,
                    future=future, cv=cv, n_jobs=n_jobs)
    ids = list(dict.fromkeys(df["unique_id"]))
    size = max(4, 4 * max(n_jobs, 1))
    parts = []
    progress(0, len(ids))
    for start in range(0, len(ids), size):
        chunk = set(ids[start:start + size])
        sub_future = future[future["unique_id"].isin(chunk)] if future is not None else None
        parts.append(_run(df[df["unique_id"].isin(chunk)], h, models=models, pd_freq=pd_freq,
                          season_length=season_length, level=level, exog=exog, future=sub_future, cv=cv,
                          n_jobs=n_jobs))
        progress(min(start + size, len(ids)), len(ids))
    return pd.concat(parts, ignore_index=True)


def _run(df: pd.DataFrame, h: int, *, models: Sequence[str], pd_freq: str, season_length: int,
         level: Sequence[int], exog: Sequence[str], future: pd.DataFrame | None, cv: dict[str, Any] | None,
         n_jobs: int) -> pd.DataFrame:
    from statsforecast import StatsForecast

    names = parse_models(models)
    if "arimax" in names and not exog:
        raise AnalysisError("model 'arimax' heeft verklarende variabelen nodig (exog)",
                            hint="geef de kolommen op, of kies 'arima'")
    missing = [c for c in exog if c not in df.columns]
    if missing:
        raise AnalysisError(f"verklarende kolom(men) ontbreken: {', '.join(missing)}")
    if exog and df[list(exog)].isna().any().any():
        raise AnalysisError(f"verklarende kolommen {', '.join(exog)} bevatten lege waarden in de trainingsperiode",
                            hint="kies een startdatum waarop de verklarende variabele bekend is")
    groups = [([n for n in names if n != "arimax"], ["unique_id", "ds", "y"])]
    if "arimax" in names:
        groups.append((["arimax"], ["unique_id", "ds", "y", *exog]))
    level = list(level)
    merged: pd.DataFrame | None = None
    for group, cols in groups:
        sf = StatsForecast(models=[_make(n, season_length) for n in group], freq=pd_freq, n_jobs=n_jobs)
        data = df[cols]
        if cv is not None:
            out = sf.cross_validation(h=h, df=data, level=level, **cv)
        else:
            x_df = None
            if len(cols) > 3:
                x_df = _future_exog(df, future, exog, h, pd_freq)
            out = sf.forecast(h=h, df=data, X_df=x_df, level=level)
        if merged is None:
            merged = out
        else:
            on = [k for k in KEYS if k in out.columns]
            merged = merged.merge(out.drop(columns=["y"], errors="ignore"), on=on, how="inner")
    assert merged is not None
    return merged


def _future_exog(df: pd.DataFrame, future: pd.DataFrame | None, exog: Sequence[str], h: int,
                 pd_freq: str) -> pd.DataFrame:
    if future is None:
        raise AnalysisError("voor 'arimax' zijn de toekomstige waarden van de verklarende variabelen nodig",
                            hint=f"lever {', '.join(exog)} voor de komende {h} perioden")
    last = df.groupby("unique_id")["ds"].max()
    want = pd.DataFrame([(u, d) for u, t in last.items()
                         for d in pd.date_range(t, periods=h + 1, freq=pd_freq)[1:]], columns=["unique_id", "ds"])
    x_df = want.merge(future[["unique_id", "ds", *exog]], on=["unique_id", "ds"], how="left")
    if x_df[list(exog)].isna().any().any():
        first = x_df[x_df[list(exog)].isna().any(axis=1)].iloc[0]
        raise AnalysisError(f"toekomstige waarde van {', '.join(exog)} ontbreekt voor {first.unique_id} "
                            f"{first.ds:%Y-%m-%d}", hint="de verklarende variabele moet over de hele horizon bekend zijn")
    return x_df


def to_long(wide: pd.DataFrame, *, level: Sequence[int] = DEFAULT_LEVELS, nonnegative: bool = True) -> pd.DataFrame:
    """Wide statsforecast output → one row per (series, period[, cutoff], model) with ``forecast``,
    ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95`` (and ``y`` for backtests)."""
    keys = [k for k in (*KEYS, "y") if k in wide.columns]
    models = [c for c in wide.columns if c not in keys and "-lo-" not in c and "-hi-" not in c]
    parts = []
    for m in models:
        cols = {m: "forecast"}
        for lv in level:
            cols[f"{m}-lo-{lv}"] = f"lo_{lv}"
            cols[f"{m}-hi-{lv}"] = f"hi_{lv}"
        part = wide[keys + list(cols)].rename(columns=cols)
        part.insert(len(keys), "model", m)
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    value_cols = ["forecast", *[f"{b}_{lv}" for lv in level for b in ("lo", "hi")]]
    if nonnegative:
        long[value_cols] = long[value_cols].clip(lower=0.0)
    return long.sort_values([*[k for k in KEYS if k in long.columns], "model"]).reset_index(drop=True)


def forecast(df: pd.DataFrame, h: int, *, models: Sequence[str] = ("ets", "arima"), freq: str = "M",
             level: Sequence[int] = DEFAULT_LEVELS, exog: Sequence[str] = (), future: pd.DataFrame | None = None,
             n_jobs: int = 1, nonnegative: bool = True,
             progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Forecast ``h`` periods past the end of every series, with prediction intervals.

    Parameters
    ----------
    df : pandas.DataFrame
        Long format ``unique_id, ds, y`` (from :func:`~stadslab.analyses.forecasting.series.build_series`),
        plus the ``exog`` columns for ``arimax``.
    h : int
        Horizon in periods (12 months by default in the CLI).
    models : names from ``ets, arima, arimax, snaive``; ``snaive`` is always added.
    freq : {"M", "W", "D"}; sets the season length (12, 52, 7).
    exog, future : regressor columns and their values for the horizon (``unique_id, ds, *exog``).

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, model, forecast, lo_80, hi_80, lo_95, hi_95``.
    """
    from stadslab.analyses.forecasting.series import frequency

    _, pd_freq, season = frequency(freq)
    check_length(df, season + 1, "voorspellen")
    wide = run_statsforecast(df, h, models=models, pd_freq=pd_freq, season_length=season, level=level,
                             exog=exog, future=future, n_jobs=n_jobs, progress=progress)
    return to_long(wide, level=level, nonnegative=nonnegative)


def check_length(df: pd.DataFrame, needed: int, purpose: str,
                 hint: str = "kies een langere periode, of een grovere frequentie") -> None:
    """Every series must have ``needed`` periods; name the shortest otherwise."""
    lengths = df.groupby("unique_id").size()
    short = lengths[lengths < needed]
    if not short.empty:
        shown = ", ".join(f"{u} ({n})" for u, n in short.head(5).items())
        raise AnalysisError(f"te korte reeksen om te {purpose}: {shown}; nodig: {needed} perioden", hint=hint)
