"""The versioned warehouse: one DuckDB file, every load a new immutable version.

Layout (see docs/ARCHITECTURE.md): version tables in schema ``v``, a view per dataset in ``main`` on
the current version, and bookkeeping in schema ``stadslab`` (versions, current, loads, rejects,
results). A commit is one DuckDB transaction, so a failed or killed load leaves the previous
version current and the file consistent.

Personal and confidential datasets (``persoonsgegevens``, ``vertrouwelijk``) live in a second file,
``restricted.duckdb``, with the same layout, ATTACHed as ``restricted`` by the paths that may use them
(ingest, the release path). Free SQL (``stadslab query``) opens only the main file, read-only and
without file access (warehouse/sqlpath.py), so no spelling of SQL can reach them (issue 9, finding 1).
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
from stadslab.warehouse.connection import connect, qident
from stadslab.warehouse.layout import VersionLayout, drop_unfinished_rows

RESTRICTED_CLASSES = ("vertrouwelijk", "persoonsgegevens")
RESTRICTED_DB = "restricted"      # the alias of restricted.duckdb on connections that may use it

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


def _meta_ddl(prefix: str) -> str:
    """META_DDL for the default database (prefix '') or the restricted one (prefix 'restricted.')."""
    return META_DDL.replace("EXISTS stadslab", f"EXISTS {prefix}stadslab").replace(
        "EXISTS v;", f"EXISTS {prefix}v;").replace("EXISTS results;", f"EXISTS {prefix}results;")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def current_user() -> str:
    try:
        return os.environ.get("STADSLAB_USER") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "onbekend"


class Warehouse:
    """A DuckDB warehouse file. Open with ``Workspace.warehouse()`` or ``Warehouse.open(path)``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool, *,
                 restricted: bool = False, restricted_ids: frozenset[str] = frozenset()) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.restricted = restricted              # restricted.duckdb is attached as ``restricted``
        self.restricted_ids = frozenset(restricted_ids)   # catalog ids that belong there
        self._ibis = None

    def cursor(self) -> "Warehouse":
        """This warehouse on a new cursor of the same connection (one per thread)."""
        return Warehouse(self.con.cursor(), self.path, self.read_only, restricted=self.restricted,
                         restricted_ids=self.restricted_ids)

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, restricted_path: Path | None = None,
             restricted_ids: frozenset[str] | set[str] = frozenset()) -> "Warehouse":
        """Open the main file; with ``restricted_path`` also attach the restricted datasets' file
        (created on a writable open). ``restricted_ids``: catalog datasets that live there."""
        path = Path(path)
        if read_only and not path.exists():
            raise WarehouseError(f"er is nog geen warehouse in {path}",
                                 hint="laad eerst data met 'stadslab ingest' of 'stadslab refresh'")
        try:
            con = connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseError(f"het warehouse {path} is niet te openen: {exc}",
                                 hint="een ander proces schrijft in deze werkruimte ('stadslab refresh --watch', een "
                                      "lopende lading). Terwijl 'stadslab serve' draait, geven status, versions, query, "
                                      "aggregate en refresh hun werk aan de server; stop de server voor ingest of "
                                      "rollback") from None
        if not read_only:
            con.execute(META_DDL)
        attached = False
        if restricted_path is not None and (not read_only or Path(restricted_path).exists()):
            try:
                con.execute(f"ATTACH '{_sql_str(Path(restricted_path))}' AS {RESTRICTED_DB}"
                            + (" (READ_ONLY)" if read_only else ""))
            except duckdb.IOException as exc:
                con.close()
                raise WarehouseError(f"het warehouse {restricted_path} is niet te openen: {exc}",
                                     hint="draait 'stadslab serve' op deze werkruimte? Probeer het zo opnieuw") from None
            if not read_only:
                con.execute(_meta_ddl(RESTRICTED_DB + "."))
            attached = True
        wh = cls(con, path, read_only, restricted=attached, restricted_ids=frozenset(restricted_ids))
        if not read_only:
            wh._drop_unfinished_rows()
        if attached and not read_only and wh.restricted_ids:
            from stadslab.warehouse.sqlpath import move_restricted_out_of_main

            move_restricted_out_of_main(wh)
        return wh

    def close(self) -> None:
        self.con.close()

    def _drop_unfinished_rows(self) -> None:
        drop_unfinished_rows(self.con, self._dbs())

    # ---- where a dataset lives ----------------------------------------------------------

    def _db(self, dataset: str, classification: str | None = None) -> str | None:
        """Prefix of the database holding ``dataset``: '' (main), 'restricted.', or None when it is a
        restricted dataset and restricted.duckdb is not attached here (nothing to read)."""
        if classification in RESTRICTED_CLASSES or dataset in self.restricted_ids:
            return RESTRICTED_DB + "." if self.restricted else None
        if self.restricted and self.con.execute(
                f"SELECT 1 FROM {RESTRICTED_DB}.stadslab.versions WHERE dataset = ? LIMIT 1", [dataset]).fetchone():
            return RESTRICTED_DB + "."
        return ""

    def _dbs(self) -> list[str]:
        return [""] + ([RESTRICTED_DB + "."] if self.restricted else [])

    # ---- reading -------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        sql = " UNION ALL ".join(f"SELECT dataset FROM {db}stadslab.current" for db in self._dbs())
        return [r[0] for r in self.con.execute(f"SELECT dataset FROM ({sql}) ORDER BY dataset").fetchall()]

    def current_versions(self) -> list[tuple[str, int, Any, int]]:
        """(dataset, current version, loaded at, rows) for every loaded dataset, in both files."""
        sql = " UNION ALL ".join(
            f"""SELECT c.dataset, c.version, v.finished_at, v.rows_loaded FROM {db}stadslab.current c
                JOIN {db}stadslab.versions v USING (dataset, version)""" for db in self._dbs())
        return [tuple(r) for r in self.con.execute(sql).fetchall()]

    def current_version(self, dataset: str) -> int | None:
        db = self._db(dataset)
        if db is None:
            return None
        row = self.con.execute(f"SELECT version FROM {db}stadslab.current WHERE dataset = ?", [dataset]).fetchone()
        return row[0] if row else None

    def table_name(self, dataset: str, version: int | None = None) -> str:
        """Fully qualified physical table of a version (default: current)."""
        if version is None:
            version = self.current_version(dataset)
            if version is None:
                raise VersionNotFound(f"dataset '{dataset}' is nog niet geladen",
                                      hint=f"draai 'stadslab ingest {dataset}'")
        db = self._db(dataset)
        row = None if db is None else self.con.execute(
            f"SELECT table_name FROM {db}stadslab.versions WHERE dataset = ? AND version = ?", [dataset, version]).fetchone()
        if not row:
            known = [str(v["version"]) for v in self.versions(dataset)]
            raise VersionNotFound(f"dataset '{dataset}' heeft geen versie {version}",
                                  hint=f"beschikbare versies: {', '.join(known) or '(geen)'}")
        return f"{db}v.{qident(row[0])}"

    def versions(self, dataset: str) -> list[dict[str, Any]]:
        db = self._db(dataset)
        if db is None:
            return []
        rel = self.con.execute(
            f"""SELECT v.*, (c.version = v.version) AS is_current FROM {db}stadslab.versions v
               LEFT JOIN {db}stadslab.current c USING (dataset) WHERE v.dataset = ? ORDER BY v.version""", [dataset])
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
        physical = name.rsplit(".", 1)[1].strip('"').replace('""', '"')
        if name.startswith(RESTRICTED_DB + "."):
            return self.ibis.table(physical, database=(RESTRICTED_DB, "v"))
        return self.ibis.table(physical, database="v")

    @property
    def ibis(self):
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.con)
        return self._ibis

    def loads(self, dataset: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if dataset:
            db = self._db(dataset)
            if db is None:
                return []
            sql = f"SELECT * FROM {db}stadslab.loads WHERE dataset = ?"
        else:
            sql = " UNION ALL ".join(f"SELECT * FROM {db}stadslab.loads" for db in self._dbs())
        return _records(self.con.execute(f"SELECT * FROM ({sql}) ORDER BY started_at DESC LIMIT ?",
                                         ([dataset] if dataset else []) + [limit]))

    def rejects(self, dataset: str, version: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        version = version if version is not None else self.current_version(dataset)
        db = self._db(dataset)
        if db is None:
            return []
        return _records(self.con.execute(
            f'SELECT file, sheet, "row", "column", value, reason FROM {db}stadslab.rejects '
            'WHERE dataset = ? AND version = ? ORDER BY "row", "column" LIMIT ?', [dataset, version, limit]))

    # ---- writing -------------------------------------------------------------------------

    def next_version(self, dataset: str, classification: str | None = None) -> int:
        db = self._writable_db(dataset, classification)
        row = self.con.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {db}stadslab.versions WHERE dataset = ?",
                               [dataset]).fetchone()
        return int(row[0])

    def _writable_db(self, dataset: str, classification: str | None = None) -> str:
        db = self._db(dataset, classification)
        if db is None:
            raise WarehouseError(f"'{dataset}' hoort in het afgeschermde warehouse (restricted.duckdb), "
                                 "dat op deze verbinding niet open is")
        return db

    def commit_version(self, dataset: str, staging: str | VersionLayout, provenance: dict[str, Any], *,
                       rejects: str | None = None, after=None, measure=None) -> int:
        """Make ``staging`` (a TEMP table or view, a parenthesised SELECT, or a :class:`VersionLayout`)
        the new current version, atomically. ``measure(con, table)`` returns provenance figures computed on the written table
        (row counts, area statistics), so the rows are written once and counted where they landed.

        ``after(con, table_name, version)`` runs inside the same transaction (e.g. to rebuild the
        area registry view), so it commits or rolls back together with the version."""
        self._writable()
        db = self._writable_db(dataset, provenance.get("classification"))
        layout = isinstance(staging, VersionLayout)
        if layout:
            # The rows are written and committed first, as a table no reader knows: inside the load's
            # transaction DuckDB reads new rows with one thread, and the checks, counts and lake copy
            # that follow read all of them (measured: 0.7 s of a 5 M-row load). Until the transaction
            # below commits they are no version; a failed or killed load leaves them for the next
            # load of this number to replace (CREATE OR REPLACE) and Warehouse.open to drop.
            version = self.next_version(dataset, provenance.get("classification"))
            data = f"{db}v.{qident(f'{dataset}__{version}__data')}"
            self.con.execute(f"CREATE OR REPLACE TABLE {data} AS SELECT * FROM ({staging.data})")
        self.con.execute("BEGIN TRANSACTION")
        try:
            if not layout:       # a layout's number was taken above, by this one writer
                version = self.next_version(dataset, provenance.get("classification"))
            table = f"{dataset}__{version}"
            if layout:
                codes = None
                if staging.codes is not None:
                    codes = f"{db}v.{qident(table + '__codes')}"
                    self.con.execute(f"CREATE TABLE {codes} AS {staging.codes}")
                self.con.execute(f"CREATE VIEW {db}v.{qident(table)} AS {staging.view_sql(data, codes)}")
            else:
                self.con.execute(f"CREATE TABLE {db}v.{qident(table)} AS SELECT * FROM {staging}")
            _test_pause("commit")
            if measure is not None:
                provenance.update(measure(self.con, f"{db}v.{qident(table)}"))  # the caller sees them too
            if rejects:
                self.con.execute(f"""INSERT INTO {db}stadslab.rejects SELECT ?, ?, file, sheet, "row", "column", value, reason
                                     FROM {rejects}""", [dataset, version])
            p = provenance
            self.con.execute(
                f"""INSERT INTO {db}stadslab.versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [dataset, version, table, p.get("classification"), p.get("catalog_sha256"), p.get("reader"),
                 json.dumps(p.get("reader_options", {}), default=str), json.dumps(p.get("source_files", []), default=str),
                 p.get("source_sha256"), p.get("rows_read"), p.get("rows_loaded"), p.get("rows_rejected"),
                 json.dumps(p.get("null_markers", {})), json.dumps(p.get("area_stats", {}), default=str),
                 json.dumps(p.get("notes", []), default=str), p.get("started_at"), _now(), current_user(),
                 p.get("trigger", "ingest")])
            self._point_current(dataset, version, reason=p.get("trigger", "ingest"), db=db)
            if after is not None:
                after(self.con, f"{db}v.{qident(table)}", version)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            if layout:
                self.con.execute(f"DROP TABLE IF EXISTS {data}")
            raise
        return version

    def rollback(self, dataset: str, version: int, *, after=None) -> None:
        """Make an earlier version current again (the later versions stay, for the record)."""
        self._writable()
        self.table_name(dataset, version)  # raises VersionNotFound
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._point_current(dataset, version, reason=f"rollback naar versie {version}",
                                db=self._writable_db(dataset))
            if after is not None:
                after(self.con, self.table_name(dataset, version), version)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _point_current(self, dataset: str, version: int, *, reason: str, db: str = "") -> None:
        self.con.execute(f"INSERT OR REPLACE INTO {db}stadslab.current VALUES (?, ?, ?, ?, ?)",
                         [dataset, version, _now(), current_user(), reason])
        self.con.execute(f"CREATE OR REPLACE VIEW {db}main.{qident(dataset)} AS "
                         f"SELECT * FROM {db}v.{qident(f'{dataset}__{version}')}")

    def log_load(self, dataset: str, *, started_at: datetime, status: str, version: int | None,
                 message: str, trigger: str = "ingest") -> None:
        """Record a load attempt — also failed ones — in its own small transaction."""
        if self.read_only:
            return
        db = self._db(dataset)
        if db is None:      # a restricted dataset's messages may quote its values: never in the main file
            return
        self.con.execute(f"INSERT INTO {db}stadslab.loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


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
