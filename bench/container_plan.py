"""Container plan benchmarks (GESIMULEERDE sensoren op de echte Den Haag-containers).

1. Daily plan: ~2,500 Rest containers (whole buurten) simulated for a day, levels and rates estimated
   from the readings, the 1,000 most urgent as candidates, 8 trucks, 2 dumps; time from the state to
   the routed plan (goal ≤ 60 s, solver limit ``--seconds``).
2. ``--evaluate``: the sensor-driven plan against the fixed weekly schedule over ``--weeks`` weeks
   on a district of about ``--containers`` Rest containers (both routed by the same core); prints
   km, truck-hours, emptyings and overflow-days of both. With ``-w WORKSPACE`` the result is stored
   (``results.containerplan_evaluatie``) for the page /containers/plan.

Usage: .venv/bin/python bench/container_plan.py [--seconds 45] [--evaluate --weeks 8 --eval-trucks 8] [-w WS]
Last line: ``container_plan plan_s=X candidates=N planned=M required=R unplanned_required=U``
           (+ ``km_vast=… km_sensor=… overflow_vast=… overflow_sensor=…`` with --evaluate).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from stadslab.analyses.containers.evaluate import SPAARZAAM, district, estimate_state, results_table, simulate  # noqa: E402
from stadslab.analyses.containers.plan import Fleet, PlanSettings, plan_day  # noqa: E402
from stadslab.demo.container_sim import FRACTIONS, SensorSimulator, load_containers  # noqa: E402


def daily_plan(seconds: float, trucks: int) -> dict:
    # A third of the city's Rest containers (what 8 trucks serve), one day after a random start (0–60 %).
    reg = district(load_containers(), target=2500)
    day = date(2026, 1, 7)
    t_plan = datetime(2026, 1, 7, 5, tzinfo=timezone.utc)
    sim = SensorSimulator(reg, seed=2, start=t_plan - timedelta(days=1))
    readings = sim.step(t_plan)
    prior = pd.Series(FRACTIONS["Rest"].fill_per_day, index=reg["container_id"].to_numpy())
    last = pd.Series(pd.NaT, index=prior.index, dtype="datetime64[ns, UTC]")
    t0 = time.perf_counter()
    state = estimate_state(readings, t_plan, last, prior)
    dp = plan_day(reg, state, day, fleet=Fleet(trucks=trucks), settings=PlanSettings(max_candidates=1000),
                  seconds=seconds)
    elapsed = time.perf_counter() - t0
    s = dp.summary()
    print(f"dagplan: {len(reg)} restcontainers in {reg['buurt'].nunique()} buurten gesimuleerd, {s['kandidaten']} kandidaten ({s['verplicht']} verplicht), "
          f"{s['geleegd_gepland']} gepland door {s['trucks_ingezet']}/{trucks} wagens met {s['stortritten']} stortritten, "
          f"{s['km']} km, {s['truckuren']} truckuren, {len(s['niet_ingepland_verplicht'])} verplicht niet ingepland, "
          f"{'toegelaten' if s['toegelaten'] else 'NIET TOEGELATEN: ' + '; '.join(s['problemen'][:3])}; "
          f"{elapsed:.1f} s (oplosser {seconds:g} s)")
    return {"plan_s": elapsed, "feasible": int(s["toegelaten"]), "candidates": s["kandidaten"], "planned": s["geleegd_gepland"],
            "required": s["verplicht"], "unplanned_required": len(s["niet_ingepland_verplicht"])}


def evaluation(weeks: int, containers: int, trucks: int, seconds: float, ws: str | None) -> dict:
    reg = district(load_containers(), target=containers)
    t0 = time.perf_counter()
    res = simulate(reg, weeks=weeks, fleet=Fleet(trucks=trucks), seconds_per_day=seconds, seed=1,
                   variants={"sensor_zuinig": SPAARZAAM})
    elapsed = time.perf_counter() - t0
    table = results_table(res)
    print(f"evaluatie: {weeks} weken, {len(reg)} restcontainers in {reg['buurt'].nunique()} buurten, {trucks} wagens, "
          f"{elapsed:.0f} s (gesimuleerd)")
    print(table.drop(columns=["gesimuleerd"]).to_string(index=False))
    if ws:
        from stadslab.analyses.containers.plan_store import save_evaluation
        from stadslab.workspace import Workspace

        with Workspace.resolve(ws).warehouse() as wh:
            n = save_evaluation(wh, res, {"weeks": weeks, "containers": len(reg), "trucks": trucks,
                                          "seconds_per_day": seconds, "seed": 1, "gesimuleerd": True,
                                          "buurten": sorted(reg["buurt"].unique().tolist())})
        print(f"opgeslagen: results.containerplan_evaluatie__{n}")
    out = {}
    for key, r in res.items():
        out.update({f"km_{key}": round(r.km), f"overflow_{key}": r.overflow_days, f"emptyings_{key}": r.emptyings,
                    f"hours_{key}": round(r.truck_hours)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=45.0, help="oplostijd voor het dagplan")
    ap.add_argument("--trucks", type=int, default=8)
    ap.add_argument("--evaluate", action="store_true")
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--containers", type=int, default=1000)
    ap.add_argument("--eval-trucks", type=int, default=8)
    ap.add_argument("--seconds-per-day", type=float, default=5.0)
    ap.add_argument("-w", "--workspace")
    args = ap.parse_args()
    figures = daily_plan(args.seconds, args.trucks)
    if args.evaluate:
        figures.update(evaluation(args.weeks, args.containers, args.eval_trucks, args.seconds_per_day, args.workspace))
    figures["plan_s"] = f"{figures['plan_s']:.1f}"
    print("container_plan " + " ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
