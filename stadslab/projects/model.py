"""Typed view of a project record (projects/<id>.yaml; structure in schema.yaml).

A project is what the seeds call a pilot or a programme line: a question, the data and analyses it uses, who
takes part in which phase (open or closed, 001 ch. 7), its hypotheses on the way from data to knowledge, its
public-value account (Moore, 001 tabel 3) and its evaluation rounds (000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUNGS = ("monitoring", "realtime", "voorspellen", "profileren", "ontdekken")
RUNG_LABELS = {"monitoring": "1 · Monitoring", "realtime": "2 · Realtime monitoring",
               "voorspellen": "3 · Voorspellende analyse", "profileren": "4 · Profileren",
               "ontdekken": "5 · Data discovery"}
STATUSES = ("idee", "pilot", "structureel", "opgeschaald", "gestopt")
PHASES = ("onderzoekskader", "dataverzameling", "duiding", "gebruik")
PHASE_LABELS = {"onderzoekskader": "Onderzoekskader (de vraag)", "dataverzameling": "Dataverzameling",
                "duiding": "Duiding (interpretatie)", "gebruik": "Gebruik van data en resultaten"}
HELIX_LABELS = {"overheid": "overheid", "markt": "markt", "kennisinstelling": "kennisinstelling",
                "inwoners": "inwoners"}
MOORE_SIDES = {"publieke_waarde": "Publieke waarde", "legitimiteit": "Legitimiteit en draagvlak",
               "uitvoeringscapaciteit": "Uitvoeringscapaciteit"}


@dataclass(frozen=True)
class Phase:
    name: str
    access: str
    reason: str | None = None
    who: str | None = None
    text: str | None = None
    roles: tuple[str, ...] = ()

    @property
    def closed(self) -> bool:
        return self.access == "gesloten"


@dataclass(frozen=True)
class Hypothesis:
    id: str
    statement: str
    status: str
    stage: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    recorded: str | None = None


@dataclass(frozen=True)
class Evaluation:
    date: str
    method: str
    findings: str
    stimulating: tuple[str, ...] = ()
    hindering: tuple[str, ...] = ()
    decision: str | None = None
    adopted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisSpec:
    kind: str
    dataset: str
    result: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    question: str
    owner: str
    rung: str
    status: str
    phases: dict[str, Phase]
    raw: dict[str, Any]
    file: Path | None = None
    sha256: str = ""

    # -- convenience accessors over the raw record (validated by schema.yaml) --
    @property
    def summary(self) -> str:
        return self.raw.get("summary", "")

    @property
    def domain(self) -> str:
        return self.raw.get("domain", "")

    @property
    def simulated(self) -> bool:
        return bool(self.raw.get("simulated", False))

    @property
    def partners(self) -> list[dict[str, str]]:
        return list(self.raw.get("partners", []))

    @property
    def team_roles(self) -> tuple[str, ...]:
        return tuple(self.raw.get("team_roles", ()))

    def uses(self, kind: str) -> list[str]:
        items = (self.raw.get("uses") or {}).get(kind, [])
        return [i["name"] if isinstance(i, dict) else i for i in items]

    @property
    def made_by(self) -> dict[str, str]:
        """Stored results this project expects, with the command that makes each (``uses.results``)."""
        return {i["name"]: i["made_by"] for i in (self.raw.get("uses") or {}).get("results", []) if isinstance(i, dict)}

    @property
    def analyses(self) -> list[AnalysisSpec]:
        return [AnalysisSpec(a["kind"], a["dataset"], a.get("result") or f"{a['kind']}_{a['dataset']}",
                             dict(a.get("params") or {})) for a in self.raw.get("analyses", [])]

    @property
    def hypotheses(self) -> list[Hypothesis]:
        return [Hypothesis(h["id"], h["statement"], h["status"], h.get("stage"), tuple(h.get("evidence", [])),
                           h.get("recorded")) for h in self.raw.get("hypotheses", [])]

    @property
    def evaluations(self) -> list[Evaluation]:
        evs = [Evaluation(str(e["date"]), e["method"], e["findings"], tuple(e.get("stimulating", [])),
                          tuple(e.get("hindering", [])), e.get("decision"), tuple(e.get("adopted_by", [])))
               for e in self.raw.get("evaluations", [])]
        return sorted(evs, key=lambda e: e.date)

    @property
    def public_value(self) -> dict[str, Any]:
        return dict(self.raw.get("public_value") or {})

    @property
    def algorithm_register(self) -> list[dict[str, str]]:
        return list(self.raw.get("algorithm_register", []))

    @property
    def privacy(self) -> list[dict[str, str]]:
        return list(self.raw.get("privacy", []))

    def helix(self) -> list[str]:
        """The quadruple-helix parties taking part (the municipality itself is 'overheid')."""
        return sorted({"overheid", *(p["helix"] for p in self.partners)})

    def sees_closed(self, roles: tuple[str, ...] | list[str], phase: Phase) -> bool:
        """May a user with these roles see the content of this (closed) phase?"""
        allowed = set(phase.roles) | set(self.team_roles)
        return bool(allowed & set(roles))


def project_from_raw(raw: dict[str, Any], *, file: Path | None = None, sha256: str = "") -> Project:
    phases = {name: Phase(name, p["access"], p.get("reason"), p.get("who"), p.get("text"), tuple(p.get("roles", ())))
              for name, p in raw["phases"].items()}
    return Project(raw["id"], raw["name"], raw["question"], raw["owner"], raw["rung"], raw["status"], phases, raw,
                   file, sha256)
