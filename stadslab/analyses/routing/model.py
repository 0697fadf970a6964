"""Typed description of a routing problem and of its solution.

Units everywhere: time in seconds since midnight of the plan day, distance in metres, demand and
capacity in one whole-number unit the caller chooses (kg, litres, bicycles). Costs are whole
"cost units" (see ``RoutingProblem``): the solver minimises driving cost plus the prizes of optional
stops it leaves out, so a prize is what visiting that stop is worth in the same units.

The same types serve every planner (underground containers, orphan bicycles, VRPLIB benchmarks):
nothing here knows about waste.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

DAY_END = 24 * 3600
SiteKind = Literal["depot", "dump"]


@dataclass(frozen=True)
class Site:
    """A place vehicles start, end or unload at: a garage/depot, or a dump (afvaloverslag, fietsdepot).

    ``open_s``/``close_s`` bound when vehicles may be there; ``service_s`` is the time an unload takes.
    """

    id: str
    name: str
    x: float
    y: float
    kind: SiteKind = "depot"
    service_s: int = 0
    open_s: int = 0
    close_s: int = DAY_END


@dataclass(frozen=True)
class Vehicle:
    """A kind of vehicle with ``count`` identical copies.

    ``shift_start_s``..``shift_end_s`` is the window the vehicle may be on the road; ``max_shift_s``
    the longest a route may last (start to return). ``reload_sites`` are the sites where the load is
    emptied mid-shift (a trip ends there, the next begins), at most ``max_reloads`` times.
    ``unload_before_end``: the last trip also ends at the best reload site before driving to
    ``end_site`` (a refuse truck never parks full); the solver sees that as one leg.
    """

    name: str
    capacity: int
    count: int = 1
    start_site: str = ""
    end_site: str = ""
    shift_start_s: int = 0
    shift_end_s: int = DAY_END
    max_shift_s: int | None = None
    reload_sites: tuple[str, ...] = ()
    max_reloads: int | None = None
    unload_before_end: bool = False
    fixed_cost: int = 0
    cost_per_m: int = 1
    cost_per_s: int = 0


@dataclass(frozen=True)
class Stop:
    """A place to visit once: a container to empty, a street to label or re-check.

    ``required=False`` makes the stop optional: the solver visits it when its ``prize`` outweighs
    the extra cost. ``tw_early``..``tw_late`` is when service may *start*; ``release_s`` the earliest
    time the vehicle may leave its depot on the trip that serves it (VRPLIB multi-trip instances).
    """

    id: str
    x: float
    y: float
    demand: int = 0
    service_s: int = 0
    tw_early: int = 0
    tw_late: int = DAY_END
    required: bool = True
    prize: int = 0
    name: str = ""
    release_s: int = 0


@dataclass(frozen=True)
class TravelMatrix:
    """Distances (m) and durations (s) between all points, in the order ``RoutingProblem.points()``."""

    distance_m: np.ndarray
    duration_s: np.ndarray
    source: str = ""


@dataclass(frozen=True)
class RoutingProblem:
    """Sites, vehicles and stops, plus how travel is measured.

    ``travel`` is given explicitly (a supplied matrix or a VRPLIB instance) or left ``None``: then
    ``stadslab.analyses.routing.travel.straight_line_matrix`` computes it from the coordinates (RD
    metres) with ``circuity`` and ``speed_kmh``.
    """

    sites: tuple[Site, ...]
    vehicles: tuple[Vehicle, ...]
    stops: tuple[Stop, ...]
    travel: TravelMatrix | None = None
    circuity: float = 1.3
    speed_kmh: float = 20.0
    name: str = ""

    def points(self) -> list[tuple[str, float, float]]:
        """(id, x, y) of every point in matrix order: sites first, then stops."""
        return [(s.id, s.x, s.y) for s in self.sites] + [(s.id, s.x, s.y) for s in self.stops]

    def site_index(self, site_id: str) -> int:
        for i, s in enumerate(self.sites):
            if s.id == site_id:
                return i
        raise KeyError(site_id)


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Event:
    """One step of a route: leaving the start site, a stop, an unload at a dump, or the return.

    ``kind``: ``start`` | ``stop`` | ``reload`` | ``end``. ``ref`` is the stop or site id; ``via``
    names the dump an ``end`` passed through when the vehicle unloads before returning.
    ``arrival_s`` is when the vehicle arrives, ``start_s`` when service starts (after any wait),
    ``departure_s`` when it leaves; ``load`` the load on board after this step;
    ``leg_m``/``leg_s`` the drive from the previous step. ``trip`` counts from 0 and increases
    after every reload.
    """

    kind: str
    ref: str
    trip: int
    arrival_s: int
    start_s: int
    departure_s: int
    load: int
    leg_m: int
    leg_s: int
    via: str = ""


@dataclass(frozen=True)
class Trip:
    """The stops between two visits to a site, and the load collected on them."""

    index: int
    stops: tuple[str, ...]
    load: int
    ends_at: str


@dataclass(frozen=True)
class Route:
    vehicle: str
    vehicle_index: int
    events: tuple[Event, ...]
    trips: tuple[Trip, ...]
    distance_m: int
    duration_s: int
    start_s: int
    end_s: int

    @property
    def stops(self) -> list[str]:
        return [e.ref for e in self.events if e.kind == "stop"]

    @property
    def reloads(self) -> int:
        return sum(1 for e in self.events if e.kind == "reload")


@dataclass(frozen=True)
class Unserved:
    """A stop the plan leaves out, and why (Dutch, for the user)."""

    stop: str
    required: bool
    reason: str
    code: str


@dataclass(frozen=True)
class Plan:
    """The solved plan. ``feasible`` is False when a route breaks a constraint (then ``problems``
    says which); ``unserved`` lists required stops that could not be planned and optional stops
    left out, each with a reason."""

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    cost: int
    distance_m: int
    duration_s: int
    feasible: bool
    runtime_s: float
    iterations: int
    problems: tuple[str, ...] = ()
    travel_source: str = ""
    prizes_collected: int = 0

    @property
    def served(self) -> list[str]:
        return [s for r in self.routes for s in r.stops]

    @property
    def unserved_required(self) -> list[Unserved]:
        return [u for u in self.unserved if u.required]


@dataclass
class SolveOptions:
    """``seconds``: time limit; ``soft_required``: give required stops a very large prize instead of
    forcing them, so an over-full day still returns a valid plan and names what did not fit."""

    seconds: float = 10.0
    seed: int = 0
    soft_required: bool = True
    progress: object | None = None  # callable(fraction_done: float) -> None
    extra: dict = field(default_factory=dict)
