"""Ontdekken: which area figures go together — ranked leads with scatter plot, two maps, the confounder
verdict, the sources of both variables, and "maak hypothese" (a project's hypothesis or a note)."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stadslab.analyses.discovery import BLIJFT, CAVEAT, METHOD, DiscoveryRun, pair_record, run_discovery
from stadslab.analyses.discovery import notes as lead_notes
from stadslab.analyses.discovery.variables import covers
from stadslab.errors import AnalysisError
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import suppression_store_path
from stadslab.web import security
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.datasets import _GATE_LOCK
from stadslab.web.data.provenance import bron
from stadslab.web.state import AppState
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)
LEVELS = ("buurt", "wijk")
PAGE_SIZE = 20
_RUN_LOCK = threading.Lock()   # one discovery run at a time per process (CPU and the gate's stored pattern)


def years(state: AppState) -> list[int]:
    """Years covered by at least one loaded area-level dataset."""
    wh = state.warehouse()
    found: dict[int, int] = {}
    for ds in state.catalog:
        if ds.geography.level in LEVELS and ds.areas is None and wh.current_version(ds.id) is not None:
            for y in range(1990, date.today().year + 2):
                if covers(ds, y):
                    found[y] = found.get(y, 0) + 1
    return sorted(found, key=lambda y: (-found[y], -y))


def discovery(request: Request, level: str, year: int) -> DiscoveryRun:
    """The run for this user's access (open data for everybody; gated aggregates of personal data for a
    user whose role and werkdoel allow them), cached until the next refresh."""
    state: AppState = request.app.state.stadslab
    user = security.current_user(request)
    purpose = request.state.session.get("d") if request.state.session.get("u") else None
    gm = municipality(state)["gemeente_code"]
    if level not in LEVELS:
        raise AnalysisError(f"niveau '{level}' kan niet", hint="kies buurt of wijk")
    if not 1900 <= year <= 2100:
        raise AnalysisError(f"jaar {year} kan niet", hint="kies een jaar uit de lijst")

    def compute() -> DiscoveryRun:
        # the gate's stored suppression pattern is read, extended and saved: share the dataset pages' lock
        with _RUN_LOCK, _GATE_LOCK:
            return run_discovery(state.warehouse(), state.catalog, level=level, year=year, gemeente_code=gm,
                                 user=user, purpose=purpose, audit=state.audit,
                                 store=SuppressionStore(suppression_store_path(state.workspace.root)))
    return state.cache.get_or_compute(("ontdekken", state.generation, level, year, user.id, purpose), compute)


def lead_sources(state: AppState, run: DiscoveryRun, x: str, y: str) -> dict[str, Any]:
    vx, vy = run.variable(x), run.variable(y)
    sources = [(vx.dataset, vx.version), (vy.dataset, vy.version)]
    notes = [CAVEAT] + [f"{v.name}: {v.missing} van {len(run.data.codes)} gebieden zonder waarde"
                        + (f" ({v.suppressed} onderdrukt door de publicatiepoort)" if v.suppressed else "")
                        + (f", {v.below_min_population} onder {run.data.min_population} inwoners" if v.below_min_population else "")
                        for v in (vx, vy) if v.missing]
    if vx.simulated or vy.simulated:
        notes.insert(0, "GESIMULEERD: een van beide variabelen komt uit gesimuleerde gegevens.")
    return bron(state, sources, method=METHOD, notes=notes,
                filters={"niveau": run.data.level, "jaar": run.data.year, "indeling": run.data.division_year})


def _leads(run: DiscoveryRun, within: bool, verdict: str | None) -> list[dict[str, Any]]:
    df = run.leads()
    if not within:
        df = df[~df["same_dataset"]]
    if verdict == "blijft":
        df = df[df["verdict"] == BLIJFT]
    elif verdict == "verdwijnt":
        df = df[df["verdict"] != BLIJFT]
    out = []
    for _, r in df.iterrows():
        rec = pair_record(r)
        rec["x_var"], rec["y_var"] = _var(run, rec["x"]), _var(run, rec["y"])
        out.append(rec)
    return out


def _var(run: DiscoveryRun, name: str) -> dict[str, Any]:
    v = run.variable(name)
    return {"naam": v.name, "omschrijving": v.label, "eenheid": v.unit, "dataset": v.dataset, "versie": v.version,
            "classificatie": v.classification, "gesimuleerd": v.simulated, "ontbrekend": v.missing,
            "onderdrukt": v.suppressed}


def _project_choices(state: AppState) -> list[dict[str, str]]:
    """Projects of the register (when the workspace has one) a lead can become a hypothesis of."""
    try:
        from stadslab.projects import load_projects, projects_folder
    except ImportError:
        return []
    try:
        return [{"id": p.id, "titel": p.name}
                for p in load_projects(projects_folder(state.workspace.root), strict=False)]
    except Exception:   # a broken register must not take the discovery page down; notes still work
        return []


@router.get("/ontdekken", response_class=HTMLResponse)
def ontdekken_page(request: Request, niveau: str = "buurt", jaar: int | None = None, x: str | None = None,
                   y: str | None = None, binnen: int = 0, oordeel: str | None = None, pagina: int = 1,
                   vastgelegd: str | None = None):
    state: AppState = request.app.state.stadslab
    available = years(state)
    if not available:
        return render(request, "ontdekken.html", {"leeg": True})
    year = jaar or available[0]
    run = discovery(request, niveau, year)
    leads = _leads(run, bool(binnen), oordeel)
    chosen = next((lead for lead in leads if lead["x"] == x and lead["y"] == y), None) if x and y else None
    if chosen is None and x and y:   # a pair from the full list (e.g. within one dataset)
        chosen = next((lead for lead in _leads(run, True, None) if lead["x"] == x and lead["y"] == y), None)
    chosen = chosen or (leads[0] if leads else None)
    pagina = max(1, pagina)
    shown = leads[(pagina - 1) * PAGE_SIZE: pagina * PAGE_SIZE]
    base = {"niveau": niveau, "jaar": year, "binnen": int(bool(binnen)), "oordeel": oordeel or ""}
    return render(request, "ontdekken.html", {
        "leeg": False, "run": run, "jaren": sorted(available), "niveau": niveau, "jaar": year,
        "leads": shown, "totaal": len(leads), "pagina": pagina, "paginas": max(1, -(-len(leads) // PAGE_SIZE)),
        "binnen": bool(binnen), "oordeel": oordeel or "", "gekozen": chosen, "query": urlencode(base),
        "bron": lead_sources(state, run, chosen["x"], chosen["y"]) if chosen else None,
        "kanttekening": CAVEAT, "projecten": _project_choices(state), "vastgelegd": vastgelegd,
        "notities": [n for n in lead_notes.load_notes(state.workspace.root)][::-1][:50],
        "gesimuleerd": any(v.simulated for v in run.data.variables),
        "ontbrekend": [v for v in run.data.variables if v.missing],
        "getest": int(run.pairs["rho"].notna().sum()), "overleven": int((run.pairs["p_adj"] <= run.settings.alpha).sum())})


@router.post("/ontdekken/hypothese", dependencies=[Depends(security.verify_csrf)])
def make_hypothesis(request: Request, niveau: str = Form(...), jaar: int = Form(...), x: str = Form(...),
                    y: str = Form(...), hypothese: str = Form(""), project: str = Form("")):
    state: AppState = request.app.state.stadslab
    user = security.current_user(request)
    if user.id == "anoniem":
        from stadslab.errors import AccessDenied
        raise AccessDenied("een hypothese vastleggen kan alleen ingelogd", hint="log in met uw account van het datalab")
    run = discovery(request, niveau, jaar)
    lead = next((lead for lead in _leads(run, True, None) if lead["x"] == x and lead["y"] == y), None)
    if lead is None:
        raise AnalysisError(f"'{x}' en '{y}' zijn geen overlevend paar op niveau {niveau} in {jaar}")
    labels = {v.name: v.label for v in run.data.variables}
    text = hypothese.strip() or lead_notes.hypothesis_text(lead, labels, niveau, jaar)
    if len(text) > 2000:
        raise AnalysisError("de hypothese mag hoogstens 2.000 tekens hebben")
    sources = [{"dataset": v["dataset"], "versie": v["versie"], "variabele": v["naam"]}
               for v in (lead["x_var"], lead["y_var"])]
    stored = state.warehouse().results(run.result_name, "discovery")
    result = {"naam": run.result_name, "versie": stored[-1]["version"]} if stored else None
    target = _record(state, project.strip(), lead, text, niveau, jaar, sources, result, user.id)
    back = "/ontdekken?" + urlencode({"niveau": niveau, "jaar": jaar, "x": x, "y": y, "vastgelegd": target})
    return RedirectResponse(back + "#hypothesen", status_code=303)


def _record(state: AppState, project: str, lead: dict[str, Any], text: str, level: str, year: int,
            sources: list[dict[str, Any]], result: dict[str, Any] | None, user: str) -> str:
    """As a hypothesis of ``project`` when the project register has it, else as a note; says which."""
    if project and _add_project_hypothesis(state, project, lead, text, sources, result, user):
        return f"project:{project}"
    lead_notes.add_note(state.workspace.root, lead=lead, text=text, level=level, year=year, sources=sources,
                        result=result, user=user, project=None)
    return "notitie"


_PROJECT_LOCK = threading.Lock()


def _add_project_hypothesis(state: AppState, project_id: str, lead: dict[str, Any], text: str,
                            sources: list[dict[str, Any]], result: dict[str, Any] | None, user: str) -> bool:
    """Append an open hypothesis with the lead as evidence to ``projects/<id>.yaml`` (the register's schema:
    evidence items are ``lead``, ``result``, ``note``), atomically, then let the register record the new
    version. A record that would no longer pass the register's check is left as it was."""
    try:
        import yaml

        from stadslab.projects.register import (projects_folder, read_projects, record_versions,
                                                structure_problems)
    except ImportError:
        return False
    folder = projects_folder(state.workspace.root)
    with _PROJECT_LOCK:
        projects, _ = read_projects(folder)
        found = next((p for p in projects if p.id == project_id and p.file is not None), None)
        if found is None:
            return False
        # dates as text, as the register reads them (its schema wants strings)
        raw = json.loads(json.dumps(yaml.safe_load(found.file.read_text(encoding="utf-8")), default=str))
        hyps = raw.setdefault("hypotheses", [])
        note = (f"ρ = {lead['rho']:.2f}, p (gecorrigeerd) = {lead['p_adj']:.2g}, {lead['n_areas']} gebieden; "
                f"oordeel: {lead.get('verdict') or 'niet gecontroleerd'}; bronnen: "
                + ", ".join(f"{s['dataset']} v{s['versie']}" for s in sources) + f"; vastgelegd door {user}")
        evidence: list[dict[str, str]] = [{"lead": f"{lead['x']} ~ {lead['y']}", "note": note}]
        if result:
            evidence.append({"result": result["naam"]})
        hyps.append({"id": f"ontdekt-{len(hyps) + 1}", "statement": text, "status": "open", "stage": "data",
                     "evidence": evidence, "recorded": date.today().isoformat()})
        if structure_problems(raw, found.file.name):
            return False
        tmp = found.file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        tmp.replace(found.file)
        record_versions(folder, read_projects(folder)[0])
    return True
