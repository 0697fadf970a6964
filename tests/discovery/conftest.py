"""Fixtures for the discovery tests: random area positions with distance classes, smooth spatial fields."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.discovery.stats import distance_classes


@pytest.fixture(scope="module")
def layout():
    """111 'buurten' at random positions in a 10 km square, with their distance classes."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10_000, (111, 2))
    return xy, distance_classes(xy)


def smooth_field(xy: np.ndarray, rng: np.random.Generator, scale: float = 2_500.0, noise: float = 0.3) -> np.ndarray:
    """A spatially autocorrelated variable: a sum of bumps plus a little noise."""
    centres = rng.uniform(0, 10_000, (6, 2))
    d = np.linalg.norm(xy[:, None] - centres[None], axis=2)
    return (rng.normal(size=6) * np.exp(-(d / scale) ** 2)).sum(axis=1) + noise * rng.normal(size=len(xy))


# ---- the bundled real data: a private copy of the demo workspace, a real server, Chromium ---------------

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from stadslab.web.launch import running_server  # noqa: E402



@pytest.fixture(scope="session")
def discovery_ws(demo_ws, tmp_path_factory) -> Path:
    """A private copy of the demo workspace (Utrecht 2023: CBS Kerncijfers, voorzieningen, misdrijven per
    buurt, simulated social data): our results, notes and audit entries stay out of the shared one."""
    root = tmp_path_factory.mktemp("ontdekken") / "ws"
    shutil.copytree(demo_ws, root)
    holders = demo_ws.parent / f"{demo_ws.name}-bronhouders"
    if holders.exists():
        shutil.copytree(holders, root.parent / f"{root.name}-bronhouders")
    return root


@pytest.fixture(scope="session")
def server_ws(demo_ws, tmp_path_factory) -> Path:
    """Another copy for the server: a running server holds the warehouse, the CLI tests need theirs."""
    root = tmp_path_factory.mktemp("ontdekken_server") / "ws"
    shutil.copytree(demo_ws, root)
    return root


@pytest.fixture(scope="session")
def discovery_server(server_ws) -> Iterator[str]:
    with running_server(server_ws, ready="/api/ontdekken?limiet=1", timeout=300) as base:
        yield base



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL"}
