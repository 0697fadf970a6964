"""Release of aggregates: the one function every output (CLI, web page, API, export, portal) calls.

``release_aggregate`` does, in this order and never otherwise:

1. access — may this user read this dataset for this purpose (doelbinding)? refusals are audited too;
2. aggregation in the warehouse (Ibis): persons are counted as distinct pseudonyms, so one person
   with three meldingen counts once;
3. for ``persoonsgegevens``: the publication gate (threshold ≥ 15, secondary suppression, stored
   suppression pattern). Filters are not applied before the gate — the table is protected over the
   filter columns as extra dimensions and then sliced, so that "all" and "all but one category"
   come from the same protected table and cannot be differenced (docs/adr/0001-publication-gate.md);
4. an audit entry for every read of personal data.

Open and intern datasets are aggregated the same way but not gated (nothing to protect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.errors import AnalysisError
from stadslab.privacy.access import User, check
from stadslab.privacy.audit import AuditEntry, AuditLog
from stadslab.privacy.gate import DEFAULT_MIN_CELL, SuppressionStore, protect
from stadslab.warehouse.store import Warehouse

TOTAL = "Totaal"
UNKNOWN = "onbekend"


@dataclass
class Release:
    """A released table: rows with the published count (NULL when suppressed) and ``suppressed``."""

    frame: pd.DataFrame
    dataset: str
    version: int
    gated: bool
    provenance: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        df = self.frame.astype(object).where(self.frame.notna(), None)
        return df.to_dict(orient="records")


def _require_linkable(wh: Warehouse, other: Dataset, *, user: User, purpose: str | None, audit: AuditLog,
                      route: str) -> None:
    perm = check(other, user, purpose)
    if other.classification in ("vertrouwelijk", "persoonsgegevens"):
        audit.append(AuditEntry(user.id, ",".join(user.roles), purpose, other.id, wh.current_version(other.id),
                                route + ":koppeling", {}, None, allowed=perm.allowed, reason=perm.reason))
    perm.require(other)
    if other.field_with_role("pseudonym") is None:
        raise AnalysisError(f"'{other.id}' heeft geen pseudoniemkolom (role: pseudonym) en is niet te koppelen")


def suppression_store_path(workspace_root: str | Path) -> Path:
    """Where the stored suppression patterns live (outside the warehouse: they outlive versions)."""
    return Path(workspace_root) / "gate" / "suppression.json"


def release_aggregate(wh: Warehouse, dataset: Dataset, *, user: User, purpose: str | None, by: list[str],
                      filters: dict[str, list[Any]] | None = None, hierarchy: dict[str, str] | None = None,
                      audit: AuditLog, store: SuppressionStore | None = None, route: str = "cli:aggregate",
                      version: int | None = None, link: list[Dataset] | None = None,
                      link_on: dict[str, str] | None = None) -> Release:
    """Count persons (or rows, for non-personal data) per ``by`` group, gated where the catalog says so.

    ``link``: other datasets whose persons are looked up by pseudonym (the Dynamisch Data Dashboard's
    linking): each adds a dimension ``in_<dataset>`` = ja/nee that ``by`` and ``filters`` may use;
    ``link_on`` = {dataset: own pseudonym column} links on e.g. the parent instead of the person.
    Each linked dataset needs its own access; all readings are audited."""
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for other in link or []:
        _require_linkable(wh, other, user=user, purpose=purpose, audit=audit, route=route)
    perm = check(dataset, user, purpose)
    role = ",".join(user.roles)
    version = version or wh.current_version(dataset.id)
    if not perm.allowed:
        if dataset.classification in ("vertrouwelijk", "persoonsgegevens"):
            audit.append(AuditEntry(user.id, role, purpose, dataset.id, version, route,
                                    {"by": by, "filters": filters}, None, allowed=False, reason=perm.reason))
        perm.require(dataset)
    columns = [*by, *[c for c in filters if c not in by]]
    link_cols = {f"in_{o.id}": o for o in link or []}
    known = {f.name for f in dataset.fields} | {"buurt_code", "wijk_code", "gemeente_code", "grid_125m"} | set(link_cols)
    allowed_fields = set(perm.fields) if perm.fields is not None else known
    for c in columns:
        if c not in known:
            raise AnalysisError(f"'{c}' is geen veld van dataset '{dataset.id}'",
                                hint="velden: " + ", ".join(sorted(known)))
        if c not in allowed_fields and c not in link_cols:
            raise AnalysisError(f"veld '{c}' van '{dataset.id}' is voor uw rol niet beschikbaar")
    if version is None:
        raise AnalysisError(f"dataset '{dataset.id}' is nog niet geladen")
    if hierarchy:
        columns += [p for p in hierarchy.values() if p not in columns]

    t = wh.table(dataset.id, version)
    person = dataset.field_with_role("pseudonym")
    if perm.gated and person is None:
        raise AnalysisError(f"dataset '{dataset.id}' bevat persoonsgegevens maar de catalogus noemt geen "
                            "pseudoniemkolom (role: pseudonym): personen zijn niet te tellen")
    for col, other in link_cols.items():
        if person is None:
            raise AnalysisError(f"koppelen vraagt een pseudoniemkolom in '{dataset.id}' (role: pseudonym)")
        mine = (link_on or {}).get(other.id, person.name)
        if mine not in {f.name for f in dataset.fields if f.role == "pseudonym"}:
            raise AnalysisError(f"'{mine}' is geen pseudoniemkolom van '{dataset.id}'")
        ot = wh.table(other.id)
        # a person may appear in any pseudonym column of the other source (applicant or partner)
        theirs = ibis.union(*[ot.select(p=ot[f.name]) for f in other.fields if f.role == "pseudonym"])
        t = t.mutate(**{col: ibis.ifelse(t[mine].isin(theirs.p), "ja", "nee")})
    metric = t[person.name].nunique() if person is not None else t.count()
    counts = t.group_by(columns).aggregate(n=metric).to_pandas() if columns else t.aggregate(n=metric).to_pandas()
    # records without a code (e.g. an address outside the register) are a category of their own, shown by name
    for c in columns:
        if counts[c].isna().any():
            counts[c] = counts[c].astype(object).where(counts[c].notna(), UNKNOWN)

    provenance = {"dataset": dataset.id, "version": version, "by": by, "filters": filters,
                  "linked": {o.id: wh.current_version(o.id) for o in link or []},
                  "measure": f"unieke {person.name}" if person is not None else "rijen",
                  "classification": dataset.classification}
    if person is not None and columns:
        # Margins are sums of cells (the gate needs additive tables). Where a person falls in more than
        # one cell (two regelingen, two wijken over time) a total counts person-cells: say so.
        persons = int(t.aggregate(p=t[person.name].nunique()).to_pandas().p.iloc[0])
        # only a yes/no leaves: the exact number of persons is not a gated figure
        provenance["overlap"] = int(counts["n"].sum()) > persons
        if provenance["overlap"]:
            provenance["note"] = ("sommige personen vallen in meer dan één cel (bijv. twee regelingen); een cel telt "
                                  "unieke personen, een totaal telt zulke personen vaker mee")
    if perm.gated:
        min_cell = max(DEFAULT_MIN_CELL, int((dataset.privacy or {}).get("min_cell", DEFAULT_MIN_CELL)))
        dims = [c for c in columns if not (hierarchy and c in hierarchy.values())]
        hier = {k: v for k, v in (hierarchy or {}).items() if k in dims}
        pt = protect(counts, count="n", dims=dims, hierarchy=hier or None, min_cell=min_cell, store=store,
                     structure_id=f"{dataset.id}/{'+'.join(sorted(dims))}")
        if store is not None:
            store.save()
        # one whole category per filter (the gate refuses lists: they allow differencing)
        chosen = {k: v[0] if len(v) == 1 else v for k, v in filters.items()}
        frame = pt.select(public=True, **chosen) if chosen else pt.to_pandas(public=True)
        frame = frame[[c for c in frame.columns if c not in filters or c in by]]
        provenance.update(min_cell=min_cell, gate=pt.provenance.get("algorithm"),
                          suppressed=int((frame["suppressed"] != "").sum()))
    else:
        frame = counts
        for c, values in filters.items():
            frame = frame[frame[c].isin(values)]
        frame = frame.groupby(by, dropna=False, as_index=False)["n"].sum() if by else frame[["n"]]
        frame["suppressed"] = ""
    if perm.audited:
        audit.append(AuditEntry(user.id, role, purpose, dataset.id, version, route,
                                {"by": by, "filters": filters}, len(frame), allowed=True, reason=perm.reason))
    return Release(frame.reset_index(drop=True), dataset.id, version, perm.gated, provenance)
