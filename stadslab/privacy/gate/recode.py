"""Global recoding before suppression: merge small categories where the catalog allows it (τ-ARGUS style).

Suppression hides a cell; recoding makes the cell big enough to show. Statistical offices recode first
and suppress what is still unsafe (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012,
§4.2 "global recoding"; the τ-ARGUS manual, "Recode"): categories too small to publish are combined
into a coarser one for the whole table, so a wijk's "overig" is shown instead of three empty cells.

Only what the catalog declares is recoded, per field, in the declared order (``privacy.recode``):

```yaml
privacy:
  min_cell: 15
  recode:
    regeling:                       # merge these categories, first the first, into one category
      merge: [IOAZ, Bbz, IOAW]
      into: overig
    geboortedatum_leeftijdsklasse10:
      coarser:                      # or: coarser classes, least coarse first (unlisted values stay)
        - {"0-9": "0-19", "10-19": "0-19", "20-29": "20-39", "30-39": "20-39"}
        - {"0-9": "0-39", "10-19": "0-39", "20-29": "0-39", "30-39": "0-39"}
```

Per field, every allowed step (merging the first 2, 3, … listed categories; each coarser level) is
counted in the warehouse — persons stay distinct pseudonyms, so a person in two merged categories
counts once — and the step with the fewest *unsafe* cells (0 < n < min_cell) is kept; on a tie the
least recoding wins, and a field is left as it is unless recoding removes unsafe cells. The publication
gate then protects the recoded table as usual (primary and secondary suppression, stored pattern).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import pandas as pd

from stadslab.errors import CatalogError

UNKNOWN = "onbekend"


@dataclass(frozen=True)
class Step:
    """One allowed recoding of one field: old category → new category (unlisted values stay)."""

    field: str
    mapping: Mapping[str, str]
    label: str


def steps_of(dataset: Any, field: str) -> list[Step]:
    """The allowed recodings of ``field`` in the catalog's order; [] when none are declared."""
    spec = ((getattr(dataset, "privacy", None) or {}).get("recode") or {}).get(field)
    if not spec:
        return []
    where = str(getattr(dataset, "file", None) or dataset.id)
    if "merge" in spec:
        cats = [str(c) for c in spec["merge"]]
        into = str(spec.get("into", "overig"))
        if len(cats) < 2:
            raise CatalogError(f"privacy.recode.{field}.merge noemt minder dan twee categorieën", file=where)
        return [Step(field, {c: into for c in cats[:k]}, f"{', '.join(cats[:k])} → {into}")
                for k in range(2, len(cats) + 1)]
    if "coarser" in spec:
        levels = spec["coarser"]
        if not isinstance(levels, Sequence) or not all(isinstance(m, Mapping) for m in levels):
            raise CatalogError(f"privacy.recode.{field}.coarser moet een lijst van vertalingen zijn", file=where)
        return [Step(field, {str(k): str(v) for k, v in m.items()}, f"niveau {i + 1}") for i, m in enumerate(levels)]
    raise CatalogError(f"privacy.recode.{field}: verwacht 'merge' (met 'into') of 'coarser'", file=where)


def _count(t: ibis.Table, columns: list[str], person: str | None) -> pd.DataFrame:
    metric = t[person].nunique() if person else t.count()
    counts = t.group_by(columns).aggregate(n=metric).to_pandas()
    for c in columns:      # as release.py: records without a code are a category of their own
        if counts[c].isna().any():
            counts[c] = counts[c].astype(object).where(counts[c].notna(), UNKNOWN)
    return counts


def _apply(t: ibis.Table, steps: Sequence[Step]) -> ibis.Table:
    for s in steps:
        col = t[s.field].cast("string")
        expr = col.substitute(dict(s.mapping)) if s.mapping else col
        t = t.mutate(**{s.field: expr})
    return t


def unsafe(counts: pd.DataFrame, min_cell: int) -> int:
    """Cells the gate would suppress first: 0 < n < min_cell."""
    n = counts["n"]
    return int(((n > 0) & (n < min_cell)).sum())


def recode_small_categories(t: ibis.Table, counts: pd.DataFrame, dataset: Any, columns: list[str], *,
                            person: str | None, gated: bool, min_cell: int | None = None) -> pd.DataFrame:
    """The counts to protect: recoded where the catalog allows and it removes unsafe cells.

    ``counts`` are ``release_aggregate``'s counts per ``columns`` over ``t``; the result has the same
    columns, and ``attrs["hercodering"]`` lists what was recoded (``[]``: nothing) for the provenance."""
    counts.attrs["hercodering"] = []
    if not gated or not columns:
        return counts
    if min_cell is None:   # as release.py: the catalog may raise the threshold, never lower it
        from stadslab.privacy.gate import DEFAULT_MIN_CELL

        min_cell = max(DEFAULT_MIN_CELL, int((getattr(dataset, "privacy", None) or {}).get("min_cell", DEFAULT_MIN_CELL)))
    chosen: list[Step] = []
    best, best_unsafe = counts, unsafe(counts, min_cell)
    for field in columns:
        options = steps_of(dataset, field)
        if not options or best_unsafe == 0:
            continue
        pick = None
        for step in options:
            trial = _count(_apply(t, [*chosen, step]), columns, person)
            u = unsafe(trial, min_cell)
            if u < best_unsafe:
                pick, best, best_unsafe = step, trial, u
        if pick is not None:
            chosen.append(pick)
    best.attrs["hercodering"] = [{"veld": s.field, "stap": s.label, "samengevoegd": dict(s.mapping)} for s in chosen]
    return best
