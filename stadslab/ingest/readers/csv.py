"""CSV/TSV reader: DuckDB's parallel ``read_csv`` with every column as text, plus exact line numbers.

What is decided here and how:

- encoding: ``options['encoding']``, else a try-decode of the first MiB: a UTF-8 BOM gives
  ``utf-8-sig`` (DuckDB drops the BOM), valid UTF-8 gives ``utf-8``, anything else is the Windows
  family — ``latin-1`` (read natively by DuckDB) when the file has no bytes 0x80–0x9F, else
  ``cp1252`` (€, ‘’, … live there), which is transcoded to a temporary UTF-8 file first, as are
  UTF-16 and any other Python codec. A file whose first MiB is UTF-8 but which breaks later is
  re-read as latin-1/cp1252, with a note.
- delimiter, quote, escape, line ending: DuckDB's sniffer (``sniff_csv``) with ``skip`` and
  ``header`` fixed by us (its own guess of title lines is unreliable); ``options['delimiter']``
  and ``options['quote']`` override.
- header: ``options['skip_rows']`` title lines, then ``options['header_rows']`` header lines
  (default 1; 0 = no header, columns ``kolom_1``…; several lines are joined per column with a space,
  blank cells of an upper line take the name on their left, as merged cells do in Excel exports).
  The header is parsed here, so names are cleaned and renamings are reported in ``notes``.
- empty fields, quoted (``""``) or not, are NULL.
- ``__row`` is the physical line in the file where the record starts. DuckDB keeps file order
  (insertion order is preserved), so ``rowid`` + first data line is right unless a record spans
  several lines (a quoted line break) or blank lines are skipped: a count of the file's line breaks,
  run in a thread while DuckDB reads, tells. Then the offsets are found in DuckDB (line breaks inside
  values) or, if blank lines are involved, by a Python scan of the file.
- a record with the wrong number of fields raises ``ReaderError`` with its physical line.
"""

from __future__ import annotations

import codecs
import csv as pycsv
import gzip
import io
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Iterator

import duckdb
import numpy as np
import pyarrow as pa

from stadslab.errors import ReaderError
from stadslab.ingest.readers.base import (ROW_COLUMN, ReadResult, quote_ident, register_reader,
                                          unique_column_names)

SAMPLE_BYTES = 1 << 20
CHUNK = 1 << 22
NATIVE = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "latin-1": "latin-1"}   # python codec -> DuckDB encoding
ALIASES = {"utf8": "utf-8", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "utf8-sig": "utf-8-sig",
           "latin1": "latin-1", "latin-1": "latin-1", "iso-8859-1": "latin-1", "iso8859-1": "latin-1",
           "cp1252": "cp1252", "windows-1252": "cp1252", "ansi": "cp1252"}
C1 = re.compile(rb"[\x80-\x9f]")
CANDIDATES = (";", ",", "\t", "|")


@register_reader("csv", (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz"),
                 "CSV/TSV (ook .gz): alle kolommen als tekst; scheidingsteken en codering worden herkend")
def read_csv(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
    """CSV/TSV (also gzipped) into a TEMP table of VARCHAR columns plus ``__row`` (line in the file)."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError("bestand niet gevonden", file=str(path))
    skip_rows, header_rows = _header_options(options, path)
    gz = path.name.lower().endswith(".gz")
    with _open_binary(path, gz) as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ReaderError("het bestand is leeg", file=str(path))
    notes: list[str] = []
    forced = options.get("encoding")
    encoding = _normalise_encoding(forced, path) if forced else _detect_encoding(sample, len(sample) < SAMPLE_BYTES)
    if encoding == "cp1252" and not forced:
        encoding = _windows_flavour(path, gz)
    try:
        return _read(con, path, gz, sample, encoding, skip_rows, header_rows, options, table, notes)
    except _NotUtf8:
        if forced:
            raise ReaderError("het bestand is niet geldig UTF-8", file=str(path),
                              hint="zet source.options.encoding op 'latin-1' of 'cp1252'") from None
        encoding = _windows_flavour(path, gz)
        notes.append(f"begin van het bestand leek UTF-8, maar verderop niet; gelezen als {encoding}")
        return _read(con, path, gz, sample, encoding, skip_rows, header_rows, options, table, notes)


class _NotUtf8(Exception):
    pass


def _read(con: duckdb.DuckDBPyConnection, path: Path, gz: bool, sample: bytes, encoding: str, skip_rows: int,
          header_rows: int, options: dict[str, Any], table: str, notes: list[str]) -> ReadResult:
    src, temp, notes = path, None, list(notes)      # a copy: a retry in another encoding starts afresh
    if encoding not in NATIVE:                       # DuckDB reads utf-8 and latin-1 itself; transcode the rest
        temp = _transcode(path, gz, encoding)
        src, gz = temp, False
    try:
        duck_enc = NATIVE.get(encoding, "utf-8")
        text = sample.decode(encoding if encoding != "utf-8" else "utf-8-sig", errors="replace")
        delim, quote, escape, newline = _sniff(con, src, duck_enc, text, skip_rows, header_rows, options, path, notes)
        if len(delim) != 1 or len(quote) > 1 or len(escape) > 1:
            raise ReaderError(f"scheidingsteken {delim!r} of aanhalingsteken {quote!r} is langer dan één teken",
                              file=str(path), expected="één teken, bijv. ';'")
        header, header_lines, ncols = _parse_header(text, (delim, quote, escape, newline), skip_rows, header_rows)
        if header_rows:
            names, renamed = unique_column_names(header)
        else:
            names, renamed = [f"kolom_{i}" for i in range(1, ncols + 1)], []
        if not names:
            raise ReaderError("geen kopregel gevonden", file=str(path), row=skip_rows + 1,
                              hint="controleer source.options.skip_rows en header_rows")
        notes += renamed
        first_line = skip_rows + header_lines + 1
        columns = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
        args = (f"{_lit(str(src))}, auto_detect=false, columns={columns}, delim={_lit(delim)}, "
                f"quote={_lit(quote)}, escape={_lit(escape)}, header=false, skip={skip_rows + header_rows}, "
                f"encoding={_lit(duck_enc)}, strict_mode=true, compression={_lit('gzip' if gz else 'none')}")
        if newline == "\r":
            args += ", new_line='\\r'"
        counter = _LineCounter(src, gz, b"\r" if newline == "\r" else b"\n")
        counter.start()
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(table)} AS "
                        f"SELECT *, NULL::BIGINT AS {ROW_COLUMN} FROM read_csv({args})")
        except duckdb.Error as exc:
            counter.join()
            if "Invalid unicode" in str(exc) and duck_enc == "utf-8":
                raise _NotUtf8() from None
            raise _translate(exc, path, src, gz, encoding, (delim, quote, escape, newline), len(names),
                             skip_rows + header_rows) from None
        rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
        counter.join()
        notes += _number_rows(con, table, names, rows, first_line, counter.last_line,
                              lambda: _record_starts(src, gz, encoding, delim, quote, escape, newline,
                                                             skip_rows + header_rows))
    finally:
        if temp:
            os.unlink(temp)
    used = {"delimiter": delim, "encoding": encoding, "quote": quote, "escape": escape,
            "newline": newline, "skip_rows": skip_rows, "header_rows": header_rows,
            "header_line": skip_rows + 1 if header_rows else None, "first_data_line": first_line}
    return ReadResult(table=table, columns=names, rows=rows, typed=False, options_used=used, notes=notes)


# --- options, encoding ---------------------------------------------------------------------------

def _header_options(options: dict[str, Any], path: Path) -> tuple[int, int]:
    skip, header = int(options.get("skip_rows") or 0), options.get("header_rows", 1)
    if isinstance(header, list):                     # 1-based line numbers of the header lines
        lines = sorted(int(x) for x in header)
        if not lines or lines != list(range(lines[0], lines[0] + len(lines))):
            raise ReaderError("header_rows moet aaneengesloten regelnummers noemen", file=str(path),
                              expected="bijv. [3, 4]")
        return lines[0] - 1, len(lines)
    if header is None or int(header) < 0:
        raise ReaderError("header_rows moet 0 of meer zijn", file=str(path))
    return skip, int(header)


def _normalise_encoding(name: str, path: Path) -> str:
    key = name.strip().lower().replace("_", "-")
    if key in ALIASES:
        return ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        raise ReaderError(f"onbekende tekencodering '{name}'", file=str(path),
                          hint="bijv. utf-8, latin-1 of cp1252") from None


def _detect_encoding(sample: bytes, whole_file: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=whole_file)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def _windows_flavour(path: Path, gz: bool) -> str:
    """latin-1 and cp1252 differ only in bytes 0x80-0x9F: without them DuckDB can read it natively."""
    with _open_binary(path, gz) as fh:
        while chunk := fh.read(CHUNK):
            if C1.search(chunk):
                break
        else:
            return "latin-1"
    try:
        with _open_binary(path, gz) as fh:
            dec = codecs.getincrementaldecoder("cp1252")()
            while chunk := fh.read(CHUNK):
                dec.decode(chunk)
        return "cp1252"
    except UnicodeDecodeError:                       # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unused in cp1252
        return "latin-1"


def _transcode(path: Path, gz: bool, encoding: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="stadslab_", suffix=".csv")
    try:
        dec = codecs.getincrementaldecoder(encoding)(errors="strict")
        with _open_binary(path, gz) as fh, os.fdopen(fd, "wb") as out:
            while chunk := fh.read(CHUNK):
                out.write(dec.decode(chunk).encode("utf-8"))
            out.write(dec.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        os.unlink(name)
        raise ReaderError(f"het bestand is niet geldig {encoding} (byte {exc.start} in een blok)", file=str(path),
                          hint="zet source.options.encoding op de juiste codering") from None
    return Path(name)


def _open_binary(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else open(path, "rb")


# --- sniffing and the header ---------------------------------------------------------------------

def _sniff(con: duckdb.DuckDBPyConnection, src: Path, duck_enc: str, text: str, skip_rows: int, header_rows: int,
           options: dict[str, Any], path: Path, notes: list[str]) -> tuple[str, str, str, str]:
    extra = f", delim={_lit(options['delimiter'])}" if options.get("delimiter") else ""
    if options.get("quote"):
        extra += f", quote={_lit(options['quote'])}"
    skip = skip_rows + max(header_rows - 1, 0)
    try:
        d, q, e, nl, cols = con.execute(
            f"SELECT Delimiter, Quote, Escape, NewLineDelimiter, len(Columns) FROM sniff_csv({_lit(str(src))}, "
            f"skip={skip}, header={'true' if header_rows else 'false'}, encoding={_lit(duck_enc)}{extra})").fetchone()
    except duckdb.Error:
        d, q, e, nl, cols = None, "(empty)", "(empty)", "\\n", 0
    if not options.get("delimiter"):
        # DuckDB's sniffer prefers a dialect where every line has the same number of fields: on a file
        # with a ragged line it may settle on one column. The header line says what was meant.
        fields = {c: _field_count(text, c, skip) for c in CANDIDATES}
        best = max(CANDIDATES, key=lambda c: fields[c])
        if d is None or (cols <= 1 and fields[best] > 1):
            if fields[best] <= 1 and d is None:
                raise ReaderError("scheidingsteken en opbouw niet te herkennen", file=str(path),
                                  hint="zet source.options.delimiter (en eventueel skip_rows)")
            if d is not None:
                notes.append(f"scheidingsteken {best!r} gekozen op grond van de kopregel")
            d = best
    q = "" if q == "(empty)" else q
    quote = options.get("quote") or q or '"'
    escape = "" if e == "(empty)" else e
    escape = escape or quote                         # RFC 4180: a quote inside quotes is doubled
    newline = {"\\r\\n": "\r\n", "\\n": "\n", "\\r": "\r"}.get(nl, "\n")
    return options.get("delimiter") or d, quote, escape, newline


def _field_count(text: str, delim: str, skip_lines: int) -> int:
    """Fields in the first record after ``skip_lines`` lines when split on ``delim``."""
    buf = io.StringIO(text, newline="")
    for _ in range(skip_lines):
        buf.readline()
    return len(next(_reader(buf, delim, '"', '"'), []))


def _reader(lines: Any, delim: str, quote: str, escape: str) -> Iterator[list[str]]:
    pycsv.field_size_limit(1 << 30)
    kw: dict[str, Any] = {"delimiter": delim, "strict": False}
    if quote:
        kw.update(quotechar=quote, doublequote=escape == quote, escapechar=None if escape == quote else escape)
    else:
        kw.update(quoting=pycsv.QUOTE_NONE)
    return pycsv.reader(lines, **kw)


def _parse_header(text: str, dialect: tuple[str, str, str, str], skip_rows: int,
                  header_rows: int) -> tuple[list[str], int, int]:
    """(flattened header names, physical lines the header takes, number of fields)."""
    delim, quote, escape, newline = dialect
    buf = io.StringIO(text, newline="" if newline == "\r" else "\n")
    for _ in range(skip_rows):
        buf.readline()
    reader = _reader(buf, delim, quote, escape)
    rows = [r for _, r in zip(range(max(header_rows, 1)), reader)]
    if not rows:
        return [], 0, 0
    if header_rows == 0:
        return [], 0, len(rows[0])
    width = max(len(r) for r in rows)
    filled: list[list[str]] = []
    for depth, r in enumerate(rows):
        r = [c.strip() for c in r] + [""] * (width - len(r))
        if depth < len(rows) - 1:                    # an upper header line: a blank cell continues its left neighbour
            for j in range(1, width):
                if not r[j] and r[j - 1]:
                    r[j] = r[j - 1]
        filled.append(r)
    names = []
    for j in range(width):
        parts: list[str] = []
        for r in filled:
            if r[j] and (not parts or parts[-1] != r[j]):
                parts.append(r[j])
        names.append(" ".join(parts))
    return names, reader.line_num, width


# --- line numbers --------------------------------------------------------------------------------

class _LineCounter(threading.Thread):
    """Counts line breaks while DuckDB reads; ``last_line`` = number of the last non-blank line."""

    def __init__(self, src: Path, gz: bool, nl: bytes) -> None:
        super().__init__(daemon=True)
        self.src, self.gz, self.nl, self.last_line = src, gz, nl, 0

    def run(self) -> None:
        n, tail = 0, b""
        with _open_binary(self.src, self.gz) as fh:
            while chunk := fh.read(CHUNK):
                n += chunk.count(self.nl)
                tail = chunk[-4096:] if len(chunk) >= 4096 else (tail + chunk)[-4096:]
        body = tail.rstrip(b"\r\n")
        self.last_line = n - tail[len(body):].count(self.nl) + 1 if body else 0


def _number_rows(con: duckdb.DuckDBPyConnection, table: str, names: list[str], rows: int, first_line: int,
                 last_line: int, scan: Any) -> list[str]:
    t = quote_ident(table)
    con.execute(f"UPDATE {t} SET {ROW_COLUMN} = rowid + {first_line}")
    if rows == 0 or first_line + rows - 1 == last_line:
        return []
    # Some records span lines. Line breaks inside values explain it if the totals add up.
    per_row = " + ".join(f"coalesce(len({quote_ident(n)}) - len(replace({quote_ident(n)}, chr(10), '')), 0)"
                         for n in names)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __csv_breaks AS SELECT rowid AS rid, {per_row} AS extra FROM {t} "
                f"WHERE {' OR '.join(f'contains({quote_ident(n)}, chr(10))' for n in names)}")
    try:
        extra = con.execute("SELECT coalesce(sum(extra), 0) FROM __csv_breaks").fetchone()[0]
        if first_line + rows - 1 + extra == last_line:
            _shift(con, t, "SELECT rid + 1 AS lo, sum(extra) OVER (ORDER BY rid) AS shift FROM __csv_breaks")
            return []
        starts = scan()                              # blank lines too: find every record's line in Python
        if len(starts) != rows:
            return [f"regelnummers (__row) bij benadering: {len(starts)} records geteld, {rows} gelezen"]
        lines = pa.table({"rid": np.arange(rows, dtype=np.int64), "line": np.asarray(starts, dtype=np.int64)})
        con.register("__csv_lines", lines)
        try:
            con.execute(f"UPDATE {t} SET {ROW_COLUMN} = b.line FROM __csv_lines b WHERE {t}.rowid = b.rid")
        finally:
            con.unregister("__csv_lines")
        return []
    finally:
        con.execute("DROP TABLE IF EXISTS __csv_breaks")


def _shift(con: duckdb.DuckDBPyConnection, t: str, steps_sql: str) -> None:
    """Add ``shift`` to __row for every row from ``lo`` up to the next step (a range join, not a loop)."""
    con.execute(f"""UPDATE {t} SET {ROW_COLUMN} = {ROW_COLUMN} + s.shift FROM (
                      SELECT lo, lead(lo, 1, 9223372036854775807) OVER (ORDER BY lo) AS hi, shift FROM ({steps_sql})
                    ) s WHERE {t}.rowid >= s.lo AND {t}.rowid < s.hi""")


def _records(src: Path, gz: bool, encoding: str, delim: str, quote: str, escape: str,
             newline: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) for every record and blank line, as DuckDB counts them. Lines are counted
    at '\\n' only (as ``wc -l``, ``grep -n`` and the line counter do), unless the file uses bare CR."""
    opener = gzip.open if gz else open
    codec = "latin-1" if encoding == "latin-1" else "utf-8-sig"   # others were transcoded to UTF-8
    split = "" if newline == "\r" else "\n"
    with opener(src, "rt", encoding=codec, newline=split, errors="replace") as fh:  # type: ignore[operator]
        reader = _reader(fh, delim, quote, escape)
        prev = 0
        for fields in reader:
            yield prev + 1, fields
            prev = reader.line_num


def _record_starts(src: Path, gz: bool, encoding: str, delim: str, quote: str, escape: str, newline: str,
                   skip_records: int) -> list[int]:
    starts = []
    for i, (line, fields) in enumerate(_records(src, gz, encoding, delim, quote, escape, newline)):
        if i >= skip_records and fields:             # DuckDB skips blank lines, but counts them in ``skip``
            starts.append(line)
    return starts


# --- errors --------------------------------------------------------------------------------------

def _translate(exc: duckdb.Error, path: Path, src: Path, gz: bool, encoding: str, dialect: tuple[str, str, str, str],
               ncols: int, skip_records: int) -> ReaderError:
    delim, quote = dialect[0], dialect[1]
    msg = str(exc).split("Possible fixes")[0].split("Possible Solution")[0]   # not DuckDB's option dump
    m = re.search(r"CSV Error on Line: (\d+)", msg)
    duck_line = int(m.group(1)) if m else None
    line, found = _locate(src, gz, encoding, dialect, ncols, skip_records, duck_line)
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    shown = {"\t": "tab", ";": "';'", ",": "','"}.get(delim, repr(delim))
    if counts or found is not None:
        n = found if found is not None else int(counts.group(2))  # type: ignore[union-attr]
        return ReaderError(f"deze regel heeft {n} velden, de kopregel heeft er {ncols}", file=str(path), row=line,
                           expected=f"{ncols} velden gescheiden door {shown}",
                           hint="controleer scheidingsteken en aanhalingstekens op die regel "
                                "(of source.options.delimiter / skip_rows / header_rows)")
    if "unterminated quote" in msg.lower():
        return ReaderError("aanhalingsteken wordt niet gesloten", file=str(path), row=line,
                           hint=f"controleer de aanhalingstekens ({quote}) vanaf die regel")
    if "maximum line size" in msg.lower():
        return ReaderError("regel is te lang (meer dan 2 MB)", file=str(path), row=line,
                           hint="klopt het scheidingsteken en de regelovergang?")
    return ReaderError(f"CSV kan niet gelezen worden: {_first_line(exc)}", file=str(path), row=line)


def _locate(src: Path, gz: bool, encoding: str, dialect: tuple[str, str, str, str], ncols: int,
            skip_records: int, duck_line: int | None) -> tuple[int | None, int | None]:
    """Physical line of the first record with the wrong number of fields (and that number), or of the
    record DuckDB names (DuckDB counts records, not lines: a quoted line break does not count)."""
    try:
        for i, (line, fields) in enumerate(_records(src, gz, encoding, *dialect), start=1):
            if i > skip_records and fields and len(fields) != ncols:
                return line, len(fields)
            if duck_line is not None and i == duck_line:
                return line, None
    except (pycsv.Error, OSError):
        pass
    return duck_line, None


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
