"""Generated routing problems around a Den Haag-like RD extent, small enough to solve in ~1 s."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.routing import RoutingProblem, Site, Stop, Vehicle

CENTRE = (80_000.0, 455_000.0)


def make_problem(seed: int, *, n: int = 40, capacity: int = 100, count: int = 2, windows: bool = False,
                 optional_share: float = 0.0, max_shift_s: int | None = 6 * 3600, dumps: int = 2,
                 max_reloads: int | None = None, release: bool = False, spread: float = 4_000.0) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    sites = [Site("garage", "Garage", *CENTRE)]
    sites += [Site(f"stort{k}", f"Stortplaats {k}", CENTRE[0] + rng.uniform(-spread, spread),
                   CENTRE[1] + rng.uniform(-spread, spread), kind="dump", service_s=600, open_s=6 * 3600,
                   close_s=18 * 3600) for k in range(1, dumps + 1)]
    xy = np.column_stack([CENTRE[0] + rng.uniform(-spread, spread, n), CENTRE[1] + rng.uniform(-spread, spread, n)])
    demand = rng.integers(5, 35, n)
    stops = []
    for i in range(n):
        early, late = 0, 24 * 3600
        if windows and i % 3 == 0:
            early = int(rng.integers(7, 11)) * 3600
            late = early + 2 * 3600
        stops.append(Stop(f"s{i}", float(xy[i, 0]), float(xy[i, 1]), demand=int(demand[i]), service_s=120,
                          tw_early=early, tw_late=late, required=bool(rng.random() >= optional_share),
                          prize=int(rng.integers(500, 8_000)),
                          release_s=int(rng.integers(7, 9)) * 3600 if release and i % 4 == 0 else 0))
    vehicle = Vehicle("Wagen", capacity=capacity, count=count, start_site="garage", end_site="garage",
                      shift_start_s=7 * 3600, shift_end_s=16 * 3600, max_shift_s=max_shift_s,
                      reload_sites=tuple(s.id for s in sites[1:]), max_reloads=max_reloads,
                      unload_before_end=dumps > 0)
    return RoutingProblem(tuple(sites), (vehicle,), tuple(stops), name=f"test-{seed}")


@pytest.fixture
def problem_factory():
    return make_problem
