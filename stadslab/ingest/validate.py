"""Convert staged text columns to catalog types and check every value, in DuckDB.

One SQL pass makes, per field, the typed value and an error reason (NULL when fine): type (Dutch
numbers with decimal comma and thousands point, Dutch dates and month names), required, code list,
range, pattern, uniqueness. Null markers (CBS's ``.``) become NULL and are counted per field.
Rows with any error are reported by file, sheet, row, column, value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from stadslab.catalog.model import Field
from stadslab.ingest.readers.base import GEOM_COLUMN

SQL_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
             "date": "DATE", "datetime": "TIMESTAMP", "time": "TIME", "geometry": "GEOMETRY"}
EXPECTED = {"integer": "een geheel getal", "number": "een getal (bijv. 12,5 of 12.5)",
            "boolean": "ja/nee (J/N, true/false, 1/0)", "date": "een datum (bijv. 31-12-2024 of 2024-12-31)",
            "datetime": "een datum met tijd (bijv. 31-12-2024 23:59)", "time": "een tijd (bijv. 23:59)",
            "geometry": "een geometrie (WKT)", "string": "tekst"}
DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%d %B %Y", "%d %b %Y"]
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d-%m-%Y %H:%M:%S",
                    "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S.%f",
                    "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%SZ", *DATE_FORMATS]
DUTCH_MONTHS = [("januari", "january"), ("februari", "february"), ("maart", "march"), ("mrt", "mar"),
                ("mei", "may"), ("juni", "june"), ("juli", "july"), ("augustus", "august"),
                ("oktober", "october"), ("okt", "oct")]
TRUE_WORDS = ("j", "ja", "y", "yes", "true", "waar", "1", "t")
FALSE_WORDS = ("n", "nee", "no", "false", "onwaar", "0", "f")
MAX_REPORTED = 50


def lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Issue:
    row: int
    column: str
    value: str | None
    reason: str
    file: str = ""
    sheet: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}" + (f", blad '{self.sheet}'" if self.sheet else "")
        return f"{where}, rij {self.row}, kolom '{self.column}': waarde {self.value!r} — {self.reason}"


@dataclass
class ValidationReport:
    dataset: str
    rows_read: int
    invalid_rows: int
    issues_by_column: dict[str, int] = field(default_factory=dict)
    examples: list[Issue] = field(default_factory=list)
    null_markers: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.invalid_rows} van {self.rows_read} rijen van '{self.dataset}' voldoen niet aan de catalogus:"]
        for col, n in sorted(self.issues_by_column.items(), key=lambda kv: -kv[1]):
            lines.append(f"  kolom '{col}': {n} ongeldige waarden")
        lines.append("eerste gevallen:")
        lines += [f"  - {i}" for i in self.examples[:20]]
        if self.invalid_rows > len(self.examples[:20]):
            lines.append("  … (alle gevallen: 'stadslab ingest … --json')")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "rows_read": self.rows_read, "invalid_rows": self.invalid_rows,
                "issues_by_column": self.issues_by_column, "null_markers": self.null_markers,
                "examples": [vars(i) for i in self.examples]}


def _text(col: str, markers: tuple[str, ...]) -> str:
    """Trimmed text with null markers and empty strings as NULL."""
    t = f"trim(CAST({q(col)} AS VARCHAR))"
    non_empty = [m for m in markers if m != ""]
    if non_empty:
        return f"CASE WHEN {t} IN ({', '.join(lit(m) for m in non_empty)}) OR {t} = '' THEN NULL ELSE {t} END"
    return f"nullif({t}, '')"


def _number_text(v: str, decimal: str, thousands: str) -> str:
    if thousands:
        v = f"replace({v}, {lit(thousands)}, '')"
    if decimal == ",":
        v = f"replace({v}, ',', '.')"
    return v


def convert_expr(f: Field, col: str, *, typed_source: bool, options: dict[str, Any],
                 decimal: str) -> tuple[str, str]:
    """(typed value expression, raw text expression) for one field."""
    if f.type == "geometry":
        if f.role == "geometry":
            return q(GEOM_COLUMN), "ST_AsText(" + q(GEOM_COLUMN) + ")"
        t = _text(col, ())
        return f"TRY(ST_GeomFromText({t}))", t
    markers = tuple(options.get("null_markers", ("", ".")))
    t = _text(col, markers)
    sql_type = SQL_TYPES[f.type]
    if typed_source and f.type not in ("date", "datetime", "boolean"):
        return f"TRY_CAST({q(col)} AS {sql_type})", f"CAST({q(col)} AS VARCHAR)"
    thousands = options.get("thousands", "." if decimal == "," else "")
    if f.type == "string":
        return t, t
    if f.type == "integer":
        v = _number_text(t, decimal, thousands)
        return f"CASE WHEN contains({v}, '.') THEN NULL ELSE TRY_CAST({v} AS BIGINT) END", t
    if f.type == "number":
        return f"TRY_CAST({_number_text(t, decimal, thousands)} AS DOUBLE)", t
    if f.type == "boolean":
        low = f"lower({t})"
        return (f"CASE WHEN {low} IN ({', '.join(map(lit, TRUE_WORDS))}) THEN TRUE "
                f"WHEN {low} IN ({', '.join(map(lit, FALSE_WORDS))}) THEN FALSE END"), t
    if f.type in ("date", "datetime"):
        formats = f.format.split(";") if f.format else (DATE_FORMATS if f.type == "date" else DATETIME_FORMATS)
        v = t
        if any("%B" in x or "%b" in x for x in formats):
            v = f"lower({t})"
            for nl, en in DUTCH_MONTHS:
                v = f"replace({v}, {lit(nl)}, {lit(en)})"
        fmts = "[" + ", ".join(lit(x) for x in formats) + "]"
        expr = f"try_strptime({v}, {fmts})"
        return (f"CAST({expr} AS DATE)" if f.type == "date" else expr), t
    if f.type == "time":
        return f"coalesce(TRY_CAST({t} AS TIME), CAST(try_strptime({t}, '%H.%M') AS TIME))", t
    raise ValueError(f.type)


def error_expr(f: Field, value: str, raw: str) -> str:
    """A CASE expression giving the Dutch reason a value is invalid, or NULL."""
    cases = []
    if f.type != "string":
        cases.append((f"{raw} IS NOT NULL AND {value} IS NULL", f"verwacht {EXPECTED[f.type]}"))
    if not f.nullable:
        cases.append((f"{value} IS NULL", "verplicht veld is leeg"))
    if f.codes is not None:
        shown = ", ".join(map(str, f.codes[:12])) + (" …" if len(f.codes) > 12 else "")
        codes = ", ".join(lit(c if f.type == "string" else c) for c in f.codes)
        cases.append((f"{value} IS NOT NULL AND {value} NOT IN ({codes})", f"waarde staat niet in de codelijst ({shown})"))
    if f.min is not None:
        cases.append((f"{value} < {f.min!r}", f"kleiner dan het minimum {f.min:g}"))
    if f.max is not None:
        cases.append((f"{value} > {f.max!r}", f"groter dan het maximum {f.max:g}"))
    if f.pattern:
        cases.append((f"{value} IS NOT NULL AND NOT regexp_full_match(CAST({value} AS VARCHAR), {lit(f.pattern)})",
                      f"past niet op het patroon {f.pattern}"))
    if not cases:
        return "NULL"
    return "CASE " + " ".join(f"WHEN {c} THEN {lit(r)}" for c, r in cases) + " END"


def detect_decimal(con: duckdb.DuckDBPyConnection, stage: str, columns: list[str]) -> str:
    """'auto' decimal mark: ',' when number-like values use a comma and none use a point as decimal."""
    if not columns:
        return "."
    probes = ", ".join(
        f"count_if(regexp_full_match(trim({q(c)}), '-?[0-9]+,[0-9]+|-?[0-9]{{1,3}}(\\.[0-9]{{3}})+,[0-9]+')) AS c{i}, "
        f"count_if(regexp_full_match(trim({q(c)}), '-?[0-9]+\\.[0-9]{{1,2}}|-?[0-9]+\\.[0-9]{{4,}}')) AS p{i}"
        for i, c in enumerate(columns))
    row = con.execute(f"SELECT {probes} FROM (SELECT * FROM {stage} LIMIT 20000)").fetchone()
    commas = sum(v or 0 for v in row[0::2])
    points = sum(v or 0 for v in row[1::2])
    return "," if commas > 0 and points == 0 else "."
