"""Fill forecasts per container from a realtime fill stream: level at a future time, the time it crosses a
threshold (with an interval) and the chance it overflows — with a backtest against the naive "last rate".

    forecast_fill(wh, "denhaag_containervulling", at) -> DataFrame, one row per container:
        container_id, afvalfractie, tijd (time of level_now, UTC), level_now, level_at (expected at ``at``),
        hours_to_threshold, hours_lo, hours_hi (≈80 % interval), p_overflow_by (P(level ≥ 100 % by ``at``)),
        vulgraad, vulsnelheid (%/day, mean over the next 24 h), sd_vulgraad, sd_vulsnelheid, metingen
        (the last five are the ``state`` columns the day plan, analyses/containers/plan.py, reads)

Method (all learned from the stream, ``history_days`` before ``now``):
1. Clean: a spike (a reading more than 30 points from both neighbours) is dropped; a fall of more than 8
   points is an emptying. Steps = consecutive readings at most 6 h apart without an emptying.
2. Fraction pattern: mean step rate (Δlevel/Δhours, unclipped, so the sensor noise averages out) per
   fraction × weekday and per fraction × hour of day (UTC), divided by the fraction's mean — multiplicative
   seasonal indices (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §3.4),
   each shrunk towards the all-fractions factor with the weight of ``PATTERN_PRIOR`` steps.
3. Container rate: within each fill segment (between emptyings, ≥ 6 readings) the OLS slope of the level
   on W, the cumulative pattern hours; the span-weighted mean over its segments, shrunk towards the
   fraction median with the weight of ``PRIOR_STEPS`` pattern hours (empirical Bayes).
4. Level now: median of the last three readings (one spike does not move it).
5. Path: level_now + rate × Σ factors over the coming hours. The interval and p_overflow treat the
   container's rate multiplier as log-normal with the spread of the fraction's segment rates around
   their container's rate (σ of log(segment slope / container rate), segments ≥ 24 pattern hours);
   the ≈80 % interval is the 10th/90th percentile rate.

Naive "last rate": the slope of the readings over the last 24 h, extrapolated linearly.
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
EMPTIED_DROP = 8.0      # a fall of more than 8 points is an emptying (sensor noise per step is ~2 points)
PATTERN_PRIOR = 200     # steps: a fraction's weekday/hour factor is shrunk towards all fractions' factor
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
    # a spike is a reading far from both neighbours (an echo in the shaft): left out of everything
    s1 = r.mutate(pv=r.v.lag().over(w), nv=r.v.lead().over(w))
    spike = (((s1.v - s1.pv).abs() > 30) & ((s1.v - s1.nv).abs() > 30)).fill_null(False)
    clean = s1.filter(~spike).select("s", "t", "v")
    s = clean.mutate(pv=clean.v.lag().over(w), pt=clean.t.lag().over(w))
    s = s.mutate(dh=(s.t.epoch_seconds() - s.pt.epoch_seconds()) / 3600.0, dl=s.v - s.pv,
                 wd=s.pt.day_of_week.index(), hr=s.pt.hour()).join(reg, "s")
    steps = s.filter(s.dh > 0, s.dh <= 6, s.dl > -EMPTIED_DROP)
    steps = steps.mutate(rate=steps.dl / steps.dh)          # unclipped: the measurement noise averages out
    pwd = _pattern(steps, "wd")
    phr = _pattern(steps, "hr")
    prof = ibis.memtable(pwd).cross_join(ibis.memtable(phr).rename(af2="afvalfractie"))
    prof = prof.filter(prof.afvalfractie == prof.af2).select("afvalfractie", "wd", "hr", f=prof.f_wd * prof.f_hr)
    # W = cumulative "pattern hours": a container fills rate × ΔW between readings. Within a fill segment
    # (between emptyings) the OLS slope of level on W is the container's de-seasonalised rate.
    s = s.left_join(prof, ["afvalfractie", "wd", "hr"]).select(s, prof.f)
    s = s.mutate(emptied=(s.dl < -EMPTIED_DROP).fill_null(False).cast("int32"),
                 dw=(s.f.fill_null(1.0) * s.dh.clip(upper=6)).fill_null(0.0))
    cw = ibis.cumulative_window(group_by="s", order_by="t")
    s = s.mutate(seg=s.emptied.sum().over(cw), W=s.dw.sum().over(cw))
    g = s.group_by(["s", "afvalfractie", "seg"]).agg(
        n=s.v.count(), sw=s.W.sum(), sv=s.v.sum(), swv=(s.W * s.v).sum(), sww=(s.W * s.W).sum(),
        span=s.W.max() - s.W.min())
    g = g.filter(g.n >= 6, g.span >= 6)
    g = g.mutate(slope=((g.n * g.swv - g.sw * g.sv) / (g.n * g.sww - g.sw * g.sw)).clip(lower=0))
    segs = g.select("s", "afvalfractie", "slope", "span").to_pandas()
    if len(segs):
        segs["ws"] = segs["slope"] * segs["span"]
        per = segs.groupby("s").agg(ws=("ws", "sum"), n=("span", "sum"))
        per["rate"] = per["ws"] / per["n"]
        per_c = per[["rate", "n"]].reset_index()
        long = segs[segs["span"] >= 24].merge(per_c, on="s")
        long = long[long["rate"] > 0]
        long["ratio"] = np.log(long["slope"].clip(lower=1e-3) / long["rate"])
        sigma = long.groupby("afvalfractie")["ratio"].std().rename("sigma")
    else:
        per_c = pd.DataFrame({"s": pd.Series(dtype=str), "rate": pd.Series(dtype=float), "n": pd.Series(dtype=float)})
        sigma = pd.Series(dtype=float, name="sigma")
    # level now (median of the last three) and the naive last rate (slope over the last 24 h)
    w2 = ibis.window(group_by="s", order_by=ibis.desc("t"))
    last = r.mutate(rn=ibis.row_number().over(w2))
    last3 = last.filter(last.rn < 3).group_by("s").agg(level_now=last.v.median(), tijd=last.t.max())
    six = last.filter(last.rn == 0).select("s", t_last="t", v_last="v")
    back = r.join(six, "s").filter(lambda x: (x.t <= x.t_last - ibis.interval(hours=23)))
    back = back.group_by("s").agg(t6=back.t.max())
    back6 = back.join(r.select(s="s", t6="t", v6="v"), ["s", "t6"])
    naive = six.join(back6, "s", how="left")
    naive = naive.mutate(last_rate=((naive.v_last - naive.v6) / ((naive.t_last.epoch_seconds() - naive.t6.epoch_seconds()) / 3600.0)))
    # per-container tables are small (one row per container): combine them in pandas
    state = last3.to_pandas().merge(naive.select("s", "last_rate").to_pandas(), on="s", how="left") \
        .merge(reg.to_pandas(), on="s", how="left").merge(per_c, on="s", how="left")
    state = state.merge(sigma, left_on="afvalfractie", right_index=True, how="left")
    prior = state.groupby("afvalfractie")["rate"].transform("median")
    n = state["n"].fillna(0)
    state["rate"] = ((state["rate"].fillna(0) * n + prior.fillna(0) * PRIOR_STEPS) / (n + PRIOR_STEPS)).clip(lower=0)
    state["sigma"] = state["sigma"].fillna(0.3).clip(0.05, 1.5)
    state = state.rename(columns={"s": "container_id"})
    return Fit(pwd, phr, state)


def _pattern(steps, key: str) -> pd.DataFrame:
    """Multiplicative factor per fraction × ``key`` (wd or hr): the cell's mean step rate over the fraction's
    mean, shrunk towards the same factor over all fractions with the weight of ``PATTERN_PRIOR`` steps
    (small fractions and single days are noisy), clipped to 0,05 … 5."""
    cell = steps.group_by(["afvalfractie", key]).agg(m=steps.rate.mean(), k=steps.rate.count()).to_pandas()
    if cell.empty:
        return pd.DataFrame(columns=["afvalfractie", key, f"f_{key}"])
    frac_mean = cell.groupby("afvalfractie").apply(lambda g: np.average(g["m"], weights=g["k"]), include_groups=False)
    cell["f"] = cell["m"] / cell["afvalfractie"].map(frac_mean).replace(0, np.nan)
    allk = cell.groupby(key).apply(lambda g: np.average(g["f"].fillna(1.0), weights=g["k"]), include_groups=False)
    cell[f"f_{key}"] = ((cell["f"].fillna(1.0) * cell["k"] + cell[key].map(allk) * PATTERN_PRIOR)
                        / (cell["k"] + PATTERN_PRIOR)).clip(0.05, 5)
    return cell[["afvalfractie", key, f"f_{key}"]]


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
                  now: datetime | None = None, threshold: float = 80.0, history_days: float = 10) -> pd.DataFrame:
    """Per container: level now and at ``at``, hours to ``threshold`` with an ≈80 % interval, P(overflow by ``at``)."""
    now = now or datetime.now(timezone.utc)
    return predict(fit(wh, dataset, registry, now=now, history_days=history_days), now=now, at=at, threshold=threshold)


def backtest(wh: Warehouse, dataset: str, *, registry: str = "denhaag_containerregister", now: datetime | None = None,
             origins: int = 3, threshold: float = 80.0, history_days: float = 7, detail: bool = False) -> dict:
    """Error (hours) of time-to-threshold for the model and the naive last rate at ``origins`` daily origins.

    Right-censoring is handled as in survival analysis rather than by leaving containers out (which would
    keep only the ones that filled fast before their emptying, and so favour early forecasts): a container
    emptied (or at the end of the data) before it crossed the threshold only tells that the true time
    exceeds the censoring time C, so its error is max(0, C − forecast) — the part that is certainly wrong.
    Both methods are scored on the same containers in the same way."""
    now = now or datetime.now(timezone.utc)
    r = readings(wh, dataset)
    rows = []
    for k in range(origins, 0, -1):
        origin = (pd.Timestamp(now).floor("D") - pd.Timedelta(days=k) + pd.Timedelta(hours=6)).to_pydatetime()
        fc = predict(fit(wh, dataset, registry, now=origin, history_days=history_days), now=origin,
                     at=origin + timedelta(days=1), threshold=threshold)
        fut = r.filter((r.tijd >= origin) & (r.tijd < now))
        fut = fut.select(container_id=fut.sensor_id, t=fut.tijd, v=fut.vulgraad)
        w = ibis.window(group_by="container_id", order_by="t")
        fut = fut.mutate(emptied=(fut.v - fut.v.lag().over(w)) < -25, nv=fut.v.lead().over(w))
        first_drop = fut.filter(fut.emptied).group_by("container_id").agg(t_drop=fut.t.min())
        # crossed: a reading at or above the threshold confirmed by the next one (a spike is not a crossing)
        up = fut.filter((fut.v >= threshold) & (fut.nv >= threshold))
        cross = up.group_by("container_id").agg(t_cross=up.t.min())
        act = first_drop.outer_join(cross, "container_id").to_pandas()
        act["container_id"] = act["container_id"].fillna(act.get("container_id_right"))
        m = fc[fc["level_now"] < threshold - 10].merge(act[["container_id", "t_drop", "t_cross"]], on="container_id",
                                                        how="left")
        if m.empty:
            continue
        hours = lambda col: (pd.to_datetime(m[col], utc=True) - pd.Timestamp(origin)).dt.total_seconds() / 3600  # noqa: E731
        censor = hours("t_drop").fillna((pd.Timestamp(now) - pd.Timestamp(origin)).total_seconds() / 3600)
        crossed = hours("t_cross")
        seen = crossed.notna() & (crossed < censor)
        naive = np.where(m["last_rate"] > 0, (threshold - m["level_now"]) / m["last_rate"], HORIZON_H)
        rows.append(pd.DataFrame({"origin": origin, "seen": seen, "actual": crossed.where(seen), "censor": censor,
                                  "model": m["hours_to_threshold"].fillna(HORIZON_H).to_numpy(),
                                  "lo": m["hours_lo"].fillna(0).to_numpy(), "hi": m["hours_hi"].fillna(HORIZON_H).to_numpy(),
                                  "naive": np.clip(naive, 0, HORIZON_H)}))
    if not rows:
        return {"n": 0, "oordeel": "Te weinig gegevens voor een toets: er is minder dan een paar dagen aan metingen."}
    d = pd.concat(rows, ignore_index=True)
    if detail:
        return {"rijen": d}

    def err(pred: pd.Series) -> pd.Series:
        return np.where(d["seen"], (pred - d["actual"]).abs(), np.maximum(0.0, d["censor"] - pred))

    mae_m, mae_n = float(err(d["model"]).mean()), float(err(d["naive"]).mean())
    obs = d[d["seen"]]
    cover = float(((obs["actual"] >= obs["lo"]) & (obs["actual"] <= obs["hi"])).mean()) if len(obs) else float("nan")
    better = mae_m < 0.95 * mae_n
    fmt = lambda x: f"{x:.1f}".replace(".", ",")  # noqa: E731
    verdict = (f"Het model is beter dan de naïeve 'laatste snelheid': gemiddeld {fmt(mae_m)} uur fout tegen "
               f"{fmt(mae_n)} uur." if better else
               f"Het model is niet duidelijk beter dan de naïeve 'laatste snelheid' ({fmt(mae_m)} tegen {fmt(mae_n)} "
               "uur gemiddelde fout); gebruik de voorspelling met voorzichtigheid.")
    return {"n": int(len(d)), "n_gezien": int(len(obs)), "oorsprongen": int(d["origin"].nunique()),
            "mae_model_uur": round(mae_m, 2), "mae_naief_uur": round(mae_n, 2), "dekking_interval": round(cover, 3),
            "model_beter": bool(better), "drempel": threshold, "oordeel": verdict}
