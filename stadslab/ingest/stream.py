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
import re
import threading
import time as _time
from dataclasses import dataclass, field as dc_field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.errors import WarehouseError
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
_TZ = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_REGISTRY_CACHE: dict[tuple, frozenset[str]] = {}
_READY: set[tuple] = set()
MAX_PAYLOAD_CHARS = 2000


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
    version = wh.current_version(st.registry_dataset)
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
    st = _spec(ds)
    t0 = _time.perf_counter()
    now = now or datetime.now(timezone.utc)
    key = (str(wh.path), ds.id, ds.sha256)
    if key not in _READY:
        ensure_tables(wh.con, ds)
        _READY.add(key)
    known = registry_ids(wh, ds)
    good, dead = _validate(ds, items, known, now)
    dead = dead + [(None, None, reason, payload) for payload, reason in rejected]
    with _lock(ds.id):
        con = wh.con
        con.execute("BEGIN TRANSACTION")
        try:
            batch = int(con.execute("SELECT nextval('stream.batch_seq')").fetchone()[0])
            new = 0
            if len(good):
                good["received_at"] = now
                good["batch"] = batch
                con.register("__stream_batch", good)
                cols = ", ".join(qident(c) for c in good.columns)
                new = int(con.execute(f"INSERT INTO {readings_table_name(ds.id)} ({cols}) SELECT {cols} "
                                      "FROM __stream_batch ON CONFLICT DO NOTHING").fetchone()[0])
                con.unregister("__stream_batch")
            if dead:
                con.executemany("INSERT INTO stream.dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [[ds.id, batch, now, source, transport, s, t, r, p] for s, t, r, p in dead])
            times = good[st.time_field] if len(good) else None
            con.execute("INSERT INTO stream.batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [ds.id, batch, source, transport, now, len(items) + len(rejected), new, len(good) - new,
                         len(dead), times.min() if times is not None else None,
                         times.max() if times is not None else None, ds.sha256, _time.perf_counter() - t0])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    reasons: dict[str, int] = {}
    for _, _, r, _ in dead:
        key = r.split(":")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return BatchResult(batch, len(items) + len(rejected), new, len(good) - new, len(dead), reasons)


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


def _validate(ds: Dataset, items: list[Any], known: frozenset[str] | None,
              now: datetime) -> tuple[pd.DataFrame, list[tuple[str | None, str | None, str, str]]]:
    """Split a batch into valid rows (a DataFrame with typed columns) and dead letters
    (sensor, raw time, reason, payload). Checks are vectorised over the batch."""
    st = _spec(ds)
    n = len(items)
    is_obj = np.fromiter((isinstance(x, dict) for x in items), bool, n)
    get = lambda key: [x.get(key) if isinstance(x, dict) else None for x in items]  # noqa: E731
    reason = np.full(n, None, dtype=object)
    reason[~is_obj] = "geen object: een meting is een JSON-object met sensor, tijd en waarde(n)"
    sensors = pd.Series(get(st.sensor_field), dtype=object)
    raw_t = pd.Series(get(st.time_field), dtype=object)
    sensor_str = sensors.map(lambda s: None if s is None or isinstance(s, (dict, list, bool)) else str(s))
    _flag(reason, sensor_str.isna().to_numpy(), f"sensor ontbreekt: veld '{st.sensor_field}' is leeg")
    if known is not None:
        unknown = ~sensor_str.isin(known).to_numpy() & sensor_str.notna().to_numpy()
        _flag(reason, unknown, "onbekende sensor: niet in het register " + (st.registry_dataset or ""))
    times, bad_time = _parse_times(raw_t)
    _flag(reason, bad_time, f"ongeldige tijd: veld '{st.time_field}' is geen ISO 8601-tijd met tijdzone of epoch-seconden")
    future = (times > pd.Timestamp(now) + pd.Timedelta(minutes=st.max_future_minutes)).to_numpy()
    _flag(reason, future & ~bad_time, f"tijd in de toekomst: meer dan {st.max_future_minutes:g} minuten na ontvangst")
    values = {}
    for vname in st.value_fields:
        f = ds.field(vname)
        col = pd.Series(get(vname), dtype=object)
        num = pd.to_numeric(col.map(lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else
                                    (v if isinstance(v, str) else None)), errors="coerce")
        missing = col.isna().to_numpy()
        if f.nullable:
            bad = (~missing & num.isna()).to_numpy()
        else:
            bad = num.isna().to_numpy()
        _flag(reason, bad, f"ongeldige waarde: veld '{vname}' is geen getal")
        arr = num.to_numpy(dtype=float)
        lo = (arr < f.min) if f.min is not None else np.zeros(n, bool)
        hi = (arr > f.max) if f.max is not None else np.zeros(n, bool)
        _flag(reason, np.nan_to_num(lo | hi, nan=False).astype(bool),
              f"waarde buiten bereik: veld '{vname}' hoort tussen {_fmt(f.min)} en {_fmt(f.max)}")
        values[vname] = arr
    ok = np.array([r is None for r in reason], dtype=bool)
    good = pd.DataFrame({st.sensor_field: sensor_str[ok].to_numpy(), st.time_field: times[ok].to_numpy(),
                         **{k: v[ok] for k, v in values.items()}})
    if len(good):
        good[st.time_field] = pd.to_datetime(good[st.time_field], utc=True)
        good = good.drop_duplicates([st.sensor_field, st.time_field], keep="first").reset_index(drop=True)
    dead = []
    for i in np.flatnonzero(~ok):
        s, t = sensor_str.iat[i], raw_t.iat[i]
        dead.append((s, None if t is None else str(t)[:100], reason[i], _payload(items[i])))
    return good, dead


def _parse_times(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO 8601 with an explicit zone (``Z`` or ``+01:00``), or epoch seconds; anything else is bad."""
    is_num = raw.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).to_numpy()
    is_str = raw.map(lambda v: isinstance(v, str) and bool(_TZ.search(v.strip()))).to_numpy()
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if is_str.any():
        out[is_str] = pd.to_datetime(raw[is_str].str.strip(), utc=True, errors="coerce", format="ISO8601")
    if is_num.any():
        secs = pd.to_numeric(raw[is_num], errors="coerce")
        secs = secs.where((secs > 946684800) & (secs < 4102444800))  # 2000 … 2100
        out[is_num] = pd.to_datetime(secs, unit="s", utc=True, errors="coerce")
    return out, out.isna().to_numpy()


def _flag(reason: np.ndarray, mask: np.ndarray, text: str) -> None:
    """Set ``text`` where ``mask`` and no earlier reason was found (the first failing check is told)."""
    empty = np.array([r is None for r in reason], dtype=bool)
    reason[mask & empty] = text


def _payload(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, default=str)[:MAX_PAYLOAD_CHARS]
    except (TypeError, ValueError):
        return repr(item)[:MAX_PAYLOAD_CHARS]


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:g}"


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
