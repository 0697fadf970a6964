"""Acceptance of issue 9: a bounded schemathesis run over the OpenAPI schema against a real uvicorn
server finds no 5xx, and a walk over every route of the app (anonymous, wrong role, wrong purpose)
finds no 5xx, no personal figures and no pseudonyms."""

from __future__ import annotations

import collections
import re
import shutil
import time
from pathlib import Path

import duckdb
import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from stadslab.web.app import create_app
from stadslab.workspace import Workspace
from tests.conftest import app_routes
from tests.security.conftest import PERSONAL, login

FUZZ_SECONDS = 30          # the whole run stops generating after this
EXAMPLES_PER_OPERATION = 12
KNOWN = {"dataset": ["groningen_fietsdiefstal", PERSONAL], "dataset_id": ["groningen_fietsdiefstal", PERSONAL],
         "item_id": ["groningen_fietsdiefstal"], "action": ["package_search", "datastore_search", "package_show"]}


def test_schemathesis_fuzz_finds_no_5xx(sec_server, record_property):
    schema = schemathesis.openapi.from_url(sec_server + "/openapi.json")
    session = requests.Session()
    stats: collections.Counter = collections.Counter()
    server_errors: list[tuple] = []
    deadline = time.monotonic() + FUZZ_SECONDS
    for result in schema.get_all_operations():
        op = result.ok()
        names = {p.name for p in op.path_parameters}
        fixed = [None] + [{n: v} for n in names & set(KNOWN) for v in KNOWN[n]]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in fixed:
                if time.monotonic() > deadline:
                    break
                strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters)

                @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck), derandomize=True)
                @given(case=strategy)
                def probe(case):
                    if time.monotonic() > deadline:
                        return
                    r = case.call(base_url=sec_server, session=session, timeout=30)
                    stats[r.status_code // 100 * 100] += 1
                    if r.status_code >= 500:
                        server_errors.append((op.label, r.status_code, r.request.url[:300], r.text[:200]))

                try:
                    probe()
                except Exception as exc:   # e.g. no negative data possible for an operation without inputs
                    if "Unsatisfiable" not in type(exc).__name__ and "Unsatisfiable" not in repr(exc):
                        raise
    tried = sum(stats.values())
    print(f"\nschemathesis: {tried} verzoeken, per statusklasse {dict(stats)}")
    record_property("fuzz_requests", tried)
    assert tried >= 150
    for e in server_errors:
        print("5xx:", e)
    assert server_errors == []


# ---- the route walk ------------------------------------------------------------------------------------

def _routes(ws: Path, tmp_path: Path) -> list[tuple[str, frozenset[str]]]:
    """Every route of the real app (pages, API, portal), read from ``app.routes`` of an app over a copy."""
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("audit", "web", "*.log"))
    app = create_app(Workspace(copy), warm=False)
    try:
        return sorted(set((p, frozenset(m)) for p, m in app_routes(app.routes, "") if not p.startswith("/static")))
    finally:
        app.state.stadslab.close()


PATH_VALUES = {"dataset": [PERSONAL, "x"], "dataset_id": [PERSONAL, "x"],
               "item_id": [PERSONAL, f"{PERSONAL}_per_wijk", "groningen_fietsdiefstal"],
               "action": ["package_show", "datastore_search", "package_search", "resource_show"],
               "ref": ["latest"], "filename": [f"{PERSONAL}.csv", "data.csv"], "slug": ["x"], "name": ["portal.css"],
               "path": ["x"]}
QUERY = {"per": "wijk_code", "id": PERSONAL, "resource_id": f"{PERSONAL}--csv", "q": PERSONAL, "dataset": PERSONAL}


def _urls(path: str) -> list[str]:
    urls = [path]
    for name in re.findall(r"{(\w+)(?::\w+)?}", path):
        urls = [re.sub(r"{%s(?::\w+)?}" % name, v, u, count=1) for u in urls for v in PATH_VALUES.get(name, ["x"])]
    return urls


@pytest.fixture(scope="module")
def pseudonyms(sec_ws) -> set[str]:
    rows = duckdb.sql(f"SELECT DISTINCT left(pseudo_id, 16) FROM '{sec_ws}/data/sociaal/*.parquet'").fetchall()
    assert len(rows) > 100
    return {r[0] for r in rows}


def test_route_walk_anonymous_wrong_role_wrong_purpose(sec_server, sec_ws, pseudonyms, tmp_path):
    routes = _routes(sec_ws, tmp_path)
    assert len(routes) > 30
    clients = {"anoniem": httpx.Client(base_url=sec_server, timeout=60),
               "verkeerde rol": login(sec_server, "wijkmanager"),
               "verkeerd doel": login(sec_server, "analist")}          # werkdoel veiligheid
    hex_token = re.compile(r"[0-9a-f]{16}")
    tried, problems = 0, []
    try:
        for path, methods in routes:
            for url in _urls(path):
                for who, c in clients.items():
                    for method in sorted(methods & {"GET", "POST"}):
                        r = c.request(method, url, params=QUERY if method == "GET" else None)
                        tried += 1
                        if r.status_code >= 500:
                            problems.append((who, method, url, r.status_code))
                        if set(hex_token.findall(r.text)) & pseudonyms:
                            problems.append((who, method, url, "pseudoniem in antwoord"))
                        personal_read = url.startswith((f"/api/datasets/{PERSONAL}", f"/datasets/{PERSONAL}"))
                        if personal_read and r.status_code < 400:
                            problems.append((who, method, url, f"persoonsgegevens gelezen ({r.status_code})"))
    finally:
        for c in clients.values():
            c.close()
    print(f"\nroute walk: {len(routes)} routes, {tried} verzoeken")
    assert tried > 100
    assert problems == []
