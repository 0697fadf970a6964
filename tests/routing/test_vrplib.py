"""VRPLIB: instances read through the core, solutions written and read back by PyVRP's own reader."""

from __future__ import annotations

from pathlib import Path

import pyvrp
import pytest

from stadslab.analyses.routing import SolveOptions, solve
from stadslab.analyses.routing.vrplib import best_known_cost, problem_from_vrplib, rounding_for, write_solution
from tests.routing.checker import check_plan

DATA = Path(__file__).resolve().parents[2] / "bench" / "data" / "routing"


@pytest.mark.parametrize("name, bks", [("X-n101-k25", 27591), ("R201R0.5", 14426)])
def test_solution_round_trip(tmp_path, name, bks):
    inst = DATA / f"{name}.vrp"
    problem = problem_from_vrplib(inst)
    assert len(problem.stops) == 100
    plan = solve(problem, SolveOptions(seconds=1.5, soft_required=False))
    assert check_plan(problem, plan) == []
    out = write_solution(plan, problem, tmp_path / f"{name}.sol")
    text = out.read_text()
    assert text.splitlines()[0].startswith("Route #1: ") and text.rstrip().endswith(f"Cost: {plan.cost}")
    # PyVRP's reader rebuilds the same routes: same cost, feasible, every client once.
    data = pyvrp.read(inst, round_func=rounding_for(inst))
    sol = pyvrp.read_solution(out, data)
    assert sol.is_feasible() and sol.is_complete()
    assert sol.distance() == plan.cost
    assert best_known_cost(out) == plan.cost
    assert best_known_cost(DATA / f"{name}.sol") == bks
    assert plan.cost >= bks
    if name.startswith("R"):
        assert " 0 " in text, "multi-trip: een herlaadbezoek staat als 0 in de oplossing"


def test_best_known_solution_is_valid_under_our_checker():
    """The published R201R0.5 optimum, read by PyVRP, costs what its file says: same conventions."""
    inst = DATA / "R201R0.5.vrp"
    data = pyvrp.read(inst, round_func=rounding_for(inst))
    sol = pyvrp.read_solution(DATA / "R201R0.5.sol", data)
    assert sol.is_feasible() and sol.distance() == 14426
