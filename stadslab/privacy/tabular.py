"""Reading and writing the tables the privacy kit handles (CSV, XLSX/ODS, Parquet), in batches.

Shared by pseudonymise.py, rekey.py and scan.py. Text formats are read as text (nothing is
reinterpreted, so a BSN keeps its leading zero); Parquet keeps its types. Outputs are hashed while
they are written, for the receipt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stadslab.errors import PrivacyError, ReaderError

CSV_EXT, XLSX_EXT, PARQUET_EXT = (".csv", ".txt", ".tsv"), (".xlsx", ".xlsm", ".xls", ".ods"), (".parquet", ".pq")


@dataclass
class TableSource:
    path: Path
    format: str
    columns: list[str]
    options: dict[str, Any]
    estimated_rows: int | None
    _batches: Callable[[], Iterator[tuple[pa.RecordBatch, np.ndarray]]]

    def batches(self) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        """(batch, row numbers as the user finds them) pairs."""
        return self._batches()

    def read_all(self) -> pa.Table:
        batches = [b for b, _ in self.batches()]
        if not batches:
            return pa.table({c: pa.array([], pa.string()) for c in self.columns})
        return pa.Table.from_batches(batches)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def output_format(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".csv",):
        return "csv"
    if ext in PARQUET_EXT:
        return "parquet"
    raise PrivacyError(f"uitvoerformaat '{ext}' wordt niet ondersteund", hint="gebruik .csv of .parquet")


def open_source(path: Path, *, sheet: str | None = None, block_size: int = 16 << 20) -> TableSource:
    path = Path(path)
    if not path.is_file():
        raise ReaderError("bestand niet gevonden", file=str(path))
    ext = path.suffix.lower()
    if ext in CSV_EXT:
        return _open_csv(path, block_size)
    if ext in XLSX_EXT:
        return _open_sheet(path, sheet)
    if ext in PARQUET_EXT:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)

        def gen() -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
            row = 1
            for b in pf.iter_batches(batch_size=1 << 18):
                yield b, np.arange(row, row + b.num_rows)
                row += b.num_rows
        return TableSource(path, "parquet", pf.schema_arrow.names, {}, pf.metadata.num_rows, gen)
    raise ReaderError(f"bestandsformaat '{ext}' wordt niet ondersteund", file=str(path),
                      expected="CSV, XLSX of Parquet")


def _open_csv(path: Path, block_size: int) -> TableSource:
    import csv

    import pyarrow.csv as pacsv

    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        raise ReaderError("het bestand is leeg", file=str(path))
    try:
        head.decode("utf-8")
        encoding = "utf8"
    except UnicodeDecodeError as exc:
        cut = len(head) == 1 << 16 and exc.start >= len(head) - 3   # a multibyte char cut off by the sample
        encoding = "utf8" if cut else "cp1252"
    text = head.decode("utf-8" if encoding == "utf8" else "cp1252", errors="ignore").lstrip("\ufeff")
    first = text.splitlines()[0]
    delimiter = max([";", ",", "\t", "|"], key=first.count) if any(d in first for d in ";,\t|") else ","
    header = next(csv.reader([first], delimiter=delimiter))
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ReaderError(f"dubbele kolomnamen in de kopregel: {', '.join(dupes)}", file=str(path), row=1)
    lines = max(head.count(b"\n"), 1)
    estimate = int(path.stat().st_size * lines / len(head)) if len(head) == 1 << 16 else lines - 1
    options = {"delimiter": delimiter, "encoding": encoding}

    def fail(exc: Exception) -> ReaderError:   # pyarrow quotes the row: do not echo it (may hold a BSN)
        if "conversion error to string" in str(exc):
            return ReaderError(f"tekst is geen geldige {encoding} (de eerste 64 kB waren dat wel)", file=str(path),
                               hint="sla het bestand op als UTF-8 en probeer opnieuw")
        msg = str(exc).split(": ", 2)
        return ReaderError(": ".join(msg[:2]) if len(msg) > 2 else str(exc), file=str(path),
                           row=_first_bad_row(path, delimiter, encoding, len(header)),
                           expected=f"{len(header)} kolommen, gescheiden door '{delimiter}'")

    def gen() -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        try:
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=block_size, encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
        except pa.ArrowInvalid as exc:
            raise fail(exc) from None
        row = 2
        while True:
            try:
                b = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise fail(exc) from None
            yield b, np.arange(row, row + b.num_rows)
            row += b.num_rows
    return TableSource(path, "csv", header, options, estimate, gen)


def _first_bad_row(path: Path, delimiter: str, encoding: str, width: int) -> int | None:
    import csv

    with open(path, encoding="utf-8-sig" if encoding == "utf8" else "cp1252", newline="", errors="replace") as fh:
        for i, rec in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
            if rec and len(rec) != width:
                return i
    return None


def _cell_text(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return "" if v is None else str(v)


def _open_sheet(path: Path, sheet: str | None) -> TableSource:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:   # calamine raises its own error types per format problem
        raise ReaderError(f"kan het werkboek niet openen: {exc}", file=str(path)) from None
    name = sheet or wb.sheet_names[0]
    if name not in wb.sheet_names:
        raise ReaderError(f"blad '{name}' bestaat niet", file=str(path), expected=", ".join(wb.sheet_names))
    sh = wb.get_sheet_by_name(name)
    grid = sh.to_python(skip_empty_area=True)
    start = (sh.start[0] if sh.start else 0) + 1
    filled = [(start + i, r) for i, r in enumerate(grid) if any(c not in ("", None) for c in r)]
    if not filled:
        raise ReaderError("het blad is leeg", file=str(path), sheet=name)
    header = [_cell_text(c).strip() or f"kolom_{j + 1}" for j, c in enumerate(filled[0][1])]
    body = filled[1:]
    rows = np.array([r for r, _ in body], dtype=np.int64)
    cols = {h: pa.array([_cell_text(r[j]) if j < len(r) else "" for _, r in body], pa.string())
            for j, h in enumerate(header)}
    batch = pa.RecordBatch.from_arrays(list(cols.values()), names=header)
    return TableSource(path, "xlsx", header, {"sheet": name}, len(body), lambda: iter([(batch, rows)]))


class _HashSink:
    """File-like object for pyarrow writers that hashes what it writes (no second read)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "wb")
        self.h = hashlib.sha256()
        self.n = 0
        self.closed = False

    def write(self, data: Any) -> int:
        mv = memoryview(data)
        self.h.update(mv)
        self.n += mv.nbytes
        return self.fh.write(mv)

    def flush(self) -> None:
        self.fh.flush()

    def close(self) -> None:
        if not self.closed:
            self.fh.close()
            self.closed = True


class HashingWriter:
    """Writes record batches as CSV or Parquet and knows the sha256 and size of what it wrote."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._sink = _HashSink(path)
        self._writer: Any = None
        self.schema: pa.Schema | None = None
        self.sha256 = ""
        self.bytes = 0

    def _open(self, schema: pa.Schema) -> None:
        self.schema = schema
        stream = pa.PythonFile(self._sink, mode="w")
        if self.fmt == "csv":
            import pyarrow.csv as pacsv

            self._writer = pacsv.CSVWriter(stream, schema, write_options=pacsv.WriteOptions(
                quoting_style="needed", batch_size=1 << 16))
        else:
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(stream, schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._open(batch.schema)
        elif batch.schema != self.schema:
            batch = batch.cast(self.schema)
        self._writer.write_batch(batch)

    def write_empty(self, schema: pa.Schema) -> None:
        self._open(schema)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._sink.close()
        self.sha256, self.bytes = self._sink.h.hexdigest(), self._sink.n

    def abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
        finally:
            self._sink.close()
