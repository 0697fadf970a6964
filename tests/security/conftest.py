"""Fixtures for the attack tests: a private copy of the demo workspace (own audit log and key), a real
``stadslab serve`` on 127.0.0.1, and logged-in clients."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stadslab.web.launch import running_server

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


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "geen CSRF-token in de pagina"
    return m.group(1)


def login(base: str, user: str, *, werkdoel: str | None = None) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60)
    r = c.post("/login", data={"gebruiker": user, "wachtwoord": PASSWORDS[user],
                               "csrf_token": csrf_of(c.get("/login").text), "next": "/"})
    assert r.status_code == 303, r.text
    if werkdoel:
        r = c.post("/werkdoel", data={"doel": werkdoel, "csrf_token": csrf_of(c.get("/").text), "next": "/"})
        assert r.status_code == 303
    return c
