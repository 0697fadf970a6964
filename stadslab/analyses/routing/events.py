"""What happened at a planned stop, as reported from the field: append-only events in the warehouse.

Table ``route.stop_events`` (one row per report; never updated — a later report of the same stop
wins): plan name and version, vehicle, stop id, status, an optional count and note, the time, the
user, and ``simulated``. Container drivers report ``geleegd`` / ``niet_bereikbaar``; the weesfietsen
field page can report its own statuses (``gelabeld``, ``verwijderd``, ``niets``) with ``count``.

``last_done(wh, "geleegd")`` gives the latest emptying per container: the forecast ignores sensor
readings before it (the level starts again from empty) and the next plan uses it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from stadslab.errors import AnalysisError

DDL = """
CREATE SCHEMA IF NOT EXISTS route;
CREATE TABLE IF NOT EXISTS route.stop_events (
    plan VARCHAR NOT NULL, plan_version INTEGER, vehicle VARCHAR, stop_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL, count INTEGER, note VARCHAR, tijd TIMESTAMPTZ NOT NULL,
    gebruiker VARCHAR, simulated BOOLEAN, received_at TIMESTAMPTZ);
"""
STATUSES = {"geleegd", "niet_bereikbaar", "gelabeld", "verwijderd", "niets"}


def ensure(con) -> None:
    con.execute(DDL)


def record(wh, *, plan: str, plan_version: int, vehicle: str, stop_id: str, status: str, user: str,
           when: datetime | None = None, count: int | None = None, note: str = "", simulated: bool = False) -> dict:
    """Append one field report (in its own transaction). Raises AnalysisError on an unknown status."""
    if status not in STATUSES:
        raise AnalysisError(f"onbekende status '{status}'", hint=f"kies uit: {', '.join(sorted(STATUSES))}")
    now = datetime.now(timezone.utc)
    when = when or now
    ensure(wh.con)
    wh.con.execute("INSERT INTO route.stop_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [plan, plan_version, vehicle, stop_id, status, count, note[:500], when, user, simulated, now])
    return {"plan": plan, "versie": plan_version, "wagen": vehicle, "stop": stop_id, "status": status,
            "tijd": when.isoformat()}


def events(wh, plan: str | None = None, plan_version: int | None = None) -> pd.DataFrame:
    """All reports (optionally of one plan version), oldest first."""
    if not _exists(wh):
        return pd.DataFrame(columns=["plan", "plan_version", "vehicle", "stop_id", "status", "count", "note",
                                     "tijd", "gebruiker", "simulated", "received_at"])
    return wh.con.execute(
        "SELECT * FROM route.stop_events WHERE (? IS NULL OR plan = ?) AND (? IS NULL OR plan_version = ?) "
        "ORDER BY received_at", [plan, plan, plan_version, plan_version]).df()


def last_done(wh, status: str = "geleegd") -> pd.Series:
    """Latest time per stop id with ``status`` (a Series indexed by stop id, UTC timestamps)."""
    if not _exists(wh):
        return pd.Series(dtype="datetime64[ns, UTC]")
    df = wh.con.execute("SELECT stop_id, max(tijd) AS tijd FROM route.stop_events WHERE status = ? GROUP BY stop_id",
                        [status]).df()
    return pd.Series(pd.to_datetime(df["tijd"], utc=True).to_numpy(), index=df["stop_id"].astype(str).to_numpy())


def _exists(wh) -> bool:
    row = wh.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'route' "
                         "AND table_name = 'stop_events'").fetchone()
    return bool(row and row[0])
