"""Retention at load time: rows older than the data-sharing agreement allows never enter a version.

A catalog entry may carry (issue 13, governance records)::

    governance:
      bewaartermijn: {field: maand, jaren: 7}      # or maanden: N

At every load (``stadslab ingest`` / ``refresh``), inside the load's transaction and before the version
is committed, rows whose ``field`` lies before *reference date − term* are deleted from the new version
table. The reference date is the load date (UTC), or ``$STADSLAB_RETENTION_DATE`` (yyyy-mm-dd) /
the ``reference`` argument for tests and for replaying a load as of a given day. The term runs from:

- a ``date`` / ``datetime`` field: that moment;
- a school-year string ``"2021/22"``: the end of the school year (31 July 2022) — a record of a school
  year is as old as the year's last day.

The number removed and the cut-off go into the version's provenance (``reader_options.bewaartermijn`` and
a line in ``notes``), ``rows_loaded`` counts what is left, and one line goes to the workspace's audit log
(route ``ingest:bewaartermijn``) so the privacy officer sees every application, also when nothing was
removed. Older versions keep their rows: a rollback is an explicit act that the version history shows.

The audit line is written after the commit (``defer``): a load that fails or rolls back (the fast route
falling back to the text route) leaves no line for a version that never existed.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from stadslab.catalog.model import Dataset
from stadslab.errors import IngestError

ENV_REFERENCE = "STADSLAB_RETENTION_DATE"
SCHOOL_YEAR = r"^[0-9]{4}/[0-9]{2}$"


def reference_date(reference: date | None = None) -> date:
    if reference is not None:
        return reference
    env = os.environ.get(ENV_REFERENCE)
    if env:
        try:
            return date.fromisoformat(env.strip())
        except ValueError:
            raise IngestError(f"${ENV_REFERENCE} = '{env}' is geen datum", hint="vorm: jjjj-mm-dd") from None
    return datetime.now(timezone.utc).date()


def cutoff(term: dict[str, Any], reference: date) -> date:
    """The oldest moment still kept: reference − term (calendar months; 29 Feb → 28 Feb)."""
    months = int(term.get("jaren", 0)) * 12 + int(term.get("maanden", 0))
    if months <= 0:
        raise IngestError("bewaartermijn zonder jaren of maanden", hint="governance.bewaartermijn: {field, jaren: N}")
    total = reference.year * 12 + reference.month - 1 - months
    year, month = divmod(total, 12)
    for day in (reference.day, 30, 29, 28):
        try:
            return date(year, month + 1, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _moment_sql(ds: Dataset, name: str) -> str:
    try:
        f = ds.field(name)
    except KeyError:
        raise IngestError(f"bewaartermijn van '{ds.id}': veld '{name}' bestaat niet",
                          hint="governance.bewaartermijn.field noemt een datumveld of schooljaar") from None
    col = '"' + name.replace('"', '""') + '"'
    if f.type in ("date", "datetime"):
        return f"CAST({col} AS DATE)"
    if f.type == "string":   # school year 'jjjj/jj': its last day, 31 July of the second year
        return (f"CASE WHEN regexp_full_match({col}, '{SCHOOL_YEAR}') "
                f"THEN make_date(CAST(left({col}, 4) AS INTEGER) + 1, 7, 31) END")
    raise IngestError(f"bewaartermijn van '{ds.id}': veld '{name}' is {f.type}, geen datum of schooljaar")


def retention_term(ds: Dataset) -> dict[str, Any] | None:
    """The dataset's bewaartermijn, or None."""
    return (ds.governance or {}).get("bewaartermijn") or None


def apply_retention(con: Any, ds: Dataset, table: str, provenance: dict[str, Any], extra: dict[str, Any],
                    data_dir: Path | None = None, *, reference: date | None = None,
                    defer: list | None = None, rows_in: str | None = None) -> dict[str, Any] | None:
    """Delete expired rows from the version ``table`` being committed (called from ingest/pipeline.py
    inside the load's transaction); updates ``extra['rows_loaded']`` and the provenance; audits — at once, or
    with ``defer`` by appending the audit write to that list for the caller to run after the commit.
    ``rows_in``: the table that holds the rows when ``table`` is a version's view."""
    term = retention_term(ds)
    if not term:
        return None
    ref = reference_date(reference)
    cut = cutoff(term, ref)
    removed = con.execute(f"DELETE FROM {rows_in or table} WHERE {_moment_sql(ds, term['field'])} < ?", [cut]).fetchone()[0]
    removed = int(removed or 0)
    if extra.get("rows_loaded") is not None:
        extra["rows_loaded"] = int(extra["rows_loaded"]) - removed
    record = {"veld": term["field"], "termijn": {k: term[k] for k in ("jaren", "maanden") if k in term},
              "peildatum": ref.isoformat(), "grens": cut.isoformat(), "verwijderd": removed}
    provenance.setdefault("reader_options", {})["bewaartermijn"] = record
    provenance.setdefault("notes", []).append(
        f"bewaartermijn: {removed} rijen met {term['field']} vóór {cut.isoformat()} verwijderd (peildatum {ref.isoformat()})")
    if defer is not None:
        defer.append(lambda: _audit(ds, table, record, data_dir))
    else:
        _audit(ds, table, record, data_dir)
    return record


def _audit(ds: Dataset, table: str, record: dict[str, Any], data_dir: Path | None) -> None:
    """One line in the workspace's audit log, for the privacy officer (only for a workspace's data folder)."""
    if data_dir is None:
        return
    ws = Path(data_dir).resolve().parent
    if not (ws / "stadslab.yaml").exists():
        return
    from stadslab.privacy.audit import AuditEntry, AuditLog
    from stadslab.warehouse.store import current_user

    try:
        version = int(table.rstrip('"').rsplit("__", 1)[1])
    except (IndexError, ValueError):
        version = None
    AuditLog(ws / "audit" / "audit.jsonl").append(AuditEntry(
        user=current_user(), role="systeem", purpose="bewaartermijn", dataset=ds.id, version=version,
        route="ingest:bewaartermijn", filters=record, rows_out=record["verwijderd"], allowed=True,
        reason=f"bewaartermijn {record['termijn']} op {record['veld']}: {record['verwijderd']} rijen vóór "
               f"{record['grens']} verwijderd bij het laden"))
