"""Weesfietsen pilot: planning time of a week and the simulated gain over wijk rotation (GESIMULEERD).

1. plan_s: a week's plan for 5 crews on the demo world at the end of its simulated year — 2,000 candidate
   locations and every due re-check (the year's backlog: several hundred) — with the default 4 s per day.
2. gain / ontime: ``evaluate.demo_evaluation`` over ``--weeks`` (default 12) weeks: removals per crew-hour of the
   planned approach divided by that of "label a whole wijk in rotation", and the share of re-checks done inside
   their 28–35 day window. Both policies face the same simulated arrivals and are routed by the same core.

Last line: ``weesfietsen plan_s=X gain=Y ontime=Z``. Usage: .venv/bin/python bench/weesfietsen.py [--weeks 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab.analyses.weesfietsen import yield_model as ym  # noqa: E402
from stadslab.analyses.weesfietsen.data import depot_site  # noqa: E402
from stadslab.analyses.weesfietsen.evaluate import demo_evaluation  # noqa: E402
from stadslab.analyses.weesfietsen.plan import TeamSettings, plan_week  # noqa: E402
from stadslab.demo import weesfietsen_sim as sim  # noqa: E402

DATA = REPO / "data" / "demo"


def week_plan_seconds(seconds_per_day: float) -> tuple[float, dict]:
    world = sim.demo_world(DATA)
    rec = sim.run_old_policy(world, sim.HISTORY_START, sim.HISTORY_WEEKS, sim.HISTORY_PER_WEEK)
    locs = world.locs
    a = pd.DataFrame(rec["acties"], columns=["loc", "datum_gelabeld", "aantal_gelabeld", "datum_gecontroleerd",
                                             "aantal_verwijderd", "ploeg"])
    a["locatie"] = locs.cell[a["loc"].astype(int)]
    m = pd.DataFrame(rec["meldingen"], columns=["id", "tijd", "mor", "cat", "x", "y", "loc"])
    m["locatie"] = locs.cell[m["loc"].astype(int)]
    o = pd.DataFrame(rec["waarnemingen"], columns=["id", "tijd", "aantal_weesfietsen", "x", "y", "loc"])
    o["locatie"] = locs.cell[o["loc"].astype(int)]
    monday = sim.HISTORY_START + pd.Timedelta(weeks=sim.HISTORY_WEEKS).to_pytimedelta()
    t0 = time.perf_counter()
    when = pd.Timestamp(monday)
    preds = ym.predict_at(ym.fit(a, m, o, before=when), pd.Series(locs.cell), when, a, m, o)
    preds["x"], preds["y"], preds["reden"] = locs.x, locs.y, ""
    pending = pd.DataFrame([{"locatie": locs.cell[l.loc], "x": locs.x[l.loc], "y": locs.y[l.loc],
                             "datum_gelabeld": l.day, "aantal_gelabeld": l.labelled} for l in world.pending])
    plan = plan_week(monday, preds, pending, depot_site(), TeamSettings(seconds_per_day=seconds_per_day))
    elapsed = time.perf_counter() - t0
    df = plan.frame()
    return elapsed, {"candidates": len(preds), "due_rechecks": int((df["kind"] == "hercontrole").sum()) + len(plan.not_scheduled),
                     "labels": int((df["kind"] == "labelen").sum()), "not_scheduled": len(plan.not_scheduled)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--seconds-per-day", type=float, default=4.0)
    ap.add_argument("--eval-seconds-per-day", type=float, default=1.5)
    args = ap.parse_args()
    plan_s, info = week_plan_seconds(args.seconds_per_day)
    print(f"week plan: {plan_s:.1f} s for 5 crews, {info['candidates']} candidates, {info['due_rechecks']} due re-checks "
          f"({info['labels']} labels planned, {info['not_scheduled']} re-checks not scheduled)")
    t0 = time.perf_counter()
    res = demo_evaluation(DATA, weeks=args.weeks, settings=TeamSettings(seconds_per_day=args.eval_seconds_per_day))
    print(f"simulation: {args.weeks} weeks, both policies, {time.perf_counter() - t0:.0f} s (GESIMULEERD)")
    for b in res["beleid"]:
        print(f"  {b['beleid']:12s} removed {b['verwijderd']:5d}  crew-hours {b['ploeguren']:7.1f}  km {b['km']:7.1f}  "
              f"per crew-hour {b['verwijderd_per_ploeguur']:.3f}  on time {b['hercontroles_op_tijd']:.3f}  "
              f"returned to owners {b['terug_bij_eigenaar']:.0f}")
    print(f"weesfietsen plan_s={plan_s:.1f} gain={res['winst']:.2f} ontime={res['op_tijd']:.3f}")


if __name__ == "__main__":
    main()
