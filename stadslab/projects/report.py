"""The programme-level report: the interim evaluation of the seeds (000), generated from the register.

How many projects per rung of the ladder, per status and per domain; which hypotheses were confirmed or
rejected; which factors helped or hindered, counted across all evaluation rounds; which projects changed
status since the previous report. Each report's status snapshot is kept in ``projects/.reports/`` so the next
report can say what changed. HTML (self-contained) and PDF (headless Chromium, as the briefing pack).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from stadslab.projects.model import PHASES, RUNG_LABELS, RUNGS, STATUSES, Project

REPORTS_DIR = ".reports"
_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]))


def _normalise(factor: str) -> str:
    return " ".join(factor.strip().lower().split())


def previous_snapshot(folder: Path) -> dict[str, Any] | None:
    rdir = folder / REPORTS_DIR
    files = sorted(rdir.glob("*.json")) if rdir.is_dir() else []
    return json.loads(files[-1].read_text(encoding="utf-8")) if files else None


def report_data(projects: list[Project], *, municipality: str, previous: dict[str, Any] | None,
                now: datetime | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data (also the JSON of ``stadslab project report --json``)."""
    now = now or datetime.now(timezone.utc)
    per_rung = {r: sum(p.rung == r for p in projects) for r in RUNGS}
    per_status = {s: sum(p.status == s for p in projects) for s in STATUSES}
    per_domain = dict(sorted(Counter(p.domain or "onbekend" for p in projects).items()))
    hyp = Counter(h.status for p in projects for h in p.hypotheses)
    decided = [{"project": p.name, "statement": h.statement, "status": h.status}
               for p in projects for h in p.hypotheses if h.status != "open"]
    stimulating, hindering = Counter(), Counter()
    labels: dict[str, str] = {}
    for p in projects:
        for e in p.evaluations:
            for f in e.stimulating:
                stimulating[_normalise(f)] += 1
                labels.setdefault(_normalise(f), f.strip())
            for f in e.hindering:
                hindering[_normalise(f)] += 1
                labels.setdefault(_normalise(f), f.strip())
    before = (previous or {}).get("status", {})
    changed = [{"project": p.name, "id": p.id, "van": before[p.id], "naar": p.status}
               for p in projects if p.id in before and before[p.id] != p.status]
    new = [p.name for p in projects if previous is not None and p.id not in before]
    closed_phases = Counter(name for p in projects for name in PHASES if p.phases[name].closed)
    return {
        "municipality": municipality, "generated": now.isoformat(timespec="seconds"),
        "previous": (previous or {}).get("generated"), "n_projects": len(projects),
        "per_rung": [{"rung": r, "label": RUNG_LABELS[r], "n": n} for r, n in per_rung.items()],
        "per_status": [{"status": s, "n": n} for s, n in per_status.items()],
        "per_domain": [{"domain": d, "n": n} for d, n in per_domain.items()],
        "hypotheses": {"open": hyp.get("open", 0), "bevestigd": hyp.get("bevestigd", 0),
                       "verworpen": hyp.get("verworpen", 0), "decided": decided},
        "stimulating": [{"factor": labels[k], "n": n} for k, n in stimulating.most_common()],
        "hindering": [{"factor": labels[k], "n": n} for k, n in hindering.most_common()],
        "n_evaluations": sum(len(p.evaluations) for p in projects),
        "changed": changed, "new": new,
        "closed_phases": [{"phase": ph, "n": closed_phases.get(ph, 0)} for ph in PHASES],
        "projects": [{"id": p.id, "name": p.name, "rung": RUNG_LABELS[p.rung], "status": p.status,
                      "domain": p.domain, "simulated": p.simulated,
                      "last_decision": (p.evaluations[-1].decision if p.evaluations else None)}
                     for p in sorted(projects, key=lambda p: (RUNGS.index(p.rung), p.name))],
        "snapshot": {"generated": now.isoformat(timespec="seconds"), "status": {p.id: p.status for p in projects}},
    }


def render_html(data: dict[str, Any]) -> str:
    return _env.get_template("report.html").render(r=data)


def save_snapshot(folder: Path, data: dict[str, Any]) -> Path:
    """Remember this report's statuses so the next report can list what changed."""
    rdir = folder / REPORTS_DIR
    rdir.mkdir(parents=True, exist_ok=True)
    stamp = data["snapshot"]["generated"].replace(":", "").replace("+0000", "Z")
    path = rdir / f"{stamp}.json"
    path.write_text(json.dumps(data["snapshot"], indent=1), encoding="utf-8")
    return path
