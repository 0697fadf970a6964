"""Scan any file for BSNs: the check behind "no file the kit or the warehouse writes holds a BSN".

A *token* is a run of 8 or 9 digits that is not glued to other letters or digits (so the digits
inside a hex pseudonym such as ``a1234567890f`` do not count). 8-digit tokens are read with their
leading zero restored, as a spreadsheet may have dropped it; "1234.56.782" and "123-456-782" count
as one token. Tokens are grouped per *location*: a column (CSV, XLSX, Parquet, DuckDB tables), a key
path (JSON), or the whole text (other files, raw bytes).

Random numbers pass the 11-proef about 1 time in 11, so a valid-looking token alone proves nothing.
A **finding** is therefore either

- ``known_bsn``: a token equal to one of the BSNs the caller passes in ``known`` (the test knows
  the BSNs it put into the input), or
- ``bsn_column``: a location with at least ``min_values`` tokens of which at least ``threshold``
  (default 50 %) pass the 11-proef.

Every location's counts (tokens, of which valid, of which known) are in ``ScanResult.locations``.
Findings never carry the BSN itself, only counts.

DuckDB files are opened read-only and every table column is scanned; the raw bytes are scanned too
(a DuckDB file compresses columns, so the byte scan alone could miss values).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stadslab.privacy import bsn as B

_TOKEN = re.compile(rb"(?<![0-9A-Za-z])(\d{8,9}|\d{3,4}[.\- ]\d{2,3}[.\- ]\d{3})(?![0-9A-Za-z])")


@dataclass
class LocationStats:
    tokens: int = 0       # 8/9-digit numbers seen
    valid: int = 0        # of which pass the 11-proef
    known: int = 0        # of which equal a BSN in ``known``


@dataclass
class Finding:
    source: str
    location: str
    kind: str             # "known_bsn" | "bsn_column"
    tokens: int
    valid: int
    known: int

    def __str__(self) -> str:
        what = (f"{self.known} bekende BSN's" if self.kind == "known_bsn"
                else f"{self.valid} van {self.tokens} negencijferige getallen halen de elfproef")
        return f"{self.source} [{self.location}]: {what}"


@dataclass
class ScanResult:
    source: str
    locations: dict[str, LocationStats] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.locations.values())

    @property
    def valid(self) -> int:
        return sum(s.valid for s in self.locations.values())


def _known_array(known: Iterable[Any] | None) -> pa.Array | None:
    if known is None:
        return None
    chk = B.check_bsn_array(list(known) if not isinstance(known, (pa.Array, np.ndarray)) else known)
    return chk.normalised().filter(pa.array(chk.valid))


def _token_stats(tokens: pa.Array, known: pa.Array | None) -> LocationStats:
    if len(tokens) == 0:
        return LocationStats()
    chk = B.check_bsn_array(tokens)
    valid = chk.valid
    hits = 0
    if known is not None and len(known):
        padded = pc.utf8_lpad(pc.replace_substring_regex(tokens, r"[.\- ]", ""), 9, "0")
        hits = int(pc.sum(pc.is_in(padded, value_set=known)).as_py() or 0)
    return LocationStats(tokens=len(tokens), valid=int(valid.sum()), known=hits)


def _text_tokens(data: bytes) -> pa.Array:
    return pa.array([m.decode("ascii") for m in _TOKEN.findall(data)], pa.string())


def _column_tokens(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Tokens in a column; integers are their own token, text is searched."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks else pa.array([], col.type)
    t = col.type
    if pa.types.is_integer(t):
        s = col.cast(pa.string()).drop_null()
        return s.filter(pc.is_in(pc.utf8_length(s), value_set=pa.array([8, 9], pa.int32())))
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t)):
        return pa.array([], pa.string())
    s = col.cast(pa.string()).drop_null()
    if len(s) == 0:
        return pa.array([], pa.string())
    # cheap pre-filter: only values with a run of 8+ digits (allowing BSN punctuation) can hold a token
    cand = s.filter(pc.match_substring_regex(s, r"[0-9][0-9.\- ]{6,}[0-9]"))
    if len(cand) == 0:
        return pa.array([], pa.string())
    return _text_tokens("\n".join(cand.to_pylist()).encode("utf-8"))


def _finish(result: ScanResult, known: pa.Array | None, threshold: float, min_values: int) -> ScanResult:
    for loc, st in result.locations.items():
        if st.known:
            result.findings.append(Finding(result.source, loc, "known_bsn", st.tokens, st.valid, st.known))
        if st.tokens >= min_values and st.valid >= threshold * st.tokens:
            result.findings.append(Finding(result.source, loc, "bsn_column", st.tokens, st.valid, st.known))
    return result


def _sniff(data: bytes, name: str) -> str:
    ext = Path(name).suffix.lower()
    if data[:4] == b"PAR1":
        return "parquet"
    if data[8:12] == b"DUCK":
        return "duckdb"
    if data[:4] == b"PK\x03\x04":
        return "xlsx" if ext in (".xlsx", ".xlsm", ".ods") or b"xl/workbook" in data[:4096] else "zip"
    if ext in (".json", ".geojson") or data.lstrip()[:1] in (b"{", b"["):
        return "json"
    if ext in (".csv", ".tsv", ".txt"):
        return "csv"
    return "text"


def _walk_json(node: Any, path: str, out: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _walk_json(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(node, list):
        for v in node:
            _walk_json(v, path + "[]", out)
    elif isinstance(node, (str, int)) and not isinstance(node, bool):
        out.setdefault(path or "$", []).append(str(node))


def scan_file(source: str | Path | bytes, *, known: Iterable[Any] | None = None, name: str | None = None,
              threshold: float = 0.5, min_values: int = 20) -> ScanResult:
    """Scan one file (path or its bytes) and return per-location counts and findings."""
    if isinstance(source, (str, Path)):
        path: Path | None = Path(source)
        data = path.read_bytes()
        name = name or path.name
    else:
        path, data, name = None, bytes(source), name or "<bytes>"
    kind = _sniff(data, name)
    known_arr = _known_array(known)
    result = ScanResult(source=name)
    locs = result.locations
    if kind in ("csv", "xlsx", "parquet"):
        from stadslab.privacy.tabular import open_source

        with tempfile.TemporaryDirectory() as tmp:
            p = path if path is not None and path.suffix else Path(tmp) / f"scan.{kind}"
            if p != path:
                p.write_bytes(data)
            try:
                table = open_source(p).read_all()
            except Exception:   # not readable as a table after all: fall back to the text scan below
                table = None
        if table is not None:
            for col in table.column_names:
                locs[col] = _token_stats(_column_tokens(table[col]), known_arr)
            locs["kopregel"] = _token_stats(_text_tokens(",".join(table.column_names).encode()), known_arr)
            return _finish(result, known_arr, threshold, min_values)
    if kind == "json":
        try:
            values: dict[str, list[str]] = {}
            _walk_json(json.loads(data.decode("utf-8-sig")), "", values)
            for loc, vals in values.items():
                locs[loc] = _token_stats(_column_tokens(pa.array(vals, pa.string())), known_arr)
            return _finish(result, known_arr, threshold, min_values)
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass
    if kind == "duckdb":
        _scan_duckdb(path, data, locs, known_arr)
    if kind == "zip":
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                locs[member] = _token_stats(_text_tokens(zf.read(member)), known_arr)
        return _finish(result, known_arr, threshold, min_values)
    locs["bytes" if kind == "duckdb" else "tekst"] = _token_stats(_text_tokens(data), known_arr)
    return _finish(result, known_arr, threshold, min_values)


def _scan_duckdb(path: Path | None, data: bytes, locs: dict[str, LocationStats], known: pa.Array | None) -> None:
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        p = path
        if p is None:
            p = Path(tmp) / "scan.duckdb"
            p.write_bytes(data)
        con = duckdb.connect(str(p), read_only=True)
        try:
            tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                 "WHERE table_type = 'BASE TABLE'").fetchall()
            for schema, table in tables:
                cols = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchall()
                for col, dtype in cols:
                    if not any(t in dtype.upper() for t in ("VARCHAR", "INT", "DECIMAL", "DOUBLE")):
                        continue
                    q = f'SELECT CAST("{col}" AS VARCHAR) AS v FROM "{schema}"."{table}" WHERE "{col}" IS NOT NULL'
                    values = con.execute(q).fetch_arrow_table()["v"]
                    locs[f"{schema}.{table}.{col}"] = _token_stats(_column_tokens(values), known)
        finally:
            con.close()


def scan_for_bsn(source: str | Path | bytes, *, known: Iterable[Any] | None = None, name: str | None = None,
                 threshold: float = 0.5, min_values: int = 20) -> list[Finding]:
    """Findings of ``scan_file``: an empty list means no BSN was found."""
    return scan_file(source, known=known, name=name, threshold=threshold, min_values=min_values).findings


def scan_tree(root: str | Path, *, known: Iterable[Any] | None = None, **kw: Any) -> list[Finding]:
    """Scan every file under ``root`` (e.g. a workspace or an output folder)."""
    known_list = list(known) if known is not None else None
    out: list[Finding] = []
    for p in sorted(Path(root).rglob("*")):
        if p.is_file():
            out.extend(scan_for_bsn(p, known=known_list, **kw))
    return out
