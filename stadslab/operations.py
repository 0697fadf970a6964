"""What a data lab does with a workspace, as functions the CLI and the web app share:
ingest one dataset, refresh what changed, roll back, and report status."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stadslab.catalog import Catalog, Dataset
from stadslab.errors import StadslabError
from stadslab.ingest.pipeline import LoadResult, ingest, rebuild_areas, source_files
from stadslab.warehouse.store import Warehouse
from stadslab.workspace import Workspace


def load_order(datasets: list[Dataset]) -> list[Dataset]:
    """Area divisions first (point datasets are assigned against them), then the rest, by id."""
    return sorted(datasets, key=lambda d: (d.areas is None, d.id))


def ingest_dataset(ws: Workspace, wh: Warehouse, catalog: Catalog, dataset_id: str, *,
                   file: Path | None = None, trigger: str = "ingest",
                   progress: Callable[[str], None] | None = None) -> LoadResult:
    if catalog.get(dataset_id).stream is not None:
        from stadslab.errors import IngestError

        raise IngestError(f"'{dataset_id}' is een realtime stream: er is geen bestand om te laden",
                          hint=f"metingen komen binnen via POST /api/stream/{dataset_id} of "
                               f"'stadslab stream listen {dataset_id} --broker mqtt://…' (docs/streaming.md)")
    return ingest(wh, catalog.get(dataset_id), ws.data_dir, file=file, area_datasets=catalog.area_datasets(),
                  trigger=trigger, progress=progress)


@dataclass
class RefreshDecision:
    dataset: str
    reason: str | None          # None: unchanged, nothing to do


def changed_datasets(ws: Workspace, wh: Warehouse, catalog: Catalog, only: list[str] | None = None) -> list[RefreshDecision]:
    """Which datasets need a reload and why: never loaded, source content changed (sha256; size and
    mtime are only a shortcut to skip hashing unchanged files), catalog entry changed, or the area
    division they are assigned against was reloaded."""
    decisions: list[RefreshDecision] = []
    reloaded_years: set[int] = set()
    for ds in load_order([catalog.get(i) for i in only] if only else list(catalog)):
        if ds.stream is not None:  # readings arrive by HTTP/MQTT (stadslab/ingest/stream.py), no file to reload
            continue
        reason = _reason(ws, wh, ds)
        if reason is None and ds.is_point and ds.geography.division_year in reloaded_years:
            reason = f"gebiedsindeling {ds.geography.division_year} is opnieuw geladen"
        if reason and ds.areas:
            reloaded_years.add(ds.areas.year)
        decisions.append(RefreshDecision(ds.id, reason))
    return decisions


def _reason(ws: Workspace, wh: Warehouse, ds: Dataset) -> str | None:
    if wh.current_version(ds.id) is None:
        return "nog niet geladen"
    prov = wh.provenance(ds.id, max(v["version"] for v in wh.versions(ds.id)))
    try:
        files = source_files(ds, ws.data_dir)
    except StadslabError as exc:
        return f"bron niet te vinden: {exc.message}"
    before = {f["path"]: f for f in prov["source_files"]}
    now = {f.shown_path(ws.data_dir): f for f in files}
    if set(before) != set(now):
        return "andere bronbestanden"
    for path, f in now.items():
        old = before[path]
        if old["size"] != f.size:
            return f"{path} is gewijzigd"
        if old["mtime"] != f.mtime_iso and old["sha256"] != f.sha256:
            return f"{path} is gewijzigd"
    if prov["catalog_sha256"] != ds.sha256:
        return "catalogusbeschrijving gewijzigd"
    return None


def refresh_changed(ws: Workspace, wh: Warehouse, catalog: Catalog, only: list[str] | None = None, *,
                    dry_run: bool = False, progress_for: Callable[[str], Any] | None = None,
                    on_result: Callable[[dict[str, Any], LoadResult | None], None] | None = None) -> list[dict[str, Any]]:
    """Reload exactly the datasets whose source (or catalog entry) changed; one failing source does
    not stop the others. Returns one record per reloaded dataset (status geladen / mislukt).
    ``progress_for(dataset)`` gives a context manager yielding a progress callback (the CLI's bar)."""
    done = []
    for d in changed_datasets(ws, wh, catalog, only):
        if d.reason is None:
            continue
        rec: dict[str, Any] = {"dataset": d.dataset, "reason": d.reason}
        res = None
        if not dry_run:
            with (progress_for(d.dataset) if progress_for else nullcontext(None)) as say:
                try:
                    res = ingest_dataset(ws, wh, catalog, d.dataset, trigger="refresh", progress=say)
                    rec.update(status="geladen", version=res.version, rows=res.rows_loaded, rejected=res.rows_rejected)
                except StadslabError as exc:
                    rec.update(status="mislukt", error=str(exc))
        if on_result is not None:
            on_result(rec, res)
        done.append(rec)
    return done


def rollback(ws: Workspace, wh: Warehouse, catalog: Catalog, dataset_id: str, version: int) -> None:
    ds = catalog.get(dataset_id)
    after = None
    if ds.areas:
        def after(_con, _table, _version):
            rebuild_areas(wh, catalog.area_datasets())
    wh.rollback(dataset_id, version, after=after)


def status(ws: Workspace, wh: Warehouse, catalog: Catalog) -> list[dict[str, Any]]:
    """Per catalog dataset: current version, rows, rejected rows, freshness, and for point
    datasets and buurt-coded records the share of rows with a known buurt."""
    out = []
    for ds in load_order(list(catalog)):
        version = wh.current_version(ds.id)
        rec: dict[str, Any] = {"id": ds.id, "title": ds.title, "classification": ds.classification,
                               "version": version, "rows": None, "rejected_rows": None, "loaded_at": None}
        if version is not None:
            p = wh.provenance(ds.id, version)
            rec.update(rows=p["rows_loaded"], rejected_rows=p["rows_rejected"],
                       loaded_at=p["finished_at"].isoformat() if p["finished_at"] else None)
            if (p["area_stats"] or {}).get("rows") is not None:
                rec["area_assigned_share"] = (p["area_stats"] or {}).get("assigned_share")
                rec["points_outside_areas"] = (p["area_stats"] or {}).get("outside")
        if ds.stream is not None:       # appended readings, no versions: count them and the last receipt
            from stadslab.ingest.stream import has_readings_table

            if has_readings_table(wh, ds.id):
                n, at = wh.con.execute("SELECT sum(n_new), max(received_at) FROM stream.batches WHERE dataset = ?",
                                       [ds.id]).fetchone()
                rec.update(rows=int(n or 0), loaded_at=at.isoformat() if at else None, stream=True)
        last = wh.loads(ds.id, limit=1)
        rec["last_load"] = last[0]["status"] if last else None
        out.append(rec)
    return out


def watch(poll_seconds: float, step: Callable[[], Any], *, iterations: int | None = None) -> None:
    """Call ``step`` every ``poll_seconds`` (``iterations`` bounds it, for tests)."""
    n = 0
    while iterations is None or n < iterations:
        step()
        n += 1
        if iterations is None or n < iterations:
            time.sleep(poll_seconds)
