"""The typed fast path of the ingest: read, convert, check and enrich in one DuckDB pass.

The text path (``pipeline._convert_and_check``) stages every value as text, scans it once to find
and explain every invalid value, and only then writes the version. Most loads are clean, so the
fast path bets on that: one ``CREATE TABLE … AS SELECT`` reads the file, converts every value with
*the same* expressions as the text path (``validate.convert_expr``), checks it with *the same*
rules (``validate.error_expr``), and assigns areas — all streaming, so DuckDB never holds the file
in memory and spills when it must. A value that fails raises inside DuckDB (``error()``); the
transaction rolls back and the load starts again on the text path, which then gives the row-precise
messages, rejects or refusal. The bet costs one aborted pass on a dirty file and nothing on a clean
one. Anything the fast path cannot prove the same way — a null marker (its count is provenance),
a duplicate in a unique field, a record spanning lines (``__row`` would be off) — is a ``Miss`` too.

CSV files are not staged at all: a view over ``read_csv`` with the dialect and header the CSV
reader decides (its helpers, so both routes read the same columns), ``WITH ORDINALITY`` giving the
line number. Other formats use their reader's staged table and save the separate check scan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from stadslab.catalog.model import Dataset
from stadslab.ingest import validate as V
from stadslab.ingest.readers import ROW_COLUMN
from stadslab.ingest.readers import csv as csvr
from stadslab.ingest.readers.base import ReadResult, quote_ident, unique_column_names
from stadslab.privacy.guard import check_no_raw_bsn

MARK = "stadslab-snelle-route"
# The raw-BSN guard's rule is a share ("most nine-digit values of a column pass the 11-proef": 50 %
# against ≈ 9 % for other numbers), so a sample estimates it: 100 000 rows put the share within
# ±0.3 % (two standard errors). It reads the raw text of every column of the file's first rows (also
# columns not in the catalog) and a random sample of the whole written table.
GUARD_HEAD_ROWS = 100_000


class Miss(Exception):
    """The fast path cannot load this file as it is; the text path takes over (reason in the message)."""


ENABLED = True                     # False: every load takes the text path (tests compare the two)


def eligible(ds: Dataset) -> str | None:
    """None when the fast path may try ``ds``; else why not (geometry and area datasets keep the text path)."""
    if not ENABLED:
        return "uitgeschakeld"
    if ds.areas:
        return "gebiedsindeling"
    if any(f.type == "geometry" or f.role in ("geometry", "wkt") for f in ds.fields):
        return "geometrie"
    return None


class LazyCsv:
    """A CSV file as a view (no staging copy) plus the line counter that proves ``__row`` right."""

    def __init__(self, result: ReadResult, counter: Any, first_line: int, file_name: str,
                 numbered: bool = True, read_args: str = "") -> None:
        self.result, self.counter, self.first_line, self.file_name = result, counter, first_line, file_name
        self.numbered = numbered
        self.read_args = read_args      # read_csv's arguments after ``columns=`` (dialect, header, encoding)

    def check_lines(self, rows: int) -> None:
        self.counter.join()
        if rows and self.first_line + rows - 1 != self.counter.last_line:
            raise Miss("records over meerdere regels of lege regels: regelnummers via de tekstroute")


def csv_view(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str, *,
             numbered: bool = False) -> LazyCsv:
    """A TEMP VIEW ``table`` over the CSV file with the reader's dialect and header, all columns as
    text. ``numbered``: ``__row`` = the line in the file (one thread); else ``__row`` is NULL and
    :func:`number_rows` numbers the rows (a load of one file). Raises Miss for files the reader
    would transcode."""
    path = Path(path)
    skip_rows, header_rows = csvr._header_options(options, path)
    gz = path.name.lower().endswith(".gz")
    with csvr._open_binary(path, gz) as fh:
        sample = fh.read(csvr.SAMPLE_BYTES)
    if not sample.strip():
        raise Miss("leeg bestand")
    forced = options.get("encoding")
    encoding = csvr._normalise_encoding(forced, path) if forced else \
        csvr._detect_encoding(sample, len(sample) < csvr.SAMPLE_BYTES)
    if encoding not in csvr.NATIVE or (encoding == "utf-8" and not forced and len(sample) == csvr.SAMPLE_BYTES
                                       and gz):
        raise Miss(f"codering {encoding}")
    notes: list[str] = []
    duck_enc = csvr.NATIVE[encoding]
    text = sample.decode(encoding if encoding != "utf-8" else "utf-8-sig", errors="replace")
    delim, quote, escape, newline = csvr._sniff(con, path, duck_enc, text, skip_rows, header_rows, options, path, notes)
    if len(delim) != 1 or len(quote) > 1 or len(escape) > 1:
        raise Miss("ongewoon scheidingsteken")
    header, header_lines, ncols = csvr._parse_header(text, (delim, quote, escape, newline), skip_rows, header_rows)
    if not header_rows or not header:
        raise Miss("geen kopregel")
    names, renamed = unique_column_names(header)
    notes += renamed
    first_line = skip_rows + header_lines + 1
    tail = (f"delim={V.lit(delim)}, quote={V.lit(quote)}, escape={V.lit(escape)}, header=false, "
            f"skip={skip_rows + header_rows}, encoding={V.lit(duck_enc)}, strict_mode=true, "
            f"compression={V.lit('gzip' if gz else 'none')}")
    if newline == "\r":
        tail += ", new_line='\\r'"
    args = f"{V.lit(str(path))}, auto_detect=false, columns={_columns_arg(names, {})}, {tail}"
    cols = ", ".join(quote_ident(n) for n in names)
    if numbered:
        # WITH ORDINALITY numbers records in file order, but runs the whole statement on one thread
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(table)} AS SELECT {cols}, "
                    f"(__ord + {first_line - 1})::BIGINT AS {ROW_COLUMN} "
                    f"FROM read_csv({args}) WITH ORDINALITY AS __t({cols}, __ord)")
    else:
        # a parallel scan; number_rows writes the rows in file order (DuckDB keeps insertion order)
        # and numbers them by rowid (measured: the numbered scan ran the load's one statement on a
        # single thread)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(table)} AS SELECT {cols}, "
                    f"NULL::BIGINT AS {ROW_COLUMN} FROM read_csv({args})")
    counter = csvr._LineCounter(path, gz, b"\r" if newline == "\r" else b"\n")
    counter.start()
    used = {"delimiter": delim, "encoding": encoding, "quote": quote, "escape": escape, "newline": newline,
            "skip_rows": skip_rows, "header_rows": header_rows, "header_line": skip_rows + 1,
            "first_data_line": first_line}
    return LazyCsv(ReadResult(table=table, columns=names, rows=-1, typed=False, options_used=used, notes=notes),
                   counter, first_line, path.name, numbered, read_args=f"{V.lit(str(path))}, auto_detect=false, {tail}")


def _columns_arg(names: list[str], types: dict[str, str]) -> str:
    return "{" + ", ".join(f"{V.lit(n)}: {V.lit(types.get(n, 'VARCHAR'))}" for n in names) + "}"


def typed_stage(con: duckdb.DuckDBPyConnection, lazy: LazyCsv, ds: Dataset, mapping: dict[str, str],
                options: dict[str, Any], decimal: str) -> set[str]:
    """Replace ``__stage`` (one CSV read as text) by a read in which DuckDB's CSV reader converts
    numbers and date/times itself, and return the file columns it converts. Only where that
    conversion is exactly the text path's (measured value by value: DOUBLE as ``TRY_CAST``, a
    timestamp or date with one ``format`` as ``strptime``; blanks around a value allowed by both):
    a value the text path would turn into NULL makes the reader raise, and the load falls back to the
    text path, as for any value the fast path cannot prove. Integers stay text (the reader rounds
    ``1.5``; the text path refuses it), as do null markers other than '' and '.', which the reader
    would read as values. Saves the text copy and the cast: 0.5 s of a 5 M-row load."""
    markers = set(options.get("null_markers", (".",)))
    if not markers <= {"", "."} or lazy.numbered:
        return set()
    types: dict[str, str] = {}
    formats: dict[str, set[str]] = {"datetime": set(), "date": set()}
    for f in ds.fields:
        col = mapping.get(f.name)
        if col is None:
            continue
        if f.type == "number" and decimal == "." and not options.get("thousands"):
            types[col] = "DOUBLE"
        elif f.type in formats and f.format and ";" not in f.format and "%b" not in f.format.lower():
            types[col] = "TIMESTAMP" if f.type == "datetime" else "DATE"
            formats[f.type].add(f.format)
    for kind, sql_type in (("datetime", "TIMESTAMP"), ("date", "DATE")):
        if len(formats[kind]) > 1:       # the reader takes one format per type
            types = {c: t for c, t in types.items() if t != sql_type}
    if not types:
        return set()
    extra = "".join(f", {opt}={V.lit(next(iter(formats[kind])))}" for kind, opt in
                    (("datetime", "timestampformat"), ("date", "dateformat")) if formats[kind])
    names = lazy.result.columns
    cols = ", ".join(quote_ident(n) for n in names)
    con.execute(f"CREATE OR REPLACE TEMP VIEW __stage AS SELECT {cols}, NULL::BIGINT AS {ROW_COLUMN}, "
                f"{V.lit(lazy.file_name)} AS __file FROM read_csv({lazy.read_args}, "
                f"columns={_columns_arg(names, types)}{extra})")
    return set(types)


def number_rows(con: duckdb.DuckDBPyConnection, final: str, first_line: int) -> str:
    """Run the load's query (read, convert, check, enrich: parallel) into TEMP table ``__numbered``
    in file order, and return the SELECT that writes it with ``__row`` = rowid + the first data line.
    Costs one in-memory copy (DuckDB spills it under a memory limit); the numbered scan cost more."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __numbered AS SELECT * FROM {final}")
    cols = [r[0] for r in con.execute("DESCRIBE __numbered").fetchall()]
    shown = ", ".join(f"(rowid + {int(first_line)})::BIGINT AS {ROW_COLUMN}" if c == ROW_COLUMN else quote_ident(c)
                      for c in cols)
    return f"(SELECT {shown} FROM __numbered)"


def guard_head(con: duckdb.DuckDBPyConnection, ds: Dataset, mapping: dict[str, str], columns: list[str],
               types: dict[str, str]) -> None:
    """The raw-BSN guard over the raw text of the first rows, every column (also unmapped ones)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __guard AS SELECT * FROM __stage LIMIT {GUARD_HEAD_ROWS}")
    try:
        check_no_raw_bsn(con, "__guard", ds, mapping, columns, types)
    finally:
        con.execute("DROP TABLE IF EXISTS __guard")


def _lean(f, col: str, options: dict[str, Any], decimal: str, markers: list[str]) -> str | None:
    """A strict conversion of one text column: the value the text path gives when that path finds
    nothing wrong, and a DuckDB error otherwise. CAST parses exactly as the text path's TRY_CAST
    (same parser, surrounding blanks allowed); what TRY_CAST turns into NULL, CAST refuses. None:
    no lean form (booleans, times, Dutch month names): the text path's expressions are used."""
    c = V.q(col)
    fail = f"error({V.lit(MARK + ': ' + f.name)})"
    if f.type == "string":
        t = f"trim({c})"
        if markers:
            return f"CASE WHEN {t} IN ({', '.join(V.lit(m) for m in markers)}) THEN {fail} ELSE nullif({t}, '') END"
        return f"nullif({t}, '')"
    if f.type in ("integer", "number"):
        thousands = options.get("thousands", "." if decimal == "," else "")
        v = V._number_text(c, decimal, thousands)
        if f.type == "number":
            return f"CAST({v} AS DOUBLE)"
        return f"CASE WHEN contains({v}, '.') THEN {fail} ELSE CAST({v} AS BIGINT) END"
    if f.type in ("date", "datetime"):
        formats = f.format.split(";") if f.format else (V.DATE_FORMATS if f.type == "date" else V.DATETIME_FORMATS)
        if any("%B" in x or "%b" in x for x in formats):
            return None
        fmts = V.lit(formats[0]) if len(formats) == 1 else "[" + ", ".join(V.lit(x) for x in formats) + "]"
        expr = f"strptime(trim({c}), {fmts})"
        return f"CAST({expr} AS DATE)" if f.type == "date" else expr
    return None


def strict_clean(con: duckdb.DuckDBPyConnection, ds: Dataset, mapping: dict[str, str], typed: bool,
                 options: dict[str, Any], decimal: str, extra: str = "", native: set[str] = frozenset()) -> None:
    """TEMP VIEW ``__clean`` (same columns as the text path's) that raises inside DuckDB at the first
    value the text path would flag: a conversion failure, a rule broken, or a null marker.
    ``native``: file columns the CSV reader already converted (:func:`typed_stage`)."""
    missing = [f.name for f in ds.fields if f.name not in mapping and f.role != "geometry"]
    if missing:
        raise Miss(f"kolom(men) ontbreken: {', '.join(missing)}")
    inner, outer = [], []
    null_markers = [m for m in options.get("null_markers", (".",)) if m != ""]
    for i, f in enumerate(ds.fields):
        col = mapping[f.name]
        fail = f"error({V.lit(MARK + ': ' + f.name)})"
        lean = V.q(col) if col in native else None if typed else _lean(f, col, options, decimal, null_markers)
        if lean is not None:
            inner.append(f"{lean} AS __v{i}")
            rules = V.error_expr(f, f"__v{i}", "NULL")    # raw NULL: the type case cannot fire here
        else:
            value, raw = V.convert_expr(f, col, typed_source=typed, options=options, decimal=decimal)
            inner.append(f"{value} AS __v{i}, {raw} AS __raw{i}")
            rules = V.error_expr(f, f"__v{i}", f"__raw{i}")
            if null_markers and not typed and f.type != "geometry":
                inner.append(f"{V.q(col)} AS __c{i}")
                rules = (f"CASE WHEN __c{i} IS NOT NULL AND __raw{i} IS NULL AND trim(__c{i}) <> '' "
                         f"THEN 'marker' ELSE {rules} END")
        if rules == "NULL":
            outer.append(f"__v{i} AS {V.q(f.name)}")
        else:
            outer.append(f"CASE WHEN ({rules}) IS NOT NULL THEN {fail} ELSE __v{i} END AS {V.q(f.name)}")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW __clean AS
        SELECT {', '.join(outer)}, {ROW_COLUMN}, __file{extra} FROM (
          SELECT {ROW_COLUMN}, __file{extra}, {', '.join(inner)} FROM __stage)""")


def after_write(con: duckdb.DuckDBPyConnection, ds: Dataset, table: str, lazy: list[LazyCsv],
                rows_in: str | None = None) -> int:
    """Checks on the written version table, inside the load's transaction: line numbers, uniqueness,
    and for a CSV read in place (only its first rows were guarded as raw text) the raw-BSN guard
    over a sample of the whole table (``rows_in``: the table behind a version's view, whose rows a
    sample can skip). Returns the row count."""
    rows = con.execute(f"SELECT count(*) FROM {rows_in or table}").fetchone()[0]   # a table's count is metadata
    if len(lazy) == 1:
        lazy[0].check_lines(rows)
    elif lazy:
        per_file = dict(con.execute(f"SELECT __file, count(*) FROM {table} GROUP BY ALL").fetchall())
        for lz in lazy:
            lz.check_lines(per_file.get(lz.file_name, 0))
    for f in ds.fields:
        if f.unique:
            dup = con.execute(f"SELECT count({V.q(f.name)}) - count(DISTINCT {V.q(f.name)}) FROM {table}").fetchone()[0]
            if dup:
                raise Miss(f"dubbele waarden in unieke kolom '{f.name}'")
    if not lazy:       # a staged file: the guard already read every raw value of every column
        return int(rows)
    table = rows_in or table
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    names = [f.name for f in ds.fields if f.name in types]
    sample = f" USING SAMPLE {100 * GUARD_HEAD_ROWS / rows:.4f}% (system, 42)" if rows > GUARD_HEAD_ROWS else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE __guard AS SELECT {', '.join(V.q(n) for n in names)} FROM {table}{sample}")
    try:   # the guard reads numbers stored as DOUBLE as their digits (guard.as_digits)
        check_no_raw_bsn(con, "__guard", ds, {n: n for n in names}, names, types)
    finally:
        con.execute("DROP TABLE IF EXISTS __guard")
    return int(rows)


def is_fast_failure(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error)
