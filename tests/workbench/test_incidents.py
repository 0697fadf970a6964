"""Issue 10, items 5, 7, 11, 12, 14 on the Incidentenkaart (Groningen's open fietsdiefstal data): defaults the page
itself calls reliable, a readable hotspot figure, a heat legend, the data's municipality in the header, the shared
map's outlines/search/highlight/base-layer fallback, trends with a time slider, state in the URL, PNG/SVG export."""

from __future__ import annotations

import re

import httpx

import pytest

from tests.workbench.conftest import DESKTOP, new_page, shoot

pytestmark = pytest.mark.browser
UPDATED = "document.body.dataset.bijgewerkt !== undefined"


@pytest.fixture(scope="module")
def page(browser, wb_server):
    p = new_page(browser, DESKTOP, wb_server, user="analist")   # streets are searchable for staff only
    p.goto(wb_server + "/incidenten")
    p.wait_for_function(UPDATED)
    yield p
    p.context.close()


def test_default_view_is_one_the_page_calls_reliable(page):
    chosen = page.locator("input[name=periode]:checked").get_attribute("value")
    assert chosen == "jaar"                       # 28 days and a quarter are too sparse for Groningen's cells
    assert page.locator("#noot-raster").is_hidden()   # so no "unreliable" warning at the default
    assert "laatste jaar" in page.locator("#standaard-noot").inner_text()
    assert page.locator("#hotspots").inner_text().endswith("buurten")
    assert "vakken van 125 m" in page.locator("#hotspots-sub").inner_text()
    page.check("input[name=periode][value='28d']")     # the short period still warns
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('periode=28d')")
    assert page.locator("#noot-raster").is_visible()
    assert "indicatief" in page.locator("#hotspots-sub").inner_text()


def test_header_names_the_municipality_of_the_data_and_controls_are_dutch(page):
    assert "Groningen" in page.locator(".sl-logo").inner_text()
    assert "Groningen" in page.title()
    assert page.locator("button.maplibregl-ctrl-zoom-in").get_attribute("title") == "Inzoomen"
    assert re.search(r"\d\d-\d\d-2017 t/m \d\d-\d\d-2017", page.locator("#periode-tekst").inner_text())  # not ISO


def test_heat_legend_and_layer_state_in_the_url(page, wb_server):
    page.check("#laag-warmte")
    page.check("input[name=kleur][value=geen]")
    assert page.locator(".warmte-legenda").is_visible()
    assert "lagen=punten,warmte" in page.url and "kleur=geen" in page.url
    url = page.url
    page.goto(url)                                            # a bookmark restores the view
    page.wait_for_function(UPDATED)
    assert page.locator("#laag-warmte").is_checked() and page.locator("input[name=kleur][value=geen]").is_checked()
    assert page.locator("input[name=periode][value='28d']").is_checked()


def test_map_has_outlines_names_search_and_highlight_offline(page):
    page.wait_for_function("document.querySelector('#kaart').dataset.achtergrond !== undefined", timeout=15_000)
    kaart = page.locator("#kaart")
    assert kaart.get_attribute("data-achtergrond") == "grenzen"       # tests run offline: named outlines instead
    assert int(kaart.get_attribute("data-omtrek")) >= 15
    assert page.locator(".kaartlabel--wijk").count() >= 5
    assert "wijk- en buurtgrenzen" in page.locator(".kaart-attributie").inner_text()
    page.fill("#kaart-zoek", "Herestr")
    page.wait_for_selector("#kaart-zoek-lijst li")
    assert "straat" in page.locator("#kaart-zoek-lijst li").first.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#kaart').dataset.gekozen === 'Herestraat'")
    page.fill("#kaart-zoek", "Oosterpoort")
    page.wait_for_selector("#kaart-zoek-lijst li")
    page.locator("#kaart-zoek-lijst li", has_text="buurt").first.dispatch_event("mousedown")
    page.wait_for_function("(document.querySelector('#kaart').dataset.gekozen || '').includes('Oosterpoort')")
    n = page.evaluate("window.__stadslabMap.getSource('sl-selectie').serialize().data.geometry.coordinates.length")
    assert n >= 1
    top = page.evaluate("window.__stadslabMap.getStyle().layers.slice(-1)[0].id")
    assert top == "sl-selectie"                     # the chosen area is drawn over the page's layers
    anon = httpx.get(page.url.split("/incidenten")[0] + "/api/kaart/zoek?q=Herestr", timeout=30).json()["treffers"]
    assert not [h for h in anon if h["soort"] == "straat"]   # the catalog leaves the street out for the public
    with page.expect_download() as dl:
        page.click("button[data-export=kaart]")
    assert dl.value.suggested_filename == "kaart.png"
    shoot(page, "incidenten_zoek_1440")


def test_trends_per_month_and_week_against_earlier_years_and_the_country(page):
    page.wait_for_selector("#grafiek-trend svg")
    legend = page.locator("#grafiek-trend svg").text_content()
    assert all(y in legend for y in ("2013", "2014", "2015", "2016", "2017"))
    page.wait_for_selector("#grafiek-nederland svg")
    title = page.locator("#grafiek-nederland-titel").inner_text()
    assert "Nederland" in title and "fietsen" in title and "r = " in title
    page.check("input[name=korrel][value=week]")
    page.wait_for_function("document.body.dataset.trend === 'week'")
    assert "korrel=week" in page.url
    with page.expect_download() as dl:
        page.locator("#grafiek-trend + .export button[data-export=png]").click()
    assert dl.value.suggested_filename == "grafiek-trend.png"


def test_time_slider_walks_month_by_month(page):
    slider = page.locator("#tijdschuif")
    slider.evaluate("el => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('van=2013-01-01')")
    assert page.locator("#tijdschuif-tekst").inner_text() == "jan 2013"
    total = int(page.locator("#totaal").inner_text().replace(".", ""))
    assert total == 310                           # January 2013 in the trend table (same data, same filters)
    assert "periode=aangepast" in page.url and "tot=2013-01-31" in page.url
