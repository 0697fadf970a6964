"""A private copy of the demo workspace with a stored weesfietsen week plan."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="session")
def wf_ws(demo_ws, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("weesfietsen") / "ws"
    shutil.copytree(demo_ws, root)
    run_cli("weesfietsen", "plan", "-w", str(root), "--seconden", "0.5", "--json")
    return root

