"""Issue 10, item 1: the tour's read commands work while ``stadslab serve`` runs on the same workspace,
and a CLI refresh is handed to the server — without the user knowing about locks. A real server
(stadslab/web/launch.py) and the real CLI in subprocesses."""

from __future__ import annotations

import json
import os
import stat

import httpx

from stadslab.web.launch import running_server
from tests.conftest import run_cli


def test_status_query_versions_aggregate_and_refresh_while_serving(demo_ws):
    announce = demo_ws / ".stadslab-serve.json"
    with running_server(demo_ws) as base:
        assert stat.S_IMODE(announce.stat().st_mode) == 0o600
        status = {r["id"]: r for r in json.loads(run_cli("status", "-w", str(demo_ws), "--json").stdout)}
        assert status["groningen_fietsdiefstal"]["rows"] == 15947 and status["sociaal_verzuim"]["version"] >= 1
        rows = json.loads(run_cli("query", "SELECT count(*) AS n FROM groningen_fietsdiefstal", "-w", str(demo_ws),
                                  "--json").stdout)
        assert rows == [{"n": 15947}]
        # the server-side query has the same separation: personal data are not in its connection
        refused = run_cli("query", "SELECT count(*) FROM query('FROM sociaal_' || 'verzuim')", "-w", str(demo_ws),
                          check=False)
        assert refused.returncode == 7 and "does not exist" in refused.stderr
        versions = json.loads(run_cli("versions", "groningen_fietsdiefstal", "-w", str(demo_ws), "--json").stdout)
        assert versions["versions"][-1]["rows_loaded"] == 15947
        agg = json.loads(run_cli("aggregate", "sociaal_uitkeringen", "--by", "regeling", "--user", "analist",
                                 "--purpose", "sociaal_domein", "-w", str(demo_ws), "--json",
                                 env={"STADSLAB_PASSWORD": "analist-demo"}).stdout)
        assert all(r["n"] is None or r["n"] >= 15 for r in agg["rows"])
        # a refresh is handed to the server, which is the writer
        os.utime(demo_ws / "data" / "nl" / "misdrijven_jaar.csv" if (demo_ws / "data" / "nl" / "misdrijven_jaar.csv").exists()
                 else next((demo_ws / "data").rglob("*.csv")))
        done = json.loads(run_cli("refresh", "-w", str(demo_ws), "--json").stdout)
        assert done["via"] == "stadslab serve"
        # without the secret the hand-over endpoints do not exist
        assert httpx.post(base + "/api/intern/cli/status", json={}).status_code == 404
        assert httpx.post(base + "/api/intern/cli/status", json={},
                          headers={"x-stadslab-cli-token": "raden"}).status_code == 404
    assert not announce.exists(), "the announcement is withdrawn when the server stops"
