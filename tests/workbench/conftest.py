"""Fixtures for the analyst's workbench tests (issue 10): one private copy of the demo workspace, one real
``stadslab serve`` and one Chromium for the whole area, and pages at phone and desktop size."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from stadslab.web.launch import running_server
from tests.web.conftest import PASSWORDS

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
READY = "document.body.dataset.kaartKlaar === '1'"


@pytest.fixture(scope="session")
def wb_ws(demo_ws, tmp_path_factory) -> Path:
    """A private copy of the demo workspace: alerts written by the tests stay out of the shared one."""
    root = tmp_path_factory.mktemp("workbench") / "ws"
    shutil.copytree(demo_ws, root)
    return root


@pytest.fixture(scope="session")
def wb_server(wb_ws) -> Iterator[str]:
    with running_server(wb_ws) as base:
        yield base



@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL", "viewport": DESKTOP, "accept_downloads": True}


def new_page(browser, viewport: dict, server: str | None = None, user: str | None = None):
    """A page in a fresh context of the shared browser; logged in as ``user`` when given."""
    ctx = browser.new_context(viewport=viewport, locale="nl-NL", accept_downloads=True)
    page = ctx.new_page()
    if user:
        page.goto(f"{server}/login")
        page.fill("#gebruiker", user)
        page.fill("#wachtwoord", PASSWORDS[user])
        page.click("form.formulier button[type=submit]")
        page.wait_for_url(f"{server}/")
    return page


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
