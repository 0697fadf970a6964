"""Honest evaluation: the sensor-driven daily plan against the fixed weekly schedule, on the
GESIMULEERDE sensor feed (stadslab.demo.container_sim) over the real Den Haag containers.

For each policy a simulator with the same seed runs day by day over ``weeks`` weeks:

- **vast schema**: every container on its fixed weekday(s) (``container_sim.fixed_schedule``); each
  day's list is routed with the same routing core (all stops required), so kilometres and hours
  are measured with the same ruler as the sensor plan;
- **sensorgestuurd**: at 06:00 the readings so far give every container's level and fill rate
  (``estimate_state``), ``plan.plan_day`` chooses and routes the containers, and the planned service
  times become emptying events in the simulator.

Measured per policy: kilometres driven, truck-hours (route durations, incl. dump trips), emptyings,
overflow-days (container-days with at least one hour at 100 %, from the simulator's true level), and
the mean fill at emptying. Results are stored with ``Warehouse.save_result`` by the callers (CLI/bench)
because a run takes minutes; the page shows the stored figures.
"""

from __future__ import annotations

import time as _time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from stadslab.analyses.routing import SolveOptions, solve

from .plan import TZ, Fleet, PlanSettings, plan_day, route_problem_for_fixed

SIMULATED = "gesimuleerd"


@dataclass
class PolicyResult:
    policy: str
    km: float = 0.0
    truck_hours: float = 0.0
    emptyings: int = 0
    overflow_days: int = 0
    mean_fill_at_emptying: float = 0.0
    unplanned_required: int = 0
    days: int = 0
    daily: list[dict] = field(default_factory=list)


def estimate_state(readings: pd.DataFrame, now: datetime, last_emptied: pd.Series, prior_rate: pd.Series,
                   window_h: float = 72.0) -> pd.DataFrame:
    """Level now and fill rate per container from its readings since its last emptying (least squares
    over at most ``window_h`` hours, shrunk to the fraction's prior rate when there are few readings).
    Spikes (a reading far from the container's median) are dropped. Returns the ``state`` columns
    plan.select_candidates expects."""
    ids = prior_rate.index
    if len(readings):
        r = readings[readings["tijd"] > pd.Timestamp(now) - pd.Timedelta(hours=window_h)]
        since = r["sensor_id"].map(last_emptied)
        r = r[since.isna() | (r["tijd"] > since)]
        t = (r["tijd"] - pd.Timestamp(now)).dt.total_seconds().to_numpy() / 86400.0
        g = r.assign(t=t, y=r["vulgraad"].to_numpy(float))
        med = g.groupby("sensor_id", observed=True)["y"].transform("median")
        g = g[(g["y"] - med).abs() <= 35.0]
        agg = g.assign(tt=g["t"] ** 2, ty=g["t"] * g["y"]).groupby("sensor_id", observed=True).agg(
            n=("y", "size"), st=("t", "sum"), sy=("y", "sum"), stt=("tt", "sum"), sty=("ty", "sum"),
            last_t=("t", "max"))
        agg = agg.reindex(ids)
    else:
        agg = pd.DataFrame(index=ids, columns=["n", "st", "sy", "stt", "sty", "last_t"], dtype=float)
    n = agg["n"].fillna(0).to_numpy(float)
    st, sy, stt, sty = (agg[c].fillna(0).to_numpy(float) for c in ("st", "sy", "stt", "sty"))
    denom = n * stt - st ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(denom > 1e-9, (n * sty - st * sy) / denom, np.nan)
    prior = prior_rate.to_numpy(float)
    k = 12.0                                   # prior weight, in readings
    rate = np.where(np.isfinite(slope), (np.clip(slope, 0, 200) * n + prior * k) / (n + k), prior)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_t, mean_y = st / np.maximum(n, 1), sy / np.maximum(n, 1)
    level = np.where(n > 0, mean_y + rate * (0 - mean_t), np.nan)   # extrapolated to ``now``
    # Emptied (a field report or a planned emptying) and no reading since: the level grew from ~0.
    emptied = pd.to_datetime(last_emptied.reindex(ids), utc=True)
    since_empty = ((pd.Timestamp(now) - emptied).dt.total_seconds() / 86400).to_numpy()
    known_empty = (n == 0) & np.isfinite(since_empty)
    level = np.where(known_empty, np.clip(prior * np.maximum(since_empty, 0), 0, 100), level)
    n = np.where(known_empty, 1, n)
    stale = ~np.isfinite(level)
    level = np.where(stale, 50.0, np.clip(level, 0, 100))
    sd_level = np.where(stale, 30.0, np.where(n >= 3, 4.0, 10.0))
    sd_rate = np.where(n >= 12, 0.25, 0.5) * np.maximum(rate, 1.0)
    return pd.DataFrame({"container_id": ids, "vulgraad": level, "vulsnelheid": rate, "sd_vulgraad": sd_level,
                         "sd_vulsnelheid": sd_rate, "tijd": pd.Timestamp(now), "metingen": n.astype(int)})


def _utc(day: date, seconds: int) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(seconds=int(seconds))
    return local.astimezone(timezone.utc)


SPAARZAAM = PlanSettings(required_p=0.9, overflow_cost_eur=10.0)


def simulate(register: pd.DataFrame, *, weeks: int = 8, start: date = date(2026, 1, 5), fleet: Fleet = Fleet(),
             settings: PlanSettings = PlanSettings(), seconds_per_day: float = 5.0, seed: int = 1,
             progress=None, variants: dict[str, PlanSettings] | None = None) -> dict[str, PolicyResult]:
    """Run the fixed schedule and the sensor policy (``settings``; plus any ``variants``, e.g.
    ``{"sensor_zuinig": SPAARZAAM}``) over ``weeks`` weeks from ``start`` (a Monday). ``register``:
    the containers to simulate (one fraction). ``progress``: callable(done, total)."""
    from stadslab.demo.container_sim import FRACTIONS, SensorSimulator, fixed_schedule

    register = register[register["afvalfractie"] == settings.fraction].reset_index(drop=True)
    days = [start + timedelta(days=i) for i in range(7 * weeks)]
    t0 = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    prior = pd.Series(FRACTIONS[settings.fraction].fill_per_day, index=register["container_id"].to_numpy())
    policies = {"vast": settings, "sensor": settings, **(variants or {})}
    total, done = len(policies) * len(days), 0
    out: dict[str, PolicyResult] = {}
    for policy, pol_settings in policies.items():
        sim = SensorSimulator(register, seed=seed, start=t0 - timedelta(days=3))
        res = PolicyResult(policy)
        parts: list[pd.DataFrame] = [sim.step(t0 - timedelta(hours=1))]
        last_emptied = pd.Series(pd.NaT, index=prior.index, dtype="datetime64[ns, UTC]")
        schedule = fixed_schedule(register, t0, t0 + timedelta(days=len(days))) if policy == "vast" else []
        by_day: dict[date, list[tuple[str, datetime]]] = {}
        for cid, when in schedule:
            by_day.setdefault(when.date(), []).append((cid, when))
        for day in days:
            plan_time = _utc(day, 6 * 3600)
            parts.append(sim.step(plan_time))
            tic = _time.perf_counter()
            events: list[tuple[str, datetime]] = []
            km = hours = 0.0
            unplanned = 0
            if policy == "vast":
                todays = by_day.get(day, [])
                if todays:
                    ids = [c for c, _ in todays]
                    lv = dict(zip(sim.ids, sim.level))
                    problem = route_problem_for_fixed(register, ids, day, fleet, levels=lv)
                    p = solve(problem, SolveOptions(seconds=seconds_per_day))
                    km, hours = p.distance_m / 1000, p.duration_s / 3600
                    unplanned = len(p.unserved_required)
                    missed = {u.stop for u in p.unserved_required}   # not routed = not emptied (honest)
                    events = [(c, t) for c, t in todays if c not in missed]
            elif day.weekday() in pol_settings.collection_days:
                recent = pd.concat([x for x in parts[-6:] if len(x)] or [parts[-1]], ignore_index=True)
                state = estimate_state(recent, plan_time, last_emptied, prior)
                dp = plan_day(register, state, day, fleet=fleet, settings=pol_settings, seconds=seconds_per_day)
                km, hours = dp.plan.distance_m / 1000, dp.plan.duration_s / 3600
                unplanned = len(dp.plan.unserved_required)
                events = [(e.ref, _utc(day, e.start_s)) for r in dp.plan.routes for e in r.events if e.kind == "stop"]
                for cid, when in events:
                    last_emptied[cid] = pd.Timestamp(when)
            parts.append(sim.step(_utc(day, 23 * 3600 + 59 * 60), emptied=events))
            parts = parts[-6:]
            res.km += km
            res.truck_hours += hours
            res.unplanned_required += unplanned
            res.daily.append({"beleid": policy, "datum": day.isoformat(), "km": round(km, 2),
                              "truckuren": round(hours, 2), "ledigingen": len(events),
                              "rekentijd_s": round(_time.perf_counter() - tic, 2)})
            done += 1
            if progress is not None:
                progress(done, total)
        sim.step(t0 + timedelta(days=len(days)) - timedelta(hours=1))
        emp = sim.emptyings
        emp = emp[pd.to_datetime(emp["tijd"], utc=True) >= pd.Timestamp(t0)]
        od = sim.overflow_days()
        od = od[pd.to_datetime(od["datum"]) >= pd.Timestamp(start)]
        res.emptyings = len(emp)
        res.overflow_days = len(od)
        res.mean_fill_at_emptying = float(emp["vulgraad_voor"].mean()) if len(emp) else 0.0
        res.days = len(days)
        # overflow per day for the page
        per_day = od.groupby(od["datum"].astype(str)).size().to_dict()
        for row in res.daily:
            row["overloopdagen"] = int(per_day.get(row["datum"], 0))
        out[policy] = res
    return out


def results_table(results: dict[str, PolicyResult]) -> pd.DataFrame:
    """Summary rows (one per policy) for Warehouse.save_result; marked gesimuleerd."""
    rows = []
    for r in results.values():
        d = asdict(r)
        d.pop("daily")
        d["km"], d["truck_hours"] = round(d["km"], 1), round(d["truck_hours"], 1)
        d["mean_fill_at_emptying"] = round(d["mean_fill_at_emptying"], 1)
        d["gesimuleerd"] = True
        rows.append(d)
    return pd.DataFrame(rows)


def daily_table(results: dict[str, PolicyResult]) -> pd.DataFrame:
    return pd.DataFrame([row for r in results.values() for row in r.daily]).assign(gesimuleerd=True)


def district(register: pd.DataFrame, fraction: str = "Rest", target: int = 1000) -> pd.DataFrame:
    """A contiguous piece of the city with about ``target`` containers of ``fraction``: whole buurten
    nearest to the centre of the city's containers, so routes stay local and the run stays fast."""
    reg = register[register["afvalfractie"] == fraction]
    centre = reg[["lon", "lat"]].median()
    b = reg.groupby("buurt")[["lon", "lat"]].mean()
    d2 = ((b["lon"] - centre["lon"]) * 0.61) ** 2 + (b["lat"] - centre["lat"]) ** 2
    counts = reg["buurt"].value_counts()
    chosen, n = [], 0
    for name in d2.sort_values().index:
        if n >= target:
            break
        chosen.append(name)
        n += int(counts[name])
    return reg[reg["buurt"].isin(chosen)].reset_index(drop=True)
