"""The public register shows no content of closed phases; internal users see what their roles allow."""

from __future__ import annotations

import httpx
import pytest
import yaml

from stadslab.web.launch import running_server
from tests.conftest import REPO

DEMO_PROJECTS = REPO / "stadslab" / "demo" / "projects"
PASSWORDS = {"analist": "analist-demo", "wijkmanager": "wijkmanager-demo"}


def _closed_texts() -> dict[str, list[tuple[str, str, list[str]]]]:
    out = {}
    for path in DEMO_PROJECTS.glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[raw["id"]] = [(name, ph["text"], ph.get("roles", []) + raw.get("team_roles", []))
                          for name, ph in raw["phases"].items() if ph["access"] == "gesloten" and ph.get("text")]
    return out


@pytest.fixture(scope="module")
def server(projects_ws):
    with running_server(projects_ws, ready="/projecten") as base:
        yield base


def _login(base: str, user: str) -> httpx.Client:
    import re

    c = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"gebruiker": user, "wachtwoord": PASSWORDS[user], "csrf_token": token})
    assert r.status_code == 200 and "Uitloggen" in r.text, r.text[:500]
    return c


def test_public_register_hides_closed_content(server):
    closed = _closed_texts()
    assert sum(map(len, closed.values())) >= 4
    listing = httpx.get(server + "/projecten").text
    for pid, phases in closed.items():
        assert f'href="/projecten/{pid}"' in listing
        page = httpx.get(f"{server}/projecten/{pid}").text
        for name, text, _roles in phases:
            assert text not in page and text not in listing
            assert "Waarom gesloten" in page
    sociaal = httpx.get(server + "/projecten/sociaal_dashboard").text
    assert "sociaal_uitkeringen" not in sociaal and "3 bron(nen)" in sociaal    # the catalog hides them too


def test_roles_see_what_the_project_allows(server):
    closed = _closed_texts()
    for user in ("analist", "wijkmanager"):
        roles = {"analist": {"analist", "sociaal_analist"}, "wijkmanager": {"professional"}}[user]
        c = _login(server, user)
        try:
            for pid, phases in closed.items():
                page = c.get(f"/projecten/{pid}").text
                for name, text, allowed in phases:
                    assert (text in page) == bool(roles & set(allowed)), (user, pid, name)
        finally:
            c.close()


def test_live_figures_come_from_stored_results(server):
    page = httpx.get(server + "/projecten/hotspotaanpak").text
    assert "resultaat hotspots_fietsdiefstal v1" in page
    risk = httpx.get(server + "/projecten/risicovoorspeller").text
    assert "nog niet berekend" in risk and "stadslab predict backtest" in risk


@pytest.mark.parametrize("path", ["/projecten?trede=ladder", "/projecten?status=" + "x" * 50, "/projecten/" + "a" * 300,
                                  "/projecten/onbekend"])
def test_bad_requests_get_a_dutch_4xx(server, path):
    r = httpx.get(server + path)
    assert 400 <= r.status_code < 500


def test_report_pages(server):
    html = httpx.get(server + "/projecten/rapport").text
    assert "Tussenevaluatie datagedreven sturing" in html
    pdf = httpx.get(server + "/projecten/rapport.pdf", timeout=60)
    assert pdf.status_code == 200 and pdf.content[:4] == b"%PDF"


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(390, 844), (1440, 900)])
def test_no_horizontal_scroll(server, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        for path in ("/projecten", "/projecten/hotspotaanpak", "/projecten/sociaal_dashboard"):
            page.goto(server + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    finally:
        page.close()
