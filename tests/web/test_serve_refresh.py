"""The server is the warehouse's one writer: with --refresh-every it reloads a changed source itself,
and a refresh from another shell meanwhile is handed to the server instead of breaking the file."""

from __future__ import annotations

import json
import shutil
import time

import httpx

from tests.conftest import run_cli
from stadslab.web.launch import running_server

DATASET = "utrecht_misdrijven_buurt_2023"
SOURCE = "nl/politie/utrecht_buurt_geregistreerde_misdrijven_totaal_2023.csv"


def _wait(url: str, ok, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = httpx.get(url, timeout=2)
            if last.status_code == 200 and ok(last.json()):
                return last.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url}: condition not met; last answer {last and last.text[:300]}")


def test_server_refreshes_changed_source_and_blocks_other_writers(demo_ws, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_ws, ws)
    with running_server(ws, "--refresh-every", "1") as base:
        url = f"{base}/api/datasets/{DATASET}"
        assert _wait(url, lambda d: True)["versie"] == 1
        # a refresh from another shell is handed to the server, the one writer (issue 10, item 1)
        other = run_cli("refresh", "-w", str(ws), "--json")
        assert json.loads(other.stdout)["via"] == "stadslab serve"
        src = ws / "data" / SOURCE
        lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
        src.write_text("".join(lines[:-1]), encoding="utf-8")        # the holder delivers one buurt less
        got = _wait(url, lambda d: d["versie"] == 2)
        assert got["rijen"] == 110
