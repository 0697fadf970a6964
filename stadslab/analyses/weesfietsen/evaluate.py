"""Honest evaluation by simulation (GESIMULEERD): the planned approach against "label a whole wijk in rotation".

Both policies start from the same simulated world at the end of the demo's history (a year of wijk rotation,
``stadslab.demo.weesfietsen_sim``) and face the same arrivals, meldingen and inspector rounds (common random
numbers), for ``weeks`` weeks:

- **wijkrotatie** (what was done before): every week the next ``per_week`` locations of the wijk rotation are
  labelled, and every label is re-checked on the first working day of its window; each day routed with the
  same routing core (all stops required), so kilometres and hours are measured the same way;
- **gepland**: every Monday the yield model is refitted on what the city knows (its own records, the new
  meldingen and inspector counts) and ``plan.plan_week`` plans the week.

Measured per policy: bicycles removed (the simulation's truth at each re-check), crew-hours (route durations),
kilometres, removals per crew-hour, and re-checks on time (done within their 28–35 day window, of all labels
whose window closed in the period). Bicycles returned to owners = removed × 203 / 11,040 (Utrecht 2023).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable

import pandas as pd

from stadslab.analyses.routing import RoutingProblem, Site, SolveOptions, Stop, Vehicle, solve
from stadslab.analyses.weesfietsen import yield_model as ym
from stadslab.analyses.weesfietsen.plan import TeamSettings, plan_week, window
from stadslab.demo.weesfietsen_sim import (HISTORY_PER_WEEK, HISTORY_START, HISTORY_WEEKS, RETURN_SHARE, World,
                                           record_signals, run_old_policy, wijk_rotation)


@dataclass
class PolicyResult:
    name: str
    removed: int = 0
    crew_hours: float = 0.0
    km: float = 0.0
    checks_due: int = 0
    checks_on_time: int = 0
    labels: int = 0

    @property
    def per_hour(self) -> float:
        return self.removed / self.crew_hours if self.crew_hours else 0.0

    @property
    def on_time(self) -> float:
        return self.checks_on_time / self.checks_due if self.checks_due else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"beleid": self.name, "verwijderd": self.removed, "ploeguren": round(self.crew_hours, 1),
                "km": round(self.km, 1), "verwijderd_per_ploeguur": round(self.per_hour, 3),
                "hercontroles_op_tijd": round(self.on_time, 4), "hercontroles_totaal": self.checks_due,
                "gelabeld": self.labels, "terug_bij_eigenaar": round(self.removed * RETURN_SHARE, 1)}


def _frames(world: World, rec: dict[str, list]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cells = world.locs.cell
    a = pd.DataFrame(rec["acties"], columns=["loc", "datum_gelabeld", "aantal_gelabeld", "datum_gecontroleerd",
                                             "aantal_verwijderd", "ploeg"])
    a["locatie"] = cells[a["loc"].to_numpy(dtype=int)] if len(a) else []
    m = pd.DataFrame(rec["meldingen"], columns=["melding_id", "tijd", "mor_id", "categorie", "x", "y", "loc"])
    m["locatie"] = cells[m["loc"].to_numpy(dtype=int)] if len(m) else []
    w = pd.DataFrame(rec["waarnemingen"], columns=["waarneming_id", "tijd", "aantal_weesfietsen", "x", "y", "loc"])
    w["locatie"] = cells[w["loc"].to_numpy(dtype=int)] if len(w) else []
    return a, m, w


def _route_hours(stops: list[Stop], depot: Site, s: TeamSettings, seed: int) -> tuple[float, float]:
    if not stops:
        return 0.0, 0.0
    problem = RoutingProblem(sites=(depot,), stops=tuple(stops), speed_kmh=15.0,
                             vehicles=(Vehicle("ploeg", capacity=s.van_capacity, count=s.crews, start_site=depot.id,
                                               end_site=depot.id, shift_start_s=s.shift_start_s,
                                               shift_end_s=s.shift_end_s + 4 * 3600, reload_sites=(depot.id,),
                                               cost_per_s=s.cost_per_s),))
    plan = solve(problem, SolveOptions(seconds=s.seconds_per_day, seed=seed))
    return sum(r.duration_s for r in plan.routes) / 3600, plan.distance_m / 1000


def simulate(world0: World, rec0: dict[str, list], start: date, weeks: int, depot: Site,
             settings: TeamSettings = TeamSettings(), per_week: int = HISTORY_PER_WEEK,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run both policies for ``weeks`` from the same world state; returns figures and the gain."""
    s = settings
    results = {}
    for policy in ("wijkrotatie", "gepland"):
        world = copy.deepcopy(world0)
        rec = copy.deepcopy(rec0)
        res = PolicyResult(policy)
        locs = world.locs
        index = {c: i for i, c in enumerate(locs.cell)}
        for k in range(weeks):
            week = HISTORY_WEEKS + k
            monday = start + timedelta(weeks=k)
            if progress:
                progress(f"{policy}: week {k + 1}/{weeks}")
            seen = world.advance_week(week)
            record_signals(world, week, monday, seen, rec["meldingen"], rec["waarnemingen"])
            if policy == "wijkrotatie":
                todo = wijk_rotation(locs, week, per_week)
                for d in range(s.days):
                    day = monday + timedelta(days=d)
                    due = [lab for lab in world.pending if window(lab.day)[0] <= day]
                    stops = [Stop(f"check:{lab.loc}:{lab.day}", locs.x[lab.loc], locs.y[lab.loc],
                                  demand=min(s.van_capacity, max(1, lab.orphans)),
                                  service_s=s.check_base_s + s.check_per_bike_s * lab.orphans) for lab in due]
                    for lab in due:
                        _recheck(world, lab, day, res, rec)
                    mine = todo[d::s.days]
                    for loc in mine:
                        lab = world.label(loc, day, week)
                        res.labels += 1
                        stops.append(Stop(f"label:{loc}", locs.x[loc], locs.y[loc],
                                          service_s=s.label_base_s + s.label_per_bike_s * lab.labelled))
                    h, km = _route_hours(stops, depot, s, seed=k * 7 + d)
                    res.crew_hours += h
                    res.km += km
            else:
                a, m, w = _frames(world, rec)
                when = pd.Timestamp(monday)
                model = ym.fit(a, m, w, before=when)
                preds = ym.predict_at(model, pd.Series(locs.cell), when, a, m, w)
                preds["x"], preds["y"] = locs.x, locs.y
                preds["reden"] = ""
                pend = pd.DataFrame([{"locatie": locs.cell[lab.loc], "x": locs.x[lab.loc], "y": locs.y[lab.loc],
                                      "datum_gelabeld": lab.day, "aantal_gelabeld": lab.labelled}
                                     for lab in world.pending],
                                    columns=["locatie", "x", "y", "datum_gelabeld", "aantal_gelabeld"])
                plan = plan_week(monday, preds, pend, depot, s)
                res.crew_hours += sum(r["uren"] for r in plan.routes)
                res.km += sum(r["km"] for r in plan.routes)
                for st in sorted(plan.stops, key=lambda x: (x.day, x.crew, x.order)):
                    loc = index[st.locatie]
                    if st.kind == "hercontrole":
                        lab = next((p for p in world.pending if p.loc == loc and p.day == st.label_date), None)
                        if lab is not None:
                            _recheck(world, lab, st.day, res, rec)
                    else:
                        world.label(loc, st.day, week)
                        res.labels += 1
            # labels whose window closed this week without a re-check are late (and dropped by the crew)
            friday = monday + timedelta(days=4)
            for lab in [p for p in world.pending if window(p.day)[1] <= friday]:
                res.checks_due += 1
                world.pending.remove(lab)
                world.stock[lab.loc] += lab.orphans      # the orphans stay in the street
        results[policy] = res
    base, planned = results["wijkrotatie"], results["gepland"]
    return {"weken": weeks, "start": start.isoformat(), "beleid": [base.as_dict(), planned.as_dict()],
            "winst": round(planned.per_hour / base.per_hour, 3) if base.per_hour else None,
            "op_tijd": round(planned.on_time, 4), "gesimuleerd": True}


def _recheck(world: World, lab, day: date, res: PolicyResult, rec: dict[str, list]) -> None:
    removed = world.recheck(lab)
    res.removed += removed
    res.checks_due += 1
    first, last = window(lab.day)
    res.checks_on_time += int(first <= day <= last)
    rec["acties"].append((lab.loc, lab.day, lab.labelled, day, removed, "ploeg"))


def demo_evaluation(repo_data, weeks: int = 12, settings: TeamSettings = TeamSettings(), seed: int = 2023,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The demo's world after its year of history, then ``weeks`` of both policies."""
    from stadslab.demo.weesfietsen_sim import DEPOT, _rd, demo_world

    world = demo_world(repo_data, seed)
    rec = run_old_policy(world, HISTORY_START, HISTORY_WEEKS, HISTORY_PER_WEEK)
    rec["acties"] = [r for r in rec["acties"] if r[3] is not None]     # pending labels live in world.pending
    x, y = _rd(DEPOT[1:])
    depot = Site("fietsdepot", DEPOT[0], x, y)
    start = HISTORY_START + timedelta(weeks=HISTORY_WEEKS)
    out = simulate(world, rec, start, weeks, depot, settings, progress=progress)
    out["berekend"] = datetime.now().isoformat(timespec="seconds")
    return out
