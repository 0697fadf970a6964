"""Issue 10, items 10 and 14: user-defined signals stored in the workspace, shown after login and in an Atom feed
that parses as XML; /docs in Dutch with a way back; Dutch field types; a dataset page at phone size."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import httpx
import pytest

from tests.workbench.conftest import DESKTOP, new_page

pytestmark = pytest.mark.browser
ATOM = "{http://www.w3.org/2005/Atom}"


def test_signals_fire_show_at_login_and_in_the_atom_feed(browser, wb_server, wb_ws):
    page = new_page(browser, DESKTOP, wb_server, user="analist")
    page.goto(wb_server + "/signalen")
    page.select_option("#hs-dataset", "groningen_fietsdiefstal")
    page.click("#hotspot-form button[type=submit]")
    page.wait_for_url("**/signalen")
    page.select_option("#dr-gebied", "WK034406")
    page.select_option("#dr-indicator", "a_15_24")
    page.select_option("#dr-richting", "boven")
    page.fill("#dr-waarde", "150,5")
    page.click("#drempel-form button[type=submit]")
    page.wait_for_url("**/signalen")
    stored = json.loads((wb_ws / "signalen.json").read_text(encoding="utf-8"))["signalen"]
    assert [r["soort"] for r in stored] == ["hotspot", "drempel"] and stored[1]["waarde"] == 150.5
    active = page.locator("#actieve-signalen").inner_text()
    assert "hotspot" in active and "15 tot 25 jaar boven 150,5" in active    # Binnenstad: 185,5 per 1.000
    page.click("text=Uitloggen")
    page.goto(wb_server + "/login")
    page.fill("#gebruiker", "analist")
    page.fill("#wachtwoord", "analist-demo")
    page.click("form.formulier button[type=submit]")
    page.wait_for_url(wb_server + "/")
    assert page.locator("#meldingen li").count() >= 2                     # shown at login
    page.context.close()

    r = httpx.get(wb_server + "/alerts.atom", timeout=60)                  # no login: open data only
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{tag}") is not None and feed.find(f"{ATOM}{tag}").text
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) >= 2
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids)
    for e in entries:
        assert e.find(f"{ATOM}title").text and e.find(f"{ATOM}link").get("href").startswith("http")
        assert e.find(f"{ATOM}updated").text[:4].isdigit()


def test_docs_page_is_dutch_has_a_way_back_and_dark_text(browser, wb_server):
    page = new_page(browser, DESKTOP)
    page.goto(wb_server + "/docs")
    assert page.evaluate("document.documentElement.lang") == "nl"
    page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)
    back = page.locator("nav.sl-terug a", has_text="Terug naar Stadslab")
    assert back.get_attribute("href") == "/"
    colour = page.evaluate("getComputedStyle(document.querySelector('.swagger-ui .opblock-tag')).color")
    assert colour == "rgb(26, 26, 26)"
    back.click()
    page.wait_for_url(wb_server + "/")
    page.goto(wb_server + "/datasets/groningen_fietsdiefstal")
    assert "Groningen" in page.locator(".sl-logo").inner_text()     # the data's municipality, not the workspace's
    types = page.locator("section[aria-labelledby=velden] tbody td:nth-child(2)").all_inner_texts()
    assert "tekst" in types and "datum en tijd" in types and "string" not in types
    page.context.close()
