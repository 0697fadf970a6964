"""The free-SQL path, separated from personal and confidential data by construction.

``stadslab query`` runs SQL that a user typed. Any check on SQL *text* has holes (``query_table('x')``,
``query('FROM so' || 'ciaal')``, ``read_parquet`` of the pseudonymised files, ATTACH of another file, …).
So the free-SQL connection is built so that such data is out of reach whatever the spelling:

1. datasets classified ``persoonsgegevens`` or ``vertrouwelijk`` live in their own file
   (``restricted.duckdb``), versions, bookkeeping and rejects included; the main file holds open and
   intern data only (``move_restricted_out_of_main`` moves them out of older workspaces);
2. the free-SQL connection opens *only* the main file, read-only, then switches off all file access
   (``enable_external_access = false``: no ATTACH, read_*, COPY, EXPORT, glob, st_read, extension
   loading) and locks the configuration (``lock_configuration = true``), so no statement can switch
   it back on. What the connection cannot open, no SQL can read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from stadslab.errors import WarehouseError
from stadslab.warehouse.connection import connect

if TYPE_CHECKING:  # pragma: no cover
    from stadslab.warehouse.store import Warehouse


def open_sql_connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the main warehouse file that can reach nothing else."""
    if not Path(path).exists():
        raise WarehouseError(f"er is nog geen warehouse in {path}",
                             hint="laad eerst data met 'stadslab ingest' of 'stadslab refresh'")
    con = connect(path, read_only=True)          # spatial is loaded first (ST_ functions stay usable)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def restricted_in_main(con: duckdb.DuckDBPyConnection, restricted_ids: set[str] | frozenset[str]) -> list[str]:
    """Restricted datasets that an older workspace still keeps in the main file (not yet moved)."""
    if not restricted_ids:
        return []
    try:
        rows = con.execute("SELECT DISTINCT dataset FROM stadslab.versions").fetchall()
    except duckdb.CatalogException:
        return []
    return sorted({r[0] for r in rows} & set(restricted_ids))


def move_restricted_out_of_main(wh: "Warehouse") -> list[str]:
    """Move restricted datasets (version tables, bookkeeping, rejects) from the main file into
    restricted.duckdb, then drop them from the main file. Idempotent: a move interrupted between the
    two transactions is finished on the next writable open (a version already copied is not copied
    again). Returns the datasets moved."""
    from stadslab.warehouse.layout import drop_version_objects
    from stadslab.warehouse.store import RESTRICTED_DB, qident

    moved = restricted_in_main(wh.con, wh.restricted_ids)
    r = RESTRICTED_DB
    for ds in moved:
        tables = [t for (t,) in wh.con.execute("SELECT table_name FROM stadslab.versions WHERE dataset = ?",
                                               [ds]).fetchall()]
        have = {t for (t,) in wh.con.execute(f"SELECT table_name FROM {r}.stadslab.versions WHERE dataset = ?",
                                             [ds]).fetchall()}
        wh.con.execute("BEGIN TRANSACTION")
        try:
            for t in tables:
                if t in have:
                    continue
                wh.con.execute(f"CREATE TABLE {r}.v.{qident(t)} AS SELECT * FROM v.{qident(t)}")
                wh.con.execute(f"INSERT INTO {r}.stadslab.versions SELECT * FROM stadslab.versions "
                               "WHERE dataset = ? AND table_name = ?", [ds, t])
            if not have:
                for tab in ("loads", "rejects"):
                    wh.con.execute(f"INSERT INTO {r}.stadslab.{tab} SELECT * FROM stadslab.{tab} WHERE dataset = ?", [ds])
                wh.con.execute(f"INSERT OR REPLACE INTO {r}.stadslab.current SELECT * FROM stadslab.current "
                               "WHERE dataset = ?", [ds])
                row = wh.con.execute(f"SELECT version FROM {r}.stadslab.current WHERE dataset = ?", [ds]).fetchone()
                if row:
                    wh.con.execute(f"CREATE OR REPLACE VIEW {r}.main.{qident(ds)} AS "
                                   f"SELECT * FROM {r}.v.{qident(f'{ds}__{row[0]}')}")
            wh.con.execute("COMMIT")
        except BaseException:
            wh.con.execute("ROLLBACK")
            raise
        wh.con.execute("BEGIN TRANSACTION")
        try:
            for t in tables:
                drop_version_objects(wh.con, "", t)
            wh.con.execute(f"DROP VIEW IF EXISTS main.{qident(ds)}")
            for tab in ("versions", "current", "loads", "rejects"):
                wh.con.execute(f"DELETE FROM stadslab.{tab} WHERE dataset = ?", [ds])
            wh.con.execute("COMMIT")
        except BaseException:
            wh.con.execute("ROLLBACK")
            raise
    if moved:
        wh.con.execute("CHECKPOINT")   # the freed blocks are reused; the old rows are no longer reachable
    return moved
