"""Routing core shared by the container plan and the weesfietsen planner.

Build a ``RoutingProblem`` (sites, vehicles, stops; travel from RD coordinates or a supplied
matrix), call ``solve(problem, SolveOptions(seconds=...))`` and read the ``Plan``: routes with
events (start, stops, reloads at dumps, end), trips, loads, arrival times and distances, and the
stops that could not be served with a Dutch reason. See docs/routing.md.
"""

from .explain import CODES, hhmm
from .model import (DAY_END, Event, Plan, Route, RoutingProblem, Site, SolveOptions, Stop, TravelMatrix,
                    Trip, Unserved, Vehicle)
from .solver import build, solve
from .travel import DEFAULT_CIRCUITY, DEFAULT_SPEED_KMH, matrix_for, read_matrix_csv, straight_line_matrix

__all__ = [
    "CODES", "DAY_END", "DEFAULT_CIRCUITY", "DEFAULT_SPEED_KMH", "Event", "Plan", "Route", "RoutingProblem",
    "Site", "SolveOptions", "Stop", "TravelMatrix", "Trip", "Unserved", "Vehicle", "build", "hhmm",
    "matrix_for", "read_matrix_csv", "solve", "straight_line_matrix",
]
