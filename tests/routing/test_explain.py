"""Infeasibility is explained in words: which stops cannot be served and why."""

from __future__ import annotations

import dataclasses

from stadslab.analyses.routing import SolveOptions, solve
from tests.routing.checker import check_plan
from tests.routing.conftest import make_problem

FAST = SolveOptions(seconds=0.5)


def _with(problem, index: int, **changes):
    stops = list(problem.stops)
    stops[index] = dataclasses.replace(stops[index], **changes)
    return dataclasses.replace(problem, stops=tuple(stops))


def test_demand_above_capacity():
    p = _with(make_problem(11, n=12), 3, demand=500)
    plan = solve(p, FAST)
    (u,) = [u for u in plan.unserved if u.stop == "s3"]
    assert u.code == "capaciteit" and u.required
    assert "500" in u.reason and "laadruimte" in u.reason
    assert check_plan(p, plan) == []


def test_time_window_unreachable_within_shift():
    # Window closes at 07:01, the shift starts at 07:00 and the stop is ~15 km away.
    p = _with(make_problem(12, n=12), 0, x=95_000.0, tw_early=0, tw_late=7 * 3600 + 60)
    plan = solve(p, FAST)
    (u,) = [u for u in plan.unserved if u.stop == "s0"]
    assert u.code == "tijdvenster"
    assert "07:01" in u.reason and "vroegst" in u.reason


def test_stop_too_far_for_the_shift():
    p = _with(make_problem(13, n=12, max_shift_s=2 * 3600), 5, x=80_000.0 + 60_000)
    plan = solve(p, FAST)
    (u,) = [u for u in plan.unserved if u.stop == "s5"]
    assert u.code in ("dienstduur", "dienst_einde")
    assert "dienst" in u.reason


def test_fleet_too_small_names_the_stops_left_out():
    # One truck, a 2-hour shift, 60 required stops: cannot all be done; the plan stays valid.
    p = make_problem(14, n=60, count=1, max_shift_s=2 * 3600)
    plan = solve(p, FAST)
    assert check_plan(p, plan) == []
    left = plan.unserved_required
    assert left and all(u.code == "vloot_vol" for u in left)
    assert "verplicht maar niet ingepland" in left[0].reason
    assert len(plan.served) + len(plan.unserved) == 60
