"""The reader contract and registry.

A reader turns one source file into a TEMP table in a DuckDB connection (or a registered Arrow table,
which DuckDB sees as a TEMP view), and says what it found.
It does not validate or convert values against the catalog: that is ``ingest/validate.py``'s job,
so that every format gets the same checks and the same error messages.

Contract for the table a reader creates:
- one column per source column, named as the (flattened) header in the file;
- text formats (CSV, Excel, ODS) give VARCHAR columns holding the text as the user sees it
  (numbers from spreadsheets rendered without a spurious ``.0``); typed formats (Parquet, GeoJSON,
  GPKG, Shapefile) keep native types and set ``ReadResult.typed``;
- ``__row`` BIGINT: the row number as the user would find it (line in the CSV file, row in the sheet);
- a geo reader adds ``__geom`` GEOMETRY in the CRS it reports in ``ReadResult.crs``.

Readers raise ``ReaderError`` naming file, sheet, row and column — never a bare stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from stadslab.errors import ReaderError

ROW_COLUMN = "__row"
GEOM_COLUMN = "__geom"


@dataclass
class ReadResult:
    table: str
    columns: list[str]
    rows: int
    typed: bool = False
    crs: str | None = None                       # CRS of __geom, e.g. "EPSG:28992"
    options_used: dict[str, Any] = field(default_factory=dict)   # sniffed/used: delimiter, encoding, sheet, header_rows
    notes: list[str] = field(default_factory=list)               # footnotes, skipped title rows, ...
    numeric_columns: frozenset[str] = frozenset()                # filled only by number cells (spreadsheets)
    arrow: pa.Table | None = None  # ``table`` is this Arrow table, registered (spreadsheets); unregistered after the load


class Reader(Protocol):
    def __call__(self, con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any],
                 table: str) -> ReadResult: ...


@dataclass(frozen=True)
class ReaderInfo:
    name: str
    extensions: tuple[str, ...]
    read: Reader
    description: str


_REGISTRY: dict[str, ReaderInfo] = {}


def register_reader(name: str, extensions: tuple[str, ...], description: str = "") -> Callable[[Reader], Reader]:
    """Decorator: make ``fn`` the reader called ``name`` for files ending in ``extensions``."""

    def deco(fn: Reader) -> Reader:
        def read(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
            clear_stage(con, table)   # one reader's table or registered Arrow table replaces another's
            return fn(con, path, options, table)

        _REGISTRY[name] = ReaderInfo(name, tuple(e.lower() for e in extensions), read, description or (fn.__doc__ or "").strip())
        return fn

    return deco


def readers() -> list[ReaderInfo]:
    return list(_REGISTRY.values())


def reader_for(path: Path, name: str | None = None) -> ReaderInfo:
    """The reader named ``name``, or the one registered for the file's extension."""
    if name:
        if name not in _REGISTRY:
            raise ReaderError(f"onbekende reader '{name}'", file=str(path),
                              hint=f"beschikbaar: {', '.join(sorted(_REGISTRY))}")
        return _REGISTRY[name]
    suffix = "".join(path.suffixes[-2:]).lower() if path.name.lower().endswith(".gz") else path.suffix.lower()
    for info in _REGISTRY.values():
        if suffix in info.extensions:
            return info
    raise ReaderError(f"geen reader voor bestandstype '{suffix}'", file=str(path),
                      hint=f"noem 'source.reader' in de catalogus; beschikbaar: {', '.join(sorted(_REGISTRY))}")


# --- helpers shared by the readers -------------------------------------------------------------

def quote_ident(name: str) -> str:
    """``name`` as a DuckDB identifier (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def clear_stage(con: duckdb.DuckDBPyConnection, table: str, kind: str | None = None) -> None:
    """Drop the TEMP table or view ``table`` (a registered Arrow table is a TEMP view), if any: a
    reader's ``CREATE OR REPLACE`` cannot replace an object of the other kind. ``kind``: its
    ``information_schema`` table_type when the caller knows it."""
    if kind is None:
        row = con.execute("SELECT table_type FROM information_schema.tables WHERE table_catalog = 'temp' "
                          "AND table_name = ?", [table]).fetchone()
        kind = row[0] if row else None
    if kind == "VIEW":
        con.unregister(table)          # releases a registered Arrow table; a plain view stays for the DROP
        con.execute(f"DROP VIEW IF EXISTS temp.{quote_ident(table)}")
    elif kind:
        con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(table)}")


def unique_column_names(raw: list[Any]) -> tuple[list[str], list[str]]:
    """Clean header cells into usable column names, and say what was renamed.

    Whitespace runs (also line breaks inside a header cell) become one space. A blank name becomes
    ``kolom_<n>`` (n = 1-based column position); a repeated name gets ``_2``, ``_3``… DuckDB column
    names are case-insensitive, so 'Naam' and 'naam' count as the same name. Names that clash with
    the reader's own ``__row``/``__geom`` are renamed too. Returns (names, notes).
    """
    names: list[str] = []
    seen: set[str] = {ROW_COLUMN, GEOM_COLUMN}
    changes: list[str] = []
    for i, value in enumerate(raw, start=1):
        name = " ".join(str(value).split()) if value is not None else ""
        base, why = name, None
        if not name:
            base, why = f"kolom_{i}", "geen naam"
        elif name.lower() in seen:
            why = "dubbele naam"
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base}_{n}"
        if why:
            changes.append(f"kolom {i} ({why}{': ' + repr(name) if name else ''}) → '{candidate}'")
        seen.add(candidate.lower())
        names.append(candidate)
    notes = [f"kolomnamen aangepast: {'; '.join(changes)}"] if changes else []
    return names, notes
