"""Issue 10, item 2: no page scrolls sideways, at phone size (390 × 844) and at desktop size (1440 × 900).

The pages are read from the navigation of the running app (and the portal's catalogue), so a page another
pilot adds to the menu later is checked too, without touching this test."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.workbench.conftest import DESKTOP, PHONE, new_page, shoot

pytestmark = pytest.mark.browser

WIDTH = """() => ({doc: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  vw: window.innerWidth,
  culprits: [...document.querySelectorAll('body *')].filter((e) => {
    if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'hidden', 'scroll'].includes(getComputedStyle(a).overflowX)) return false; }
    return true; }).slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)})"""


def pages_to_check(page, server: str) -> list[str]:
    page.goto(server + "/")
    nav = page.eval_on_selector_all("nav.sl-nav a", "as => as.map(a => a.getAttribute('href'))")
    page.goto(server + "/open")
    portal = page.eval_on_selector_all("a[href^='/open/datasets/']", "as => as.map(a => a.getAttribute('href'))")
    portal = list(dict.fromkeys(h.split("#")[0].split("?")[0] for h in portal))[:3]
    extra = ["/datasets/groningen_fietsdiefstal", "/monitor?gebied=WK034406", "/login"]
    return list(dict.fromkeys(h for h in nav + portal + extra if h.startswith("/")))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1440x900"])
def test_no_page_is_wider_than_the_screen(browser, wb_server, viewport):
    page = new_page(browser, viewport, wb_server, user="analist")
    paths = pages_to_check(page, wb_server)
    assert {"/monitor", "/incidenten", "/open", "/docs"} <= set(paths) and len(paths) >= 9
    too_wide = {}
    for path in paths:
        page.goto(wb_server + path)
        try:   # pages that poll (live monitors) never go quiet: give each at most 4 s to draw
            page.wait_for_load_state("networkidle", timeout=4000)
        except PlaywrightTimeout:
            pass
        w = page.evaluate(WIDTH)
        if w["doc"] > w["vw"]:
            too_wide[path] = w
        if path in ("/incidenten", "/open/datasets/groningen_fietsdiefstal", "/monitor"):
            shoot(page, f"breedte_{viewport['width']}_{path.strip('/').replace('/', '_')}")
    page.context.close()
    assert not too_wide, too_wide


def test_incident_filters_fold_away_on_a_phone_and_stay_usable(browser, wb_server):
    page = new_page(browser, PHONE)
    page.goto(wb_server + "/incidenten")
    page.wait_for_function("document.body.dataset.bijgewerkt !== undefined")
    panel = page.locator("#filters-uitklap")
    assert panel.evaluate("d => d.open") is False          # the map comes first on a phone
    page.click("#filters-uitklap summary")
    page.check("input[name=periode][value=jaar]")
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('periode=jaar')")
    header = page.locator(".sl-header").bounding_box()
    assert header["width"] == pytest.approx(390, abs=1)    # the header spans the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
