"""Realtime readings: validate a batch and append it to the warehouse in one transaction.

A dataset with a ``stream:`` block in the catalog (``update_frequency: realtime``) is not loaded from a
file into versions; its readings arrive in batches (``POST /api/stream/<dataset>``, the MQTT forwarder
``stadslab stream listen``, the in-process simulator) and are appended here:

- ``stream."<dataset>"``: one row per (sensor, time) — the primary key makes a retried batch harmless
  (``ON CONFLICT DO NOTHING``; the first value received wins). Late and out-of-order readings are
  simply rows with an older time.
- ``stream.batches``: provenance of what was received when — batch number, source, transport, counts
  (received, new, duplicate, dead), time range of the readings, catalog sha256.
- ``stream.dead_letters``: every reading that was refused, with the reason and the payload as received
  (unknown sensor, value out of range, bad or future time, not an object, malformed JSON). Nothing is
  dropped silently.

The three inserts are one DuckDB transaction, and the sender gets its acknowledgement only after the
COMMIT returned: a crash before that loses nothing that was acknowledged, and the retry is idempotent.
"""

from __future__ import annotations

import json
import threading
import time as _time
from dataclasses import dataclass, field as dc_field
from datetime import datetime, timedelta, timezone
from typing import Any

from stadslab.catalog.model import Dataset
from stadslab.errors import WarehouseError
from stadslab.ingest.stream_validate import MAX_PAYLOAD_CHARS, check
from stadslab.warehouse.store import Warehouse, qident

DDL = """
CREATE SCHEMA IF NOT EXISTS stream;
CREATE SEQUENCE IF NOT EXISTS stream.batch_seq;
CREATE TABLE IF NOT EXISTS stream.batches (
    dataset VARCHAR, batch BIGINT, source VARCHAR, transport VARCHAR, received_at TIMESTAMPTZ,
    n_received INTEGER, n_new INTEGER, n_duplicate INTEGER, n_dead INTEGER,
    first_time TIMESTAMPTZ, last_time TIMESTAMPTZ, catalog_sha256 VARCHAR, seconds DOUBLE);
CREATE TABLE IF NOT EXISTS stream.dead_letters (
    dataset VARCHAR, batch BIGINT, received_at TIMESTAMPTZ, source VARCHAR, transport VARCHAR,
    sensor_id VARCHAR, time_raw VARCHAR, reason VARCHAR, payload VARCHAR);
"""
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_REGISTRY_CACHE: dict[tuple, frozenset[str]] = {}
_READY: set[tuple] = set()
_REGISTRY_VERSION: dict[tuple, tuple[float, int | None]] = {}


@dataclass
class BatchResult:
    batch: int
    received: int
    new: int
    duplicate: int
    dead: int
    reasons: dict[str, int] = dc_field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"batch": self.batch, "ontvangen": self.received, "nieuw": self.new, "dubbel": self.duplicate,
                "afgekeurd": self.dead, "redenen": self.reasons}


def readings_table_name(dataset_id: str) -> str:
    return f"stream.{qident(dataset_id)}"


def ensure_tables(con, ds: Dataset) -> None:
    """Create the stream schema and this dataset's readings table (idempotent)."""
    con.execute(DDL)
    st = _spec(ds)
    cols = [f"{qident(st.sensor_field)} VARCHAR NOT NULL", f"{qident(st.time_field)} TIMESTAMPTZ NOT NULL"]
    cols += [f"{qident(v)} {_sql_type(ds, v)}" for v in st.value_fields]
    cols += ["received_at TIMESTAMPTZ", "batch BIGINT",
             f"PRIMARY KEY ({qident(st.sensor_field)}, {qident(st.time_field)})"]
    con.execute(f"CREATE TABLE IF NOT EXISTS {readings_table_name(ds.id)} ({', '.join(cols)})")


def readings(wh: Warehouse, dataset_id: str):
    """The Ibis table of a stream's readings (analyses use this, like ``Warehouse.table`` for files)."""
    return wh.ibis.table(dataset_id, database="stream")


def has_readings_table(wh: Warehouse, dataset_id: str) -> bool:
    row = wh.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stream' "
                         "AND table_name = ?", [dataset_id]).fetchone()
    return bool(row and row[0])


def registry_ids(wh: Warehouse, ds: Dataset) -> frozenset[str] | None:
    """The known sensor ids (from the registry dataset's current version), cached per version."""
    st = _spec(ds)
    if not st.registry_dataset:
        return None
    vkey = (str(wh.path), st.registry_dataset)
    hit = _REGISTRY_VERSION.get(vkey)
    if hit and _time.monotonic() - hit[0] < 5:       # a reload of the register is seen within 5 s
        version = hit[1]
    else:
        version = wh.current_version(st.registry_dataset)
        _REGISTRY_VERSION[vkey] = (_time.monotonic(), version)
    if version is None:
        raise WarehouseError(f"het sensorregister '{st.registry_dataset}' van stream '{ds.id}' is nog niet geladen",
                             hint=f"draai 'stadslab ingest {st.registry_dataset}'")
    key = (str(wh.path), st.registry_dataset, version, st.registry_field)
    if key not in _REGISTRY_CACHE:
        rows = wh.con.execute(f"SELECT DISTINCT CAST({qident(st.registry_field)} AS VARCHAR) FROM "
                              f"{wh.table_name(st.registry_dataset, version)}").fetchall()
        _REGISTRY_CACHE[key] = frozenset(r[0] for r in rows if r[0] is not None)
    return _REGISTRY_CACHE[key]


def ingest_batch(wh: Warehouse, ds: Dataset, items: list[Any], *, source: str, transport: str,
                 rejected: list[tuple[str, str]] = (), now: datetime | None = None) -> BatchResult:
    """Validate ``items`` (JSON objects with the stream's fields) and append them, with the dead letters
    and the batch's provenance, in one transaction. ``rejected`` are (payload, reason) pairs the
    transport already refused (e.g. an MQTT message that was not JSON). Returns after COMMIT."""
    _spec(ds)   # refuses a dataset that is not a stream
    t0 = _time.perf_counter()
    now = now or datetime.now(timezone.utc)
    key = (str(wh.path), ds.id, ds.sha256)
    if key not in _READY:
        ensure_tables(wh.con, ds)
        _READY.add(key)
    checked = check(ds, items, registry_ids(wh, ds), now)
    dead = checked.dead + [(None, None, reason, payload) for payload, reason in rejected]
    good = checked.table
    n_good = 0 if good is None else good.num_rows
    received = len(items) + len(rejected)
    with _lock(ds.id):
        con = wh.con
        con.execute("BEGIN TRANSACTION")
        try:
            batch = int(con.execute("SELECT nextval('stream.batch_seq')").fetchone()[0])
            new, first, last = 0, None, None
            if n_good:
                name = f"__stream_batch_{threading.get_ident()}"
                con.register(name, good)
                cols = ", ".join(qident(c) for c in good.column_names)
                new = int(con.execute(f"INSERT INTO {readings_table_name(ds.id)} ({cols}, received_at, batch) "
                                      f"SELECT {cols}, ?, ? FROM {name} ON CONFLICT DO NOTHING",
                                      [now, batch]).fetchone()[0])
                first, last = checked.first, checked.last
                con.unregister(name)
            if dead:
                con.executemany("INSERT INTO stream.dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [[ds.id, batch, now, source, transport, s, t, r, p] for s, t, r, p in dead])
            con.execute("INSERT INTO stream.batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [ds.id, batch, source, transport, now, received, new, received - len(dead) - new,
                         len(dead), first, last, ds.sha256, _time.perf_counter() - t0])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    reasons: dict[str, int] = {}
    for _, _, r, _ in dead:
        k = r.split(":")[0]
        reasons[k] = reasons.get(k, 0) + 1
    return BatchResult(batch, received, new, received - len(dead) - new, len(dead), reasons)


def parse_body(body: bytes) -> tuple[list[Any], list[tuple[str, str]], str | None]:
    """A JSON batch as sent to the HTTP endpoint: ``{"readings": [...], "rejected": [{"payload", "reason"}]}``
    or a bare list of readings. Returns (items, rejected, error); a malformed body gives only the error,
    so the caller records it as one dead letter with the payload."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return [], [], f"ongeldige JSON: {exc}"
    if isinstance(doc, list):
        return doc, [], None
    if isinstance(doc, dict) and isinstance(doc.get("readings", []), list):
        rej = [(str(r.get("payload", ""))[:MAX_PAYLOAD_CHARS], str(r.get("reason", "geweigerd door de zender")))
               for r in doc.get("rejected", []) if isinstance(r, dict)]
        return doc.get("readings", []), rej, None
    return [], [], "ongeldige batch: verwacht een lijst metingen of {\"readings\": [...]}"


def _spec(ds: Dataset):
    if ds.stream is None:
        raise WarehouseError(f"dataset '{ds.id}' is geen stream (geen stream-blok in de catalogus)",
                             hint="alleen datasets met update_frequency: realtime en een stream-blok ontvangen metingen")
    return ds.stream


def _sql_type(ds: Dataset, name: str) -> str:
    return {"integer": "BIGINT", "boolean": "BOOLEAN"}.get(ds.field(name).type, "DOUBLE")


def _lock(dataset_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(dataset_id, threading.Lock())


# ---- status ----------------------------------------------------------------------------------

def status(wh: Warehouse, ds: Dataset, *, now: datetime | None = None, limit: int = 50) -> dict[str, Any]:
    """Counts, last receipt, dead letters per reason (and the newest ones), stale sensors."""
    st = _spec(ds)
    now = now or datetime.now(timezone.utc)
    if not has_readings_table(wh, ds.id):
        return {"dataset": ds.id, "metingen": 0, "sensoren": 0, "batches": 0, "afgekeurd": 0, "redenen": {},
                "laatste_ontvangst": None, "verouderd": [], "recente_afgekeurd": []}
    t = readings_table_name(ds.id)
    s, tf = qident(st.sensor_field), qident(st.time_field)
    n, sensors, last_t = wh.con.execute(f"SELECT count(*), count(DISTINCT {s}), max({tf}) FROM {t}").fetchone()
    b = wh.con.execute("SELECT count(*), max(received_at) FROM stream.batches WHERE dataset = ?", [ds.id]).fetchone()
    reasons = dict(wh.con.execute(
        "SELECT split_part(reason, ':', 1) AS r, count(*) FROM stream.dead_letters WHERE dataset = ? "
        "GROUP BY r ORDER BY 2 DESC", [ds.id]).fetchall())
    recent = wh.con.execute(
        "SELECT received_at, source, transport, sensor_id, time_raw, reason, payload FROM stream.dead_letters "
        "WHERE dataset = ? ORDER BY received_at DESC LIMIT ?", [ds.id, limit]).fetchall()
    cutoff = now - timedelta(hours=st.stale_after_hours)
    stale = wh.con.execute(f"SELECT {s}, max({tf}) AS laatst FROM {t} GROUP BY {s} HAVING max({tf}) < ? "
                           "ORDER BY laatst LIMIT ?", [cutoff, limit]).fetchall()
    n_stale = wh.con.execute(f"SELECT count(*) FROM (SELECT {s} FROM {t} GROUP BY {s} HAVING max({tf}) < ?)",
                             [cutoff]).fetchone()[0]
    return {"dataset": ds.id, "metingen": int(n), "sensoren": int(sensors), "laatste_meting": last_t,
            "batches": int(b[0]), "laatste_ontvangst": b[1], "afgekeurd": int(sum(reasons.values())),
            "redenen": reasons, "verouderd_na_uur": st.stale_after_hours, "aantal_verouderd": int(n_stale),
            "verouderd": [{"sensor": r[0], "laatste_meting": r[1]} for r in stale],
            "recente_afgekeurd": [dict(zip(("ontvangen", "bron", "transport", "sensor", "tijd", "reden", "payload"), r))
                                  for r in recent]}
