"""The dashboard in a real browser (Playwright, Debian Chromium) on a phone (390 × 844) and a desktop
(1440 × 900): no horizontal scroll, suppressed cells read "onderdrukt", the effect panel is there, the map
and the trend chart draw, everything is marked GESIMULEERD."""

from __future__ import annotations

from tests.sociaal_web.conftest import PASSWORDS, SCREENSHOTS


def test_dashboard_on_phone_and_desktop(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{server}/login")
        page.fill("#gebruiker", "analist")
        page.fill("#wachtwoord", PASSWORDS["analist"])
        page.click("form.formulier button[type=submit]")
        page.wait_for_url(f"{server}/")
        with page.expect_navigation():          # the werkdoel form submits itself on change
            page.select_option("#werkdoel", "sociaal_domein")
        for width, height in ((390, 844), (1440, 900)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server}/sociaal?niveau=wijk_code")
            assert page.locator("h1").inner_text().startswith("Dashboard sociaal domein")
            assert page.locator("#sim-melding").is_visible() and "GESIMULEERD" in page.locator("#sim-melding").inner_text()
            assert page.locator("#profiel-tabel .onderdrukt").first.is_visible()
            assert page.locator("#effect-paneel").is_visible()
            assert page.locator("#effect-schatting").is_visible() and page.locator("#effect-naief").is_visible()
            assert "oorzaak" in page.locator("#effect-voorbehoud").inner_text()
            assert page.locator("#wat-mag-u-zien").is_visible()
            page.wait_for_function("document.body.dataset.kaartKlaar === '1'", timeout=20_000)
            page.wait_for_selector("#grafiek-trend svg", timeout=20_000)
            wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wide <= 0, f"{width} × {height}: horizontaal scrollen, {wide}px te breed"
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"sociaal_{width}x{height}.png"), full_page=True)
        for width, height in ((1440, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server}/sociaal/governance")
            assert page.locator("#bronnen-tabel").is_visible()
            wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wide <= 0, f"governance {width} × {height}: {wide}px te breed"
            page.screenshot(path=str(SCREENSHOTS / f"sociaal_governance_{width}x{height}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_buurtteam_sees_its_own_wijk_on_a_phone(browser, server, users):
    """A partner's page: the buurten of its own wijk on the map and in the table, nothing else."""
    own = users["buurtteam"]["scope"]["wijk_code"]
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    page = context.new_page()
    try:
        page.goto(f"{server}/login")
        page.fill("#gebruiker", "buurtteam")
        page.fill("#wachtwoord", PASSWORDS["buurtteam"])
        page.click("form.formulier button[type=submit]")
        page.wait_for_url(f"{server}/")
        page.goto(f"{server}/sociaal")
        codes = page.eval_on_selector_all("#profiel-tabel tbody th .klein", "es => es.map(e => e.textContent.trim())")
        assert codes and all(c.startswith("BU" + own[2:8]) for c in codes), codes
        assert own in page.locator("#wat-mag-u-zien").inner_text()
        page.wait_for_function("document.body.dataset.kaartKlaar === '1'", timeout=20_000)
        shown = page.evaluate("window.__stadslabMap.querySourceFeatures('profiel').map(f => f.properties.code)")
        assert shown and all(c.startswith("BU" + own[2:8]) for c in shown), shown
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        page.screenshot(path=str(SCREENSHOTS / "sociaal_buurtteam_390x844.png"), full_page=True)
    finally:
        context.close()
