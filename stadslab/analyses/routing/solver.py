"""Solve a ``RoutingProblem`` with PyVRP (Wouters, Kool, Lan et al., "PyVRP: a high-performance
VRP solver package", INFORMS Journal on Computing 2024) and turn its answer into a ``Plan``.

How the problem maps onto PyVRP 0.14:

- every ``Site`` is a PyVRP depot (reload sites are depots a vehicle type may reload at);
- every ``Stop`` is a client with a *pickup* of ``demand`` (load grows during a trip and drops to 0
  at a reload), its time window, service time, release time and prize; optional stops get
  ``required=False``;
- with ``SolveOptions.soft_required`` required stops are also given ``required=False`` but with a
  prize larger than any detour could cost, so the solver always serves them when it can, and a day
  that cannot be done still yields a usable plan plus the names of what did not fit;
- ``Vehicle.unload_before_end``: PyVRP ends a route at one depot, but a refuse truck must unload
  before it parks. We add one extra depot per (end site, reload sites) whose incoming leg from
  every point is the fastest "via a dump" leg (drive to dump, unload, drive to the garage), so the
  last unload is planned exactly, including the choice of dump.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pyvrp
from pyvrp import Client, Depot, Location, ProblemData, VehicleType
from pyvrp.stop import MaxRuntime

from .explain import explain_unserved, precheck
from .model import Event, Plan, Route, RoutingProblem, SolveOptions, Trip, Unserved
from .travel import matrix_for

_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Built:
    """The PyVRP data plus what is needed to read its answer back."""

    data: ProblemData
    problem: RoutingProblem
    distance: np.ndarray          # our matrix over sites + stops (+ synthetic ends)
    duration: np.ndarray
    stop_index: np.ndarray        # PyVRP client idx -> index in problem.stops
    end_via: dict[int, np.ndarray]  # synthetic depot idx -> chosen dump (site idx) per point
    n_sites: int
    excluded: tuple[Unserved, ...]


def _via_leg(dist: np.ndarray, dur: np.ndarray, dumps: list[int], end: int,
             service: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fastest point → dump → ``end`` leg for every point: (distance, duration incl. unload, dump)."""
    d = np.asarray(dumps)
    total = dur[:, d] + service[d][None, :] + dur[d, end][None, :]
    best = total.argmin(axis=1)
    rows = np.arange(dist.shape[0])
    return dist[rows, d[best]] + dist[d[best], end], total[rows, best], d[best]


def build(problem: RoutingProblem, options: SolveOptions | None = None) -> Built:
    """Translate ``problem`` to PyVRP data; stops that cannot be served at all are left out and
    returned in ``excluded`` with the reason."""
    options = options or SolveOptions()
    travel = matrix_for(problem)
    dist, dur = travel.distance_m.astype(np.int64), travel.duration_s.astype(np.int64)
    n_sites = len(problem.sites)
    site_idx = {s.id: i for i, s in enumerate(problem.sites)}
    service = np.array([s.service_s for s in problem.sites] + [s.service_s for s in problem.stops], dtype=np.int64)

    # Synthetic "unload, then park" depots: appended after all real points.
    extra_keys: list[tuple[int, tuple[int, ...]]] = []
    for v in problem.vehicles:
        if v.unload_before_end and v.reload_sites:
            key = (site_idx[v.end_site or v.start_site], tuple(site_idx[r] for r in v.reload_sites))
            if key not in extra_keys:
                extra_keys.append(key)
    n_real = dist.shape[0]
    end_via: dict[int, np.ndarray] = {}
    if extra_keys:
        k = len(extra_keys)
        big_dist = np.zeros((n_real + k, n_real + k), dtype=np.int64)
        big_dur = np.zeros_like(big_dist)
        big_dist[:n_real, :n_real], big_dur[:n_real, :n_real] = dist, dur
        for j, (end, dumps) in enumerate(extra_keys):
            col = n_real + j
            leg_m, leg_s, via = _via_leg(dist, dur, list(dumps), end, service)
            big_dist[:n_real, col], big_dur[:n_real, col] = leg_m, leg_s
            big_dist[col, :n_real], big_dur[col, :n_real] = dist[end], dur[end]
            end_via[n_sites + j] = via
        dist, dur = big_dist, big_dur

    excluded, ok = precheck(problem, dist, dur, site_idx, extra_keys, n_real)

    # PyVRP depots: real sites, then synthetic ends. Locations in the same order as our matrix,
    # with the synthetic ends moved right after the sites so that depot i sits at location i.
    order = list(range(n_sites)) + [n_real + j for j in range(len(extra_keys))] + \
        [n_sites + i for i in np.flatnonzero(ok)]
    order_arr = np.asarray(order, dtype=np.int64)
    m_dist = dist[np.ix_(order_arr, order_arr)]
    m_dur = dur[np.ix_(order_arr, order_arr)]

    points = problem.points()
    locations = [Location(x=float(points[i][1]), y=float(points[i][2])) for i in range(n_sites)]
    locations += [Location(x=float(points[e][1]), y=float(points[e][2])) for e, _ in extra_keys]
    depots = [Depot(location=i, service_duration=int(s.service_s), tw_early=int(s.open_s),
                    tw_late=int(s.close_s), name=s.id) for i, s in enumerate(problem.sites)]
    depots += [Depot(location=n_sites + j, name=f"{problem.sites[e].id}+stort") for j, (e, _) in enumerate(extra_keys)]
    kept = np.flatnonzero(ok)
    max_leg = int(m_dist.max()) if m_dist.size else 0
    max_cost = max([v.cost_per_m for v in problem.vehicles] + [1]) * max_leg * 2 + \
        max([v.cost_per_s for v in problem.vehicles] + [0]) * (int(m_dur.max()) if m_dur.size else 0) * 2
    # Worth more than anything leaving one stop out could save (its detour, a dump trip, its service
    # time, a vehicle), but not so large that the search drowns the time-warp penalty and stays infeasible.
    max_service = max([st.service_s for st in problem.stops] + [0]) * max([v.cost_per_s for v in problem.vehicles] + [0])
    big_prize = 3 * max_cost + 2 * max_service + max([s.prize for s in problem.stops] + [0]) + \
        max([v.fixed_cost for v in problem.vehicles] + [0]) + 1_000
    clients = []
    for pos, i in enumerate(kept):
        s = problem.stops[i]
        soft = options.soft_required and s.required
        clients.append(Client(location=len(locations) + pos, pickup=[int(s.demand)], delivery=[0],
                              service_duration=int(s.service_s), tw_early=int(s.tw_early),
                              tw_late=int(s.tw_late), release_time=int(s.release_s),
                              prize=int(big_prize if soft else s.prize),
                              required=bool(s.required and not soft), name=s.id))
    locations += [Location(x=float(problem.stops[i].x), y=float(problem.stops[i].y)) for i in kept]

    vtypes = []
    for v in problem.vehicles:
        start = site_idx[v.start_site] if v.start_site else 0
        end = site_idx[v.end_site] if v.end_site else start
        reloads = [site_idx[r] for r in v.reload_sites]
        if v.unload_before_end and reloads:
            end = n_sites + extra_keys.index((end, tuple(reloads)))
        kwargs = dict(num_available=v.count, capacity=[int(v.capacity)], start_depot=start, end_depot=end,
                      fixed_cost=int(v.fixed_cost), tw_early=int(v.shift_start_s), tw_late=int(v.shift_end_s),
                      unit_distance_cost=int(v.cost_per_m), unit_duration_cost=int(v.cost_per_s),
                      reload_depots=reloads, name=v.name)
        if v.max_shift_s is not None:
            kwargs["shift_duration"] = int(v.max_shift_s)
        if v.max_reloads is not None:
            kwargs["max_reloads"] = int(v.max_reloads)
        vtypes.append(VehicleType(**kwargs))
    data = ProblemData(locations=locations, clients=clients, depots=depots, vehicle_types=vtypes,
                       distance_matrices=[np.ascontiguousarray(m_dist)],
                       duration_matrices=[np.ascontiguousarray(m_dur)])
    return Built(data, problem, dist, dur, kept, end_via, n_sites, tuple(excluded))


class _Clock:
    """PyVRP stopping criterion: the time limit, reporting progress to a callback (at most 10×/s)."""

    def __init__(self, seconds: float, progress) -> None:
        self.inner = MaxRuntime(seconds)
        self.seconds = max(seconds, 1e-9)
        self.progress = progress
        self.t0 = time.perf_counter()
        self.last = 0.0

    def __call__(self, best_cost: int) -> bool:
        now = time.perf_counter()
        if self.progress is not None and now - self.last > 0.1:
            self.last = now
            self.progress(min(1.0, (now - self.t0) / self.seconds))
        return self.inner(best_cost)


def solve(problem: RoutingProblem, options: SolveOptions | None = None) -> Plan:
    """Plan routes for ``problem`` within ``options.seconds``. Always returns a ``Plan``; what could
    not be served is in ``plan.unserved`` with a Dutch reason."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    built = build(problem, options)
    if built.data.num_clients == 0:
        return _to_plan(built, None, time.perf_counter() - t0, 0)
    result = pyvrp.solve(built.data, stop=_Clock(options.seconds, options.progress), seed=options.seed,
                         collect_stats=False, display=False)
    if options.progress is not None:
        options.progress(1.0)
    return _to_plan(built, result.best, time.perf_counter() - t0, result.num_iterations)


def _to_plan(built: Built, solution, runtime: float, iterations: int) -> Plan:
    problem, dist, dur = built.problem, built.distance, built.duration
    n_sites = built.n_sites
    n_depots = built.data.num_depots
    counters: dict[str, int] = {}
    routes: list[Route] = []
    problems: list[str] = []
    served: set[str] = set()

    def point_of_depot(d: int) -> int:
        # synthetic depots live after all real points in our matrix
        return d if d < n_sites else dist.shape[0] - (n_depots - d)

    for r in (solution.routes() if solution is not None else []):
        vt = r.vehicle_type()
        vehicle = problem.vehicles[vt]
        counters[vehicle.name] = counters.get(vehicle.name, 0) + 1
        name = vehicle.name if vehicle.count == 1 else f"{vehicle.name} {counters[vehicle.name]}"
        events: list[Event] = []
        trips: list[Trip] = []
        trip_stops: list[str] = []
        load = 0
        prev_point: int | None = None
        sched = r.schedule()
        for k_act, act in enumerate(sched):
            if act.is_client():
                stop_i = int(built.stop_index[act.idx])
                point, kind, ref = n_sites + stop_i, "stop", problem.stops[stop_i].id
                load += problem.stops[stop_i].demand
                trip_stops.append(ref)
                served.add(ref)
                via = ""
            else:
                point = point_of_depot(act.idx)
                via = ""
                if act.idx >= n_sites:  # synthetic end: unload at the chosen dump, then park
                    dump = int(built.end_via[act.idx][prev_point])
                    via = problem.sites[dump].id
                    ref = (problem.vehicles[vt].end_site or problem.vehicles[vt].start_site)
                else:
                    ref = problem.sites[act.idx].id
                if prev_point is None:
                    kind = "start"
                elif k_act == len(sched) - 1:
                    kind = "end"
                else:
                    kind = "reload"
                if kind in ("reload", "end") and prev_point is not None:
                    trips.append(Trip(len(trips), tuple(trip_stops), load, via or ref))
                    trip_stops = []
                    load = 0
            leg_m = int(dist[prev_point, point]) if prev_point is not None else 0
            leg_s = int(dur[prev_point, point]) if prev_point is not None else 0
            arrival = int(act.start_time - act.wait_duration) if prev_point is not None else int(act.start_time)
            events.append(Event(kind, ref, int(act.trip), arrival, int(act.start_time), int(act.end_time),
                                load, leg_m, leg_s, via))
            prev_point = point
        if r.has_time_warp():
            problems.append(f"{name}: komt {r.time_warp() // 60} min te laat aan bij een tijdvenster of dienst")
        if r.has_excess_load():
            problems.append(f"{name}: laadt {sum(r.excess_load())} meer dan de laadruimte")
        routes.append(Route(name, vt, tuple(events), tuple(trips), int(r.distance()), int(r.duration()),
                            int(r.start_time()), int(r.end_time())))

    unserved = list(built.excluded)
    excluded_ids = {u.stop for u in unserved}
    left = [s for s in problem.stops if s.id not in served and s.id not in excluded_ids]
    unserved += explain_unserved(problem, left, routes)
    feasible = solution is None or solution.is_feasible()
    cost = _cost(problem, routes, unserved)
    return Plan(tuple(routes), tuple(unserved), cost, sum(r.distance_m for r in routes),
                sum(r.duration_s for r in routes), bool(feasible and not problems), runtime, iterations,
                tuple(problems), matrix_for(problem).source if problem.travel is None else problem.travel.source,
                sum(s.prize for s in problem.stops if s.id in served))


def _cost(problem: RoutingProblem, routes: list[Route], unserved: list[Unserved]) -> int:
    """Objective as the user defined it: driving cost plus prizes of optional stops left out."""
    total = 0
    for r in routes:
        v = problem.vehicles[r.vehicle_index]
        total += v.fixed_cost + v.cost_per_m * r.distance_m + v.cost_per_s * r.duration_s
    prizes = {s.id: s.prize for s in problem.stops}
    return total + sum(prizes[u.stop] for u in unserved if not u.required)
