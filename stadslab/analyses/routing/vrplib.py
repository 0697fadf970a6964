"""VRPLIB instances in, VRPLIB solutions out — through the same ``RoutingProblem``/``solve`` core.

Instances (CVRPLIB and PyVRP's multi-trip extension with ``VEHICLES_RELOAD_DEPOT_SECTION``) are read
with PyVRP's own reader (``pyvrp.read``) and translated field by field into sites, vehicles and
stops with the instance's own distance matrix. Solutions are written in the VRPLIB solution format:
one ``Route #k: …`` line per used vehicle listing node numbers (depot = 0, clients 1..n as in the
instance), a reload at a depot written as that depot's number, then ``Cost: …``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyvrp

from .model import Plan, RoutingProblem, Site, Stop, TravelMatrix, Vehicle

_HUGE = 1 << 60


def rounding_for(path: str | Path) -> str:
    """PyVRP rounding convention: DIMACS (×10, truncated) for time-window instances — that is how
    the multi-trip best-known costs are stored — and nearest integer (CVRPLIB) otherwise."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return "dimacs" if "TIME_WINDOW_SECTION" in text else "round"


def problem_from_vrplib(path: str | Path, round_func: str | None = None) -> RoutingProblem:
    data = pyvrp.read(path, round_func=round_func or rounding_for(path))
    return problem_from_data(data, name=Path(path).stem)


def problem_from_data(data: pyvrp.ProblemData, name: str = "") -> RoutingProblem:
    """Translate PyVRP problem data (single profile, one load dimension) into a ``RoutingProblem``."""
    locs = data.locations()
    depots, clients = data.depots(), data.clients()
    sites = tuple(Site(str(d.location), d.name or f"depot {d.location}", locs[d.location].x, locs[d.location].y,
                       kind="depot", service_s=int(d.service_duration), open_s=int(d.tw_early),
                       close_s=int(d.tw_late)) for d in depots)
    stops = tuple(Stop(str(c.location), locs[c.location].x, locs[c.location].y,
                       demand=int(sum(c.delivery[:1]) + sum(c.pickup[:1])), service_s=int(c.service_duration),
                       tw_early=int(c.tw_early), tw_late=int(c.tw_late), required=bool(c.required),
                       prize=int(c.prize), release_s=int(c.release_time), name=c.name) for c in clients)
    vehicles = []
    for vt in data.vehicle_types():
        vehicles.append(Vehicle(
            name=vt.name, capacity=int(vt.capacity[0]) if vt.capacity else _HUGE, count=int(vt.num_available),
            start_site=sites[vt.start_depot].id, end_site=sites[vt.end_depot].id,
            shift_start_s=int(vt.tw_early), shift_end_s=int(vt.tw_late),
            max_shift_s=int(vt.shift_duration) if vt.shift_duration < _HUGE else None,
            reload_sites=tuple(sites[r].id for r in vt.reload_depots),
            max_reloads=int(vt.max_reloads) if vt.max_reloads < _HUGE else None,
            fixed_cost=int(vt.fixed_cost), cost_per_m=int(vt.unit_distance_cost),
            cost_per_s=int(vt.unit_duration_cost)))
    order = np.array([d.location for d in depots] + [c.location for c in clients], dtype=np.int64)
    ix = np.ix_(order, order)
    travel = TravelMatrix(np.asarray(data.distance_matrix(0))[ix].astype(np.int64),
                          np.asarray(data.duration_matrix(0))[ix].astype(np.int64), source="VRPLIB-instantie")
    return RoutingProblem(sites, tuple(vehicles), stops, travel=travel, name=name)


def solution_text(plan: Plan, problem: RoutingProblem) -> str:
    """The plan as a VRPLIB solution: routes grouped by vehicle type in instance order."""
    lines = []
    routes = sorted(plan.routes, key=lambda r: r.vehicle_index)
    for k, r in enumerate(routes, start=1):
        nodes = [e.ref for e in r.events if e.kind in ("stop", "reload")]
        lines.append(f"Route #{k}: " + " ".join(nodes))
    lines.append(f"Cost: {plan.cost}")
    return "\n".join(lines) + "\n"


def write_solution(plan: Plan, problem: RoutingProblem, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(solution_text(plan, problem), encoding="utf-8")
    return path


def best_known_cost(path: str | Path) -> float | None:
    """The ``Cost`` line of a VRPLIB solution file (``Cost: 123`` or ``Cost 123``), if present."""
    m = re.search(r"^\s*cost\s*:?\s*([0-9.]+)", Path(path).read_text(encoding="utf-8"), re.I | re.M)
    return float(m.group(1)) if m else None
