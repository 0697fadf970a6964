"""Raw-BSN guard at ingest: a raw BSN never enters the warehouse.

Any column, whatever its name, in which most nine-digit values pass the 11-proef is refused unless
the catalog declares it a pseudonym column. Random nine-digit numbers pass the 11-proef about one
time in eleven (≈ 9 %); a column of real BSNs passes always. The threshold (50 %) sits far from both.
The check runs in DuckDB over the staged text, so it costs one scan of the candidate columns; a
spreadsheet's columns are first pre-checked in Arrow (:func:`may_hold_bsn`), and only those that can
hold a valid BSN are scanned.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from stadslab.catalog.model import Dataset
from stadslab.errors import RawBSNDetected

THRESHOLD = 0.5
MIN_VALUES = 20   # fewer nine-digit values than this prove nothing either way


SAMPLE_ABOVE = 1_000_000
SAMPLE_ROWS = 250_000


def elfproef_sql(digits: str) -> str:
    """SQL boolean: the 9-character digit string passes the BSN 11-proef (weights 9..2, -1)."""
    terms = " + ".join(f"{w} * TRY_CAST(substr({digits}, {i + 1}, 1) AS INTEGER)"
                       for i, w in enumerate((9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return f"(({terms}) % 11 = 0 AND {digits} <> '000000000')"


FRACTIONAL = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
# types that can hold a BSN: text, whole numbers, and numbers stored as fractional types
CANDIDATE_TYPES = ("VARCHAR", "BIGINT", "INTEGER", "HUGEINT", "UBIGINT", "UINTEGER", *FRACTIONAL)


def as_digits(col: str, sql_type: str) -> str:
    """SQL text of a value as a file would hold it: a whole number stored as DOUBLE (a spreadsheet's
    number cell, a Parquet float column) as its digits — ``123456782``, not ``123456782.0``, which the
    guard would not see as nine digits."""
    if not str(sql_type).upper().startswith(FRACTIONAL):
        return f"CAST({col} AS VARCHAR)"
    return (f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 1e12 THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({col} AS VARCHAR) END")


# a value that can pass the 11-proef: eight or nine ASCII digits once spaces, dots and dashes are removed
# (what scan_stage's translate + lpad + 11-proef can accept; anything else is never a valid BSN there)
MAY_BE_BSN = r"^[ .\-]*([0-9][ .\-]*){8,9}$"


def may_hold_bsn(values: pa.Array | pa.ChunkedArray) -> bool:
    """Arrow pre-check of one text column: could any value pass the 11-proef? A column where none can
    gets no valid count in :func:`scan_stage`, so it can never be refused: skipping it changes no
    decision. One RE2 pass in Arrow (≈ 3 ms per 100 000 cells) against the SQL scan's ≈ 10–20 ms."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return True                                   # not text: leave it to the SQL scan
    return bool(pc.any(pc.match_substring_regex(values, MAY_BE_BSN)).as_py())


def scan_stage(con: duckdb.DuckDBPyConnection, stage: str, columns: list[str],
               types: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """Per column: (nine-digit values, of which pass the 11-proef). BSNs written with leading zeros
    dropped (8 digits) or with dots/spaces/dashes are normalised first, as a source file may hold them;
    numbers stored as DOUBLE are read as their digits (``types``: column → SQL type).

    One filtered sub-query per column: the 11-proef runs only on the few candidate values, and
    ``translate`` + an integer cast are ~8x cheaper than a regular expression on every cell
    (5.9 s → 0.8 s on 2 M rows × 6 columns)."""
    if not columns:
        return {}
    parts = []
    for c in columns:
        raw = as_digits('"' + c.replace('"', '""') + '"', (types or {}).get(c, "VARCHAR"))
        # translate only removes characters: a value shorter than 8 can never become 8 or 9 digits. The
        # length test sits in a CASE: as a WHERE, DuckDB pushed it into the scan together with the test
        # on translate's result and ran translate (≈ 150 ns) on every value anyway
        parts.append(f"SELECT {len(parts)} AS i, count(*) AS n, "
                     f"count_if(coalesce({elfproef_sql('lpad(d, 9, chr(48))')}, false)) AS v "
                     f"FROM (SELECT CASE WHEN length(r) >= 8 THEN translate(r, ' .-', '') END AS d "
                     f"FROM (SELECT {raw} AS r FROM {stage})) "
                     f"WHERE length(d) IN (8, 9) AND TRY_CAST(d AS UBIGINT) IS NOT NULL AND d NOT LIKE '+%'")
    got = {r[0]: (r[1], r[2]) for r in con.execute(" UNION ALL ".join(parts)).fetchall()}
    return {c: got.get(i, (0, 0)) for i, c in enumerate(columns)}


def check_no_raw_bsn(con: duckdb.DuckDBPyConnection, stage: str, dataset: Dataset,
                     mapping: dict[str, str], columns: list[str], column_types: dict[str, str],
                     arrow: pa.Table | None = None) -> None:
    """Raise RawBSNDetected when a column looks like raw BSNs and is not a declared pseudonym.
    ``arrow``: the same rows as an Arrow table (a spreadsheet reader's), for :func:`may_hold_bsn`."""
    pseudonym_cols = {mapping[f.name] for f in dataset.fields if f.role == "pseudonym" and f.name in mapping}
    candidates = [c for c in columns if c not in pseudonym_cols and not c.startswith("__")
                  and str(column_types.get(c, "VARCHAR")).upper().startswith(CANDIDATE_TYPES)]
    if arrow is not None:
        candidates = [c for c in candidates if c not in arrow.column_names or may_hold_bsn(arrow[c])]
    rows = con.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    sampled = ""
    if rows > SAMPLE_ABOVE:
        # the rule is a share ("most nine-digit values"): a random sample of ~SAMPLE_ROWS rows (whole
        # vectors of 2048, DuckDB system sampling) estimates it to within a fraction of a percent
        stage = f"(SELECT * FROM {stage} USING SAMPLE {100 * SAMPLE_ROWS / rows:.4f}% (system, 42))"
        sampled = f" (steekproef van ongeveer {SAMPLE_ROWS:,} van {rows:,} rijen)".replace(",", ".")
    for col, (nine, valid) in scan_stage(con, stage, candidates, column_types).items():
        if nine >= MIN_VALUES and valid / nine >= THRESHOLD:
            raise RawBSNDetected(
                f"dataset '{dataset.id}', kolom '{col}': {valid} van {nine} negencijferige waarden{sampled} "
                f"({valid / nine:.0%}) zijn geldige BSN's (11-proef). Een BSN komt nooit onversleuteld in het warehouse.",
                hint="laat de bronhouder het bestand pseudonimiseren met 'stadslab source pseudonymise', of "
                     "verklaar de kolom in de catalogus als pseudoniem (role: pseudonym) als hij dat al is")
