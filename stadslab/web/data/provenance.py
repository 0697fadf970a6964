"""'Bron bij elk getal': the provenance block that travels with every figure, map, table and chart.

A block names the datasets (id, title, owner, licence, version, load time, source files with sha256,
rows), the filters, the method, and when the figure was computed — all from the warehouse's
``stadslab.versions`` records, so a number on screen can be traced back to the file it came from.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from stadslab.web.state import AppState


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="seconds")
    return str(value)


def dataset_source(state: AppState, dataset_id: str, version: int | None = None) -> dict[str, Any]:
    """One dataset's entry in a provenance block (cached: a version never changes)."""
    wh = state.warehouse()
    if version is None:
        version = wh.current_version(dataset_id)
    key = ("bron", state.generation, dataset_id, version)

    def compute() -> dict[str, Any]:
        ds = state.catalog.get(dataset_id)
        entry: dict[str, Any] = {"dataset": dataset_id, "titel": ds.title, "eigenaar": ds.owner,
                                 "classificatie": ds.classification, "licentie": ds.licence,
                                 "naamsvermelding": ds.attribution, "versie": version}
        if version is None:
            entry["let_op"] = "nog niet geladen"
            return entry
        p = wh.provenance(dataset_id, version)
        entry.update({
            "geladen_op": _iso(p.get("finished_at")), "geladen_door": p.get("loaded_by"),
            "rijen": p.get("rows_loaded"), "afgekeurd": p.get("rows_rejected"),
            "bestanden": [{"pad": f.get("path"), "sha256": f.get("sha256"), "bytes": f.get("size")}
                          for f in (p.get("source_files") or [])],
            "catalogus_sha256": p.get("catalog_sha256"),
        })
        return entry

    return state.cache.get_or_compute(key, compute)


def bron(state: AppState, datasets: list[tuple[str, int | None]], *, method: str,
         filters: dict[str, Any] | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    """The provenance block for one figure."""
    seen: set[str] = set()
    unique = []
    for d, v in datasets:
        if d not in seen:
            seen.add(d)
            unique.append((d, v))
    sources = [dataset_source(state, d, v) for d, v in unique]
    loaded = [s["geladen_op"] for s in sources if s.get("geladen_op")]
    return {
        "datasets": sources,
        "filters": {k: v for k, v in (filters or {}).items() if v not in (None, "", [], ())},
        "methode": method,
        "berekend_op": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "ververst_op": max(loaded) if loaded else None,
        "opmerkingen": notes or [],
    }


def bron_header(block: dict[str, Any]) -> str:
    """A compact ASCII form of a provenance block for the ``X-Stadslab-Bron`` header of CSV downloads."""
    import json

    short = {"datasets": [f"{s['dataset']}@v{s.get('versie')}" for s in block["datasets"]],
             "filters": block["filters"], "methode": block["methode"], "ververst_op": block["ververst_op"]}
    return json.dumps(short, ensure_ascii=True, default=str, separators=(",", ":"))
