"""The weekly label-and-remove plan for the handhaving team, on the shared routing core.

Each working day is one prize-collecting VRP with reloads (``stadslab.analyses.routing``):

- **Re-checks** of labels placed 28 days or more ago are *required* stops on the first working day of their
  window (day 28 up to and including day 35; a window that closes in the weekend closes on the Friday before).
  Their demand is the expected number of bicycles to take away (labels × the share removed at past re-checks);
  the van unloads at the fietsdepot when it is full (multi-trip).
- **Labelling** stops are *optional* with a prize: the expected yield (``yield_model``) × the value of one
  removed orphan bicycle, minus the cost of the re-check visit the label will need four weeks later. Only
  locations without a pending label are candidates; the best ``candidates_per_day`` by prize per minute are
  offered to the solver, which decides which are worth the detour.
- Labels placed today create re-check visits 28–35 days later: the plan knows the calendar and lists them.

Every stop carries its reason in Dutch (why it is in the plan). Costs are in routing cost units (1 per metre
driven, ``cost_per_s`` per second of crew time), so the value of a bicycle is "metres worth driving for it".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.routing import RoutingProblem, Site, SolveOptions, Stop, Vehicle, hhmm, solve

LABEL_DAYS = 28
WINDOW_DAYS = 7


@dataclass(frozen=True)
class TeamSettings:
    """The handhaving team's week (assumptions; set them to the municipality's own)."""

    crews: int = 5
    days: int = 5                    # Monday–Friday
    shift_start_s: int = 7 * 3600 + 30 * 60
    shift_end_s: int = 16 * 3600
    van_capacity: int = 20           # bicycles in one van
    label_base_s: int = 240          # walk the street, label every bicycle
    label_per_bike_s: int = 30
    check_base_s: int = 180
    check_per_bike_s: int = 150      # cut the lock, lift into the van
    value_per_bike: int = 6000       # cost units: worth 6 km of driving
    cost_per_s: int = 4              # crew time: 4 units per second (a crew-hour is worth 14.4 km of driving)
    candidates_per_day: int = 300
    seconds_per_day: float = 4.0
    removed_share: float = 0.3       # labels that turn out to be orphans (updated from history)


@dataclass
class PlannedStop:
    day: date
    crew: str
    order: int
    kind: str                        # hercontrole | labelen
    locatie: str
    x: float
    y: float
    aankomst: str
    verwacht: float
    reden: str
    label_date: date | None = None   # for re-checks: when the label was placed
    trip: int = 0


@dataclass
class WeekPlan:
    monday: date
    stops: list[PlannedStop] = field(default_factory=list)
    not_scheduled: list[dict[str, Any]] = field(default_factory=list)   # re-checks that could not fit, and why
    routes: list[dict[str, Any]] = field(default_factory=list)          # per day and crew: km, hours, trips
    calendar: list[dict[str, Any]] = field(default_factory=list)        # re-checks created by this week's labels
    runtime_s: float = 0.0

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(s) for s in self.stops])


def window(label_day: date) -> tuple[date, date]:
    """First and last day a label may be re-checked; a last day in the weekend moves back to Friday."""
    first, last = label_day + timedelta(days=LABEL_DAYS), label_day + timedelta(days=LABEL_DAYS + WINDOW_DAYS)
    while last.weekday() >= 5:
        last -= timedelta(days=1)
    while first.weekday() >= 5:
        first += timedelta(days=1)
    return first, last


def _stop_for_check(row: pd.Series, s: TeamSettings) -> Stop:
    expect = max(1, int(np.ceil(row["aantal_gelabeld"] * s.removed_share)))
    return Stop(id=f"check:{row['locatie']}:{row['datum_gelabeld']}", x=float(row["x"]), y=float(row["y"]),
                demand=min(expect, s.van_capacity), service_s=s.check_base_s + s.check_per_bike_s * expect,
                required=True, name=row["locatie"])


def plan_week(monday: date, predictions: pd.DataFrame, pending: pd.DataFrame, depot: Site,
              settings: TeamSettings = TeamSettings(), *, progress=None) -> WeekPlan:
    """Plan Monday–Friday. ``predictions``: [locatie, x, y, verwacht, reden] for every candidate location;
    ``pending``: labels awaiting their re-check [locatie, x, y, datum_gelabeld, aantal_gelabeld]."""
    import time

    t0 = time.perf_counter()
    s = settings
    plan = WeekPlan(monday)
    pend = pending.copy()
    pend["datum_gelabeld"] = pd.to_datetime(pend["datum_gelabeld"]).dt.date
    blocked = set(pend["locatie"])
    preds = predictions.set_index("locatie")
    check_cost = s.cost_per_s * (s.check_base_s + 600) + 1500      # a later visit: service, ~10 min, ~1.5 km
    value = s.value_per_bike * preds["verwacht"] - check_cost
    per_minute = value / ((s.label_base_s + s.label_per_bike_s * 4) / 60)
    for d in range(s.days):
        day = monday + timedelta(days=d)
        if progress:
            progress(d, s.days)
        win = pend["datum_gelabeld"].map(window)
        due = pend[[w[0] <= day for w in win]] if len(pend) else pend
        checks = [_stop_for_check(r, s) for _, r in due.iterrows()]   # a day's due labels: tens, not a table
        free = per_minute[(value > 0) & ~per_minute.index.isin(blocked)].sort_values(ascending=False)
        offer = free.head(s.candidates_per_day).index
        labels = [Stop(id=f"label:{loc}", x=float(preds.at[loc, "x"]), y=float(preds.at[loc, "y"]), demand=0,
                       service_s=s.label_base_s + s.label_per_bike_s * 4, required=False,
                       prize=int(value.at[loc]), name=loc) for loc in offer]
        problem = RoutingProblem(sites=(depot,), stops=tuple(checks + labels),
                                 vehicles=(Vehicle("ploeg", capacity=s.van_capacity, count=s.crews,
                                                   start_site=depot.id, end_site=depot.id,
                                                   shift_start_s=s.shift_start_s, shift_end_s=s.shift_end_s,
                                                   reload_sites=(depot.id,), cost_per_s=s.cost_per_s),),
                                 name=f"weesfietsen {day}", speed_kmh=15.0)
        result = solve(problem, SolveOptions(seconds=s.seconds_per_day, seed=d))
        done_checks: set[str] = set()
        for r_i, route in enumerate(result.routes):
            crew = f"ploeg {chr(65 + r_i)}"
            order = 0
            for ev in route.events:
                if ev.kind != "stop":
                    continue
                order += 1
                kind, loc = ev.ref.split(":")[0], ev.ref.split(":")[1]
                if kind == "check":
                    lab_day = date.fromisoformat(ev.ref.split(":")[2])
                    row = due[(due["locatie"] == loc) & (due["datum_gelabeld"] == lab_day)].iloc[0]
                    first, last = window(lab_day)
                    plan.stops.append(PlannedStop(day, crew, order, "hercontrole", loc, float(row["x"]), float(row["y"]),
                                                  hhmm(ev.arrival_s), float(row["aantal_gelabeld"] * s.removed_share),
                                                  f"hercontrole: {int(row['aantal_gelabeld'])} labels van {lab_day:%d-%m}; "
                                                  f"termijn {first:%d-%m} t/m {last:%d-%m}", lab_day, ev.trip))
                    done_checks.add(ev.ref)
                else:
                    p = preds.loc[loc]
                    plan.stops.append(PlannedStop(day, crew, order, "labelen", loc, float(p["x"]), float(p["y"]),
                                                  hhmm(ev.arrival_s), float(p["verwacht"]), f"labelen: {p['reden']}",
                                                  None, ev.trip))
                    blocked.add(loc)
                    first, last = window(day)
                    plan.calendar.append({"locatie": loc, "gelabeld": day.isoformat(), "vanaf": first.isoformat(),
                                          "uiterlijk": last.isoformat(), "verwacht": float(p["verwacht"])})
            plan.routes.append({"dag": day.isoformat(), "ploeg": crew, "km": route.distance_m / 1000,
                                "uren": route.duration_s / 3600, "ritten": len(route.trips),
                                "stops": order})
        for u in result.unserved:
            if u.required:
                loc, lab = u.stop.split(":")[1], date.fromisoformat(u.stop.split(":")[2])
                if window(lab)[1] <= day:
                    plan.not_scheduled.append({"dag": day.isoformat(), "locatie": loc, "gelabeld": lab.isoformat(),
                                               "reden": u.reason})
        if len(due):
            keys = "check:" + due["locatie"] + ":" + due["datum_gelabeld"].astype(str)
            late = due[~keys.isin(done_checks) & due["datum_gelabeld"].map(lambda x: window(x)[1] <= day)]
            pend = pend.drop(index=due.index[keys.isin(done_checks)]).drop(index=late.index)
    plan.runtime_s = time.perf_counter() - t0
    return plan
