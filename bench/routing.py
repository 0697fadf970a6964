"""Solve a VRPLIB instance through Stadslab's routing core and write the VRPLIB solution.

Reads CVRPLIB and PyVRP's multi-trip extension with PyVRP's reader, translates the instance into a
``RoutingProblem`` (stadslab.analyses.routing.vrplib), solves it with ``routing.solve`` (required stops
stay hard, as the benchmark demands) and writes ``Route #k: …`` lines (a reload at the depot as 0) and
``Cost: …``. When a ``.sol`` with the best-known cost lies next to the instance, prints the gap.

Usage: .venv/bin/python bench/routing.py bench/data/routing/X-n101-k25.vrp --seconds 60 --out /tmp/x.sol
       .venv/bin/python bench/routing.py --all --seconds 60        (both bundled instances)
Last line: ``routing cost=X seconds=S`` (with ``gap_pct=G`` when a best-known cost is known).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab.analyses.routing import SolveOptions, solve  # noqa: E402
from stadslab.analyses.routing.vrplib import best_known_cost, problem_from_vrplib, write_solution  # noqa: E402

DATA = REPO / "bench" / "data" / "routing"


def run(instance: Path, seconds: float, out: Path | None, seed: int) -> tuple[int, float, float | None]:
    t0 = time.perf_counter()
    problem = problem_from_vrplib(instance)
    plan = solve(problem, SolveOptions(seconds=seconds, seed=seed, soft_required=False))
    elapsed = time.perf_counter() - t0
    if out is not None:
        write_solution(plan, problem, out)
    bks_file = instance.with_suffix(".sol")
    bks = best_known_cost(bks_file) if bks_file.exists() else None
    gap = None if bks is None else 100.0 * (plan.cost - bks) / bks
    status = "toegelaten" if plan.feasible and not plan.unserved_required else "NIET toegelaten"
    print(f"{instance.name}: kosten {plan.cost} ({status}), {len(plan.routes)} routes, "
          f"{sum(r.reloads for r in plan.routes)} keer herladen, {plan.iterations} iteraties, {elapsed:.1f} s"
          + ("" if gap is None else f", best bekend {bks:g}, verschil {gap:.2f} %"))
    return plan.cost, elapsed, gap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", nargs="?", type=Path)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all", action="store_true", help="beide meegeleverde instanties")
    args = ap.parse_args()
    instances = sorted(DATA.glob("*.vrp")) if args.all or args.instance is None else [args.instance]
    last = None
    for inst in instances:
        out = args.out if len(instances) == 1 else (args.out / f"{inst.stem}.sol" if args.out else None)
        last = (inst, *run(inst, args.seconds, out, args.seed))
    inst, cost, elapsed, gap = last
    print(f"routing cost={cost} seconds={elapsed:.1f}" + ("" if gap is None else f" gap_pct={gap:.2f}"))


if __name__ == "__main__":
    main()
