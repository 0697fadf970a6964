"""What may leave a personal dataset: declared dimensions and table structures (issue 9, findings 2-3).

A ``persoonsgegevens`` entry says in its ``release:`` block which fields may be dimensions (never a
pseudonym or an identifier) and which tables may be released through the publication gate::

    release:
      dimensions: [wijk_code, postcode_buurtcode, regeling]
      structures:
        - {id: wijk_regeling, dims: [wijk_code, regeling], margins: persons_distinct}
        - {id: buurt_in_wijk, dims: [postcode_buurtcode], hierarchy: {postcode_buurtcode: wijk_code},
           margins: persons_distinct}
        - {id: wijk_jaar, dims: [wijk_code, periode], period: {field: startdatum, grain: jaar},
           margins: sum_of_cells}

A request (``by`` plus filter columns) is answered from the smallest declared structure that holds all
its columns: the structure is protected as a whole and the request is a slice of it (other dimensions
at their total), so every figure that leaves is a cell or margin of a declared table.

Margin kinds — one per structure, so one figure never means two things:

- ``persons_distinct``: every cell and margin is a number of distinct persons. Only valid when each
  person falls in exactly one cell; the release checks that and refuses otherwise. Such structures
  agree on every shared margin, so any number of them may be declared.
- ``sum_of_cells``: margins are sums of cells (a person in two cells counts twice). A margin of such a
  table differs from the distinct-person count of the same group, and the difference is a count of
  persons (finding 3). So a ``sum_of_cells`` structure must be the dataset's only structure.

Entries without ``release:`` (older catalogs) get a conservative default: dimensions are the area codes
and the fields with a code list (never pseudonyms, identifiers, unique or date fields), any
combination, margins ``sum_of_cells``; ``stadslab catalog check`` warns about them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

MARGIN_KINDS = ("persons_distinct", "sum_of_cells")
PERIOD_COLUMN = "periode"
NEVER_DIMENSION_ROLES = ("pseudonym", "identifier", "name", "address", "postcode", "birth_date")
POINT_AREA_COLUMNS = ("buurt_code", "wijk_code", "gemeente_code", "grid_125m")
BUURT_AREA_COLUMNS = ("wijk_code", "gemeente_code")


@dataclass(frozen=True)
class Structure:
    id: str
    dims: tuple[str, ...]
    margins: str = "sum_of_cells"
    hierarchy: dict[str, str] = field(default_factory=dict)
    period: dict[str, str] | None = None
    # published sub-tables of a cover (``tables:``): only these are released, protected *together*
    # with protect_linked over the cover ``dims`` (e.g. area × year × one profile flag, for every flag)
    tables: tuple[tuple[str, ...], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Dimension columns plus hierarchy parents: everything a slice may name."""
        return (*self.dims, *[p for p in self.hierarchy.values() if p not in self.dims])

    def table_columns(self, dims: tuple[str, ...]) -> tuple[str, ...]:
        return (*dims, *[p for c, p in self.hierarchy.items() if c in dims and p not in dims])

    def sub_table(self, columns: Iterable[str]) -> tuple[str, ...] | None:
        """The smallest published sub-table holding ``columns`` (None: the structure has no ``tables``)."""
        if not self.tables:
            return None
        fits = [t for t in self.tables if set(columns) <= set(self.table_columns(t))]
        return min(fits, key=len) if fits else ()

    def label(self) -> str:
        parts = [f"{d} (→ {self.hierarchy[d]})" if d in self.hierarchy else d for d in self.dims]
        return f"{self.id}: {' × '.join(parts)} [{self.margins}]"


@dataclass(frozen=True)
class ReleaseSpec:
    dimensions: tuple[str, ...]
    structures: tuple[Structure, ...] | None     # None: any combination (undeclared, older catalogs)
    declared: bool

    def match(self, dataset_id: str, columns: Iterable[str], hierarchy: dict[str, str] | None) -> Structure:
        """The declared structure a request is a slice of (the smallest that holds all its columns)."""
        cols = list(dict.fromkeys(columns))
        hier = dict(hierarchy or {})
        if self.structures is None:
            dims = tuple(c for c in cols if c not in hier.values())
            return Structure(f"{'+'.join(sorted(dims)) or 'totaal'}", dims, "sum_of_cells",
                             {k: v for k, v in hier.items() if k in dims})
        fits = [s for s in self.structures
                if set(cols) <= set(s.columns) and all(s.hierarchy.get(k) == v for k, v in hier.items())
                and s.sub_table(cols) != ()]
        if not fits:
            from stadslab.errors import PrivacyError

            raise PrivacyError(
                f"een tabel per {' × '.join(cols) or '(niets)'} is voor '{dataset_id}' niet vastgelegd",
                hint="vastgelegde tabellen (catalogus, release.structures): "
                     + "; ".join(s.label() for s in self.structures))
        return min(fits, key=lambda s: (len(s.columns), self.structures.index(s)))


def derived_columns(d: Any) -> tuple[str, ...]:
    """Area columns ingest adds for a dataset (``d`` is a Dataset)."""
    if d.geography.level == "point":
        return POINT_AREA_COLUMNS
    if any(f.role == "area_code" for f in d.fields):
        return BUURT_AREA_COLUMNS
    return ()


def forbidden_dimensions(d: Any) -> set[str]:
    return {f.name for f in d.fields if f.role in NEVER_DIMENSION_ROLES or f.unique}


def release_spec(d: Any) -> ReleaseSpec:
    """The dataset's declared release rules, or the conservative default."""
    raw = d.release or {}
    if raw:
        structures = tuple(Structure(s["id"], tuple(s["dims"]), s.get("margins", "sum_of_cells"),
                                     dict(s.get("hierarchy") or {}), s.get("period"),
                                     tuple(tuple(t) for t in s.get("tables") or ())) for s in raw["structures"])
        return ReleaseSpec(tuple(raw["dimensions"]), structures, True)
    bad = forbidden_dimensions(d)
    dims = [c for c in derived_columns(d)]
    dims += [f.name for f in d.fields if (f.codes or f.role == "area_code") and f.name not in bad
             and f.type not in ("date", "datetime")]
    return ReleaseSpec(tuple(dict.fromkeys(dims)), None, False)


def release_problems(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Meaning checks on a ``release:`` block (called from catalog/checks.py)."""
    rel = d.get("release")
    if not rel:
        return
    if d.get("classification") != "persoonsgegevens":
        yield "release", "een release-blok hoort alleen bij persoonsgegevens"
    fields = {f["name"]: f for f in d.get("fields") or []}
    level = (d.get("geography") or {}).get("level")
    derived = set(POINT_AREA_COLUMNS if level == "point" else
                  BUURT_AREA_COLUMNS if any(f.get("role") == "area_code" for f in fields.values()) else ())
    periods = {PERIOD_COLUMN} if any(s.get("period") for s in rel.get("structures") or []) else set()
    dims = list(rel.get("dimensions") or [])
    for i, name in enumerate(dims):
        f = fields.get(name)
        if f is not None and (f.get("role") in NEVER_DIMENSION_ROLES or f.get("unique")):
            yield (f"release.dimensions[{i}]",
                   f"'{name}' is een pseudoniem of identificerend veld en mag nooit een dimensie zijn")
        elif f is None and name not in derived | periods and not name.startswith("in_"):
            yield f"release.dimensions[{i}]", f"'{name}' is geen veld van deze dataset (en geen afgeleide gebiedscode)"
    structures = rel.get("structures") or []
    seen: set[str] = set()
    for i, s in enumerate(structures):
        where = f"release.structures[{i}]"
        if s["id"] in seen:
            yield f"{where}.id", f"structuur '{s['id']}' komt twee keer voor"
        seen.add(s["id"])
        for name in [*s["dims"], *(s.get("hierarchy") or {}).values()]:
            if name not in dims:
                yield f"{where}.dims", f"'{name}' staat niet in release.dimensions"
        for child in (s.get("hierarchy") or {}):
            if child not in s["dims"]:
                yield f"{where}.hierarchy", f"'{child}' moet in dims staan"
        for k, sub in enumerate(s.get("tables") or []):
            if not set(sub) <= set(s["dims"]):
                yield f"{where}.tables[{k}]", f"{sorted(set(sub) - set(s['dims']))} staan niet in dims"
        if PERIOD_COLUMN in s["dims"] and not s.get("period"):
            yield f"{where}.period", f"'{PERIOD_COLUMN}' als dimensie vraagt period: {{field, grain}}"
        if s.get("period"):
            f = fields.get(s["period"].get("field", ""))
            if f is None or f.get("type") not in ("date", "datetime"):
                yield f"{where}.period.field", f"'{s['period'].get('field')}' is geen datumveld"
        if s.get("margins", "sum_of_cells") == "sum_of_cells" and len(structures) > 1:
            yield (f"{where}.margins",
                   "een structuur met margins: sum_of_cells moet de enige van de dataset zijn: haar totalen tellen "
                   "personen in meer cellen vaker mee, en het verschil met een telling van unieke personen in een "
                   "andere tabel is een aantal personen (verschilaanval)")
    for j, pub in enumerate(d.get("publications") or []):
        cols = [*pub.get("by", []), *(pub.get("filters") or {}), *(pub.get("hierarchy") or {}).values()]
        if pub.get("period"):
            cols.append(PERIOD_COLUMN)
        ok = any(set(cols) <= set([*s["dims"], *(s.get("hierarchy") or {}).values()])
                 and (not pub.get("period") or s.get("period") == pub.get("period")) for s in structures)
        if not ok:
            yield f"publications[{j}]", (f"publicatie '{pub.get('id')}' ({' × '.join(cols)}) past in geen "
                                         "vastgelegde structuur (release.structures)")
