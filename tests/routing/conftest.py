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


# ---- a small workspace with a simulated sensor stream, a stored plan and users (CLI and browser tests) ----

from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
STREAM = "denhaag_containervulling"
PASSWORDS = {"chauffeur": "chauffeur-test", "privacy": "privacy-test"}


def run_cli(*args: str):
    """The real ``stadslab`` Typer app, in-process (saves a Python start per call)."""
    from typer.testing import CliRunner

    from stadslab.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exit_code != 0:
        raise AssertionError(f"stadslab {' '.join(args)} → {result.exit_code}\n{result.output}\n{result.exception!r}")
    return result


@pytest.fixture(scope="session")
def route_ws(tmp_path_factory) -> Path:
    """``stadslab init`` (no demo data), the demo's stream catalog entry, two users, and 3 days of
    GESIMULEERDE readings of ~120 Den Haag containers appended through the stream ingest."""
    from stadslab.analyses.containers.evaluate import district
    from stadslab.demo.container_sim import SensorSimulator, load_containers, to_json_readings
    from stadslab.ingest.stream import ingest_batch
    from stadslab.privacy.passwords import hash_password
    from stadslab.workspace import Workspace

    root = tmp_path_factory.mktemp("route") / "ws"
    run_cli("init", str(root))
    src = REPO / "stadslab" / "demo" / "catalog" / f"{STREAM}.yaml"
    entry = yaml.safe_load(src.read_text(encoding="utf-8"))
    entry["stream"].pop("registry", None)     # the register dataset is not loaded in this small workspace
    (root / "catalog" / f"{STREAM}.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    cfg = yaml.safe_load((root / "stadslab.yaml").read_text(encoding="utf-8"))
    cfg["access"] = {"roles": {"chauffeur": "Chauffeur inzameling", "privacyfunctionaris": "Privacy"},
                     "purposes": {"beheer": "Beheer openbare ruimte", "toezicht": "Toezicht"},
                     "users": [{"id": "chauffeur", "name": "Chauffeur", "roles": ["chauffeur"], "purposes": ["beheer"],
                                "password_hash": hash_password(PASSWORDS["chauffeur"])},
                               {"id": "privacy", "name": "Privacy", "roles": ["privacyfunctionaris"],
                                "purposes": ["toezicht"], "password_hash": hash_password(PASSWORDS["privacy"])}]}
    (root / "stadslab.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    reg = district(load_containers(), target=100)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    sim = SensorSimulator(reg, seed=5, start=now - timedelta(days=3))
    items = to_json_readings(sim.step(now - timedelta(hours=1)))
    ws = Workspace.resolve(str(root))
    ds = ws.catalog().get(STREAM)
    with ws.warehouse() as wh:
        res = ingest_batch(wh, ds, items, source="test", transport="http")
    assert res.new == len(items) and res.dead == 0
    return root


@pytest.fixture(scope="session")
def planned_ws(route_ws) -> tuple[Path, dict]:
    """route_ws with a stored plan made by the CLI (``stadslab route plan … --json``)."""
    import json

    proc = run_cli("route", "plan", STREAM, "-w", str(route_ws), "--seconds", "1", "--trucks", "2", "--json")
    # A one-week evaluation on a few containers, stored as the page reads it (the real run takes minutes).
    from stadslab.analyses.containers.evaluate import district, simulate
    from stadslab.analyses.containers.plan import Fleet
    from stadslab.analyses.containers.plan_store import save_evaluation
    from stadslab.demo.container_sim import load_containers
    from stadslab.workspace import Workspace

    reg = district(load_containers(), target=40)
    res = simulate(reg, weeks=1, fleet=Fleet(trucks=1), seconds_per_day=0.2, seed=2)
    with Workspace.resolve(str(route_ws)).warehouse() as wh:
        save_evaluation(wh, res, {"weeks": 1, "containers": len(reg), "trucks": 1, "buurten": ["test"]})
    return route_ws, json.loads(proc.stdout)



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL", "viewport": {"width": 390, "height": 844}}
