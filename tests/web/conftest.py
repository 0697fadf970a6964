"""Fixtures for the web app tests: a copy of the demo workspace with synthetic Utrecht incidents, a real
uvicorn server (``stadslab serve``) on a free port, logged-in httpx clients, and Chromium settings."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stadslab.web.launch import running_server
from tests.conftest import UTRECHT_BUURTEN_RD, csrf_of, run_cli, web_login  # noqa: F401 (csrf_of: re-exported)
from tests.web.synthetic import ENTRY, write_incidents

SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORDS = {"analist": "analist-demo", "wijkmanager": "wijkmanager-demo", "privacy": "privacy-demo"}


@pytest.fixture(scope="session")
def web_ws(demo_ws, tmp_path_factory) -> Path:
    """A private copy of the demo workspace (our audit entries and actions stay out of the shared one),
    plus synthetic Utrecht incidents: on the 2024 division (population from CBS Kerncijfers 2024), on the
    2013 division (for which no population source exists), and as an ``intern`` dataset (login needed;
    figures through release_aggregate)."""
    root = tmp_path_factory.mktemp("web") / "ws"
    shutil.copytree(demo_ws, root)
    write_incidents(root / "data" / "test" / "incidenten_utrecht.csv", UTRECHT_BUURTEN_RD)
    e2013 = copy.deepcopy(ENTRY)
    e2013.update(id="utrecht_incidenten_test_2013", title="Incidenten Utrecht (synthetisch, indeling 2013)")
    e2013["geography"] = {**ENTRY["geography"], "division_year": 2013}
    intern = copy.deepcopy(ENTRY)
    intern.update(id="utrecht_incidenten_intern", title="Incidenten Utrecht 2024 (intern, test)", classification="intern")
    for entry in (ENTRY, e2013, intern):
        (root / "catalog" / f"{entry['id']}.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
        run_cli("ingest", entry["id"], "-w", str(root))
    return root


@pytest.fixture(scope="session")
def server(web_ws) -> Iterator[str]:
    """Base URL of a real ``stadslab serve`` over ``web_ws``."""
    with running_server(web_ws) as base:
        yield base


def login_client(base: str, user: str) -> httpx.Client:
    return web_login(base, user, PASSWORDS[user], timeout=60)


@pytest.fixture(scope="session")
def anon(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def analist(server):
    c = login_client(server, "analist")
    yield c
    c.close()


@pytest.fixture(scope="session")
def wijkmanager(server):
    c = login_client(server, "wijkmanager")
    yield c
    c.close()


# ---- pytest-playwright: Debian's Chromium, Dutch locale --------------------------------------------------


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL", "viewport": {"width": 1366, "height": 900},
            "accept_downloads": True}


@pytest.fixture
def shot(page):
    """shot(name): full-page screenshot into tests/web/screenshots/ (look at them)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


def browser_login(page, server: str, user: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#gebruiker", user)
    page.fill("#wachtwoord", PASSWORDS[user])
    page.click("form.formulier button[type=submit]")
    page.wait_for_url(f"{server}/")
