"""Fixtures for the attack tests: a private copy of the demo workspace (own audit log and key), a real
``stadslab serve`` on 127.0.0.1, and logged-in clients."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stadslab.web.launch import running_server
from tests.conftest import csrf_of, web_login  # noqa: F401 (csrf_of: re-exported)

PASSWORDS = {"analist": "analist-demo", "wijkmanager": "wijkmanager-demo", "privacy": "privacy-demo"}
PERSONAL = "sociaal_uitkeringen"


@pytest.fixture(scope="session")
def sec_ws(demo_ws, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("security") / "ws"
    shutil.copytree(demo_ws, root, ignore=shutil.ignore_patterns("audit", "sessies.json"))
    # the fuzz run and the route walk come from one address: lift the portal's per-address budget so that
    # they reach the handlers instead of its 429
    cfg = yaml.safe_load((root / "stadslab.yaml").read_text(encoding="utf-8"))
    cfg.setdefault("portal", {})["rate_limit"] = {"requests": 1_000_000, "per_seconds": 60}
    (root / "stadslab.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def sec_server(sec_ws) -> Iterator[str]:
    with running_server(sec_ws) as base:
        yield base


def login(base: str, user: str, *, werkdoel: str | None = None) -> httpx.Client:
    return web_login(base, user, PASSWORDS[user], werkdoel=werkdoel, timeout=60)
