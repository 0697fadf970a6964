"""Schema drift: compare the columns a file has with the columns the catalog expects.

Matching is tolerant of case and white space (``'Incident  identificatie '`` matches
``'Incident Identificatie'``) and of declared ``aliases``; anything else is drift: a missing column,
a new column, or — when a missing and a new column look alike — a probable rename.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from stadslab.catalog.model import Dataset
from stadslab.errors import SchemaDrift


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\ufeff", "")).strip().lower()


@dataclass
class DriftReport:
    mapping: dict[str, str]                                # field name -> source column in the file
    missing: list[str] = field(default_factory=list)       # fields whose column is not in the file
    new: list[str] = field(default_factory=list)           # file columns the catalog does not know
    renamed: list[tuple[str, str]] = field(default_factory=list)   # (expected column, file column)
    notes: list[str] = field(default_factory=list)

    @property
    def has_drift(self) -> bool:
        return bool(self.missing or self.new or self.renamed)


def match_columns(dataset: Dataset, columns: list[str], *, ignore: tuple[str, ...] = ()) -> DriftReport:
    by_norm = {_norm(c): c for c in columns if c not in ignore}
    mapping: dict[str, str] = {}
    missing: list[str] = []
    report = DriftReport(mapping)
    for f in dataset.fields:
        if f.role == "geometry" and f.type == "geometry":
            continue  # comes from the geo reader's __geom
        for candidate in (f.source, *f.aliases):
            hit = by_norm.get(_norm(candidate))
            if hit is not None:
                mapping[f.name] = hit
                if candidate != f.source:
                    report.notes.append(f"kolom '{hit}' gebruikt als alias voor '{f.source}' (veld {f.name})")
                break
        else:
            missing.append(f.name)
    used = set(mapping.values())
    new = [c for c in columns if c not in used and c not in ignore]
    for fname in list(missing):
        expected = dataset.field(fname).source
        close = difflib.get_close_matches(_norm(expected), [_norm(c) for c in new], n=1, cutoff=0.75)
        if close:
            actual = by_norm[close[0]]
            report.renamed.append((expected, actual))
            missing.remove(fname)
            new.remove(actual)
    report.missing, report.new = missing, new
    return report


def enforce(dataset: Dataset, report: DriftReport, *, file: str) -> list[str]:
    """Raise SchemaDrift for drift the catalog does not allow; return warnings for the rest."""
    problems = []
    for expected, actual in report.renamed:
        problems.append(f"kolom '{expected}' ontbreekt; lijkt hernoemd naar '{actual}' "
                        f"(voeg 'aliases: [\"{actual}\"]' toe aan het veld in de catalogus als dat klopt)")
    for fname in report.missing:
        problems.append(f"kolom '{dataset.field(fname).source}' (veld {fname}) ontbreekt in het bestand")
    warnings = list(report.notes)
    if report.new:
        msg = "nieuwe kolommen die niet in de catalogus staan: " + ", ".join(f"'{c}'" for c in report.new)
        if dataset.load.on_new_columns == "fail":
            problems.append(msg)
        elif dataset.load.on_new_columns == "warn":
            warnings.append(msg + " (niet geladen)")
    if problems:
        raise SchemaDrift(f"bestand {file}: de kolommen wijken af van de catalogus ({dataset.id}):\n"
                          + "\n".join(f"  - {p}" for p in problems),
                          hint=f"pas {dataset.file.name if dataset.file else 'de catalogus'} aan, of lever het bestand "
                               "met de afgesproken kolommen")
    return warnings
