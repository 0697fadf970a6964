"""Issue 10, items 3, 12, 13 in the Gebiedsmonitor: the most complete year first, a hint when an indicator is
empty in the chosen year, no promises the data cannot keep, the z column in view, lines over every year, and
comparison with the city, similar areas and chosen reference areas, with ranks and definitions."""

from __future__ import annotations

import httpx
import pytest

from tests.workbench.conftest import DESKTOP, PHONE, READY, new_page, shoot

pytestmark = pytest.mark.browser


def test_default_year_is_the_most_complete_and_computed_from_the_data(wb_server):
    profile = httpx.get(wb_server + "/api/monitor", timeout=60).json()
    per_year = {}
    for y in profile["jaren"]:
        rows = httpx.get(wb_server + f"/api/monitor/tabel?jaar={y}", timeout=60).json()["rijen"]
        per_year[y] = sum(v is not None for r in rows for k, v in r.items() if k not in ("code", "naam", "inwoners")
                          and not k.startswith("z_"))
    assert profile["jaar"] == max(per_year, key=lambda y: (per_year[y], y))
    assert profile["jaar"] == 2023 and per_year[2023] > per_year[2024]   # CBS left 2024's uitkeringen empty


def test_monitor_empty_indicator_points_to_the_year_that_has_it(browser, wb_server):
    page = new_page(browser, DESKTOP)
    page.goto(wb_server + "/monitor?gebied=WK034406&jaar=2024")
    page.wait_for_function(READY)
    assert page.locator("#indicator-melding").is_hidden()
    page.select_option("#indicator", "a_soz_wb")
    hint = page.locator("#indicator-melding")
    assert hint.is_visible() and "2023" in hint.inner_text() and "2024" in hint.inner_text()
    assert "gebied=WK034406" in page.url and "indicator=a_soz_wb" in page.url     # state in the URL
    # indicators CBS published in no year are not offered, and the page says so
    assert page.locator("#indicator option[value=g_ink_pi]").count() == 0
    assert "Gemiddeld inkomen" in page.locator("#nooit-noot").inner_text()
    # the z column is inside its box (it was clipped)
    page.wait_for_selector("#kinderen-tabel tbody tr")
    z = page.locator("#kinderen-tabel thead th").last.bounding_box()
    box = page.locator(".tabel-blok").first.bounding_box()
    assert z["x"] + z["width"] <= box["x"] + box["width"] + 1
    page.click("#wissel-jaar")
    page.wait_for_url("**jaar=2023**")
    page.wait_for_function(READY)
    assert page.locator("#indicator").input_value() == "a_soz_wb"
    assert page.locator("#indicator-melding").is_hidden()
    # lines over every Kerncijfers year the workspace holds, exportable as SVG
    page.wait_for_selector("#grafiek-reeks svg")
    assert "2023, 2024" in page.locator("#grafiek-reeks-titel").inner_text()
    with page.expect_download() as dl:
        page.locator("#grafiek-reeks + .export button[data-export=svg]").click()
    assert dl.value.suggested_filename == "grafiek-reeks.svg"
    page.context.close()


def test_comparison_with_city_similar_and_reference_areas(browser, wb_server):
    page = new_page(browser, PHONE)
    page.goto(wb_server + "/monitor?gebied=WK034406&jaar=2023&ref=WK034401&ref=WK034403")
    page.wait_for_selector("#vergelijking-tabel tbody tr")
    head = page.locator("#vergelijking-tabel thead").inner_text()
    for col in ("Wijk 06 Binnenstad", "Utrecht", "Vergelijkbare gebieden", "Wijk 01 West", "Wijk 03 Overvecht", "Rang"):
        assert col in head
    inw = page.locator("#vergelijking-tabel tr[data-veld=a_inw]").inner_text()
    assert "374.238" not in inw and "367.947" in inw and "van 10" in inw      # city 2023, rank among 10 wijken
    assert page.locator("#vergelijkbaar a").count() == 5
    assert "bevolkingsdichtheid" in page.locator("#vergelijking-methode").inner_text()
    defs = page.locator("#definities").inner_text()
    assert "Bijstandsuitkering" in defs and "a_soz_wb" in defs
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "monitor_vergelijken_390")
    page.context.close()


def test_start_page_promises_only_what_the_monitor_has(browser, wb_server):
    page = new_page(browser, DESKTOP)
    page.goto(wb_server + "/")
    themes = page.locator("#monitor-themas").inner_text().lower()
    assert "uitkeringen" in themes and "inkomen" not in themes and "zorg" not in themes
    ddd = page.locator("li.pilot", has_text="Dynamisch Data Dashboard")     # has no page of its own yet
    assert ddd.get_attribute("data-beschikbaar") == "nee"
    assert ddd.locator("h3 a").count() == 0 and "Nog niet beschikbaar" in ddd.inner_text()
    for tile in page.locator("li.pilot").all():   # every tile: its own page that answers, or says it is not there
        if tile.get_attribute("data-beschikbaar") == "ja":
            href = tile.locator("h3 a").get_attribute("href")
            assert httpx.get(wb_server + href, timeout=60).status_code == 200, href
            assert href != "/incidenten" or "veiligheid" in tile.inner_text()   # no tile borrows another's page
        else:
            assert tile.locator("h3 a").count() == 0 and "Nog niet beschikbaar" in tile.inner_text()
    page.context.close()
