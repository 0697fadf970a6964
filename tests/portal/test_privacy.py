"""No route reaches non-open data; published aggregates of personal data have no cell below 15."""

from __future__ import annotations

import io
import json
import re

import httpx
import pandas as pd
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from tests.portal.conftest import PERSONAL

SECRET_IDS = [PERSONAL, "hulp_zonder_doel"]
ACTIONS = ["package_list", "package_show", "package_search", "organization_list", "resource_show",
           "datastore_search", "status_show", "help_show"]
EXTS = ["csv", "json", "geojson", "parquet", "xlsx"]
HEX32 = re.compile(rb"[0-9a-f]{32}")


def urls_for(route_path: str) -> list[str]:
    """Every way the route could name a non-open dataset: its id, resource ids, versions, file names."""
    fills = {"item_id": SECRET_IDS, "ref": ["latest", "v1"], "action": ACTIONS, "slug": ["werk-en-inkomen-test"],
             "name": ["portal.css", "../publications.py"],
             "filename": [f"{i}{v}.{e}" for i in SECRET_IDS[:1] for v in ("", "-v1") for e in EXTS]}
    paths = [route_path]
    for key, values in fills.items():
        if "{" + key + "}" in route_path:
            paths = [p.replace("{" + key + "}", v) for p in paths for v in values]
    if "{" in route_path and "{action}" not in route_path:
        return paths                      # the id is in the path already
    queries = [""]
    for sid in SECRET_IDS:
        queries += [f"?id={sid}", f"?resource_id={sid}--csv", f"?q={sid}", f"?fq=name:{sid}", f"?f.pseudo_id=x"]
    return [p + q for p in paths for q in queries]


def all_routes(routes, prefix: str = ""):
    """Every route of the app, also inside included routers (FastAPI keeps those nested)."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from all_routes(r.original_router.routes, prefix + (getattr(r.include_context, "prefix", "") or ""))
        else:
            yield prefix, r


def test_every_route_refuses_the_personal_datasets(live, personal_rows):
    app = live.server.config.app
    pseudonyms = set(personal_rows.pseudo_id.astype(str).str.encode("ascii"))
    assert len(pseudonyms) > 1000
    tried, ok, seen = 0, 0, set()
    client = httpx.Client(base_url=live.url, follow_redirects=True, timeout=30)
    for prefix, route in all_routes(app.routes):
        if isinstance(route, Mount):
            paths = [f"{prefix}{route.path}/../warehouse.duckdb",
                     f"{prefix}{route.path}/%2e%2e/%2e%2e/catalog/{PERSONAL}.yaml"]
        elif isinstance(route, APIRoute) or hasattr(route, "methods"):
            if route.path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
                continue
            seen.add(prefix + route.path)
            paths = urls_for(prefix + route.path)
        else:
            continue
        for url in paths:
            for method in sorted(getattr(route, "methods", None) or {"GET"}):
                if method not in ("GET", "POST"):
                    continue
                r = client.request(method, url)
                tried += 1
                body = r.content
                leaked = {m for m in HEX32.findall(body) if m in pseudonyms}
                assert not leaked, f"{method} {url} geeft pseudoniemen prijs"
                path, _, query = url.partition("?")
                names_it = any(s in path for s in SECRET_IDS) or (
                    path.rsplit("/", 1)[-1] in ("package_show", "resource_show", "datastore_search")
                    and any(f"id={s}" in query for s in SECRET_IDS))
                if names_it:
                    # naming a non-open dataset is always 'not found' (or refused), never data
                    assert r.status_code in (400, 404, 409), f"{method} {url} → {r.status_code}"
                    assert not (r.headers.get("content-type", "").startswith(("text/csv", "application/vnd")))
                if r.status_code == 200:
                    ok += 1
                    if url.startswith("/api/3/action/package_search"):
                        names = [p["name"] for p in r.json()["result"]["results"]]
                        assert not set(names) & set(SECRET_IDS)
    assert {"/open/datasets/{item_id}", "/open/download/{item_id}/{ref}/{filename}", "/api/3/action/{action}",
            "/api/action/{action}", "/dcat/catalog.ttl"} <= seen
    assert tried > 300 and ok > 20


def test_published_aggregate_has_no_cell_below_15(live, personal_rows):
    csv = httpx.get(f"{live.url}/open/download/hulp_per_wijk/latest/hulp_per_wijk.csv", follow_redirects=True)
    assert csv.status_code == 200
    df = pd.read_csv(io.StringIO(csv.text), dtype={"n": "Int64"})
    assert set(df.columns) == {"wijk_code", "regeling", "n", "suppressed"}
    published = df[df.suppressed.isna() | (df.suppressed == "")]
    suppressed = df[df.suppressed == "onderdrukt"]
    assert len(suppressed) > 0 and suppressed.n.isna().all()     # the gate had work to do, and hid the counts
    assert ((published.n == 0) | (published.n >= 15)).all(), published[(published.n > 0) & (published.n < 15)]
    # published cells are the true counts of distinct persons per cell; margins add up the cells
    # (a person with two regelingen counts in both: the gate's margins are sums, see the report)
    cells = personal_rows.groupby(["wijk_code", "regeling"]).pseudo_id.nunique()
    leaves = published[(published.wijk_code != "Totaal") & (published.regeling != "Totaal")]
    assert len(leaves) > 0
    for row in leaves.itertuples():
        assert row.n == cells.get((row.wijk_code, row.regeling), 0)
    grand = published[(published.wijk_code == "Totaal") & (published.regeling == "Totaal")].n
    assert list(grand) == [cells.sum()]


def test_datastore_of_a_publication_also_respects_the_gate(live):
    r = httpx.get(f"{live.url}/api/3/action/datastore_search",
                  params={"resource_id": "hulp_per_jaar--csv", "limit": 1000}).json()["result"]
    cols = {f["id"] for f in r["fields"]}
    assert cols == {"regeling", "periode", "n", "suppressed"}
    assert {rec["periode"] for rec in r["records"]} >= {"2021", "2022", "2023", "Totaal"}
    for rec in r["records"]:
        assert rec["n"] is None or rec["n"] == 0 or rec["n"] >= 15
        assert (rec["n"] is None) == (rec["suppressed"] == "onderdrukt")


def test_publications_are_computed_as_the_publisher_and_audited(live, state):
    entries = [e for e in state.audit.entries() if e["route"].startswith("portal:publicatie/")]
    assert {e["route"] for e in entries} >= {"portal:publicatie/hulp_per_wijk", "portal:publicatie/hulp_per_jaar"}
    assert all(e["user"] == "publicatie" and e["purpose"] == "publicatie" and e["allowed"] for e in entries)


def test_a_dataset_without_the_purpose_publicatie_is_refused(live, state):
    from stadslab.portal.publications import publication_problems

    live.router.portal.items()
    assert "doelbinding" in live.router.portal.refusals["zonder_doel_per_wijk"]
    problems = publication_problems(state.catalog)
    assert [(f, k) for f, k, m in problems if "doelbinding" in m] == [("hulp_zonder_doel.yaml", "publications[0]")]
    r = httpx.get(f"{live.url}/api/3/action/package_show", params={"id": "zonder_doel_per_wijk"})
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"


@pytest.mark.parametrize("url", ["/open?q=hulp", "/api/3/action/package_search?q=hulp&rows=50", "/dcat/catalog.ttl"])
def test_listings_mention_the_publications_not_the_source_rows(live, url):
    body = httpx.get(live.url + url).text
    assert "hulp_per_wijk" in body
    assert f"/open/datasets/{PERSONAL}" not in body and json.dumps(PERSONAL) not in body
