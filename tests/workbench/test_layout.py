"""Issue 10, item 2: no page scrolls sideways, at phone size (390 × 844) and at desktop size (1440 × 900).

One test per page, parametrised over the app's navigation (``templating.NAV``, so a page another pilot adds to
the menu later is checked too, without touching this test), the portal's pages and a few deep pages. Each page is
loaded once at 390 px and then widened to 1440 px in the same tab (CSS re-lays out; half the page loads)."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stadslab.web.templating import NAV
from tests.workbench.conftest import DESKTOP, PHONE, new_page, shoot

pytestmark = pytest.mark.browser

PORTAL = ["/open", "/open/datasets/groningen_fietsdiefstal", "/open/datasets/cbs_kwb_utrecht_2023"]
DEEP = ["/datasets/groningen_fietsdiefstal", "/monitor?gebied=WK034406", "/login", "/signalen"]
PAGES = list(dict.fromkeys([href for href, _ in NAV] + PORTAL + DEEP))
SHOTS = {"/incidenten", "/monitor", "/open/datasets/groningen_fietsdiefstal", "/"}

WIDTH = """() => ({doc: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
  vw: window.innerWidth,
  culprits: [...document.querySelectorAll('body *')].filter((e) => {
    if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (['auto', 'hidden', 'scroll'].includes(getComputedStyle(a).overflowX)) return false; }
    return true; }).slice(0, 3).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)})"""


@pytest.fixture(scope="module")
def tab(browser, wb_server):
    page = new_page(browser, PHONE, wb_server, user="analist")   # logged in: the most content
    yield page
    page.context.close()


def test_every_menu_link_is_checked(tab, wb_server):
    tab.set_viewport_size(PHONE)
    tab.goto(wb_server + "/")
    shown = tab.eval_on_selector_all("nav.sl-nav a", "as => as.map(a => a.getAttribute('href'))")
    assert set(shown) <= set(PAGES), set(shown) - set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_page_is_not_wider_than_phone_or_desktop(tab, wb_server, path):
    tab.set_viewport_size(PHONE)
    resp = tab.goto(wb_server + path, wait_until="load")
    assert resp.status < 500, resp.status
    try:   # pages that poll (live monitors) never go quiet: give each at most 1,5 s more to draw
        tab.wait_for_load_state("networkidle", timeout=1500)
    except PlaywrightTimeout:
        pass
    too_wide = {}
    for size in (PHONE, DESKTOP):
        tab.set_viewport_size(size)
        tab.wait_for_timeout(150)
        w = tab.evaluate(WIDTH)
        if w["doc"] > w["vw"]:
            too_wide[size["width"]] = w
        if path in SHOTS:
            shoot(tab, f"breedte_{size['width']}_{path.strip('/').replace('/', '_') or 'start'}")
    assert not too_wide, too_wide


def test_incident_filters_fold_away_on_a_phone_and_stay_usable(browser, wb_server):
    page = new_page(browser, PHONE)
    page.goto(wb_server + "/incidenten")
    page.wait_for_function("document.body.dataset.bijgewerkt !== undefined")
    panel = page.locator("#filters-uitklap")
    assert panel.evaluate("d => d.open") is False          # the map comes first on a phone
    page.click("#filters-uitklap summary")
    page.check("input[name=periode][value=kwartaal]")
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('periode=kwartaal')")
    header = page.locator(".sl-header").bounding_box()
    assert header["width"] == pytest.approx(390, abs=1)    # the header spans the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
