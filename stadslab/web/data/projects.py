"""View data for the project register pages: what a visitor may see of each project.

The public sees every project's question, rung, status, partners, open phases, hypotheses, public-value
account and evaluations; of a closed phase only that it is closed and why. Users whose roles the project or
the phase names see the closed content too. Datasets are listed only when the visitor may see them in the
catalog (the others are counted), so the register never reveals more than the catalog does.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from stadslab.privacy.access import User
from stadslab.projects.live import project_figures
from stadslab.projects.model import (HELIX_LABELS, MOORE_SIDES, PHASE_LABELS, PHASES, RUNG_LABELS, RUNGS, STATUSES,
                                     Project)
from stadslab.projects.register import projects_folder, read_projects, version_history
from stadslab.web.security import can_list

_lock = threading.Lock()
_cache: dict[Path, tuple[tuple, list[Project]]] = {}


def _signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.y*ml")))


def projects(state: Any) -> list[Project]:
    """The workspace's valid project records, re-read only when a file changed (a broken one is left out)."""
    folder = projects_folder(state.workspace.root)
    sig = _signature(folder)
    with _lock:
        hit = _cache.get(folder)
        if hit and hit[0] == sig:
            return hit[1]
    found, _problems = read_projects(folder)
    found.sort(key=lambda p: (RUNGS.index(p.rung), p.name))
    with _lock:
        _cache[folder] = (sig, found)
    return found


def find(state: Any, project_id: str) -> Project | None:
    return next((p for p in projects(state) if p.id == project_id), None)


def _phases(p: Project, user: User) -> list[dict[str, Any]]:
    out = []
    for name in PHASES:
        ph = p.phases[name]
        visible = not ph.closed or p.sees_closed(user.roles, ph)
        out.append({"name": name, "label": PHASE_LABELS[name], "closed": ph.closed, "reason": ph.reason,
                    "visible": visible, "who": ph.who if visible else None, "text": ph.text if visible else None})
    return out


def summary(p: Project, user: User) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "question": p.question, "summary": p.summary, "domain": p.domain,
            "rung": p.rung, "rung_label": RUNG_LABELS[p.rung], "status": p.status, "simulated": p.simulated,
            "owner": p.owner, "helix": [HELIX_LABELS[h] for h in p.helix()], "phases": _phases(p, user),
            "origin": p.raw.get("origin")}


def register_view(state: Any, user: User, *, rung: str | None = None, status: str | None = None) -> dict[str, Any]:
    all_projects = projects(state)
    shown = [p for p in all_projects if (not rung or p.rung == rung) and (not status or p.status == status)]
    return {"projects": [summary(p, user) for p in shown], "n_total": len(all_projects),
            "rungs": [{"key": r, "label": RUNG_LABELS[r], "n": sum(p.rung == r for p in all_projects)} for r in RUNGS],
            "statuses": [{"key": s, "n": sum(p.status == s for p in all_projects)} for s in STATUSES],
            "rung": rung, "status": status}


def project_view(state: Any, p: Project, user: User) -> dict[str, Any]:
    catalog = state.catalog
    datasets, hidden = [], 0
    for ds_id in dict.fromkeys(p.uses("datasets") + [a.dataset for a in p.analyses]):
        if ds_id in catalog and can_list(catalog.get(ds_id), user):
            ds = catalog.get(ds_id)
            datasets.append({"id": ds.id, "title": ds.title, "owner": ds.owner, "classification": ds.classification,
                             "simulated": ds.simulated})
        else:
            hidden += 1
    figures = project_figures(state.warehouse(), p)
    visible_inputs = {d["id"] for d in datasets}
    results = []
    for r in figures["results"].values():
        inputs = [(d, v) for d, v in r["inputs"]]
        shown = all(d in visible_inputs or (d in catalog and can_list(catalog.get(d), user)) for d, _ in inputs)
        results.append({**r, "inputs": inputs if shown else [], "inputs_hidden": not shown})
    team = bool(set(p.team_roles) & set(user.roles))
    return {**summary(p, user), "datasets": datasets, "datasets_hidden": hidden,
            "pages": p.uses("pages"), "results": results, "missing_results": figures["missing"],
            "made_by": p.made_by, "indicators": figures["indicators"],
            "hypotheses": [vars(h) for h in p.hypotheses], "evaluations": [vars(e) for e in p.evaluations],
            "public_value": [{"key": k, "label": label, **(p.public_value.get(k) or {})}
                             for k, label in MOORE_SIDES.items()],
            "kosten": p.public_value.get("kosten"), "neveneffecten": p.public_value.get("neveneffecten"),
            "partners": [{**x, "helix_label": HELIX_LABELS[x["helix"]]} for x in p.partners],
            "algorithm_register": p.algorithm_register, "privacy": p.privacy, "team": team,
            "versions": version_history(projects_folder(state.workspace.root), p.id) if team else []}
