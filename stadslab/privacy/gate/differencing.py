"""Differencing defence: only declared table structures, whole-category slices, stored patterns.

Two outputs that are each safe can be subtracted ("all" minus "all but one category"; two
overlapping filters; a refresh with one person more; two tables with the same margins). The gate
closes these routes by construction (docs/adr/0001-publication-gate.md):

1. **Declared structures.** A table is (dataset, dimensions, hierarchy, whole-category filters). Only
   structures declared in a :class:`StructureRegistry` are publishable; the id is stable.
2. **Slices, not filters.** A filtered view ("only women", "only wijk 3") is a *slice* of a declared
   table that has the filter variable as a dimension: :func:`select` returns cells of the already
   protected full table, so every view comes from one suppression pattern. A filter is one category
   (or the total) of a dimension; lists, ranges and negations ("all but X") are refused — their
   complement is not a cell of any protected table.
3. **Stored patterns.** Protection with a :class:`~stadslab.privacy.gate.suppression_store.SuppressionStore`
   keeps suppressed cells suppressed in later refreshes and in other tables of the same dataset,
   keeps shared cells consistent, and forbids complementary suppressions on cells another table
   publishes (see suppression_store.py and secondary.py, linked mode).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pandas as pd

from stadslab.errors import PrivacyError

if TYPE_CHECKING:  # pragma: no cover
    from stadslab.privacy.gate.protect import ProtectedTable

_SCALARS = (str, int, float, bool)


def whole_category_filters(filters: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Normalise filters to (column, one category); refuse anything that is not one whole category."""
    out = []
    for col, value in sorted((filters or {}).items()):
        if isinstance(value, (list, tuple, set, frozenset, range, dict)) or not isinstance(value, _SCALARS):
            raise PrivacyError(
                f"filter op '{col}' met {value!r}: alleen één hele categorie is toegestaan",
                hint="een lijst, bereik of 'alles behalve X' maakt verschillen met andere tabellen mogelijk; "
                     "neem de variabele op als dimensie van de tabel en kies één categorie met select()")
        text = str(value)
        if text.startswith(("!", "<", ">", "not ", "niet ")):
            raise PrivacyError(f"filter op '{col}' = {text!r}: uitsluiten of vergelijken is niet toegestaan",
                               hint="kies één categorie; 'alles behalve X' is het totaal min cel X")
        out.append((col, text))
    return tuple(out)


@dataclass(frozen=True)
class TableStructure:
    """A publishable table: dataset, dimensions (with hierarchy columns) and whole-category filters."""

    dataset: str
    dims: tuple[str, ...]
    hierarchy: tuple[tuple[str, tuple[str, ...]], ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    name: str = ""

    @classmethod
    def of(cls, dataset: str, dims: Iterable[str], *, hierarchy: Mapping[str, str | Iterable[str]] | None = None,
           filters: Mapping[str, Any] | None = None, name: str = "") -> "TableStructure":
        hier = tuple(sorted((k, (v,) if isinstance(v, str) else tuple(v)) for k, v in (hierarchy or {}).items()))
        return cls(dataset, tuple(dims), hier, whole_category_filters(filters), name)

    @property
    def population(self) -> str:
        """The filter part of every cell key: tables with different filters describe different people."""
        return "&".join(f"{c}={v}" for c, v in self.filters)

    @property
    def id(self) -> str:
        label = self.name or "x".join(self.dims)
        digest = hashlib.sha1(repr((self.dims, self.hierarchy, self.filters)).encode()).hexdigest()[:8]
        return f"{self.dataset}/{label}@{digest}"

    def hierarchy_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.hierarchy}


class StructureRegistry:
    """The declared set of publishable structures, per dataset."""

    def __init__(self, structures: Iterable[TableStructure] = ()) -> None:
        self._by_id: dict[str, TableStructure] = {}
        for s in structures:
            self.declare(s)

    def declare(self, structure: TableStructure) -> TableStructure:
        self._by_id[structure.id] = structure
        return structure

    def for_dataset(self, dataset: str) -> list[TableStructure]:
        return [s for s in self._by_id.values() if s.dataset == dataset]

    def resolve(self, dataset: str, dims: Iterable[str], filters: Mapping[str, Any] | None = None) -> TableStructure:
        """The declared structure for a request, or PrivacyError when it is not publishable."""
        wanted = TableStructure.of(dataset, dims, filters=filters)
        for s in self.for_dataset(dataset):
            if s.dims == wanted.dims and s.filters == wanted.filters:
                return s
        declared = ", ".join(sorted(s.id for s in self.for_dataset(dataset))) or "geen"
        raise PrivacyError(f"tabel {wanted.id} is niet als publiceerbare structuur vastgelegd",
                           hint=f"vastgelegde structuren voor {dataset}: {declared}")


def split_structure_id(structure_id: object) -> tuple[str, str, str]:
    """(dataset, population, id) from a TableStructure or a 'dataset/name' string."""
    if isinstance(structure_id, TableStructure):
        return structure_id.dataset, structure_id.population, structure_id.id
    text = str(structure_id)
    dataset = text.split("/", 1)[0] if "/" in text else text
    return dataset, "", text


def select(table: "ProtectedTable", filters: Mapping[str, Any], *, public: bool = True) -> pd.DataFrame:
    """Slice a protected table to one category (or the total) per filtered dimension.

    The slice's numbers and suppressions are those of the full table, so any set of slices is a
    subset of one protected publication and cannot be differenced against each other.
    """
    frame = table.to_pandas(public=public)
    dims = {lv: d.name for d in table.model.dims for lv in d.levels}
    mask = pd.Series(True, index=frame.index)
    for col, value in whole_category_filters(filters):
        if col not in dims:
            raise PrivacyError(f"filter op '{col}': geen dimensie van deze tabel ({sorted(dims)})",
                               hint="filteren kan alleen op een dimensie van een vastgelegde tabel")
        if value != table.model.totals and not (frame[col] == value).any():
            raise PrivacyError(f"filter {col}={value!r}: onbekende categorie")
        mask &= frame[col] == value
    return frame[mask].reset_index(drop=True)
