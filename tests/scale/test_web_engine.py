"""The web server on ``engine: spark``: a real ``stadslab serve`` (uvicorn, its own process) on a workspace whose
stadslab.yaml points at the test cluster's Spark Connect server answers with DuckDB's figures; the aggregate
comes from the cluster (the lake copies it reads are written on first use), the gate and the audit run in
the server process."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
import yaml

from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.passwords import hash_password
from stadslab.privacy.release import release_aggregate
from stadslab.warehouse import lake as L
from stadslab.web.launch import running_server
from tests.scale.parity import ANALYST

pytestmark = pytest.mark.spark

PASSWORD = "spark-test-wachtwoord"


@pytest.fixture(scope="module")
def spark_ws(scale_ws, spark_cluster, tmp_path_factory):
    """A copy of the scale workspace (its lake left behind: the server writes what it reads) with
    ``engine: spark`` and ``spark.remote`` = the test cluster's Spark Connect server."""
    root = tmp_path_factory.mktemp("webspark") / "ws"
    shutil.copytree(scale_ws.root, root, ignore=shutil.ignore_patterns("lake", "audit", "gate", "web", "*.log"))
    config = {**scale_ws.config, "engine": "spark", "spark": {"remote": spark_cluster[1]}, "lake": "lake",
              "access": {"users": [{"id": ANALYST.id, "name": ANALYST.name, "roles": list(ANALYST.roles),
                                    "purposes": list(ANALYST.purposes), "password_hash": hash_password(PASSWORD)}]}}
    (root / "stadslab.yaml").write_text(yaml.safe_dump(config))
    return root


def _rows(body: dict, by: list[str]) -> dict[tuple, object]:
    return {tuple(r[c] for c in by): r["n"] for r in body["rijen"]}


def test_server_on_spark_gives_duckdb_figures(scale_ws, spark_ws, tmp_path):
    with scale_ws.warehouse() as wh:        # the DuckDB engine's figures, through the same release path
        cat = scale_ws.catalog()
        open_ = release_aggregate(wh, cat.get("incidenten"), user=ANALYST, purpose=None, by=["wijk_code"],
                                  audit=AuditLog(tmp_path / "a.jsonl"), store=None)
        social = release_aggregate(wh, cat.get("hulp"), user=ANALYST, purpose="sociaal_domein",
                                   by=["wijk_code", "regeling"], audit=AuditLog(tmp_path / "a.jsonl"),
                                   store=SuppressionStore(None))
    want_open = {(r["wijk_code"],): r["n"] for r in open_.records()}
    want_social = {(r["wijk_code"], r["regeling"]): r["n"] for r in social.records()}
    assert sum(want_open.values()) == 4000 and any(v is None for v in want_social.values())   # the gate suppressed

    with running_server(spark_ws, ready="/api/incidenten", timeout=120) as base:
        r = httpx.get(f"{base}/api/datasets/incidenten/aggregaat", params={"per": "wijk_code"}, timeout=120)
        assert r.status_code == 200, r.text
        assert _rows(r.json(), ["wijk_code"]) == want_open
        r = httpx.get(f"{base}/api/datasets/hulp/aggregaat", timeout=120, auth=(ANALYST.id, PASSWORD),
                      params={"per": ["wijk_code", "regeling"], "doel": "sociaal_domein"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["poort"] and _rows(body, ["wijk_code", "regeling"]) == want_social

    # the cluster read the lake: the server wrote the copies of exactly the current versions on first use
    lake = L.Lake(str(spark_ws / "lake"))
    for dataset, cls in (("incidenten", "open"), ("hulp", "persoonsgegevens")):
        with scale_ws.warehouse() as wh:
            v = wh.current_version(dataset)
        m = L.read_manifest(lake, dataset, v, cls)
        assert m is not None and L.verify(lake, m), dataset
    # the audit entry of the personal read was written by the server process (the driver), not the cluster
    entries = [json.loads(x) for x in (spark_ws / "audit" / "audit.jsonl").read_text().splitlines()]
    assert any(e.get("dataset") == "hulp" and e.get("user") == ANALYST.id for e in entries), entries[-3:]
