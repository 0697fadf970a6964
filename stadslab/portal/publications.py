"""Publications: aggregates of non-open datasets that the open data portal may publish.

Datasets classified ``open`` are published as they are. From ``intern``, ``vertrouwelijk`` and
``persoonsgegevens`` datasets only the aggregates declared under ``publications:`` in the catalog entry
are published — computed through :func:`stadslab.privacy.release.release_aggregate` (access check,
publication gate, audit) by the system user ``publicatie`` with the dataset's roles and the purpose
``publicatie``. The dataset's purposes must include ``publicatie`` (doelbinding); if not, the
publication is refused.

Item format (structure in the ``publications`` block of ``stadslab/catalog/metaschema.yaml``; meaning
checked by :func:`publication_problems`; user documentation in docs/portal.md)::

    publications:
      - id: uitkeringen_per_wijk        # required; ^[a-z][a-z0-9_]{1,62}$; unique in the whole catalog
                                         # and not a dataset id (it is the package name on the portal)
        title: Personen met een uitkering per wijk en regeling     # required
        description: Aantal unieke personen met een uitkering ...  # required
        by: [wijk_code, regeling]        # required, 1..4 columns: fields of the dataset, the area codes
                                         # an area-coded dataset gets at ingest (buurt_code, wijk_code,
                                         # gemeente_code, grid_125m) or `periode`
        filters: {regeling: IOAW}        # optional: column -> ONE value (a whole category)
        hierarchy: {postcode_buurtcode: wijk_code}   # optional: child -> parent; child in `by`
        period: {field: ingangsdatum, grain: jaar}   # optional: dimension `periode` from a date field;
                                         # grain jaar ('2023') | kwartaal ('2023-K1') | maand ('2023-01');
                                         # `periode` is added to `by` when not listed
        keywords: [uitkering]            # optional; default: the dataset's keywords
        theme: sociaal domein            # optional; default: the dataset's theme
        licence: CC0 1.0                 # optional; default: CC0 1.0

A computed publication is one row per cell and margin (``Totaal``) with the count ``n`` (distinct
pseudonyms where the dataset has one, else rows) and ``suppressed`` (``onderdrukt`` or empty). Each
version is stored with ``Warehouse.save_result("publicatie__<id>", ...)``; its params carry the
declaration, its sha256, the input dataset version and the gate's provenance. A new version is made
when the input dataset version or the declaration changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from stadslab.catalog.loader import Catalog
from stadslab.catalog.model import Dataset, Field
from stadslab.errors import AccessDenied, AnalysisError
from stadslab.privacy.access import User
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import Release, release_aggregate
from stadslab.warehouse.store import Warehouse

PUBLISHER = "publicatie"            # the system user and the purpose
PERIOD = "periode"
AREA_CODES = ("buurt_code", "wijk_code", "gemeente_code", "grid_125m")
DEFAULT_LICENCE = "CC0 1.0"
RESULT_PREFIX = "publicatie__"
GRAINS = {"jaar": "%Y", "maand": "%Y-%m", "kwartaal": None}
NEVER_PUBLISH_ROLES = ("pseudonym", "identifier", "name", "address", "postcode", "birth_date")


@dataclass(frozen=True)
class Publication:
    """One declared publication of a dataset (see the module docstring for the format)."""

    id: str
    dataset: str
    title: str
    description: str
    by: tuple[str, ...]
    filters: dict[str, Any]
    hierarchy: dict[str, str]
    period: dict[str, str] | None
    keywords: tuple[str, ...]
    theme: str | None
    licence: str
    spec: dict[str, Any]
    sha256: str

    @classmethod
    def from_dict(cls, raw: dict[str, Any], dataset: Dataset) -> "Publication":
        by = list(raw["by"])
        if raw.get("period") and PERIOD not in by:
            by.append(PERIOD)
        spec = json.loads(json.dumps(raw, sort_keys=True, default=str))
        return cls(
            id=raw["id"], dataset=dataset.id, title=raw["title"], description=raw["description"], by=tuple(by),
            filters=dict(raw.get("filters") or {}), hierarchy=dict(raw.get("hierarchy") or {}),
            period=dict(raw["period"]) if raw.get("period") else None,
            keywords=tuple(raw.get("keywords") or dataset.keywords), theme=raw.get("theme") or dataset.theme,
            licence=raw.get("licence") or DEFAULT_LICENCE, spec=spec,
            sha256=hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest())

    @property
    def result_name(self) -> str:
        return RESULT_PREFIX + self.id


def declared(catalog: Catalog) -> list[Publication]:
    """Every publication declared in the catalog, in catalog order."""
    return [Publication.from_dict(raw, ds) for ds in catalog for raw in ds.publications]


def publisher_for(dataset: Dataset) -> User:
    """The system user that computes publications: the dataset's roles, purpose ``publicatie`` only."""
    return User(PUBLISHER, "Publicatie open-dataportaal", roles=tuple(dataset.access.roles), purposes=(PUBLISHER,))


def _dataset_purposes(ds: Dataset) -> set[str]:
    return set(ds.access.purposes or ds.purposes)


def publication_problems(catalog: Catalog) -> list[tuple[str, str, str]]:
    """Semantic problems of all ``publications:`` declarations: (file, key path, message in Dutch)."""
    problems: list[tuple[str, str, str]] = []
    dataset_ids = {d.id for d in catalog}
    seen: dict[str, str] = {}
    for ds in catalog:
        file = ds.file.name if ds.file else ds.id
        fields = {f.name: f for f in ds.fields}
        known = set(fields) | (set(AREA_CODES) if ds.geography.level != "none" else set())
        for i, raw in enumerate(ds.publications):
            at = f"publications[{i}]"

            def bad(key: str, msg: str) -> None:
                problems.append((file, f"{at}.{key}" if key else at, msg))

            pid = raw.get("id", "")
            if pid in dataset_ids:
                bad("id", f"'{pid}' is ook een dataset-id; kies een eigen naam voor de publicatie")
            if pid in seen:
                bad("id", f"publicatie '{pid}' staat ook in {seen[pid]}")
            seen[pid] = file
            if ds.classification != "open" and PUBLISHER not in _dataset_purposes(ds):
                bad("", f"doelbinding: '{ds.id}' heeft niet het doel '{PUBLISHER}'; voeg het toe aan "
                        "access.purposes (of purposes) als publicatie van aggregaten een doel van deze dataset is")
            period = raw.get("period")
            cols = known | ({PERIOD} if period else set())
            for col in list(raw.get("by") or []) + list((raw.get("filters") or {})):
                if col == PERIOD and not period:
                    bad("by", "'periode' vraagt een period: {field, grain}")
                elif col not in cols:
                    bad("by", f"'{col}' is geen veld van '{ds.id}' (velden: {', '.join(sorted(known))})")
                elif col in fields and fields[col].role in NEVER_PUBLISH_ROLES and ds.classification != "open":
                    bad("by", f"'{col}' heeft rol '{fields[col].role}' en wordt nooit gepubliceerd")
            for child, parent in (raw.get("hierarchy") or {}).items():
                if child not in (raw.get("by") or []):
                    bad("hierarchy", f"'{child}' moet in by staan")
                if parent not in cols:
                    bad("hierarchy", f"'{parent}' is geen veld van '{ds.id}'")
            if period:
                f = fields.get(period.get("field", ""))
                if f is None or f.type not in ("date", "datetime"):
                    bad("period.field", f"'{period.get('field')}' is geen datum- of tijdveld van '{ds.id}'")
            if ds.is_personal and ds.field_with_role("pseudonym") is None:
                bad("", f"'{ds.id}' bevat persoonsgegevens zonder pseudoniemkolom: personen zijn niet te tellen")
    return problems


class _PeriodView:
    """The warehouse as release_aggregate sees it, with a derived ``periode`` column on one dataset.

    Only adds a column (no rows are filtered before the gate); everything else is the real warehouse."""

    def __init__(self, wh: Warehouse, dataset: str, field: str, grain: str) -> None:
        self._wh, self._dataset, self._field, self._grain = wh, dataset, field, grain

    def table(self, dataset: str, version: int | None = None):
        t = self._wh.table(dataset, version)
        if dataset != self._dataset:
            return t
        col = t[self._field]
        if self._grain == "kwartaal":
            expr = col.year().cast("string") + "-K" + col.quarter().cast("string")
        else:
            expr = col.strftime(GRAINS[self._grain])
        return t.mutate(**{PERIOD: expr})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wh, name)


def compute(wh: Warehouse, dataset: Dataset, pub: Publication, *, audit: AuditLog,
            store: SuppressionStore | None, version: int | None = None) -> Release:
    """Compute one publication through the release path (access + gate + audit). Raises AccessDenied
    (doelbinding, roles) or PrivacyError/AnalysisError (the gate or the declaration refuses)."""
    if dataset.classification != "open" and PUBLISHER not in _dataset_purposes(dataset):
        raise AccessDenied(f"publicatie '{pub.id}' geweigerd (doelbinding): dataset '{dataset.id}' heeft niet "
                           f"het doel '{PUBLISHER}'", hint="voeg 'publicatie' toe aan access.purposes van de "
                                                           "dataset als publiceren van aggregaten een doel is")
    source: Any = wh
    ds = dataset
    if pub.period:
        field = dataset.field(pub.period["field"])
        if field.type not in ("date", "datetime"):
            raise AnalysisError(f"publicatie '{pub.id}': '{field.name}' is geen datumveld")
        source = _PeriodView(wh, dataset.id, field.name, pub.period["grain"])
        extra = Field(name=PERIOD, type="string", source=PERIOD, description=f"{field.name} per {pub.period['grain']}")
        access = dataset.access
        if access.fields:  # a role limited to some fields may see the period only if it may see its source
            access = dataclasses.replace(access, fields={r: (*fs, PERIOD) if field.name in fs else fs
                                                         for r, fs in access.fields.items()})
        ds = dataclasses.replace(dataset, fields=(*dataset.fields, extra), access=access)
    filters = {k: [v] for k, v in pub.filters.items()}
    return release_aggregate(source, ds, user=publisher_for(dataset), purpose=PUBLISHER, by=list(pub.by),
                             filters=filters, hierarchy=pub.hierarchy or None, audit=audit, store=store,
                             route=f"portal:publicatie/{pub.id}", version=version)


def to_storable(frame: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    """Dimension columns as text (margins hold 'Totaal' next to numbers), ``n`` as nullable integer."""
    out = frame.copy()
    for c in out.columns:
        if c == "n":
            out[c] = out[c].astype("Int64")
        elif c != "suppressed":
            out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    out["suppressed"] = out["suppressed"].fillna("").astype(str)
    return out


def store_version(wh: Warehouse, pub: Publication, release: Release) -> int:
    """Save a computed publication as a new result version with its provenance."""
    frame = to_storable(release.frame, pub.by)
    params = {"publication": pub.spec, "spec_sha256": pub.sha256, "dataset": pub.dataset,
              "input_version": release.version, "gated": release.gated, "gate": release.provenance,
              "licence": pub.licence}
    method = ("release_aggregate: " + (f"publicatiepoort {release.provenance.get('gate')}, minimaal "
                                       f"{release.provenance.get('min_cell')}" if release.gated else "niet gepoort")
              + f"; telling: {release.provenance.get('measure')}")
    return wh.save_result(pub.result_name, frame, kind="publicatie", inputs=[(pub.dataset, release.version)],
                          params=params, method=method)


def stored_versions(wh: Warehouse, pub_id: str) -> list[dict[str, Any]]:
    """Stored versions of a publication, oldest first: version, table_name, params, rows, created_at."""
    return [{k: r[k] for k in ("version", "table_name", "params", "rows", "created_at", "method")}
            for r in wh.results(RESULT_PREFIX + pub_id, "publicatie")]


def is_current(stored: list[dict[str, Any]], pub: Publication, input_version: int | None) -> bool:
    if not stored or input_version is None:
        return False
    p = stored[-1]["params"]
    return p.get("input_version") == input_version and p.get("spec_sha256") == pub.sha256
