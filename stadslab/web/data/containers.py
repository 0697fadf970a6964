"""View data of the container monitor: live state from the fill stream, forecasts (cached, computed in a
background thread because a fit takes seconds), and the backtest against the naive last rate."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from stadslab.ingest import stream as st

DATASET = "denhaag_containervulling"
_CACHE: dict[str, tuple[float, object]] = {}
_BUSY: set[str] = set()
_GUARD = threading.Lock()
DAYS_NL = ["ma", "di", "wo", "do", "vr", "za", "zo"]


def stream_datasets(state) -> list:
    return [d for d in state.catalog if d.stream is not None]


def _background(key: str, ttl: float, compute):
    """The cached value (possibly stale) and start a refresh in a thread when older than ``ttl``."""
    with _GUARD:
        hit = _CACHE.get(key)
        fresh = hit is not None and time.monotonic() - hit[0] < ttl
        if not fresh and key not in _BUSY:
            _BUSY.add(key)

            def run():
                try:
                    _CACHE[key] = (time.monotonic(), compute())
                except Exception as exc:  # shown on the page as "nog niet beschikbaar"
                    _CACHE[key] = (time.monotonic(), exc)
                finally:
                    _BUSY.discard(key)
            threading.Thread(target=run, daemon=True).start()
    return None if hit is None or isinstance(hit[1], Exception) else hit[1]


def forecast(state, ds) -> pd.DataFrame | None:
    from stadslab.analyses.containers.forecast import forecast_fill

    reg = ds.stream.registry_dataset
    return _background(f"fc:{ds.id}", 120, lambda: forecast_fill(
        state.warehouse(), ds.id, datetime.now(timezone.utc) + timedelta(days=1), registry=reg))


def backtest(state, ds) -> dict | None:
    from stadslab.analyses.containers.forecast import backtest as bt

    return _background(f"bt:{ds.id}", 3600, lambda: bt(state.warehouse(), ds.id, registry=ds.stream.registry_dataset))


def next_visit(days: pd.Series, now: datetime) -> pd.Series:
    """Hours until the next fixed collection day (07:00 UTC) from the register's ``inzameldagen``."""
    out = np.full(len(days), np.nan)
    for i, d in enumerate(days.fillna("").tolist()):
        wanted = [DAYS_NL.index(x) for x in d.split(",") if x in DAYS_NL]
        for k in range(1, 8):
            day = now + timedelta(days=k)
            if day.weekday() in wanted:
                visit = datetime(day.year, day.month, day.day, 7, tzinfo=timezone.utc)
                out[i] = (visit - now).total_seconds() / 3600
                break
    return pd.Series(out, index=days.index)


def planned_visits(wh, now: datetime) -> pd.Series:
    """Hours until each container's visit in the newest stored day plan (analyses/containers/plan_store.py),
    when that visit is still ahead; times in the plan are seconds since local midnight of its ``datum``."""
    try:
        from zoneinfo import ZoneInfo

        from stadslab.analyses.containers.plan_store import latest_plan

        _, stops = latest_plan(wh)
    except Exception:  # no plan module or no stored plan: the fixed schedule alone
        return pd.Series(dtype=float)
    if stops.empty or "soort" not in stops:
        return pd.Series(dtype=float)
    stops = stops[stops["soort"] == "stop"]
    midnight = pd.to_datetime(stops["datum"]).dt.tz_localize(ZoneInfo("Europe/Amsterdam"))
    when = midnight + pd.to_timedelta(stops["aankomst_s"].astype(float), unit="s")
    hours = (when.dt.tz_convert("UTC") - pd.Timestamp(now)).dt.total_seconds() / 3600
    out = pd.Series(hours.to_numpy(), index=stops["ref"].astype(str).to_numpy())
    return out[out > 0].groupby(level=0).min()


def live(state, ds) -> dict:
    """Latest level per container (+ forecast when ready), per-fraction summary, lists for the page."""
    wh = state.warehouse()
    now = datetime.now(timezone.utc)
    spec = ds.stream
    status = st.status(wh, ds, limit=20)
    reg = wh.con.execute(f"SELECT * FROM {wh.table_name(spec.registry_dataset)}").df()
    if st.has_readings_table(wh, ds.id):
        last = wh.con.execute(
            f"SELECT sensor_id, arg_max(vulgraad, tijd) AS vulgraad, max(tijd) AS tijd, "
            f"count(*) FILTER (WHERE tijd > now() - INTERVAL 6 HOUR) AS recent, "
            f"count(DISTINCT vulgraad) FILTER (WHERE tijd > now() - INTERVAL 12 HOUR) AS distinct12, "
            f"count(*) FILTER (WHERE tijd > now() - INTERVAL 12 HOUR) AS n12 "
            f"FROM {st.readings_table_name(ds.id)} GROUP BY sensor_id").df()
    else:
        last = pd.DataFrame(columns=["sensor_id", "vulgraad", "tijd", "recent", "distinct12", "n12"])
    df = reg.merge(last, left_on=spec.registry_field, right_on="sensor_id", how="left")
    fc = forecast(state, ds)
    if fc is not None:
        df = df.merge(fc[["container_id", "hours_to_threshold", "hours_lo", "hours_hi", "vulsnelheid"]],
                      on="container_id", how="left")
    else:
        df = df.assign(hours_to_threshold=np.nan, hours_lo=np.nan, hours_hi=np.nan, vulsnelheid=np.nan)
    fixed = next_visit(df.get("inzameldagen", pd.Series("", index=df.index)), now)
    planned = df["container_id"].map(planned_visits(wh, now))
    df["uren_tot_bezoek"] = planned.fillna(fixed).where(planned.isna() | fixed.isna(), np.fmin(planned, fixed))
    df["dagen_tot_vol"] = df["hours_to_threshold"] / 24
    level = df["vulgraad"].fillna(0)
    to_full = (100 - level) / df["vulsnelheid"].replace(0, np.nan) * 24
    df["overloop_voor_bezoek"] = to_full < df["uren_tot_bezoek"]
    age = (now - pd.to_datetime(df["tijd"], utc=True)).dt.total_seconds() / 3600
    df["verouderd"] = age.isna() | (age > spec.stale_after_hours)
    df["vast"] = (df["n12"].fillna(0) >= 6) & (df["distinct12"].fillna(0) <= 1)
    per = df.groupby("afvalfractie").agg(containers=("container_id", "count"), gem_vulgraad=("vulgraad", "mean"),
                                          boven_80=("vulgraad", lambda v: int((v >= 80).sum())),
                                          overloop=("overloop_voor_bezoek", "sum"), verouderd=("verouderd", "sum"))
    over = df[df["overloop_voor_bezoek"]].sort_values("dagen_tot_vol").head(50)
    faulty = df[df["verouderd"] | df["vast"]].head(50)
    return {"df": df, "status": status, "per_fractie": per.reset_index(), "overloop": over, "storingen": faulty,
            "voorspelling_klaar": fc is not None, "nu": now}
