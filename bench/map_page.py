"""Time until a map page is usable in headless Chromium (issue #4: ≤ 1.5 s).

"Usable" = the map is drawn with its data loaded: the page sets ``data-kaart-klaar`` when MapLibre is
idle after the GeoJSON layers were added, and records ``performance.now()`` at that moment (ms since
navigation start). Measured on a fresh browser context (empty cache) and on a reload (warm cache) for
the Incidentenkaart (Groningen, real data) and the Gebiedsmonitor (Utrecht). Each server starts fresh,
so the first load includes computing the layers. Last line: ``map_page ms=N`` (the worst cold load).
Usage: .venv/bin/python bench/map_page.py [--workspace DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import demo_workspace, running_server  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {"incidentenkaart": "/incidenten", "gebiedsmonitor": "/monitor",
         "monitor wijk": "/monitor?gebied=WK034406"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    worst = 0
    with demo_workspace(args.workspace) as ws, running_server(ws) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, path in PAGES.items():
            cold, warm = [], []
            for _ in range(args.repeat):
                ctx = browser.new_context(viewport={"width": 1366, "height": 900})
                page = ctx.new_page()
                for bucket in (cold, warm):
                    page.goto(base + path) if bucket is cold else page.reload()
                    page.wait_for_function("document.body.dataset.kaartKlaar === '1'", timeout=30_000)
                    bucket.append(int(page.evaluate("document.body.dataset.kaartKlaarMs")))
                ctx.close()
            worst = max(worst, max(cold))
            print(f"{name:16s} cold (empty cache) {min(cold):5d}–{max(cold):5d} ms   warm (reload) "
                  f"{min(warm):5d}–{max(warm):5d} ms")
        browser.close()
    print(f"map_page ms={worst}")


if __name__ == "__main__":
    main()
