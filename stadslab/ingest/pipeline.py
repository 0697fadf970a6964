"""The one schema-driven ingester: read → drift check → BSN guard → convert and validate →
geography → commit a new version. Every dataset goes through here; a pilot never brings its own.
"""

from __future__ import annotations

import glob
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from stadslab.catalog.model import Dataset
from stadslab.errors import IngestError, StadslabError, ValidationFailed
from stadslab.ingest import fastpath
from stadslab.ingest import version_shape as shape
from stadslab.ingest import validate as V
from stadslab.ingest.drift import enforce, match_columns
from stadslab.ingest.readers import GEOM_COLUMN, ROW_COLUMN, reader_for
from stadslab.ingest.readers.base import clear_stage
from stadslab.privacy.guard import check_no_raw_bsn
from stadslab.warehouse import lake as lakes
from stadslab.warehouse.layout import VersionLayout, data_table
from stadslab.warehouse.store import Warehouse

Progress = Callable[[str], None]


@dataclass
class SourceFile:
    path: Path
    size: int
    mtime: float
    _sha: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None

    @classmethod
    def stat(cls, path: Path) -> "SourceFile":
        st = path.stat()
        return cls(path, st.st_size, st.st_mtime)

    def start_hashing(self) -> None:
        """Hash in a thread while DuckDB reads the file (hashlib releases the GIL)."""
        self._thread = threading.Thread(target=lambda: self._sha.append(sha256_file(self.path)), daemon=True)
        self._thread.start()

    @property
    def sha256(self) -> str:
        if self._thread is None:
            self.start_hashing()
        self._thread.join()
        return self._sha[0]

    @property
    def mtime_iso(self) -> str:
        return datetime.fromtimestamp(self.mtime, timezone.utc).isoformat()

    def shown_path(self, data_dir: Path) -> str:
        """Relative to the workspace data folder where possible, so provenance survives a move."""
        try:
            return str(self.path.relative_to(data_dir))
        except ValueError:
            return str(self.path)

    def as_dict(self, data_dir: Path) -> dict[str, Any]:
        return {"path": self.shown_path(data_dir), "size": self.size, "sha256": self.sha256, "mtime": self.mtime_iso}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def combined_sha(files: list[SourceFile]) -> str:
    if len(files) == 1:
        return files[0].sha256
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.path.name}:{f.sha256}\n".encode())
    return h.hexdigest()


def source_files(dataset: Dataset, data_dir: Path, override: Path | None = None) -> list[SourceFile]:
    if override is not None:
        if not override.exists():
            raise IngestError(f"bestand {override} bestaat niet")
        return [SourceFile.stat(override)]
    pattern = str(data_dir / dataset.source.path)
    paths = sorted(Path(p) for p in glob.glob(pattern)) if any(ch in pattern for ch in "*?[") else \
        ([Path(pattern)] if Path(pattern).exists() else [])
    paths = [p for p in paths if p.is_file()]
    if not paths:
        raise IngestError(f"geen bronbestand voor '{dataset.id}': {pattern} bestaat niet",
                          hint="zet het bestand in de datamap van de werkruimte, of geef het pad mee: "
                               f"'stadslab ingest {dataset.id} PAD'")
    return [SourceFile.stat(p) for p in paths]


@dataclass
class LoadResult:
    dataset: str
    version: int
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    area_stats: dict[str, Any]
    warnings: list[str]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def ingest(wh: Warehouse, dataset: Dataset, data_dir: Path, *, file: Path | None = None,
           area_datasets: list[Dataset] = (), trigger: str = "ingest",
           progress: Progress | None = None) -> LoadResult:
    """Load one dataset as a new version. On any error the previous version stays current and the
    attempt is recorded in ``stadslab.loads``."""
    started = datetime.now(timezone.utc)
    say = progress or (lambda _msg: None)
    try:
        files = source_files(dataset, data_dir, file)
        for f in files:
            f.start_hashing()
        kw = dict(files=files, trigger=trigger, say=say, started=started, area_datasets=list(area_datasets))
        why_not = fastpath.eligible(dataset)
        try:
            if why_not:
                raise fastpath.Miss(why_not)
            result = _ingest(wh, dataset, data_dir, fast=True, **kw)
        except (fastpath.Miss, IngestError, duckdb.Error) as miss:
            # the text path explains, rejects or refuses (the same reader and rules, row-precise
            # messages): it decides alone, from the start; the raw-BSN guard's refusal is never retried
            _drop_temp(wh.con, _TEMPS)
            note = None if why_not else str(miss) if isinstance(miss, fastpath.Miss) else _first_line(miss)
            result = _ingest(wh, dataset, data_dir, fast=False, route_note=note, **kw)
    except StadslabError as exc:
        wh.log_load(dataset.id, started_at=started, status="mislukt", version=None, message=str(exc), trigger=trigger)
        raise
    except duckdb.Error as exc:  # translate: never a bare DuckDB stack trace for the user
        err = IngestError(f"laden van '{dataset.id}' mislukt in DuckDB: {exc}")
        wh.log_load(dataset.id, started_at=started, status="mislukt", version=None, message=str(err), trigger=trigger)
        raise err from exc
    finally:
        _drop_temp(wh.con, _TEMPS)
    wh.log_load(dataset.id, started_at=started, status="geladen", version=result.version,
                message=f"{result.rows_loaded} rijen geladen, {result.rows_rejected} afgewezen", trigger=trigger)
    return result


_TEMPS = ("__numbered", "__final", "__pts", "__clean", "__typed", "__stage", "__rejects")


def _ingest(wh: Warehouse, ds: Dataset, data_dir: Path, *, files: list[SourceFile], trigger: str,
            say: Progress, started: datetime, area_datasets: list[Dataset], fast: bool,
            route_note: str | None = None) -> LoadResult:
    """One load. ``fast``: the typed one-pass route (fastpath.py), raising ``fastpath.Miss`` when a
    value or the file's shape needs the text route, which then runs this again with ``fast=False``."""
    con = wh.con
    say(f"lezen ({len(files)} bestand{'en' if len(files) > 1 else ''})")
    reads, lazy = [], []
    for i, f in enumerate(files):
        info = reader_for(f.path, ds.source.reader)
        if fast and info.name == "csv":
            lz = fastpath.csv_view(con, f.path, dict(ds.source.options), f"__stage_{i}", numbered=len(files) > 1)
            lazy.append(lz)
            reads.append((f, info, lz.result))
        else:
            reads.append((f, info, info.read(con, f.path, dict(ds.source.options), f"__stage_{i}")))
    _union_stages(con, reads)
    first = reads[0][2]
    columns = [c for c in first.columns if c not in (ROW_COLUMN, GEOM_COLUMN)]
    drift = match_columns(ds, columns)
    warnings = enforce(ds, drift, file=reads[0][0].path.name)
    for _, _, r in reads:
        warnings += r.notes
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE table_name = '__stage' AND database_name = 'temp'").fetchall())
    if lazy:
        fastpath.guard_head(con, ds, drift.mapping, columns, types)
    else:
        check_no_raw_bsn(con, "__stage", ds, drift.mapping, columns, types,
                         arrow=first.arrow if len(reads) == 1 else None)

    say("controleren")
    options = dict(ds.source.options)
    number_cols = [drift.mapping[f.name] for f in ds.fields if f.type in ("number", "integer") and f.name in drift.mapping]
    # number cells of a spreadsheet are written with a decimal point: nothing to detect when only they fill the columns
    numeric_only = len(reads) == 1 and set(number_cols) <= first.numeric_columns
    decimal = options.get("decimal") or ("." if first.typed or numeric_only else
                                         V.detect_decimal(con, "__stage", number_cols))
    by_reader: list[str] = []     # fields the CSV reader converted itself (fastpath.typed_stage)
    if fast:
        has_geom = any(f.role == "geometry" for f in ds.fields)
        native = fastpath.typed_stage(con, lazy[0], ds, drift.mapping, options, decimal) if len(reads) == 1 and lazy else set()
        by_reader = sorted(f.name for f in ds.fields if drift.mapping.get(f.name) in native)
        fastpath.strict_clean(con, ds, drift.mapping, first.typed, options, decimal,
                              extra=f", {GEOM_COLUMN}" if has_geom else "", native=native)
        report, rows_read = V.ValidationReport(ds.id, 0, 0), None
    else:
        report, rows_read = _convert_and_check(con, ds, drift.mapping, first.typed, options, decimal)
    if route_note:
        warnings.append(f"tekstroute: {route_note}")
    rejected = report.invalid_rows
    if rejected:
        share = rejected / max(rows_read, 1)
        if ds.load.on_invalid == "fail" or share > ds.load.max_reject_share:
            if ds.load.on_invalid == "reject":
                report_hint = (f"{share:.1%} van de rijen is ongeldig, meer dan de toegestane "
                               f"{ds.load.max_reject_share:.0%} (load.max_reject_share)")
                raise ValidationFailed(report, hint=report_hint)
            raise ValidationFailed(report)
        warnings.append(f"{rejected} ongeldige rijen apart gezet (stadslab.rejects)")
        _collect_rejects(con, ds, drift.mapping)
    if not fast:
        con.execute(f"CREATE TEMP VIEW __clean AS SELECT {', '.join(V.q(f.name) for f in ds.fields)}, "
                    f"{ROW_COLUMN}, __file FROM __typed WHERE __bad = 0")

    say("gebieden toewijzen")
    area_stats: dict[str, Any] = {}
    final = "__clean"
    measure = points = None
    crs = first.crs or ds.geography.crs
    if ds.is_point:
        points, measure = shape.assign_points(con, ds, crs)
    elif ds.field_with_role("geometry") or ds.field_with_role("wkt"):
        final = shape.geometry_to_rd(con, ds, crs)
    elif ds.geography.level in ("buurt", "wijk") and ds.field_with_role("area_code") is not None:
        area_stats, final = shape.derive_parent_codes(con, ds)
    staging = shape.version_layout(con, ds, final, points, [f.path.name for f in files], lazy)
    say("vastleggen")
    provenance = {
        "classification": ds.classification, "catalog_sha256": ds.sha256, "reader": reads[0][1].name,
        "reader_options": {**reads[0][2].options_used, "decimal": decimal, "route": "snel" if fast else "tekst",
                           **({"door_lezer_omgezet": by_reader} if by_reader else {})},
        "source_files": [f.as_dict(data_dir) for f in files], "source_sha256": combined_sha(files),
        "rows_read": rows_read, "rows_rejected": rejected,
        "null_markers": report.null_markers, "area_stats": area_stats, "notes": warnings, "rows_loaded": None,
        "started_at": started, "trigger": trigger,
    }
    after = None
    if ds.areas:
        def after(_con, table: str, version: int) -> None:  # inside the commit: registry and version change together
            rebuild_areas(wh, area_datasets, extra=(ds, table, version))

    lake = lakes.lake_of_warehouse(wh.path)
    after_commit: list = []   # audit lines that may only be written once the version exists

    def measured(con, table: str) -> dict[str, Any]:  # on the new version table, inside the commit
        rows_in = data_table(table) if isinstance(staging, VersionLayout) else table   # the written rows
        if fast:  # checks the fast route owes (line numbers, uniqueness, BSN guard); a Miss rolls back
            rows = fastpath.after_write(con, ds, table, lazy, rows_in=rows_in)
            extra = {"rows_loaded": rows, "rows_read": rows}
        else:
            extra = {"rows_loaded": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]}
        from stadslab.ingest.retention import apply_retention  # governance.bewaartermijn: expired rows out
        apply_retention(con, ds, table, provenance, extra, data_dir, defer=after_commit, rows_in=rows_in)
        if measure is not None:
            extra["area_stats"] = measure(con, table)
        if lake is not None:  # the cluster's copy, complete before the DuckDB commit (warehouse/lake.py)
            lakes.reconcile(con, lake)
            m = lakes.write_version(con, lake, ds.id, int(table.rstrip('"').rsplit("__", 1)[1]), table,
                                    classification=ds.classification, rows=extra["rows_loaded"])
            extra["reader_options"] = {**provenance["reader_options"],
                                       "lake": {"uri": m["uri"], "sha256": m["sha256"], "rows": m["rows"]}}
        return extra

    try:
        version = wh.commit_version(ds.id, staging, provenance, rejects="__rejects" if rejected else None,
                                    after=after, measure=measured)
    except duckdb.Error as exc:
        if fast:  # a value failed its conversion or rule (error() in the pass), or the CSV needs the reader
            raise fastpath.Miss(_first_line(exc)) from None
        raise
    for write in after_commit:
        write()
    seconds = (datetime.now(timezone.utc) - started).total_seconds()
    return LoadResult(ds.id, version, provenance["rows_read"], provenance["rows_loaded"], rejected,
                      provenance["area_stats"], warnings, seconds)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.replace(f"{fastpath.MARK}: ", "ongeldige waarde in kolom ")[:300]


def _drop_temp(con: duckdb.DuckDBPyConnection, names) -> None:
    """Drop temp views and tables of a load, dependants first."""
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                             "WHERE table_catalog = 'temp'").fetchall())
    for name in [*names, *sorted(n for n in kinds if n.startswith("__stage_"))]:
        if name in kinds:               # also releases a reader's registered Arrow table (ReadResult.arrow)
            clear_stage(con, name, kinds[name])


def _union_stages(con: duckdb.DuckDBPyConnection, reads: list) -> None:
    """``__stage``: all files of the load as one view (no copy; the readers' tables stay until the end)."""
    parts = [f"SELECT *, {V.lit(f.path.name)} AS __file FROM {r.table}" for f, _, r in reads]
    con.execute("CREATE OR REPLACE TEMP VIEW __stage AS " + " UNION ALL BY NAME ".join(parts))


def _convert_and_check(con, ds: Dataset, mapping: dict[str, str], typed: bool, options: dict[str, Any],
                       decimal: str) -> tuple[V.ValidationReport, int]:
    selects, errors, markers = [], [], []
    null_markers = [m for m in options.get("null_markers", (".",)) if m != ""]
    for i, f in enumerate(ds.fields):
        col = mapping.get(f.name, GEOM_COLUMN if f.role == "geometry" else f.name)
        value, raw = V.convert_expr(f, col, typed_source=typed, options=options, decimal=decimal)
        selects.append(f"{value} AS {V.q(f.name)}")
        errors.append(f"{V.error_expr(f, V.q(f.name), '__raw' + str(i))} AS __e{i}")
        selects.append(f"{raw} AS __raw{i}")
        if null_markers and f.type != "geometry" and not typed:
            # a marker is a filled cell whose text the conversion turned into NULL (not just blanks);
            # counted in the same scan as the errors
            selects.append(f"({V.q(col)} IS NOT NULL AND {raw} IS NULL AND trim({V.q(col)}) <> '') AS __m{i}")
            markers.append((i, f.name))
    has_geom = any(f.role == "geometry" for f in ds.fields)
    extra = f", {GEOM_COLUMN}" if has_geom else ""
    # a view: conversion runs inside the scans that need it, so a clean load never copies the rows
    # here; uniqueness checks update error flags and need a table
    kind = "TABLE" if any(f.unique for f in ds.fields) else "VIEW"
    con.execute(f"""CREATE OR REPLACE TEMP {kind} __typed AS
        SELECT *, {' + '.join(f'(__e{i} IS NOT NULL)::INT' for i in range(len(ds.fields)))} AS __bad FROM (
          SELECT *, {', '.join(errors)} FROM (
            SELECT {ROW_COLUMN}, __file{extra}, {', '.join(selects)} FROM __stage))""")
    for i, f in enumerate(ds.fields):
        if f.unique:
            con.execute(f"""UPDATE __typed SET __e{i} = 'waarde komt vaker voor (moet uniek zijn)', __bad = __bad + 1
                WHERE __e{i} IS NULL AND {V.q(f.name)} IN (
                  SELECT {V.q(f.name)} FROM __typed WHERE {V.q(f.name)} IS NOT NULL GROUP BY ALL HAVING count(*) > 1)""")
    counts = ", ".join([f"count(__e{i}) AS c{i}" for i in range(len(ds.fields))]
                       + [f"count_if(__m{i}) AS m{i}" for i, _ in markers])
    row = con.execute(f"SELECT count(*), count_if(__bad > 0), {counts} FROM __typed").fetchone()
    rows_read, bad = row[0], row[1]
    mrow = row[2 + len(ds.fields):]
    marker_counts = {name: int(v) for (_, name), v in zip(markers, mrow) if v}
    report = V.ValidationReport(ds.id, rows_read, bad, null_markers=marker_counts)
    if bad:
        for i, f in enumerate(ds.fields):
            if row[2 + i]:
                report.issues_by_column[mapping.get(f.name, f.name)] = int(row[2 + i])
        report.examples = _examples(con, ds, mapping, V.MAX_REPORTED)
    return report, rows_read


def _issue_union(ds: Dataset, mapping: dict[str, str]) -> str:
    return " UNION ALL ".join(
        f"SELECT __file AS file, {ROW_COLUMN} AS row, {V.lit(mapping.get(f.name, f.name))} AS col, "
        f"CAST(__raw{i} AS VARCHAR) AS value, __e{i} AS reason FROM __typed WHERE __e{i} IS NOT NULL"
        for i, f in enumerate(ds.fields))


def _examples(con, ds: Dataset, mapping: dict[str, str], limit: int) -> list[V.Issue]:
    rows = con.execute(f"SELECT * FROM ({_issue_union(ds, mapping)}) ORDER BY row, col LIMIT {limit}").fetchall()
    sheet = ds.source.options.get("sheet")
    return [V.Issue(row=r[1], column=r[2], value=r[3], reason=r[4], file=r[0],
                    sheet=str(sheet) if sheet is not None else None) for r in rows]


def _collect_rejects(con, ds: Dataset, mapping: dict[str, str]) -> None:
    sheet = ds.source.options.get("sheet")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __rejects AS SELECT file, {V.lit(sheet)}::VARCHAR AS sheet,
        row AS "row", col AS "column", value, reason FROM ({_issue_union(ds, mapping)})""")


def rebuild_areas(wh: Warehouse, area_datasets: list[Dataset], *, extra: tuple | None = None) -> None:
    """Rebuild the ``stadslab.areas`` view from the current versions of all area datasets;
    ``extra`` = (dataset, table, version) is a version being committed in the open transaction."""
    from stadslab.geography.registry import rebuild_areas_view

    parts = []
    for d in sorted({d.id: d for d in [*area_datasets, *([extra[0]] if extra else [])]}.values(), key=lambda d: d.id):
        if extra and d.id == extra[0].id:
            parts.append((d.areas, extra[1], d.id, extra[2]))
        elif (version := wh.current_version(d.id)) is not None:
            parts.append((d.areas, wh.table_name(d.id, version), d.id, version))
    rebuild_areas_view(wh.con, parts)
