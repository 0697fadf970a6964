"""CLI ``stadslab route plan`` and the driver's phone page: a "geleegd" tapped in Chromium at 390 × 844
reaches the warehouse (route.stop_events) through the server, CSRF- and role-checked."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from stadslab.analyses.routing import events as route_events
from stadslab.web.launch import running_server
from stadslab.workspace import Workspace
from tests.routing.conftest import PASSWORDS

SHOTS = Path(__file__).parent / "screenshots"


def test_cli_plan_json(planned_ws):
    _, out = planned_ws
    assert out["gesimuleerd"] is True and out["resultaat"].startswith("results.containerplan__")
    assert out["geleegd_gepland"] > 0 and out["routes"]
    # Every route ends with an unload at one of the two dumps.
    assert all(r["stortritten"][-1] in ("stort_zonweg", "stort_kerketuinenweg") for r in out["routes"])
    assert sum(len(r["stops"]) for r in out["routes"]) == out["geleegd_gepland"]


def _login(client: httpx.Client, user: str) -> None:
    tok = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"gebruiker": user, "wachtwoord": PASSWORDS[user], "csrf_token": tok, "next": "/"})
    assert r.status_code == 303


@pytest.mark.browser
def test_driver_marks_geleegd_on_a_phone(planned_ws, page):
    ws, out = planned_ws
    first_stop = out["routes"][0]["stops"][0]
    with running_server(ws, ready="/containers/plan") as base:
        # Refusals first: no CSRF token, and a user without the role.
        with httpx.Client(base_url=base, timeout=30) as c:
            _login(c, "privacy")
            html = c.get("/containers/route/1").text
            assert "rt-knoppen" not in html and "rol chauffeur nodig" in html, "zonder rol geen knoppen"
            tok = re.search(r'name="csrf_token" value="([^"]+)"', html)
            data = {"stop": first_stop, "status": "geleegd", "versie": "1"}
            assert c.post("/containers/route/1/stop", data=data).status_code == 403            # no CSRF
            r = c.post("/containers/route/1/stop", data={**data, "csrf_token": tok.group(1) if tok else ""})
            assert r.status_code == 403

        plan_html = httpx.get(base + "/containers/plan").text        # public: plan summary + evaluation
        assert "Vast weekschema" in plan_html and "Sensorgestuurd" in plan_html and "gesimuleerd" in plan_html
        assert "/containers/route/1" in plan_html and 'id="evaluatie-tabel"' in plan_html
        page.goto(f"{base}/login")
        page.fill("#gebruiker", "chauffeur")
        page.fill("#wachtwoord", PASSWORDS["chauffeur"])
        page.click("form.formulier button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/containers/route/1")
        page.wait_for_selector("#rt-kaart canvas")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontaal scrollen"
        assert "gesimuleerd" in page.locator(".rt-kop").inner_text()
        stop = page.locator(f"#stop-{first_stop}")
        stop.get_by_role("button", name="Geleegd").click()
        page.wait_for_function(f"document.querySelector('#stop-{first_stop} .rt-status').textContent.includes('opgeslagen')")
        assert "rt-stop--geleegd" in stop.get_attribute("class")
        assert page.locator("#voortgang").inner_text().startswith("1 van")
        page.screenshot(path=str(SHOTS / "driver_390.png"), full_page=False)
        # Reload: the status comes back from the server.
        page.reload()
        assert "geleegd om" in page.locator(f"#stop-{first_stop} .rt-status").inner_text()
        page.goto(f"{base}/containers/route/1/blad")
        assert page.locator("#routeblad tbody tr").count() >= len(out["routes"][0]["stops"])
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(f"{base}/containers/plan")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(SHOTS / "plan_1440.png"), full_page=True)
    # After the server stopped: the event is in the warehouse.
    with Workspace.resolve(str(ws)).warehouse(read_only=True) as wh:
        ev = route_events.events(wh)
        last = route_events.last_done(wh, "geleegd")
    row = ev[ev["stop_id"] == first_stop].iloc[-1]
    assert row["status"] == "geleegd" and row["gebruiker"] == "chauffeur" and row["vehicle"] == "Wagen 1"
    assert first_stop in last.index
    assert len(ev) == 1, "de geweigerde pogingen schreven niets"
