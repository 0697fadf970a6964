"""HTML → PDF with headless Chromium through Playwright (the briefing pack).

The HTML is self-contained (inline CSS, inline SVG map), so Chromium needs no network and no server
round trip: ``page.set_content`` + ``page.pdf``. Chromium is Debian's (``/usr/bin/chromium``) unless
``STADSLAB_CHROMIUM`` names another; ``playwright install`` cannot download on these machines.
"""

from __future__ import annotations

import os
import shutil
import threading

from stadslab.errors import StadslabError

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_LOCK = threading.Semaphore(2)  # at most two Chromiums at once on a small server


def chromium_path() -> str | None:
    env = os.environ.get("STADSLAB_CHROMIUM")
    if env:
        return env
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


def html_to_pdf(html: str, *, title: str = "Stadslab") -> bytes:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise StadslabError("PDF maken kan niet: het pakket 'playwright' ontbreekt",
                            hint="installeer het (pip install playwright) of gebruik Afdrukken → PDF in de browser") from None
    with _LOCK:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.set_content(html, wait_until="load")
                    page.emulate_media(media="print")
                    return page.pdf(format="A4", print_background=True, display_header_footer=True,
                                    margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"},
                                    header_template="<span></span>",
                                    footer_template='<div style="font-size:8px;width:100%;text-align:center;'
                                                    f'color:#555">{title} — pagina <span class="pageNumber"></span>'
                                                    ' van <span class="totalPages"></span></div>')
                finally:
                    browser.close()
        except PlaywrightError as exc:
            raise StadslabError(f"PDF maken mislukte in Chromium: {exc}",
                                hint="is Chromium geïnstalleerd (apt-get install chromium)? "
                                     "Of gebruik Afdrukken → PDF in de browser") from None
