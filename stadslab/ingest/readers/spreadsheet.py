"""Spreadsheet reader (.xlsx .xlsm .xls .ods) with python-calamine: find the table in a messy sheet.

Layout detection (everything skipped is reported in ``ReadResult.notes``, never dropped silently):

- sheet: ``options['sheet']`` (name, or 0-based index), else the first visible worksheet with a table.
- the table's block: rows separated by fully blank rows form blocks; the block with the most rows
  holds the table (so a preamble such as a title and a few key/value lines is skipped).
- header: ``options['header_rows']`` (a count, or a list of 1-based sheet rows) or
  ``options['skip_rows']``; else the first row of that block that is wide (at least half as many
  filled cells as the widest row, and 2) and mostly text. Rows above it are titles. The header
  continues on the next row while that row has no numbers and sits under a gap or merged cell of the
  row above (a group label such as 'Bevolking' over 'Mannen', 'Vrouwen'), at most 4 rows.
- names: merged header cells are filled across their range; in a multi-row header a blank cell of an
  upper row also takes its left neighbour's label (ODS has no merge information); parts are joined
  with a space per column, a vertically repeated part once. Blank/duplicate names are made unique.
- end: trailing blocks after a blank row whose rows are all sparse text (at most half the width
  filled, first value text) are footnotes; so are single-cell text rows right under the data that
  look like a note ('Bron: CBS', '. = geheim', '*) …', or a sentence). Blank rows inside the data
  are dropped and counted.

Values become text as a user sees them: whole numbers without '.0', dates 'YYYY-MM-DD', date-times
'YYYY-MM-DD HH:MM:SS', booleans 'true'/'false', empty cells NULL. Conversion is column-wise with
Arrow; the only per-cell Python work is splitting mixed-type columns. ``__row`` is the sheet row.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from stadslab.errors import ReaderError
from stadslab.ingest.readers.base import ROW_COLUMN, ReadResult, register_reader, unique_column_names

SCAN_TOP = 200          # rows looked at for titles and the header
MAX_HEADER_ROWS = 4
BATCH = 16384           # Arrow batch size handed to DuckDB: several batches let it insert in parallel
NUMERIC = (float, int, bool, dt.date, dt.datetime, dt.time, dt.timedelta)
FOOTNOTE = re.compile(r"^\s*(bron|noot|opmerking|toelichting|legenda|verklaring|let op|\*|\(?\d{1,2}\)|[¹²³⁴⁵⁶⁷⁸⁹]"
                      r"|[.x×\-–?]\s*[=:])", re.IGNORECASE)
NULL_STR = pa.scalar(None, pa.string())


@register_reader("spreadsheet", (".xlsx", ".xlsm", ".xls", ".ods"),
                 "Excel/ODS: zoekt de tabel (titelregels, kop over meerdere rijen, voetnoten); waarden als tekst")
def read_spreadsheet(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
    """One sheet as a registered Arrow table ``table`` of text columns plus ``__row`` (1-based sheet row)."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError("bestand niet gevonden", file=str(path))
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise ReaderError("het bestand is met een wachtwoord beveiligd", file=str(path),
                          hint="sla het op zonder wachtwoord") from None
    except (CalamineError, OSError, ValueError) as exc:
        raise ReaderError(f"geen leesbaar Excel/ODS-bestand ({exc})", file=str(path)) from None
    with _gc_paused():
        return _read(con, wb, path, options, table)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Millions of cell objects, none of them cyclic: the cyclic GC would rescan them all, over and over
    (it made the column transpose 5x slower). Restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read(con: duckdb.DuckDBPyConnection, wb: CalamineWorkbook, path: Path, options: dict[str, Any],
          table: str) -> ReadResult:
    notes: list[str] = []
    name, sheet, rows = _choose_sheet(wb, options, path, notes)
    r0, c0 = sheet.start or (0, 0)
    merged = [((a - r0, b - c0), (c - r0, d - c0)) for (a, b), (c, d) in (sheet.merged_cell_ranges or [])]
    where = {"file": str(path), "sheet": name}
    g = _Grid(rows)
    if not rows or all(g.blank):
        raise ReaderError("het blad is leeg", **where)
    head = _header_rows(g, merged, options, r0, where)
    first = head[-1] + 1
    last, footnotes = _table_end(g, first)
    blank = [i for i in range(first, last + 1) if g.blank[i]]

    header_names, used_cols = _header_names(g, head, merged, first, last)
    names, renamed = unique_column_names(header_names)
    notes += renamed
    titles = [_row_text(rows[i]) for i in range(head[0]) if not g.blank[i]]
    if titles:
        notes.append(f"boven de tabel overgeslagen ({_rows(r0 + 1, r0 + head[0])}): " + " | ".join(titles))
    if blank:
        shown = ", ".join(str(r0 + i + 1) for i in blank[:10]) + (" …" if len(blank) > 10 else "")
        notes.append(f"{len(blank)} lege rij(en) in de tabel overgeslagen (rij {shown})")
    if footnotes:
        notes.append(f"voetnoten onder de tabel ({_rows(r0 + footnotes[0] + 1, r0 + footnotes[-1] + 1)}): "
                     + " | ".join(_row_text(rows[i]) for i in footnotes if not g.blank[i]))
    if any(first <= a[0] <= last for a, _ in merged):
        notes.append("samengevoegde cellen in de gegevens: alleen de eerste cel van elk blok heeft een waarde")

    data = rows[first:last + 1]
    columns = list(zip(*data)) if data else [() for _ in range(g.width)]
    converted = {n: _column_text(columns[j]) for n, j in zip(names, used_cols)}
    arrays = {n: text for n, (text, _) in converted.items()}
    arrays[ROW_COLUMN] = pa.array(range(r0 + first + 1, r0 + last + 2), pa.int64())
    result = pa.table(arrays)
    if blank:                                         # blank rows inside the data: drop (counted in notes)
        result = result.filter(pa.array([not b for b in g.blank[first:last + 1]]))
    # The stage is the Arrow table itself, registered under ``table`` (a TEMP view; the ingest
    # unregisters it at the end, pipeline._drop_temp): DuckDB scans it in parallel by batch, where a
    # 100 000-row TEMP copy would be one row group (one thread) and cost a copy. The raw-BSN guard
    # pre-checks its text columns in Arrow (``ReadResult.arrow``).
    arrow = pa.Table.from_batches(result.to_batches(max_chunksize=BATCH), result.schema)
    con.register(table, arrow)
    used = {"sheet": name, "header_rows": [r0 + i + 1 for i in head], "first_data_row": r0 + first + 1,
            "last_data_row": r0 + last + 1}
    return ReadResult(table=table, columns=names, rows=result.num_rows, typed=False, options_used=used, notes=notes,
                      numeric_columns=frozenset(n for n, (_, numeric) in converted.items() if numeric), arrow=arrow)


class _Grid:
    """The sheet's rows with cheap per-row facts: ``blank`` for every row (a list comparison that stops
    at the first filled cell), the number of filled cells only for rows that are looked at."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows
        self.width = len(rows[0]) if rows else 0
        empty = [""] * self.width
        self.blank = [r == empty for r in rows]
        self._fill: dict[int, int] = {}

    def fill(self, i: int) -> int:
        if i not in self._fill:
            self._fill[i] = self.width - self.rows[i].count("")
        return self._fill[i]


# --- sheet -----------------------------------------------------------------------------------------

def _choose_sheet(wb: CalamineWorkbook, options: dict[str, Any], path: Path,
                  notes: list[str]) -> tuple[str, Any, list[list[Any]]]:
    names = list(wb.sheet_names)
    wanted = options.get("sheet")
    if wanted is not None:
        name = _match_sheet(wanted, names)
        if name is None:
            raise ReaderError(f"blad '{wanted}' bestaat niet", file=str(path),
                              hint="bladen in dit bestand: " + ", ".join(f"'{n}' ({i})" for i, n in enumerate(names)))
        sheet = wb.get_sheet_by_name(name)
        return name, sheet, sheet.to_python()
    fallback = None
    order = sorted(wb.sheets_metadata, key=lambda m: m.visible != SheetVisibleEnum.Visible)  # visible first
    for meta in order:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        sheet = wb.get_sheet_by_name(meta.name)
        rows = sheet.to_python()
        wide = sum(1 for r in rows[:SCAN_TOP] if len(r) - r.count("") >= 2)
        if wide >= 2:
            if len(names) > 1:
                notes.append(f"blad '{meta.name}' gelezen (eerste blad met een tabel); andere bladen: "
                             + ", ".join(f"'{n}'" for n in names if n != meta.name))
            return meta.name, sheet, rows
        if fallback is None and any(len(r) > r.count("") for r in rows):
            fallback = (meta.name, sheet, rows)
    if fallback is None:
        raise ReaderError("geen blad met gegevens gevonden", file=str(path),
                          hint="bladen: " + ", ".join(f"'{n}'" for n in names))
    return fallback


def _match_sheet(wanted: Any, names: list[str]) -> str | None:
    if isinstance(wanted, str):
        if wanted in names:
            return wanted
        loose = {" ".join(n.split()).lower(): n for n in names}
        hit = loose.get(" ".join(wanted.split()).lower())
        if hit or not wanted.strip().isdigit():
            return hit
        wanted = int(wanted)
    if isinstance(wanted, int) and not isinstance(wanted, bool) and 0 <= wanted < len(names):
        return names[wanted]
    return None


# --- layout ----------------------------------------------------------------------------------------

def _header_rows(g: _Grid, merged: list, options: dict[str, Any], r0: int, where: dict[str, Any]) -> list[int]:
    """Row indexes (into the sheet's rows) of the header."""
    spec, n = options.get("header_rows"), len(g.rows)
    if isinstance(spec, list):
        idx = sorted(int(x) - 1 - r0 for x in spec)
        if not idx or idx[0] < 0 or idx[-1] >= n or idx != list(range(idx[0], idx[-1] + 1)):
            raise ReaderError(f"header_rows {spec} past niet op het blad (rijen {r0 + 1}-{r0 + n})",
                              **where, expected="aaneengesloten rijnummers, bijv. [3, 4]")
        return idx
    if options.get("skip_rows") is not None:
        start = max(int(options["skip_rows"]) - r0, 0)  # calamine already left out leading empty rows
        if start >= n:
            raise ReaderError(f"skip_rows {options['skip_rows']} valt buiten het blad", **where)
    else:
        start = _find_header(g)
    if spec is not None:
        if int(spec) < 1 or start + int(spec) > n:
            raise ReaderError(f"header_rows {spec} past niet op het blad", **where)
        return list(range(start, start + int(spec)))
    return _extend_header(g, merged, start)


def _find_header(g: _Grid) -> int:
    blocks, begin = [], None                          # runs of non-blank rows
    for i, b in enumerate(g.blank):
        if not b and begin is None:
            begin = i
        elif b and begin is not None:
            blocks.append((begin, i - 1))
            begin = None
    if begin is not None:
        blocks.append((begin, len(g.blank) - 1))
    main = max(range(len(blocks)), key=lambda k: (blocks[k][1] - blocks[k][0], -k))   # the longest block
    lo, hi = blocks[main]
    widest = max(g.fill(i) for i in range(lo, min(hi, lo + SCAN_TOP) + 1))
    for k in range(main, -1, -1):                     # the header may sit in a block above (blank row after it)
        lo, hi = blocks[k]
        for i in range(lo, min(hi, lo + SCAN_TOP) + 1):
            row, f = g.rows[i], g.fill(i)
            texts = sum(1 for v in row if isinstance(v, str) and v.strip())
            if f >= max(2, (widest + 1) // 2) and texts * 2 >= f:
                return i
            if k == main and sum(isinstance(v, NUMERIC) for v in row) * 2 > f >= 2:
                break                                 # data before any header in this block: look above
    return blocks[0][0]                               # no header-like row: the first non-blank row


def _extend_header(g: _Grid, merged: list, start: int) -> list[int]:
    head = [start]
    down = max((b[0] for a, b in merged if a[0] == start and b[0] > a[0]), default=start)  # vertical merges
    while len(head) < MAX_HEADER_ROWS and head[-1] + 1 < len(g.rows):
        nxt = head[-1] + 1
        row, above = g.rows[nxt], g.rows[head[-1]]
        if nxt <= down:
            head.append(nxt)
            continue
        if g.blank[nxt] or any(isinstance(v, NUMERIC) for v in row):
            break
        spans = {j for a, b in merged if a[0] <= head[-1] <= b[0] and b[1] > a[1] for j in range(a[1] + 1, b[1] + 1)}
        first = next((j for j, v in enumerate(above) if v != ""), len(above))
        gaps = spans | {j for j in range(first + 1, len(above)) if above[j] == ""}
        if not any(row[j] != "" for j in gaps if j < len(row)):
            break
        head.append(nxt)
    return head


def _table_end(g: _Grid, first: int) -> tuple[int, list[int]]:
    """(index of the last data row, indexes of footnote rows). Only looks at the rows it removes."""
    rows, blank = g.rows, g.blank
    last = len(rows) - 1
    while last >= first and blank[last]:
        last -= 1
    notes: list[int] = []
    sparse = max(1, g.width // 2)
    while True:                                       # a block after a blank row, all sparse text: notes
        i = last
        while i >= first and not blank[i] and g.fill(i) <= sparse and _first_is_text(rows[i]):
            i -= 1
        if i < first or not blank[i] or i == last:
            break
        above = i
        while above >= first and blank[above]:
            above -= 1
        if above < first:                             # nothing would be left: these rows are the data
            break
        notes[:0] = range(i + 1, last + 1)
        last = above
    while last > first and g.width >= 2 and g.fill(last) == 1 and isinstance(rows[last][0], str) \
            and _looks_like_note(rows[last][0]):
        notes.insert(0, last)                         # a note right under the data
        last -= 1
    return last, notes


def _header_names(g: _Grid, head: list[int], merged: list, first: int, last: int) -> tuple[list[str], list[int]]:
    rows, width = g.rows, g.width
    grid = [[_text(v) or "" for v in rows[i]] for i in head]
    for (a, b), (c, d) in merged:                     # fill merged header cells across their range
        if c < head[0] or a > head[-1]:
            continue
        value = _text(rows[a][b]) if 0 <= a < len(rows) and 0 <= b < width else ""
        for i in range(max(a, head[0]), min(c, head[-1]) + 1):
            for j in range(max(b, 0), min(d, width - 1) + 1):
                grid[i - head[0]][j] = value or grid[i - head[0]][j]
    for r in grid[:-1]:                               # upper header rows: a blank cell continues the left label
        for j in range(1, width):
            if not r[j] and r[j - 1]:
                r[j] = r[j - 1]
    names, used = [], []
    for j in range(width):
        parts: list[str] = []
        for r in grid:
            part = " ".join(r[j].split())
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        if not parts and all(rows[i][j] == "" for i in range(first, last + 1)):
            continue                                  # no name and no data: not a column
        names.append(" ".join(parts))
        used.append(j)
    return names, used


# --- values ----------------------------------------------------------------------------------------

def _to_text(col: tuple[Any, ...]) -> pa.Array:
    """One column of calamine values as an Arrow string array of what the user sees."""
    return _column_text(col)[0]


def _column_text(col: tuple[Any, ...]) -> tuple[pa.Array, bool]:
    """(:func:`_to_text`, whether every filled cell is a number cell: its text then has a decimal point)."""
    kinds = set(map(type, col))
    if kinds == {str}:
        arr = pa.array(col, pa.string())
        return pc.if_else(pc.equal(arr, ""), NULL_STR, arr), False
    parts, texts = [], False
    for kind in kinds:
        if kind is str:
            strings = pa.array([v if v.__class__ is str and v else None for v in col], pa.string())
            if strings.null_count < len(strings):    # not only empty cells
                parts.append(strings)
                texts = True
            continue
        values = col if len(kinds) == 1 else [v if v.__class__ is kind else None for v in col]
        parts.append(_CONVERT.get(kind, _python_text)(values))
    numeric = not texts and kinds <= {str, float, int}
    if not parts:
        return pa.nulls(len(col), pa.string()), False
    return (parts[0] if len(parts) == 1 else pc.coalesce(*parts)), numeric


def _floats(values: Any) -> pa.Array:
    arr = pa.array(values, pa.float64())
    text = arr.cast(pa.string())                      # shortest round-trip text; whole numbers without '.0'
    big = pc.and_(pc.greater_equal(pc.abs(arr), 1e15), pc.less(pc.abs(arr), 9e18))
    if pc.any(big).as_py():                           # Arrow writes 2.5e+15; Excel shows the digits
        whole = pc.and_(big, pc.equal(pc.floor(arr), arr))
        ints = pc.if_else(whole, arr, pa.scalar(0.0)).cast(pa.int64()).cast(pa.string())
        text = pc.if_else(whole, ints, text)
    return text


def _datetimes(values: Any) -> pa.Array:
    arr = pc.round_temporal(pa.array(values, pa.timestamp("us")), unit="second")   # Excel stores float days
    return arr.cast(pa.timestamp("s")).cast(pa.string())


def _python_text(values: Any) -> pa.Array:
    return pa.array([None if v is None else _text(v) for v in values], pa.string())


_CONVERT = {
    float: _floats,
    int: lambda v: pa.array(v, pa.int64()).cast(pa.string()),
    bool: lambda v: pa.array(v, pa.bool_()).cast(pa.string()),
    dt.date: lambda v: pa.array(v, pa.date32()).cast(pa.string()),
    dt.datetime: _datetimes,
}


def _text(v: Any) -> str | None:
    """A single cell as text (headers, notes, rare types)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 9e18 else repr(v)
    if isinstance(v, dt.datetime):
        return v.replace(microsecond=0).isoformat(sep=" ") if v.microsecond < 500000 else \
            (v.replace(microsecond=0) + dt.timedelta(seconds=1)).isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat(timespec="seconds") if isinstance(v, dt.time) else v.isoformat()
    if isinstance(v, dt.timedelta):
        s = round(v.total_seconds())
        return f"{'-' if s < 0 else ''}{abs(s) // 3600}:{abs(s) % 3600 // 60:02d}:{abs(s) % 60:02d}"
    return str(v)


# --- small predicates ------------------------------------------------------------------------------

def _first_is_text(row: list[Any]) -> bool:
    v = next((v for v in row if v != ""), "")
    return isinstance(v, str)


def _looks_like_note(text: str) -> bool:
    t = text.strip()
    return bool(FOOTNOTE.match(t)) or ":" in t or "=" in t or len(t) >= 40


def _rows(a: int, b: int) -> str:
    return f"rij {a}" if a == b else f"rij {a}-{b}"


def _row_text(row: list[Any]) -> str:
    return " ".join(t for t in (_text(v) for v in row) if t)
