"""Retention applies on both ingest routes (fast one-pass and text) and counts what is left."""

from __future__ import annotations

import json

import pytest
import yaml

from stadslab.ingest import fastpath
from stadslab.operations import ingest_dataset
from stadslab.workspace import init_workspace

ENTRY = {
    "id": "bewaar_test", "title": "Bewaartermijn (test)", "owner": "test", "classification": "intern",
    "source": {"path": "bewaar.csv", "reader": "csv"},
    "fields": [{"name": "id", "type": "integer"}, {"name": "datum", "type": "date"},
               {"name": "schooljaar", "type": "string"}],
    "governance": {"bewaartermijn": {"field": "datum", "maanden": 24}},
}


@pytest.mark.parametrize("route", ["snel", "tekst"])
def test_retention_on_both_routes(tmp_path, monkeypatch, route):
    ws = init_workspace(tmp_path / "ws")
    (ws.catalog_dir / "bewaar_test.yaml").write_text(yaml.safe_dump(ENTRY), encoding="utf-8")
    rows = ["id,datum,schooljaar"] + [f"{i},{2015 + i}-03-01,{2015 + i}/{(16 + i) % 100:02d}" for i in range(10)]
    (ws.data_dir / "bewaar.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("STADSLAB_RETENTION_DATE", "2022-06-15")           # cut-off 2020-06-15
    if route == "tekst":
        monkeypatch.setattr(fastpath, "eligible", lambda ds: "test: tekstroute")
    with ws.warehouse() as wh:
        res = ingest_dataset(ws, wh, ws.catalog(), "bewaar_test")
        p = wh.provenance("bewaar_test", res.version)
        kept = sorted(r[0] for r in wh.con.execute(f"SELECT id FROM {wh.table_name('bewaar_test')}").fetchall())
    assert p["reader_options"]["route"] == route
    assert kept == [6, 7, 8, 9]                                            # 2021-03-01 and later
    assert p["rows_read"] == 10 and p["rows_loaded"] == 4 == res.rows_loaded
    assert p["reader_options"]["bewaartermijn"]["verwijderd"] == 6
    assert p["reader_options"]["bewaartermijn"]["grens"] == "2020-06-15"
    audit = [json.loads(x) for x in (ws.root / "audit" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["route"] == "ingest:bewaartermijn" and audit[-1]["version"] == res.version


def test_school_year_runs_from_its_last_day(tmp_path, monkeypatch):
    ws = init_workspace(tmp_path / "ws")
    entry = {**ENTRY, "governance": {"bewaartermijn": {"field": "schooljaar", "jaren": 1}}}
    (ws.catalog_dir / "bewaar_test.yaml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    (ws.data_dir / "bewaar.csv").write_text("id,datum,schooljaar\n1,2021-01-01,2020/21\n2,2021-01-01,2021/22\n",
                                            encoding="utf-8")
    monkeypatch.setenv("STADSLAB_RETENTION_DATE", "2022-08-01")            # cut-off 2021-08-01
    with ws.warehouse() as wh:
        ingest_dataset(ws, wh, ws.catalog(), "bewaar_test")
        kept = [r[0] for r in wh.con.execute(f"SELECT schooljaar FROM {wh.table_name('bewaar_test')}").fetchall()]
    assert kept == ["2021/22"]                                             # 2020/21 ended 31-07-2021


def test_a_load_that_fails_after_retention_leaves_no_audit_line(tmp_path, monkeypatch):
    """The retention audit line is written after the commit: a load that dies inside its transaction (here:
    right after the measures, before COMMIT) leaves neither a version nor a line naming one."""
    from stadslab.warehouse.store import Warehouse

    ws = init_workspace(tmp_path / "ws")
    (ws.catalog_dir / "bewaar_test.yaml").write_text(yaml.safe_dump(ENTRY), encoding="utf-8")
    rows = ["id,datum,schooljaar"] + [f"{i},{2015 + i}-03-01,2015/16" for i in range(10)]
    (ws.data_dir / "bewaar.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("STADSLAB_RETENTION_DATE", "2022-06-15")
    original = Warehouse.commit_version

    def dies_before_commit(self, *args, measure=None, **kwargs):
        def measured(con, table):
            measure(con, table)
            raise RuntimeError("stroom weg vóór de commit")
        return original(self, *args, measure=measured, **kwargs)

    monkeypatch.setattr(Warehouse, "commit_version", dies_before_commit)
    with ws.warehouse() as wh:
        with pytest.raises(Exception, match="stroom weg"):
            ingest_dataset(ws, wh, ws.catalog(), "bewaar_test")
        assert wh.current_version("bewaar_test") is None
    log = ws.root / "audit" / "audit.jsonl"
    lines = log.read_text().splitlines() if log.exists() else []
    assert not any(json.loads(x)["route"] == "ingest:bewaartermijn" for x in lines)
