"""Fill forecasts per container from a realtime fill stream: level at a future time, the time it crosses a
threshold (with an interval) and the chance it overflows — with a backtest against the naive "last rate".

    forecast_fill(wh, "denhaag_containervulling", at) -> DataFrame, one row per container:
        container_id, afvalfractie, tijd (time of level_now, UTC), level_now, level_at (expected at ``at``),
        hours_to_threshold, hours_lo, hours_hi (≈80 % interval), p_overflow_by (P(level ≥ 100 % by ``at``)),
        vulgraad, vulsnelheid (%/day, mean over the next 24 h), sd_vulgraad, sd_vulsnelheid, metingen
        (the last five are the ``state`` columns the day plan, analyses/containers/plan.py, reads)

Method (all learned from the stream, ``history_days`` before ``now``):
1. Fill steps: consecutive readings of a sensor at most 6 h apart whose level rose by 0 … 15 %/h (drops are
   emptyings, larger jumps are spikes; both are left out). Rate of a step = Δlevel / Δhours.
2. Fraction pattern: mean step rate per fraction × weekday and per fraction × hour of day (UTC), divided by
   the fraction's mean — multiplicative factors (a seasonal-index decomposition, Hyndman & Athanasopoulos,
   *Forecasting: Principles and Practice*, 3rd ed., §3.4 classical decomposition).
3. Container rate: the median of its steps' rates with the pattern divided out (robust to leftover spikes),
   shrunk towards the fraction median with the weight of ``PRIOR_STEPS`` steps (empirical Bayes).
4. Level now: median of the last three readings (one spike does not move it).
5. Path: level_now + rate × Σ factors over the coming hours. The interval and p_overflow treat the
   container's rate multiplier as log-normal with the spread of the fraction's daily fill rates
   (σ of log(daily fill / container mean)); the 80 % interval is the 10th/90th percentile rate.

Naive "last rate": the slope of the readings over the last 6 h, extrapolated linearly.
Backtest (``backtest``): at several origins, forecasts from data before the origin only; the actual time is
the first reading ≥ threshold after the origin (containers emptied first are left out); MAE in hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import ibis
import numpy as np
import pandas as pd
from scipy.special import ndtr

from stadslab.ingest.stream import readings
from stadslab.warehouse.store import Warehouse

PRIOR_STEPS = 24
HORIZON_H = 24 * 14
Z80 = 1.2816


@dataclass
class Fit:
    profile_wd: pd.DataFrame      # afvalfractie, wd, f_wd
    profile_hr: pd.DataFrame      # afvalfractie, hr, f_hr
    state: pd.DataFrame           # container_id, afvalfractie, tijd, level_now, rate, n, sigma, last_rate


def fit(wh: Warehouse, dataset: str, registry: str, *, now: datetime, history_days: float = 7,
        sensor: str = "sensor_id", time: str = "tijd", value: str = "vulgraad",
        registry_id: str = "container_id") -> Fit:
    """Learn patterns and container rates from readings in [now − history_days, now)."""
    r = readings(wh, dataset)
    r = r.filter((r[time] >= now - timedelta(days=history_days)) & (r[time] < now))
    r = r.select(s=r[sensor], t=r[time], v=r[value])
    reg = wh.table(registry)
    reg = reg.select(s=reg[registry_id].cast("string"), afvalfractie=reg["afvalfractie"])
    w = ibis.window(group_by="s", order_by="t")
    s = r.mutate(pv=r.v.lag().over(w), pt=r.t.lag().over(w))
    s = s.mutate(dh=(s.t.epoch_seconds() - s.pt.epoch_seconds()) / 3600.0, dl=s.v - s.pv,
                 wd=s.pt.day_of_week.index(), hr=s.pt.hour())
    steps = s.filter(s.dh > 0, s.dh <= 6, s.dl >= -3, s.dl <= 15 * s.dh)
    steps = steps.mutate(rate=(steps.dl / steps.dh).clip(lower=0)).join(reg, "s")
    frac = steps.group_by("afvalfractie").agg(mean_rate=steps.rate.mean())
    pwd = steps.group_by(["afvalfractie", "wd"]).agg(m=steps.rate.mean()).join(frac, "afvalfractie")
    pwd = pwd.mutate(f_wd=pwd.m / pwd.mean_rate).select("afvalfractie", "wd", "f_wd").to_pandas()
    phr = steps.group_by(["afvalfractie", "hr"]).agg(m=steps.rate.mean()).join(frac, "afvalfractie")
    phr = phr.mutate(f_hr=phr.m / phr.mean_rate).select("afvalfractie", "hr", "f_hr").to_pandas()
    prof = (ibis.memtable(pwd).cross_join(ibis.memtable(phr).rename(af2="afvalfractie")))
    prof = prof.filter(prof.afvalfractie == prof.af2).drop("af2")
    st = steps.join(prof, ["afvalfractie", "wd", "hr"])
    st = st.mutate(base=st.rate / (st.f_wd * st.f_hr).clip(lower=0.05), day=st.pt.truncate("D"))
    per_c = st.group_by(["s", "afvalfractie"]).agg(rate=st.base.median(), n=st.base.count())
    daily = st.group_by(["s", "afvalfractie", "day"]).agg(d=st.base.mean(), k=st.base.count())
    daily = daily.filter(daily.k >= 12)
    # level now (median of the last three) and the naive last rate (slope over the last 6 h)
    w2 = ibis.window(group_by="s", order_by=ibis.desc("t"))
    last = r.mutate(rn=ibis.row_number().over(w2))
    last3 = last.filter(last.rn < 3).group_by("s").agg(level_now=last.v.median(), tijd=last.t.max())
    six = last.filter(last.rn == 0).select("s", t_last="t", v_last="v")
    back = r.join(six, "s").filter(lambda x: (x.t <= x.t_last - ibis.interval(hours=5)))
    back = back.group_by("s").agg(t6=back.t.max())
    back6 = back.join(r.select(s="s", t6="t", v6="v"), ["s", "t6"])
    naive = six.join(back6, "s", how="left")
    naive = naive.mutate(last_rate=((naive.v_last - naive.v6) / ((naive.t_last.epoch_seconds() - naive.t6.epoch_seconds()) / 3600.0)))
    # per-container tables are small (one row per container): combine them in pandas
    state = last3.to_pandas().merge(naive.select("s", "last_rate").to_pandas(), on="s", how="left") \
        .merge(reg.to_pandas(), on="s", how="left").merge(per_c.select("s", "rate", "n").to_pandas(), on="s", how="left")
    dd = daily.to_pandas()
    if len(dd):
        dd["ratio"] = np.log(dd["d"].clip(lower=1e-3) / dd.groupby("s")["d"].transform("mean").clip(lower=1e-3))
        sigma = dd.groupby("afvalfractie")["ratio"].std().rename("sigma")
    else:
        sigma = pd.Series(dtype=float, name="sigma")
    state = state.merge(sigma, left_on="afvalfractie", right_index=True, how="left")
    prior = state.groupby("afvalfractie")["rate"].transform("median")
    n = state["n"].fillna(0)
    state["rate"] = ((state["rate"].fillna(0) * n + prior.fillna(0) * PRIOR_STEPS) / (n + PRIOR_STEPS)).clip(lower=0)
    state["sigma"] = state["sigma"].fillna(0.3).clip(0.05, 1.5)
    state = state.rename(columns={"s": "container_id"})
    return Fit(pwd, phr, state)


def _factors(fit_: Fit, fractions: np.ndarray, start: datetime, hours: int) -> np.ndarray:
    """(containers × hours) matrix of the fraction's weekday × hour factor for each coming hour."""
    t = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    wd = fit_.profile_wd.pivot(index="afvalfractie", columns="wd", values="f_wd").reindex(columns=range(7)).fillna(1.0)
    hr = fit_.profile_hr.pivot(index="afvalfractie", columns="hr", values="f_hr").reindex(columns=range(24)).fillna(1.0)
    fr = pd.Index(fractions)
    fw = wd.reindex(fr).fillna(1.0).to_numpy()[:, t.dayofweek]
    fh = hr.reindex(fr).fillna(1.0).to_numpy()[:, t.hour]
    return fw * fh


def predict(fit_: Fit, *, now: datetime, at: datetime, threshold: float = 80.0, horizon_h: int = HORIZON_H) -> pd.DataFrame:
    s = fit_.state.copy()
    if s.empty:
        return s
    start = pd.Timestamp(now).floor("h")
    f = _factors(fit_, s["afvalfractie"].fillna("Rest").to_numpy(), start.to_pydatetime(), horizon_h)
    cum = np.cumsum(f, axis=1) * s["rate"].to_numpy()[:, None]            # expected fill after h hours
    level = s["level_now"].to_numpy()
    need = np.maximum(threshold - level, 0)

    def first_cross(mult: np.ndarray) -> np.ndarray:
        c = cum * mult[:, None] if mult.ndim else cum * mult
        hit = c >= need[:, None]
        idx = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.nan)
        return np.where(need <= 0, 0.0, idx)

    sig = s["sigma"].to_numpy()
    s["hours_to_threshold"] = first_cross(np.ones(len(s)))
    s["hours_lo"] = first_cross(np.exp(Z80 * sig))                         # fast filling → early
    s["hours_hi"] = first_cross(np.exp(-Z80 * sig))
    h_at = int(np.clip(round((pd.Timestamp(at) - start).total_seconds() / 3600), 0, horizon_h))
    grown = cum[:, h_at - 1] if h_at > 0 else np.zeros(len(s))
    s["level_at"] = np.minimum(level + grown, 100.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(np.maximum(100.0 - level, 1e-9) / np.maximum(grown, 1e-9)) / sig
    s["p_overflow_by"] = np.where(level >= 100, 1.0, 1 - ndtr(z))
    day = cum[:, 23] if horizon_h >= 24 else cum[:, -1] * 24 / horizon_h
    s["vulgraad"], s["vulsnelheid"] = level, day
    s["sd_vulgraad"], s["sd_vulsnelheid"] = 2.0, day * sig
    s["metingen"] = s["n"].fillna(0).astype(int)
    return s


def forecast_fill(wh: Warehouse, dataset: str, at: datetime, *, registry: str = "denhaag_containerregister",
                  now: datetime | None = None, threshold: float = 80.0, history_days: float = 7) -> pd.DataFrame:
    """Per container: level now and at ``at``, hours to ``threshold`` with an ≈80 % interval, P(overflow by ``at``)."""
    now = now or datetime.now(timezone.utc)
    return predict(fit(wh, dataset, registry, now=now, history_days=history_days), now=now, at=at, threshold=threshold)


def backtest(wh: Warehouse, dataset: str, *, registry: str = "denhaag_containerregister", now: datetime | None = None,
             origins: int = 3, threshold: float = 80.0, history_days: float = 5) -> dict:
    """MAE (hours) of time-to-threshold for the model and the naive last rate at ``origins`` daily origins."""
    now = now or datetime.now(timezone.utc)
    r = readings(wh, dataset)
    rows = []
    for k in range(origins, 0, -1):
        origin = (pd.Timestamp(now).floor("D") - pd.Timedelta(days=k) + pd.Timedelta(hours=6)).to_pydatetime()
        fc = predict(fit(wh, dataset, registry, now=origin, history_days=history_days), now=origin,
                     at=origin + timedelta(days=1), threshold=threshold)
        fut = r.filter((r.tijd >= origin) & (r.tijd < origin + timedelta(days=k)))
        fut = fut.select(container_id=fut.sensor_id, t=fut.tijd, v=fut.vulgraad)
        w = ibis.window(group_by="container_id", order_by="t")
        fut = fut.mutate(emptied=(fut.v - fut.v.lag().over(w)) < -25)
        first_drop = fut.filter(fut.emptied).group_by("container_id").agg(t_drop=fut.t.min())
        cross = fut.filter(fut.v >= threshold).group_by("container_id").agg(t_cross=fut.t.min())
        act = cross.join(first_drop, "container_id", how="left").to_pandas()
        act = act[act["t_drop"].isna() | (act["t_cross"] < act["t_drop"])]
        m = fc[fc["level_now"] < threshold - 10].merge(act[["container_id", "t_cross"]], on="container_id")
        if m.empty:
            continue
        actual = (pd.to_datetime(m["t_cross"], utc=True) - pd.Timestamp(origin)).dt.total_seconds() / 3600
        naive = np.where(m["last_rate"] > 0, (threshold - m["level_now"]) / m["last_rate"], HORIZON_H)
        rows.append(pd.DataFrame({"origin": origin, "actual": actual, "model": m["hours_to_threshold"].fillna(HORIZON_H),
                                  "lo": m["hours_lo"].fillna(0), "hi": m["hours_hi"].fillna(HORIZON_H),
                                  "naive": np.clip(naive, 0, HORIZON_H)}))
    if not rows:
        return {"n": 0, "oordeel": "Te weinig gegevens voor een toets: er is minder dan een paar dagen aan metingen."}
    d = pd.concat(rows, ignore_index=True)
    mae_m = float((d["model"] - d["actual"]).abs().mean())
    mae_n = float((d["naive"] - d["actual"]).abs().mean())
    cover = float(((d["actual"] >= d["lo"]) & (d["actual"] <= d["hi"])).mean())
    better = mae_m < 0.95 * mae_n
    verdict = (f"Het model is beter dan de naïeve 'laatste snelheid': gemiddeld {mae_m:.1f} uur fout tegen {mae_n:.1f} uur."
               if better else
               f"Het model is niet duidelijk beter dan de naïeve 'laatste snelheid' ({mae_m:.1f} tegen {mae_n:.1f} uur "
               "gemiddelde fout); gebruik de voorspelling met voorzichtigheid.")
    return {"n": int(len(d)), "oorsprongen": int(d["origin"].nunique()), "mae_model_uur": round(mae_m, 2),
            "mae_naief_uur": round(mae_n, 2), "dekking_interval": round(cover, 3), "model_beter": bool(better),
            "drempel": threshold, "oordeel": verdict}
