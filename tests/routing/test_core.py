"""The routing core against an independent checker, on generated problems."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from stadslab.analyses.routing import RoutingProblem, SolveOptions, Stop, TravelMatrix, Vehicle, solve
from tests.routing.checker import check_plan
from tests.routing.conftest import make_problem

FAST = SolveOptions(seconds=0.6)


@pytest.mark.parametrize("kw", [
    dict(seed=1),                                           # capacity + reloads at two dumps
    dict(seed=2, windows=True),                             # time windows
    dict(seed=3, optional_share=0.5),                       # prize-collecting
    dict(seed=4, max_reloads=1, capacity=150, count=3),     # limited reloads
    dict(seed=5, release=True, windows=True, max_shift_s=4 * 3600, count=4),  # release times, short shifts
])
def test_plans_pass_independent_checker(kw):
    problem = make_problem(**kw)
    plan = solve(problem, FAST)
    assert plan.routes, "geen enkele route"
    assert check_plan(problem, plan) == []
    assert plan.feasible and not plan.problems
    # Required stops are all served on these roomy days.
    assert not plan.unserved_required
    assert any(r.reloads > 0 for r in plan.routes), "capaciteit vraagt om stortritten"


def test_checker_catches_a_broken_plan():
    problem = make_problem(1)
    plan = solve(problem, FAST)
    route = plan.routes[0]
    ev = list(route.events)
    k = next(i for i, e in enumerate(ev) if e.kind == "stop")
    ev[k] = dataclasses.replace(ev[k], load=ev[k].load + 1, arrival_s=ev[k].arrival_s - 5)
    broken = dataclasses.replace(plan, routes=(dataclasses.replace(route, events=tuple(ev)),) + plan.routes[1:])
    errors = check_plan(problem, broken)
    assert any("lading" in e for e in errors) and any("aankomst" in e for e in errors)


def test_unload_before_end_goes_via_a_dump():
    problem = make_problem(6, n=15)
    plan = solve(problem, FAST)
    for r in plan.routes:
        assert r.events[-1].via in ("stort1", "stort2")
        assert r.trips[-1].ends_at == r.events[-1].via


def test_optional_stops_with_high_prizes_are_taken():
    base = make_problem(7, n=20, optional_share=1.0)
    rich = dataclasses.replace(base, stops=tuple(dataclasses.replace(s, prize=10**7) for s in base.stops))
    poor = dataclasses.replace(base, stops=tuple(dataclasses.replace(s, prize=1) for s in base.stops))
    assert len(solve(rich, FAST).served) == 20
    plan = solve(poor, FAST)
    assert plan.served == [] and all(u.code == "optioneel" for u in plan.unserved)


def test_supplied_matrix_is_used():
    problem = make_problem(8, n=10, dumps=1)
    n = len(problem.sites) + len(problem.stops)
    dist = np.full((n, n), 1000, dtype=np.int64)
    np.fill_diagonal(dist, 0)
    travel = TravelMatrix(dist, dist // 10, source="test")
    p = dataclasses.replace(problem, travel=travel)
    plan = solve(p, FAST)
    assert check_plan(p, plan) == []
    assert plan.travel_source == "test"
    assert all(e.leg_m in (0, 1000, 2000) for r in plan.routes for e in r.events)


def test_reload_at_the_start_depot_and_two_vehicle_types():
    """The weesfietsen case: vans start, unload and end at one fietsdepot; two crews of different size."""
    base = make_problem(9, n=30, dumps=0)
    vans = (Vehicle("Bus", capacity=60, count=2, start_site="garage", end_site="garage", shift_start_s=8 * 3600,
                    shift_end_s=16 * 3600, max_shift_s=7 * 3600, reload_sites=("garage",)),
            Vehicle("Bakfiets", capacity=25, count=1, start_site="garage", end_site="garage",
                    shift_start_s=9 * 3600, shift_end_s=13 * 3600, reload_sites=("garage",), max_reloads=2))
    p = dataclasses.replace(base, vehicles=vans)
    plan = solve(p, FAST)
    assert check_plan(p, plan) == []
    assert any(e.kind == "reload" and e.ref == "garage" for r in plan.routes for e in r.events)
    assert not plan.unserved_required
