"""The container monitor in Chromium: it updates live (no reload) when readings arrive, says 'gesimuleerd',
shows the dead letters, and has no horizontal scroll at phone and desktop size."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent / "screenshots"
DS = "denhaag_containervulling"


def test_monitor_updates_live_and_fits_phone_and_desktop(page, stream_ws, token, server_factory):
    server = server_factory("--simulate-sensors", DS)
    server.start()
    page.goto(f"{server.base}/containers?ververs=2")
    page.wait_for_function("Number(document.body.dataset.rondes || 0) >= 1", timeout=30000)
    assert "Gesimuleerd" in page.inner_text("#gesimuleerd")
    before = int(page.evaluate("document.body.dataset.metingen"))
    assert before > 0                                    # the in-process simulator fed the history
    t = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    body = [{"sensor_id": f"DH-{i:05d}", "tijd": t.strftime("%Y-%m-%dT%H:%M:%S.1Z"), "vulgraad": 99.0} for i in range(1, 11)]
    body.append({"sensor_id": "ONBEKEND", "tijd": t.isoformat(), "vulgraad": 5})
    r = httpx.post(f"{server.base}/api/stream/{DS}", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["nieuw"] == 10 and r.json()["afgekeurd"] == 1
    page.wait_for_function(f"Number(document.body.dataset.metingen) >= {before + 10}", timeout=20000)
    page.wait_for_function("document.getElementById('afgekeurd').textContent.trim() === '1'", timeout=20000)
    assert "onbekende sensor" in page.inner_text("#redenen")
    page.click("#bron-overzicht summary")
    assert "GESIMULEERD" in page.inner_text("#bron-overzicht")
    SHOTS.mkdir(exist_ok=True)
    for w, h in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"horizontaal scrollen bij {w}"
        page.screenshot(path=str(SHOTS / f"containers_{w}.png"), full_page=True)
