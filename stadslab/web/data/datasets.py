"""One dataset for its page and API: description, fields the user may see, versions, and counts per area
through the publication gate (``release_aggregate``) — the only path for figures from non-open data."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Request

from stadslab.catalog.model import Dataset
from stadslab.errors import AnalysisError
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import Release, release_aggregate, suppression_store_path
from stadslab.web.data.catalog_view import dataset_summary
from stadslab.web.data.provenance import bron
from stadslab.web.security import current_user, permission, require_read
from stadslab.web.state import AppState

_GATE_LOCK = threading.Lock()
AREA_COLUMNS = ("gemeente_code", "wijk_code", "buurt_code", "grid_125m")


def describe(request: Request, ds: Dataset) -> dict[str, Any]:
    """What the page and ``/api/datasets/{id}`` show; raises AccessDenied without the right role/purpose."""
    state: AppState = request.app.state.stadslab
    perm, purpose = require_read(request, ds)
    visible = set(perm.fields) if perm.fields is not None else None
    fields = [{"naam": f.name, "type": f.type, "eenheid": f.unit, "omschrijving": f.description, "rol": f.role,
               "codes": list(f.codes) if f.codes else None}
              for f in ds.fields if visible is None or f.name in visible]
    wh = state.warehouse()
    versions = [{"versie": v["version"], "geladen_op": v["finished_at"], "rijen": v["rows_loaded"],
                 "afgekeurd": v["rows_rejected"], "huidig": bool(v["is_current"]), "door": v["loaded_by"]}
                for v in wh.versions(ds.id)]
    current = wh.current_version(ds.id)
    return {**dataset_summary(state, ds), "velden": fields, "versies": versions, "doel": purpose,
            "toegang": {"reden": perm.reason, "poort": perm.gated, "gelogd": perm.audited},
            "juridische_grondslag": ds.legal_basis, "frequentie": ds.update_frequency,
            "fasen": ds.phases, "periode": ds.temporal_coverage, "contact": ds.contact,
            "bron": bron(state, [(ds.id, current)], method="beschrijving uit de catalogus; versies uit het warehouse")
            if current else None}


def groupable(state: AppState, ds: Dataset) -> list[str]:
    """Columns one may count by: area codes present in the table and fields with a code list."""
    wh = state.warehouse()
    if wh.current_version(ds.id) is None:
        return []
    cols = set(wh.table(ds.id).columns)
    coded = [f.name for f in ds.fields if (f.codes or f.role == "area_code") and f.name in cols
             and f.role != "pseudonym"]
    return [c for c in AREA_COLUMNS if c in cols] + coded


def aggregate(request: Request, ds: Dataset, by: list[str], filters: dict[str, list[str]] | None = None,
              route: str = "web") -> tuple[Release, dict[str, Any]]:
    """Counts per ``by`` through ``release_aggregate`` (access check, gate for personal data, audit)."""
    state: AppState = request.app.state.stadslab
    perm, purpose = permission(request, ds)

    def release(by_: list[str], filters_: dict[str, list[str]] | None) -> Release:
        if not ds.is_personal:
            return release_aggregate(state.warehouse(), ds, user=current_user(request), purpose=purpose, by=by_,
                                     filters=filters_, audit=state.audit, store=None, route=route)
        # the stored suppression pattern is read, extended and saved: one release at a time per process
        with _GATE_LOCK:
            store = SuppressionStore(suppression_store_path(state.workspace.root))
            return release_aggregate(state.warehouse(), ds, user=current_user(request), purpose=purpose, by=by_,
                                     filters=filters_, audit=state.audit, store=store, route=route)
    if not perm.allowed:
        release(by, None)        # refuses — and writes the refusal of personal data to the audit log
        perm.require(ds)
    allowed = groupable(state, ds)
    for c in [*by, *(filters or {})]:
        if c not in allowed:
            raise AnalysisError(f"kan niet tellen per '{c}' in '{ds.id}'", hint="kies uit: " + ", ".join(allowed))
    rel = release(by, filters)
    method = (f"aantal {rel.provenance.get('measure', 'rijen')} per {', '.join(by)}"
              + (f"; publicatiepoort: minimaal {rel.provenance.get('min_cell')} per cel, "
                 f"{rel.provenance.get('suppressed', 0)} cel(len) onderdrukt" if rel.gated else ""))
    block = bron(state, [(ds.id, rel.version)], method=method, filters={"per": by, **(filters or {}), "doel": purpose})
    return rel, block
