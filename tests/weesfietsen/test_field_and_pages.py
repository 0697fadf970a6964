"""The field page on a phone: a report (also one queued while offline) reaches the warehouse and changes the plan;
the pilot page shows the plan, the evaluation and that everything is simulated."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import httpx
import pytest

from stadslab.analyses.weesfietsen.data import FIELD_PLAN, load, make_plan
from stadslab.analyses.weesfietsen.plan import TeamSettings
from stadslab.analyses.routing import events as route_events
from stadslab.web.launch import running_server
from stadslab.workspace import Workspace

def _login(base: str, user: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=60, follow_redirects=True)
    tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert "Uitloggen" in c.post("/login", data={"gebruiker": user, "wachtwoord": password, "csrf_token": tok,
                                                 "next": "/"}).text
    return c


@pytest.mark.browser
def test_field_report_from_a_phone_reaches_the_warehouse_and_the_next_plan(wf_ws, browser):
    with running_server(wf_ws, ready="/") as base:
        c = _login(base, "wijkmanager", "wijkmanager-demo")
        anon = httpx.get(base + "/weesfietsen/veld", follow_redirects=False)
        assert anon.status_code == 303 and "/login" in anon.headers["location"]
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        ctx.add_cookies([{"name": k, "value": v, "url": base} for k, v in c.cookies.items()])
        page = ctx.new_page()
        page.goto(base + "/weesfietsen/veld")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        labels = page.locator('.wv-stop:has(button[value="gelabeld"])')
        assert labels.count() >= 2
        first, second = labels.nth(0), labels.nth(1)
        ref1, ref2 = first.get_attribute("data-ref"), second.get_attribute("data-ref")
        first.locator('input[name="aantal"]').fill("4")
        first.locator('button[value="gelabeld"]').click()
        page.wait_for_function(f"document.querySelector('[data-ref=\"{ref1}\"] .wv-status').textContent.includes('verstuurd')")
        # a bad connection: the report waits in the queue and goes out when the browser is back online
        ctx.set_offline(True)
        second.locator('input[name="aantal"]').fill("2")
        second.locator('button[value="gelabeld"]').click()
        page.wait_for_function("!document.getElementById('wachtrij').hidden")
        assert "nog niet verstuurd" in page.locator("#wachtrij").text_content()
        ctx.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        page.wait_for_function("document.getElementById('wachtrij').hidden")
        ctx.close()
        # a report that does not fit the stop is refused with a Dutch message, not stored
        tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/weesfietsen/veld").text).group(1)
        meta_version = re.search(r'name="versie" value="(\d+)"', c.get("/weesfietsen/veld").text).group(1)
        bad = c.post("/weesfietsen/veld/melding", headers={"Accept": "application/json"},
                     data={"csrf_token": tok, "stop": ref1, "status": "verwijderd", "aantal": "1", "versie": meta_version,
                           "ploeg": "ploeg A", "dag": "2024-01-01"})
        assert 400 <= bad.status_code < 500
    ws = Workspace.resolve(wf_ws)
    with ws.warehouse() as wh:
        ev = route_events.events(wh, FIELD_PLAN)
        got = {r.stop_id: int(r.count) for r in ev.itertuples()}
        assert got == {ref1: 4, ref2: 2}
        loc = ref1.split(":")[1]
        acties = load(wh)["acties"]
        new = acties[(acties["locatie"] == loc) & acties["datum_gecontroleerd"].isna()]
        assert len(new) == 1 and int(new["aantal_gelabeld"].iloc[0]) == 4
        labelled_on = new["datum_gelabeld"].iloc[0]
        # four weeks later the plan visits it again: the re-check of the label placed from the phone
        monday = labelled_on + timedelta(days=28 - labelled_on.weekday())
        plan, _ = make_plan(wh, monday, TeamSettings(seconds_per_day=0.5))
        refs = {(s.locatie, s.label_date) for s in plan.stops if s.kind == "hercontrole"}
        explained = {(n["locatie"], date.fromisoformat(n["gelabeld"])) for n in plan.not_scheduled}
        assert (loc, labelled_on) in refs | explained


def test_pilot_page_shows_plan_reasons_and_simulation(wf_ws):
    with running_server(wf_ws, ready="/") as base:
        assert httpx.get(base + "/weesfietsen", follow_redirects=False).status_code == 303   # intern: log in
        c = _login(base, "analist", "analist-demo")
        html = c.get("/weesfietsen").text
        assert "Gesimuleerde gegevens" in html and "Weekplan" in html
        assert "hercontrole:" in html and "labelen: verwacht" in html
        assert "Hercontrolekalender" in html
