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

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.catalog.release_rules import PERIOD_COLUMN, Structure, derived_columns, release_spec
from stadslab.errors import AnalysisError, PrivacyError, StadslabError
from stadslab.privacy.access import User, check
from stadslab.privacy.audit import AuditEntry, AuditLog
from stadslab.privacy.gate import DEFAULT_MIN_CELL, SuppressionStore, TableStructure, protect, protect_linked
from stadslab.privacy.gate.recode import recode_small_categories
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
                      link_on: dict[str, str] | None = None, table: Any = None) -> Release:
    """Count persons (or rows, for non-personal data) per ``by`` group, gated where the catalog says so.

    ``link``: other datasets whose persons are looked up by pseudonym (the Dynamisch Data Dashboard's
    linking): each adds a dimension ``in_<dataset>`` = ja/nee that ``by`` and ``filters`` may use;
    ``link_on`` = {dataset: own pseudonym column} links on e.g. the parent instead of the person.
    Each linked dataset needs its own access; all readings are audited — refusals and reads that fail
    after access was granted (unknown field, undeclared table, gate refusal) too."""
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for other in link or []:
        _require_linkable(wh, other, user=user, purpose=purpose, audit=audit, route=route)
    perm = check(dataset, user, purpose)
    role = ",".join(user.roles)
    version = version or wh.current_version(dataset.id)
    restricted = dataset.classification in ("vertrouwelijk", "persoonsgegevens")
    if not perm.allowed:
        if restricted:
            audit.append(AuditEntry(user.id, role, purpose, dataset.id, version, route,
                                    {"by": by, "filters": filters}, None, allowed=False, reason=perm.reason))
        perm.require(dataset)
    try:
        if restricted and user.scope:   # a partner (school, buurtteam) gets the slice at its own school / wijk
            filters = _scoped_filters(dataset, user, list(by), filters)
        return _release(wh, dataset, perm, user=user, purpose=purpose, by=list(by), filters=filters,
                        hierarchy=hierarchy, audit=audit, store=store, route=route, version=version, link=link,
                        link_on=link_on, table=table)
    except StadslabError as exc:
        if restricted:   # a read that fails after access was granted is a read attempt all the same
            audit.append(AuditEntry(user.id, role, purpose, dataset.id, version, route,
                                    {"by": by, "filters": filters}, None, allowed=False,
                                    reason=f"geweigerd: {exc.message}"[:500]))
        raise


def _scoped_filters(dataset: Dataset, user: User, by: list[str], filters: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The request of a scoped user (``User.scope``, e.g. {school: S003}) as a slice at its own scope.

    The scope becomes a whole-category filter, so ``_release`` protects the *full* declared structure
    that holds the scope column and then slices it — the same protected table everybody's slices come
    from, never a table protected over the subset only (that would open differencing against the
    analyst's figures). Another school / wijk, or a dataset or table without the scope column, is refused."""
    known = {f.name for f in dataset.fields} | set(derived_columns(dataset))
    out = {k: list(v) for k, v in filters.items()}
    for key, own in user.scope.items():
        if key not in known:
            raise PrivacyError(f"uw rol ziet alleen cijfers van {key} {own}, en '{dataset.id}' heeft geen {key}",
                               hint="deze gegevens zijn voor uw rol niet beschikbaar")
        asked = [str(v) for v in out.get(key, [])]
        if any(v != own for v in asked):
            raise PrivacyError(f"u vraagt cijfers van {key} {', '.join(a for a in asked if a != own)}; uw rol ziet "
                               f"alleen {key} {own}", hint=f"vraag alleen naar {key} {own}")
        out[key] = [own]
    return out


def _release(wh: Warehouse, dataset: Dataset, perm, *, user: User, purpose: str | None, by: list[str],
             filters: dict[str, list[Any]], hierarchy: dict[str, str] | None, audit: AuditLog,
             store: SuppressionStore | None, route: str, version: int | None, link: list[Dataset] | None,
             link_on: dict[str, str] | None, table: Any = None) -> Release:
    role = ",".join(user.roles)
    if len(set(by)) != len(by):
        raise AnalysisError(f"'{', '.join(c for c in dict.fromkeys(by) if by.count(c) > 1)}' staat meer dan "
                            "eens in de groepering", hint="noem elke kolom één keer")
    if perm.gated:   # one whole category per filter: a list allows differencing (docs/adr/0001)
        for col, values in filters.items():
            if len(values) > 1:
                raise PrivacyError(f"filter op '{col}' met {values!r}: alleen één hele categorie is toegestaan",
                                   hint="een lijst maakt verschillen met andere tabellen mogelijk; kies één categorie")
    if version is None:
        raise AnalysisError(f"dataset '{dataset.id}' is nog niet geladen")
    columns = [*by, *[c for c in filters if c not in by]]
    link_cols = {f"in_{o.id}": o for o in link or []}
    # ``table``: a derived person-level Ibis table read instead of the stored version (the profiles of the
    # Dynamisch Data Dashboard over the linked frame, analyses/sociaal/profiles.py); same access, gate, audit
    t = table if table is not None else wh.table(dataset.id, version)
    spec = release_spec(dataset)
    if not spec.declared and PERIOD_COLUMN in t.columns:   # a publication's period column (portal) is a dimension
        spec = dataclasses.replace(spec, dimensions=(*spec.dimensions, PERIOD_COLUMN))
    structure = None
    present = set(t.columns) | set(link_cols)
    periods = {s.period["field"]: s for s in spec.structures or () if s.period}
    if PERIOD_COLUMN not in present and periods:
        present.add(PERIOD_COLUMN)
    fields = {f.name for f in dataset.fields}
    known = sorted((present & (fields | set(derived_columns(dataset)) | {PERIOD_COLUMN})) | set(link_cols))
    allowed_fields = set(perm.fields) if perm.fields is not None else set(known)
    dimensions = [d for d in (spec.dimensions if perm.gated else known) if d in present or d.startswith("in_")]
    for c in columns:
        if c not in present or c.startswith("__"):
            raise AnalysisError(f"'{c}' is geen veld van dataset '{dataset.id}'",
                                hint="velden om op te tellen: " + ", ".join(d for d in dimensions if d in allowed_fields
                                                                            or d in link_cols))
        if c not in allowed_fields and c not in link_cols:
            raise AnalysisError(f"veld '{c}' van '{dataset.id}' is voor uw rol niet beschikbaar")
        if perm.gated and c not in spec.dimensions and not (c in link_cols and not spec.declared):
            raise PrivacyError(f"'{c}' mag geen dimensie zijn van '{dataset.id}' (persoonsgegevens)",
                               hint="toegestane dimensies: " + ", ".join(dimensions))
    if perm.gated:
        structure = spec.match(dataset.id, columns, hierarchy)
        columns = list(structure.columns)
        if structure.period and PERIOD_COLUMN not in t.columns:
            t = _with_period(t, structure.period)
    elif hierarchy:
        columns += [p for p in hierarchy.values() if p not in columns]

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
    # before the gate: merge small categories where the catalog allows (τ-ARGUS global recoding)
    counts = recode_small_categories(t, counts, dataset, columns, person=person.name if person else None,
                                     gated=bool(perm.gated))

    provenance = {"dataset": dataset.id, "version": version, "by": by, "filters": filters, "hercodering": counts.attrs["hercodering"],
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
        if structure.margins == "persons_distinct" and provenance.get("overlap"):
            raise PrivacyError(f"tabel '{structure.id}' van '{dataset.id}' is vastgelegd met unieke personen in elke "
                               "marge, maar sommige personen vallen in meer dan één cel: de marges zouden iets anders "
                               "tellen dan de som van de cellen", hint="leg de tabel vast met margins: sum_of_cells "
                               "(als enige tabel van de dataset) of kies dimensies waarin elke persoon één categorie heeft")
        min_cell = max(DEFAULT_MIN_CELL, int((dataset.privacy or {}).get("min_cell", DEFAULT_MIN_CELL)))
        dims = list(structure.dims)
        hier = {k: v for k, v in structure.hierarchy.items() if k in dims}
        # privacy.absent: structural — every empty combination is treated as known to the attacker (e.g. the
        # atoms two nested profiles exclude) and never used as a complementary suppression
        absent = "structural" if (dataset.privacy or {}).get("absent") == "structural" else "zero"
        sub = structure.sub_table([*by, *filters])   # the request's own columns (``columns`` is the cover now)
        if sub:   # a cover with published sub-tables: all of them protected together (ADR 0001 §4.4)
            pts = protect_linked(counts, count="n", dims=dims, tables=[list(x) for x in structure.tables],
                                 hierarchy=hier or None, min_cell=min_cell, store=store, absent=absent,
                                 structure_id=_store_key(dataset, structure, person.name))
            pt = pts[structure.tables.index(sub)]
        else:
            pt = protect(counts, count="n", dims=dims, hierarchy=hier or None, min_cell=min_cell, store=store,
                         structure_id=_store_key(dataset, structure, person.name), absent=absent)
        if store is not None:
            store.save()
        # the request is a slice: one whole category per filter, the total of every other dimension
        # a hierarchy child's row carries its parent's label (a school its schoolsoort): asked for or filtered
        # on (a partner's scope), the parent stays as it is instead of being set to the total
        wanted = [*by, *[p for c in by for p in [structure.hierarchy.get(c)] if p and p not in by]]
        free = {p for c in filters for p in [structure.hierarchy.get(c)] if p}
        chosen = {k: v[0] for k, v in filters.items()}
        chosen.update({c: TOTAL for c in (structure.table_columns(sub) if sub else structure.columns)
                       if c not in wanted and c not in chosen and c not in free})
        frame = pt.select(public=True, **chosen) if chosen else pt.to_pandas(public=True)
        frame = frame[[c for c in frame.columns if c in wanted or c in ("n", "suppressed")]]
        provenance.update(min_cell=min_cell, gate=pt.provenance.get("algorithm"), structure=structure.id,
                          margins=structure.margins, suppressed=int((frame["suppressed"] != "").sum()))
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


def _store_key(dataset: Dataset, structure: Structure, person: str) -> TableStructure:
    """The suppression store's key for this table: by structure and measure (finding 3). Distinct-person
    figures mean the same in every table of the dataset and share cells; the margins of a sum-of-cells
    table are another quantity, so its cells are keyed by the structure itself."""
    quantity = f"unieke {person}" if structure.margins == "persons_distinct" else \
        f"persoon-cellen {structure.id}"
    return TableStructure.of(dataset.id, structure.dims, hierarchy=structure.hierarchy or None,
                             filters={"maat": quantity}, name=structure.id)


def _with_period(t, period: dict[str, str]):
    col = t[period["field"]]
    if period["grain"] == "kwartaal":
        expr = col.year().cast("string") + "-K" + col.quarter().cast("string")
    else:
        expr = col.strftime({"jaar": "%Y", "maand": "%Y-%m"}[period["grain"]])
    return t.mutate(**{PERIOD_COLUMN: expr})
