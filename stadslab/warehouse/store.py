"""The versioned warehouse: one DuckDB file, every load a new immutable version.

Layout (see docs/ARCHITECTURE.md): version tables in schema ``v``, a view per dataset in ``main`` on
the current version, and bookkeeping in schema ``stadslab`` (versions, current, loads, rejects,
results). A commit is one DuckDB transaction, so a failed or killed load leaves the previous
version current and the file consistent.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from stadslab.errors import VersionNotFound, WarehouseError
from stadslab.warehouse.connection import connect

META_DDL = """
CREATE SCHEMA IF NOT EXISTS stadslab;
CREATE SCHEMA IF NOT EXISTS v;
CREATE SCHEMA IF NOT EXISTS results;
CREATE TABLE IF NOT EXISTS stadslab.versions (
    dataset VARCHAR NOT NULL, version INTEGER NOT NULL, table_name VARCHAR NOT NULL,
    classification VARCHAR, catalog_sha256 VARCHAR, reader VARCHAR, reader_options JSON,
    source_files JSON, source_sha256 VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_rejected BIGINT,
    null_markers JSON, area_stats JSON, notes JSON,
    started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, loaded_by VARCHAR, trigger VARCHAR,
    PRIMARY KEY (dataset, version));
CREATE TABLE IF NOT EXISTS stadslab.current (
    dataset VARCHAR PRIMARY KEY, version INTEGER NOT NULL, since TIMESTAMPTZ, changed_by VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS stadslab.loads (
    dataset VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR,
    version INTEGER, message VARCHAR, loaded_by VARCHAR, trigger VARCHAR);
CREATE TABLE IF NOT EXISTS stadslab.rejects (
    dataset VARCHAR, version INTEGER, file VARCHAR, sheet VARCHAR, "row" BIGINT, "column" VARCHAR,
    value VARCHAR, reason VARCHAR);
CREATE TABLE IF NOT EXISTS stadslab.results (
    name VARCHAR, version INTEGER, table_name VARCHAR, kind VARCHAR, inputs JSON, params JSON,
    method VARCHAR, rows BIGINT, created_at TIMESTAMPTZ, created_by VARCHAR, PRIMARY KEY (name, version));
"""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def current_user() -> str:
    try:
        return os.environ.get("STADSLAB_USER") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "onbekend"


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Warehouse:
    """A DuckDB warehouse file. Open with ``Workspace.warehouse()`` or ``Warehouse.open(path)``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self._ibis = None

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> "Warehouse":
        path = Path(path)
        if read_only and not path.exists():
            raise WarehouseError(f"er is nog geen warehouse in {path}",
                                 hint="laad eerst data met 'stadslab ingest' of 'stadslab refresh'")
        try:
            con = connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseError(f"het warehouse {path} is niet te openen: {exc}",
                                 hint="draait 'stadslab serve' of 'stadslab refresh --watch' op deze werkruimte? Eén proces "
                                      "tegelijk mag schrijven: stop het, of laat de app verversen met "
                                      "'stadslab serve --refresh-every 60'") from None
        if not read_only:
            con.execute(META_DDL)
        return cls(con, path, read_only)

    def close(self) -> None:
        self.con.close()

    # ---- reading -------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT dataset FROM stadslab.current ORDER BY dataset").fetchall()]

    def current_version(self, dataset: str) -> int | None:
        row = self.con.execute("SELECT version FROM stadslab.current WHERE dataset = ?", [dataset]).fetchone()
        return row[0] if row else None

    def table_name(self, dataset: str, version: int | None = None) -> str:
        """Fully qualified physical table of a version (default: current)."""
        if version is None:
            version = self.current_version(dataset)
            if version is None:
                raise VersionNotFound(f"dataset '{dataset}' is nog niet geladen",
                                      hint=f"draai 'stadslab ingest {dataset}'")
        row = self.con.execute("SELECT table_name FROM stadslab.versions WHERE dataset = ? AND version = ?",
                               [dataset, version]).fetchone()
        if not row:
            known = [str(v["version"]) for v in self.versions(dataset)]
            raise VersionNotFound(f"dataset '{dataset}' heeft geen versie {version}",
                                  hint=f"beschikbare versies: {', '.join(known) or '(geen)'}")
        return f"v.{qident(row[0])}"

    def versions(self, dataset: str) -> list[dict[str, Any]]:
        rel = self.con.execute(
            """SELECT v.*, (c.version = v.version) AS is_current FROM stadslab.versions v
               LEFT JOIN stadslab.current c USING (dataset) WHERE v.dataset = ? ORDER BY v.version""", [dataset])
        return _records(rel)

    def provenance(self, dataset: str, version: int | None = None) -> dict[str, Any]:
        version = version if version is not None else self.current_version(dataset)
        rows = [r for r in self.versions(dataset) if r["version"] == version]
        if not rows:
            raise VersionNotFound(f"dataset '{dataset}' heeft geen versie {version}")
        return rows[0]

    def table(self, dataset: str, version: int | None = None):
        """The Ibis table of a dataset version (default: current). Analyses use only this."""
        name = self.table_name(dataset, version)
        physical = name.split(".", 1)[1].strip('"')
        return self.ibis.table(physical, database="v")

    @property
    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def loads(self, dataset: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM stadslab.loads" + (" WHERE dataset = ?" if dataset else "") + \
              " ORDER BY started_at DESC LIMIT ?"
        return _records(self.con.execute(sql, ([dataset] if dataset else []) + [limit]))

    def rejects(self, dataset: str, version: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        version = version if version is not None else self.current_version(dataset)
        return _records(self.con.execute(
            'SELECT file, sheet, "row", "column", value, reason FROM stadslab.rejects '
            'WHERE dataset = ? AND version = ? ORDER BY "row", "column" LIMIT ?', [dataset, version, limit]))

    # ---- writing -------------------------------------------------------------------------

    def next_version(self, dataset: str) -> int:
        row = self.con.execute("SELECT coalesce(max(version), 0) + 1 FROM stadslab.versions WHERE dataset = ?",
                               [dataset]).fetchone()
        return int(row[0])

    def commit_version(self, dataset: str, staging: str, provenance: dict[str, Any], *,
                       rejects: str | None = None, after=None, measure=None) -> int:
        """Make ``staging`` (a TEMP table or view, or a parenthesised SELECT) the new current version,
        atomically. ``measure(con, table)`` returns provenance figures computed on the written table
        (row counts, area statistics), so the rows are written once and counted where they landed.

        ``after(con, table_name, version)`` runs inside the same transaction (e.g. to rebuild the
        area registry view), so it commits or rolls back together with the version."""
        self._writable()
        self.con.execute("BEGIN TRANSACTION")
        try:
            version = self.next_version(dataset)
            table = f"{dataset}__{version}"
            self.con.execute(f"CREATE TABLE v.{qident(table)} AS SELECT * FROM {staging}")
            _test_pause("commit")
            if measure is not None:
                provenance.update(measure(self.con, f"v.{qident(table)}"))  # the caller sees them too
            if rejects:
                self.con.execute(f"""INSERT INTO stadslab.rejects SELECT ?, ?, file, sheet, "row", "column", value, reason
                                     FROM {rejects}""", [dataset, version])
            p = provenance
            self.con.execute(
                """INSERT INTO stadslab.versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [dataset, version, table, p.get("classification"), p.get("catalog_sha256"), p.get("reader"),
                 json.dumps(p.get("reader_options", {}), default=str), json.dumps(p.get("source_files", []), default=str),
                 p.get("source_sha256"), p.get("rows_read"), p.get("rows_loaded"), p.get("rows_rejected"),
                 json.dumps(p.get("null_markers", {})), json.dumps(p.get("area_stats", {}), default=str),
                 json.dumps(p.get("notes", []), default=str), p.get("started_at"), _now(), current_user(),
                 p.get("trigger", "ingest")])
            self._point_current(dataset, version, reason=p.get("trigger", "ingest"))
            if after is not None:
                after(self.con, f"v.{qident(table)}", version)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return version

    def rollback(self, dataset: str, version: int, *, after=None) -> None:
        """Make an earlier version current again (the later versions stay, for the record)."""
        self._writable()
        self.table_name(dataset, version)  # raises VersionNotFound
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._point_current(dataset, version, reason=f"rollback naar versie {version}")
            if after is not None:
                after(self.con, self.table_name(dataset, version), version)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _point_current(self, dataset: str, version: int, *, reason: str) -> None:
        self.con.execute("INSERT OR REPLACE INTO stadslab.current VALUES (?, ?, ?, ?, ?)",
                         [dataset, version, _now(), current_user(), reason])
        self.con.execute(f"CREATE OR REPLACE VIEW main.{qident(dataset)} AS "
                         f"SELECT * FROM v.{qident(f'{dataset}__{version}')}")

    def log_load(self, dataset: str, *, started_at: datetime, status: str, version: int | None,
                 message: str, trigger: str = "ingest") -> None:
        """Record a load attempt — also failed ones — in its own small transaction."""
        if self.read_only:
            return
        self.con.execute("INSERT INTO stadslab.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [dataset, started_at, _now(), status, version, message[:4000], current_user(), trigger])

    def results(self, name: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Stored versions of result ``name`` (optionally of ``kind``), oldest first; ``inputs`` are
        (dataset, version) pairs, ``params`` a dict."""
        rows = _records(self.con.execute(
            "SELECT * FROM stadslab.results WHERE name = ? AND (? IS NULL OR kind = ?) ORDER BY version",
            [name, kind, kind]))
        for r in rows:
            r["inputs"] = [(str(d), int(v)) for d, v in r["inputs"] or []]
            r["params"] = r["params"] or {}
        return rows

    def save_result(self, name: str, table, *, kind: str, inputs: list[tuple[str, int]],
                    params: dict[str, Any], method: str) -> int:
        """Store an analysis result as ``results."<name>__<n>"`` with its provenance; returns n."""
        self._writable()
        self.con.register("__result_in", table)
        self.con.execute("BEGIN TRANSACTION")
        try:
            row = self.con.execute("SELECT coalesce(max(version), 0) + 1 FROM stadslab.results WHERE name = ?",
                                   [name]).fetchone()
            version = int(row[0])
            physical = f"{name}__{version}"
            self.con.execute(f"CREATE TABLE results.{qident(physical)} AS SELECT * FROM __result_in")
            rows = self.con.execute(f"SELECT count(*) FROM results.{qident(physical)}").fetchone()[0]
            self.con.execute("INSERT INTO stadslab.results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [name, version, physical, kind, json.dumps([list(i) for i in inputs]),
                              json.dumps(params, default=str), method, rows, _now(), current_user()])
            self.con.execute(f"CREATE OR REPLACE VIEW results.{qident(name)} AS SELECT * FROM results.{qident(physical)}")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        finally:
            self.con.unregister("__result_in")
        return version

    def _writable(self) -> None:
        if self.read_only:
            raise WarehouseError("het warehouse is alleen-lezen geopend")


def _records(rel: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cols = [d[0] for d in rel.description]
    out = []
    for row in rel.fetchall():
        rec = dict(zip(cols, row))
        for k, v in rec.items():
            if isinstance(v, str) and k in ("reader_options", "source_files", "null_markers", "area_stats",
                                            "notes", "inputs", "params"):
                try:
                    rec[k] = json.loads(v)
                except ValueError:
                    pass
        out.append(rec)
    return out


def _test_pause(point: str) -> None:
    """Test hook: ``STADSLAB_TEST_PAUSE=commit`` makes a load wait inside its transaction, so a test
    can kill the process at a known point and check that the warehouse stays consistent."""
    if os.environ.get("STADSLAB_TEST_PAUSE") == point:
        marker = os.environ.get("STADSLAB_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).write_text("paused")
        time.sleep(float(os.environ.get("STADSLAB_TEST_PAUSE_SECONDS", "60")))
