"""Typed record formats: Parquet (``parquet``) and JSON / JSON Lines (``json``), read by DuckDB.

Columns keep their native types (``ReadResult.typed``); ``__row`` is the 1-based record number.
Parquet takes it from ``file_row_number`` (exact, also when DuckDB reads row groups in parallel);
JSON from the insertion order, which DuckDB preserves. A ``.json`` file may be an array of records,
records one per line, or one object per record key (``{"GM0344": {...}, ...}``): the last becomes one
row per key, with the key in column ``options['key_column']`` (default ``key``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from stadslab.errors import ReaderError
from stadslab.ingest.readers.base import ROW_COLUMN, ReadResult, quote_ident, register_reader

FILE_ROW = "file_row_number"


@register_reader("parquet", (".parquet", ".pq"), "Parquet: kolommen met eigen types")
def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
    """A Parquet file into a TEMP table with ``__row`` = record number in the file."""
    path = _existing(path)
    try:
        names = [d[0] for d in con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)]).description]
        if FILE_ROW in names:
            raise ReaderError(f"kolom '{FILE_ROW}' botst met het rijnummer van DuckDB", file=str(path))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS SELECT * EXCLUDE ({FILE_ROW}), "
                    f"{FILE_ROW} + 1 AS {ROW_COLUMN} FROM read_parquet(?, file_row_number = true)", [str(path)])
    except duckdb.Error as exc:
        raise ReaderError(f"Parquet kan niet gelezen worden: {_first_line(exc)}", file=str(path)) from None
    return _result(con, table, names, {"format": "parquet"}, [])


@register_reader("json", (".json", ".jsonl", ".ndjson"), "JSON-records (array, één per regel, of per sleutel)")
def read_json(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
    """JSON records into a TEMP table with ``__row`` = record number (1-based)."""
    path = _existing(path)
    fmt = "newline_delimited" if path.suffix.lower() in (".jsonl", ".ndjson") else "auto"
    t, notes = quote_ident(table), []
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT *, NULL::BIGINT AS {ROW_COLUMN} "
                    f"FROM read_json_auto(?, format = '{fmt}')", [str(path)])
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] != ROW_COLUMN}
        rows = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        names = list(types)
        kinds = set(types.values())
        keyed = fmt == "auto" and rows == 1 and len(kinds) == 1 and _top_level_object(path)
        key = options.get("key_column", "key")
        if keyed and len(names) == 1 and next(iter(kinds)).startswith("MAP(VARCHAR, STRUCT("):
            entries = f"SELECT unnest(map_entries({quote_ident(names[0])})) AS e FROM {t}"
            body = f"SELECT k AS {quote_ident(key)}, rec.* FROM (SELECT e.key AS k, e.value AS rec FROM ({entries}))"
        elif keyed and len(names) > 1 and next(iter(kinds)).startswith("STRUCT("):
            body = (f"SELECT {quote_ident(key)}, rec.* FROM (UNPIVOT (SELECT * EXCLUDE ({ROW_COLUMN}) FROM {t}) "
                    f"ON COLUMNS(*) INTO NAME {quote_ident(key)} VALUE rec)")
        else:
            body = None
        if body:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT *, NULL::BIGINT AS {ROW_COLUMN} FROM ({body})")
            names = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall() if r[0] != ROW_COLUMN]
            notes.append(f"JSON-object met één record per sleutel: sleutel in kolom '{key}'")
        con.execute(f"UPDATE {t} SET {ROW_COLUMN} = rowid + 1")   # insertion order is record order
    except duckdb.Error as exc:
        raise ReaderError(f"JSON kan niet gelezen worden: {_first_line(exc)}", file=str(path),
                          expected="een array van objecten, één object per regel, of één object per sleutel") from None
    return _result(con, table, names, {"format": fmt}, notes)


def _top_level_object(path: Path) -> bool:
    """True when the file is one JSON object (not an array or JSON Lines of one record)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b"}\n{" not in head.replace(b"\r", b"")


def _result(con: duckdb.DuckDBPyConnection, table: str, names: list[str], used: dict[str, Any],
            notes: list[str]) -> ReadResult:
    rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
    return ReadResult(table=table, columns=[n for n in names if n != FILE_ROW], rows=rows, typed=True,
                      options_used=used, notes=notes)


def _existing(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ReaderError("bestand niet gevonden", file=str(path))
    return path


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
