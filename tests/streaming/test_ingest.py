"""The stream ingest path without a server: every kind of bad reading lands in the dead letters with its
reason, duplicates and retries add nothing, late and out-of-order readings are kept, provenance per batch."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from stadslab.catalog.checks import semantic_problems
from stadslab.ingest import stream as st
from stadslab.ingest.stream_tokens import TOKENS_FILE, create_token, source_for
from stadslab.warehouse.store import Warehouse
from stadslab.workspace import Workspace
from tests.streaming.conftest import catalog_yaml

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def wh_ds(stream_ws):
    ws = Workspace(stream_ws)
    ds = ws.catalog().get("denhaag_containervulling")
    wh = Warehouse.open(ws.warehouse_path)
    yield wh, ds
    wh.close()


def test_bad_readings_go_to_dead_letters_with_their_reason(wh_ds):
    wh, ds = wh_ds
    items = [
        {"sensor_id": "DH-00001", "tijd": "2026-12-06T10:00:00Z", "vulgraad": 41.5, "batterij": 80},
        {"sensor_id": "DH-00001", "tijd": "2026-12-06T11:00:00+01:00", "vulgraad": "42,5"},   # = 10:00 UTC: duplicate
        {"sensor_id": "DH-00002", "tijd": 1796551200, "vulgraad": 10},                       # epoch seconds
        {"sensor_id": "XX-1", "tijd": "2026-12-06T10:00:00Z", "vulgraad": 1},
        {"sensor_id": "DH-00003", "tijd": "2026-12-06T10:00:00Z", "vulgraad": 100.5},
        {"sensor_id": "DH-00003", "tijd": "2026-12-06T10:00:00", "vulgraad": 1},             # no zone
        {"sensor_id": "DH-00003", "tijd": "morgen", "vulgraad": 1},
        {"sensor_id": "DH-00003", "tijd": "2026-12-06T13:00:00Z", "vulgraad": 1},            # future
        {"sensor_id": "DH-00004", "tijd": "2026-12-06T10:00:00Z"},                           # no value
        {"sensor_id": "DH-00004", "tijd": "2026-12-06T10:00:00Z", "vulgraad": True},
        {"tijd": "2026-12-06T10:00:00Z", "vulgraad": 1},
        ["geen", "object"],
    ]
    res = st.ingest_batch(wh, ds, items, source="test", transport="http", now=NOW,
                          rejected=[("{kapot", "ongeldige JSON: test")])
    assert (res.received, res.new, res.duplicate, res.dead) == (13, 2, 1, 10)
    dead = {r[0]: r[1] for r in wh.con.execute("SELECT payload, reason FROM stream.dead_letters").fetchall()}
    reasons = sorted(r.split(":")[0] for r in dead.values())
    assert reasons == sorted(["onbekende sensor", "waarde buiten bereik", "ongeldige tijd", "ongeldige tijd",
                              "tijd in de toekomst", "waarde ontbreekt", "ongeldige waarde", "sensor ontbreekt",
                              "geen object", "ongeldige JSON"])
    assert dead["{kapot"] == "ongeldige JSON: test"
    stored = wh.con.execute("SELECT sensor_id, vulgraad FROM stream.denhaag_containervulling ORDER BY 1").fetchall()
    assert stored == [("DH-00001", 41.5), ("DH-00002", 10.0)]     # the first value of a duplicate wins


def test_retry_late_and_out_of_order_and_provenance(wh_ds):
    wh, ds = wh_ds
    batch = [{"sensor_id": "DH-00005", "tijd": (NOW - timedelta(hours=h)).isoformat(), "vulgraad": 50 - h}
             for h in (1, 5, 3, 2, 4)]                                  # out of order
    first = st.ingest_batch(wh, ds, batch, source="a", transport="http", now=NOW)
    again = st.ingest_batch(wh, ds, batch, source="a", transport="http", now=NOW)   # a retry
    late = st.ingest_batch(wh, ds, [{"sensor_id": "DH-00005", "tijd": (NOW - timedelta(days=30)).isoformat(),
                                     "vulgraad": 7}], source="a", transport="mqtt", now=NOW)
    assert (first.new, again.new, again.duplicate, late.new) == (5, 0, 5, 1)
    assert wh.con.execute("SELECT count(*) FROM stream.denhaag_containervulling").fetchone()[0] == 6
    rows = wh.con.execute("SELECT batch, source, transport, n_received, n_new, n_duplicate, first_time, last_time "
                          "FROM stream.batches ORDER BY batch").fetchall()
    assert [r[3:6] for r in rows] == [(5, 5, 0), (5, 0, 5), (1, 1, 0)]
    assert rows[0][6] == NOW - timedelta(hours=5) and rows[0][7] == NOW - timedelta(hours=1)
    status = st.status(wh, ds, now=NOW + timedelta(hours=7))
    assert status["metingen"] == 6 and status["aantal_verouderd"] == 1   # nothing for 6+ hours: stale


def test_tokens_are_kept_hashed_and_owner_only(stream_ws):
    ws = Workspace(stream_ws)
    tok = create_token(ws, "denhaag_containervulling", "leverancier")
    text = (stream_ws / TOKENS_FILE).read_text()
    assert tok not in text and "leverancier" in text
    assert stat.S_IMODE(os.stat(stream_ws / TOKENS_FILE).st_mode) == 0o600
    assert source_for(ws, "denhaag_containervulling", tok) == "leverancier"
    assert source_for(ws, "denhaag_containervulling", tok + "x") is None
    assert source_for(ws, "andere_stream", tok) is None


def test_catalog_checks_the_stream_block():
    entry = catalog_yaml("denhaag_containervulling.yaml")
    assert list(semantic_problems(entry)) == []
    bad = {**entry, "update_frequency": "dagelijks",
           "stream": {**entry["stream"], "time_field": "vulgraad", "value_fields": ["bestaat_niet"]}}
    keys = [k for k, _ in semantic_problems(bad)]
    assert keys == ["update_frequency", "stream.time_field", "stream.value_fields[0]"]
