"""Playwright in Chromium: search the catalogue, open a dataset, filter its preview, download the CSV."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.portal.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def shots_dir():
    SCREENSHOTS.mkdir(exist_ok=True)


def test_search_open_filter_download(page, live, state, tmp_path):
    truth = state.warehouse().table("meldingen_openbare_ruimte").to_pandas()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/open")
    page.screenshot(path=SCREENSHOTS / "catalogus.png", full_page=True)

    page.keyboard.press("Tab")                          # the first stop is the skip link, then the content
    assert page.evaluate("document.activeElement.textContent") == "Direct naar de inhoud"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhoud"
    search = page.get_by_label("Zoek in de catalogus")
    search.fill("meldingen")
    search.press("Enter")                               # keyboard, no mouse
    page.wait_for_url(re.compile(r"/open\?q=meldingen"))
    assert page.locator("#aantal-resultaten").inner_text().startswith("1 dataset")
    page.screenshot(path=SCREENSHOTS / "zoekresultaat.png", full_page=True)

    page.get_by_role("link", name="Meldingen openbare ruimte (test)").click()
    page.wait_for_url(re.compile(r"/open/datasets/meldingen_openbare_ruimte$"))
    assert page.locator("h1").inner_text() == "Meldingen openbare ruimte (test)"
    assert page.locator("#voorbeeld-aantal strong").inner_text() == f"{len(truth):,}".replace(",", ".")

    page.get_by_label("categorie").select_option("groen")
    page.get_by_label("status").select_option("open")
    page.get_by_role("button", name="Toepassen").click()
    page.wait_for_url(re.compile(r"f\.categorie=groen"))
    want = int(((truth.categorie == "groen") & (truth.status == "open")).sum())
    assert page.locator("#voorbeeld-aantal strong").inner_text() == str(want)
    cells = page.locator("table.voorbeeld tbody tr td:nth-child(3)").all_inner_texts()
    assert cells and set(cells) == {"groen"}
    if page.locator("#kaart").count():
        try:   # MapLibre comes from the web app's static folder; without it the page says so
            page.wait_for_selector("#kaart[data-geladen]", timeout=8000)
            assert int(page.locator("#kaart").get_attribute("data-geladen")) == want
        except Exception:
            assert page.locator("#kaart-melding").is_visible()
    page.screenshot(path=SCREENSHOTS / "dataset-gefilterd.png", full_page=True)

    with page.expect_download() as dl:
        page.get_by_role("link", name="Download deze selectie als CSV").click()
    selection = pd.read_csv(dl.value.path())
    assert len(selection) == want and set(selection.categorie) == {"groen"}

    with page.expect_download() as dl:
        page.get_by_role("link", name="meldingen_openbare_ruimte.csv", exact=True).click()
    assert dl.value.suggested_filename.startswith("meldingen_openbare_ruimte-v")
    full = pd.read_csv(dl.value.path())
    assert len(full) == len(truth)


def test_publication_page_explains_the_gate(page, live):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/open/datasets/hulp_per_wijk")
    text = page.locator("#herkomst-kop + p + p").inner_text()
    assert "geen cel onder de 15" in text
    assert re.search(r"; [1-9]\d* cellen zijn", text)
    page.screenshot(path=SCREENSHOTS / "publicatie.png", full_page=True)
    page.get_by_label("suppressed").select_option("onderdrukt")
    page.get_by_role("button", name="Toepassen").click()
    page.wait_for_url(re.compile(r"f\.suppressed=onderdrukt"))
    n_cells = page.locator("table.voorbeeld tbody tr td:nth-child(3)").all_inner_texts()
    assert n_cells and set(n_cells) == {"onderdrukt"}          # the count column is empty: nothing below 15 shows
    page.goto(f"{live.url}/open/datasets/buurten_2024")
    try:
        page.wait_for_selector("#kaart[data-geladen]", timeout=8000)
        assert page.locator("#kaart").get_attribute("data-geladen") == "111"
    except Exception:
        assert page.locator("#kaart-melding").is_visible()
    page.locator("#kaart-kop").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "gebieden-kaart.png", full_page=False)
