"""Fixtures for the project-register tests: a private copy of the demo workspace with the hotspot pilot run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="session")
def projects_ws(demo_ws, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("projects") / "ws"
    shutil.copytree(demo_ws, root)
    run_cli("project", "run", "hotspotaanpak", "-w", str(root), "--json")
    return root

