"""How a version is stored when deriving columns is cheaper than writing them (issue 16).

``Warehouse.commit_version`` takes a :class:`VersionLayout`: the rows go into ``v."<ds>__<n>__data"``,
an optional one-row ``codes`` table into ``…__codes``, and ``v."<ds>__<n>"`` — the name every reader
uses — is a view that derives the rest. The ``__data`` rows are committed just before the version's
own transaction (there DuckDB would read them with one thread), so a killed load can leave them
behind: :func:`drop_unfinished_rows` removes what no version names.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from stadslab.warehouse.connection import qident

ROWID_COLUMN = "__rowid"
ROWID = f"t.{ROWID_COLUMN}"   # in a column of a VersionLayout: the row's position in the data table


@dataclass(frozen=True)
class VersionLayout:
    """A version written compactly (issue 16): the rows of ``data`` (a SELECT) go into the table
    ``v.<dataset>__<n>__data``, the optional one-row ``codes`` SELECT into ``…__codes``, and the
    version readers see — ``v.<dataset>__<n>``, as for any version — is a view with ``columns``
    (name, SQL over ``t`` = the data table and ``c`` = the codes row) that derives what was not
    written (area codes, lon/lat, cell, line number) when a query reads it.

    ``helpers``: layers of named intermediate columns over ``t`` (each layer may use the ones before),
    computed once per row in sub-selects so that ``columns`` name them instead of repeating their SQL:
    written out, lon/lat repeat the coordinate checks dozens of times: DuckDB planned that 25 kB view
    in 7 ms on every query, and lon/lat of 100 000 rows took 58 ms instead of 14 (docs/scale.md).
    ``ROWID`` (``t.__rowid``) in a column is the row's position in the data table."""

    data: str
    columns: tuple[tuple[str, str], ...]
    codes: str | None = None
    helpers: tuple[tuple[tuple[str, str], ...], ...] = ()

    def view_sql(self, data: str, codes: str | None) -> str:
        cols = ", ".join(f"{expr} AS {qident(name)}" for name, expr in self.columns)
        rows = f"{data} t"
        layers = list(self.helpers)
        if any(ROWID in expr for _, expr in self.columns):     # rowid exists only on the table itself
            layers.insert(0, ((ROWID_COLUMN, "t.rowid"),))
        for layer in layers:
            rows = f"(SELECT t.*, {', '.join(f'{expr} AS {qident(name)}' for name, expr in layer)} FROM {rows}) t"
        return f"SELECT {cols} FROM {rows}" + (f" CROSS JOIN {codes} c" if codes else "")


def data_table(version_table: str) -> str:
    """The written table behind a version that has a :class:`VersionLayout` (its view's name + ``__data``)."""
    return version_table[:-1] + '__data"' if version_table.endswith('"') else version_table + "__data"


def drop_version_objects(con: duckdb.DuckDBPyConnection, db: str, table: str) -> None:
    """Drop a version's table, or its view with the tables behind it (``db``: '' or 'restricted.')."""
    kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_catalog = "
                       "coalesce(nullif(?, ''), current_database()) AND table_schema = 'v' AND table_name = ?",
                       [db.rstrip("."), table]).fetchone()
    if kind and kind[0] == "VIEW":
        con.execute(f"DROP VIEW {db}v.{qident(table)}")
        for part in ("__data", "__codes"):
            con.execute(f"DROP TABLE IF EXISTS {db}v.{qident(table + part)}")
    else:
        con.execute(f"DROP TABLE IF EXISTS {db}v.{qident(table)}")


def drop_unfinished_rows(con: duckdb.DuckDBPyConnection, dbs: list[str]) -> None:
    """Drop the written rows of a load that never committed its version (killed between writing
    its ``__data`` table and the version's commit, see ``Warehouse.commit_version``)."""
    for db in dbs:
        catalog = db.rstrip(".") or None
        known = {t for (t,) in con.execute(f"SELECT table_name FROM {db}stadslab.versions").fetchall()}
        for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = coalesce(?, current_database()) "
                "AND schema_name = 'v' "
                "AND (suffix(table_name, '__data') OR suffix(table_name, '__codes'))", [catalog]).fetchall():
            if name.rsplit("__", 1)[0] not in known:
                con.execute(f"DROP TABLE {db}v.{qident(name)}")
