"""The pages in Chromium (Playwright): what a wijkmanager or handhaver actually does. Screenshots of every
main page land in tests/web/screenshots/."""

from __future__ import annotations

import re

import httpx
import pytest
from shapely.geometry import shape

from tests.web.conftest import browser_login

pytestmark = pytest.mark.browser
READY = "document.body.dataset.kaartKlaar === '1'"


def click_area(page, server: str, geojson_url: str, code: str) -> None:
    """Click the map inside the polygon of ``code`` (a point guaranteed inside it, projected by MapLibre)."""
    fc = httpx.get(server + geojson_url).json()
    feat = next(f for f in fc["features"] if f["properties"]["code"] == code)
    pt = shape(feat["geometry"]).representative_point()
    page.locator("#kaart").scroll_into_view_if_needed()
    x, y = page.evaluate("""([lon, lat]) => { const m = window.__stadslabMap; const p = m.project([lon, lat]);
        const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""", [pt.x, pt.y])
    page.mouse.click(x, y)


def test_start_page_lists_the_datasets_and_pilots(page, server, shot):
    page.goto(server + "/")
    rows = page.locator("#datasets-tabel tbody tr")
    assert rows.count() >= 19
    assert page.locator("#datasets-tabel", has_text="Fietsdiefstallen stad Groningen").count() == 1
    assert page.get_by_role("heading", name="Pilots").is_visible()
    assert "sociaal_uitkeringen" not in page.content()
    page.keyboard.press("Tab")   # keyboard users get the skip link first
    assert page.evaluate("document.activeElement.className") == "skiplink"
    shot("01_start")
    page.goto(server + "/login")
    shot("02_login")


def test_monitor_drills_gemeente_wijk_buurt_by_clicking_the_map(page, server, shot):
    page.goto(server + "/monitor?jaar=2024")   # the default is the most complete year (2023), issue 10 item 3
    page.wait_for_function(READY)
    assert page.locator("#inwoners").inner_text() == "374.238"
    page.click("#bron-kaart summary")                 # provenance of the map: dataset, version, file hash
    bron = page.locator("#bron-kaart").inner_text()
    assert "cbs_kwb_utrecht_2024" in bron and "versie 1" in bron and "sha256" in bron
    page.wait_for_selector("#grafiek-leeftijd svg")
    shot("03_monitor_gemeente")
    click_area(page, server, "/api/monitor/kaart.geojson?jaar=2024", "WK034406")
    page.wait_for_url(re.compile(r"gebied=WK034406"))
    page.wait_for_function(READY)
    assert "Binnenstad" in page.locator("h1").inner_text()
    assert page.locator("#kruimelpad", has_text="Utrecht").count() == 1
    page.wait_for_selector("#grafiek-leeftijd svg")
    shot("04_monitor_wijk")
    buurten = httpx.get(server + "/api/monitor/kaart.geojson?gebied=WK034406&jaar=2024").json()["features"]
    target = buurten[0]["properties"]
    click_area(page, server, "/api/monitor/kaart.geojson?gebied=WK034406&jaar=2024", target["code"])
    page.wait_for_url(re.compile(f"gebied={target['code']}"))
    page.wait_for_function(READY)
    assert target["naam"] in page.locator("h1").inner_text()
    assert page.locator("#kruimelpad a", has_text="Binnenstad").count() == 1
    page.wait_for_selector("#grafiek-leeftijd svg")
    shot("05_monitor_buurt")
    # the same drill-down without a mouse: the table links
    page.goto(server + "/monitor?jaar=2023")
    page.focus("#kinderen-tabel tbody a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"gebied=WK034401"))
    # switching the indicator recolours without a reload
    page.wait_for_function(READY)
    page.select_option("#indicator", "a_soz_wb")
    assert "Bijstandsuitkering" in page.locator("#legenda").inner_text()
    page.wait_for_selector("#grafiek-kinderen svg")
    shot("06_monitor_wijk_bijstand_2023")


def test_incident_filters_update_map_and_table_and_hotspots_show(page, server, shot):
    page.goto(server + "/incidenten?dataset=utrecht_incidenten_test&periode=28d")  # default: a reliable period
    page.wait_for_function("document.body.dataset.bijgewerkt !== undefined")
    before = int(page.locator("#totaal").inner_text().replace(".", ""))
    first_before = page.locator("#buurten-tabel tbody tr").first.inner_text()
    page.check("input[name=periode][value=kwartaal]")
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('periode=kwartaal')")
    quarter = int(page.locator("#totaal").inner_text().replace(".", ""))
    assert quarter > before
    page.check("input[name=soort][value=autokraak]")
    page.wait_for_function("(document.body.dataset.bijgewerkt || '').includes('soort=autokraak')")
    only = int(page.locator("#totaal").inner_text().replace(".", ""))
    assert 0 < only < quarter
    points = page.evaluate("window.__stadslabMap.getSource('punten').serialize().data.features")
    assert len(points) == only and {p["properties"]["soort"] for p in points} == {"autokraak"}
    table_sum = page.evaluate("""[...document.querySelectorAll('#buurten-tabel tbody tr td:nth-child(3)')]
        .reduce((s, td) => s + parseInt(td.textContent.replace(/\\./g, '')), 0)""")
    assert table_sum == only
    assert page.locator("#buurten-tabel tbody tr").first.inner_text() != first_before
    assert "soort=autokraak" in page.url          # the view can be shared as a link
    page.uncheck("input[name=soort][value=autokraak]")
    page.wait_for_function("!(document.body.dataset.bijgewerkt || '').includes('soort=autokraak')")
    page.wait_for_function(READY)
    page.evaluate("new Promise(r => { const m = window.__stadslabMap; m.once('idle', r); m.triggerRepaint(); })")
    hot = page.evaluate("window.__stadslabMap.queryRenderedFeatures({layers: ['raster-hot']}).length")
    assert hot > 0
    assert page.locator("#bron-kaart details summary").inner_text() == "Bron"
    page.click("#bron-kaart details summary")
    assert "utrecht_incidenten_test" in page.locator("#bron-kaart").inner_text()
    page.wait_for_selector("#grafiek-dag svg")
    shot("07_incidenten_utrecht_kwartaal")
    page.check("#laag-warmte")
    page.check("input[name=kleur][value=per_1000]")
    assert "per 1.000 inwoners" in page.locator("#legenda").inner_text()
    shot("08_incidenten_warmte_per_1000")
    page.goto(server + "/incidenten")
    page.wait_for_function(READY)
    page.wait_for_selector("#grafiek-dag svg")
    shot("09_incidenten_groningen")


def test_overleg_actions_briefing_and_pdf_download(page, server, shot, tmp_path):
    browser_login(page, server, "analist")
    page.goto(server + "/overleg?dataset=utrecht_incidenten_test&periode=28d")
    page.select_option("#gebied", "WK034403")
    page.fill("#actie", "Extra surveillance Overvecht")
    page.fill("#team", "flexteam")
    page.fill("#datum", "2024-12-10")
    page.click("#actie-form button[type=submit]")
    page.wait_for_url(re.compile(r"/overleg\?"))
    assert page.locator("#acties-tabel", has_text="Extra surveillance Overvecht").count() == 1
    shot("10_overleg")
    page.click("#maak-briefing")
    page.wait_for_url(re.compile(r"/overleg/briefing"))
    assert page.locator("h1").inner_text().startswith("Briefing")
    assert page.locator("svg.printkaart").count() == 1
    shot("11_briefing")
    page.go_back()
    with page.expect_download(timeout=30_000) as dl:
        page.click("#download-pdf")
    path = tmp_path / "briefing.pdf"
    dl.value.save_as(path)
    assert path.read_bytes()[:4] == b"%PDF"


def test_user_without_rights_sees_neither_page_nor_api_of_a_restricted_dataset(page, server, shot):
    page.goto(server + "/datasets/sociaal_uitkeringen")
    assert page.locator("h1").inner_text() == "Inloggen nodig"
    browser_login(page, server, "wijkmanager")
    assert page.locator("#datasets-tabel", has_text="Uitkeringen").count() == 0
    resp = page.goto(server + "/datasets/sociaal_uitkeringen")
    assert resp.status == 403 and page.locator("h1").inner_text() == "Geen toegang"
    assert "pseudo_id" not in page.content()
    shot("12_geen_toegang")
    api = page.request.get(server + "/api/datasets/sociaal_uitkeringen")
    assert api.status == 403
    page.click("text=Uitloggen")
    page.wait_for_url(server + "/")
    assert page.locator("a", has_text="Inloggen").count() >= 1
    browser_login(page, server, "analist")
    with page.expect_navigation():                        # the select submits its form
        page.select_option("#werkdoel", "sociaal_domein")  # doelbinding: read social data for that werkdoel
    page.goto(server + "/datasets/sociaal_uitkeringen")
    assert page.locator("#per-wijk-tabel tbody tr").count() >= 10
    shot("13_dataset_persoonsgegevens_analist")


def test_api_docs_render_offline(page, server, shot):
    page.goto(server + "/docs")
    page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)
    assert page.locator(".swagger-ui", has_text="incidenten").count() >= 1
    shot("14_api_docs")
