"""The project register of a workspace: read, check and version ``projects/*.yaml``.

Two layers of checks, as for the catalog: the JSON schema (``schema.yaml``) checks structure, then
:func:`reference_problems` checks meaning — every dataset, stored result and page a project names exists
(or, for a result, is produced by one of the project's own analyses), and every closed phase says why.
Every problem names the file and the key path, e.g. ``hotspots.yaml [uses.datasets[1]]``.

Versions: each time a project file changes, :func:`record_versions` keeps a copy under
``projects/.versions/<id>/<n>.yaml`` with its sha256 and time, so an evaluation can be traced back to the
record as it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from stadslab.catalog.loader import CatalogProblem, _key_path, read_yaml
from stadslab.errors import CatalogError
from stadslab.projects.model import PHASES, Project, project_from_raw
from stadslab.projects.runner import ANALYSES

PROJECTS_DIR = "projects"
VERSIONS_DIR = ".versions"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = yaml.safe_load((Path(__file__).parent / "schema.yaml").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _plain(value: Any) -> Any:
    """YAML turns 2015-03-01 into a date; the record keeps ISO text so JSON (schema, API) sees one type."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def projects_folder(workspace_root: Path) -> Path:
    return Path(workspace_root) / PROJECTS_DIR


def structure_problems(raw: object, file: str) -> list[CatalogProblem]:
    if not isinstance(raw, dict):
        return [CatalogProblem(file, "(root)", "verwacht een mapping met sleutels als id, name, question, phases")]
    out = [CatalogProblem(file, _key_path(list(e.absolute_path)), e.message)
           for e in sorted(_validator().iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))]
    if not out:
        for name in PHASES:
            phase = raw["phases"][name]
            if phase["access"] == "gesloten" and not (phase.get("reason") or "").strip():
                out.append(CatalogProblem(file, f"phases.{name}.reason",
                                          "een gesloten fase moet zeggen waarom ze gesloten is"))
    return out


def read_projects(folder: Path) -> tuple[list[Project], list[CatalogProblem]]:
    """All project records in ``folder`` (none when it does not exist) and their structural problems."""
    projects: list[Project] = []
    problems: list[CatalogProblem] = []
    if not folder.is_dir():
        return projects, problems
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.y*ml")):
        text, raw, problem = read_yaml(path)
        if problem is not None:
            problems.append(problem)
            continue
        raw = _plain(raw)
        found = structure_problems(raw, path.name)
        if found:
            problems.extend(found)
            continue
        if raw["id"] in seen:
            problems.append(CatalogProblem(path.name, "id", f"id '{raw['id']}' staat ook in {seen[raw['id']]}"))
            continue
        seen[raw["id"]] = path.name
        projects.append(project_from_raw(raw, file=path, sha256=hashlib.sha256(text).hexdigest()))
    return projects, problems


def load_projects(folder: Path, *, strict: bool = True) -> list[Project]:
    projects, problems = read_projects(folder)
    if problems and strict:
        raise CatalogError("het projectregister bevat fouten:\n" + "\n".join(f"  - {p}" for p in problems),
                           hint="draai 'stadslab project check' voor het volledige overzicht")
    return projects


def known_pages() -> set[str] | None:
    """Paths of the web app's pages (from the explicit page list); None when the web app is not installed."""
    try:
        from stadslab.web.pages import PAGES
    except ImportError:
        return None
    paths: set[str] = set()
    for module in PAGES:
        for route in getattr(module, "router").routes:
            path = getattr(route, "path", "")
            if path and "{" not in path:
                paths.add(path.rstrip("/") or "/")
    paths.update({"/open", "/docs"})  # the portal's router is built per server; /docs is FastAPI's
    return paths


def reference_problems(projects: Iterable[Project], *, datasets: set[str], results: set[str] | None,
                       pages: set[str] | None, notes: list[str] | None = None) -> list[CatalogProblem]:
    """Everything a project names must exist. ``results``/``pages`` None = could not be checked.

    A result that is not stored yet is not a problem when the project says how it is made: by one of its own
    analyses, or by the command in ``uses.results[].made_by`` — then it is a note in ``notes``."""
    out: list[CatalogProblem] = []
    for p in projects:
        file = p.file.name if p.file else p.id
        produced = {a.result for a in p.analyses}
        for i, ds in enumerate(p.uses("datasets")):
            if ds not in datasets:
                out.append(CatalogProblem(file, f"uses.datasets[{i}]", f"dataset '{ds}' staat niet in de catalogus"))
        for i, a in enumerate(p.analyses):
            if a.dataset not in datasets:
                out.append(CatalogProblem(file, f"analyses[{i}].dataset",
                                          f"dataset '{a.dataset}' staat niet in de catalogus"))
            if a.kind not in ANALYSES:
                out.append(CatalogProblem(file, f"analyses[{i}].kind", f"onbekende analyse '{a.kind}' "
                                          f"(bekend: {', '.join(sorted(ANALYSES))})"))
        refs = [(f"uses.results[{i}]", r) for i, r in enumerate(p.uses("results"))]
        refs += [(f"hypotheses[{i}].evidence[{j}].result", e["result"]) for i, h in enumerate(p.hypotheses)
                 for j, e in enumerate(h.evidence) if e.get("result")]
        refs += [(f"algorithm_register[{i}].result", a["result"]) for i, a in enumerate(p.algorithm_register)
                 if a.get("result")]
        for side, body in p.public_value.items():
            if isinstance(body, dict):
                refs += [(f"public_value.{side}.indicators[{i}].result", ind["result"])
                         for i, ind in enumerate(body.get("indicators", [])) if ind.get("result")]
        if results is not None:
            for key, name in refs:
                if name in results:
                    continue
                if name in produced or name in p.made_by:
                    how = p.made_by.get(name) or f"stadslab project run {p.id}"
                    note = (f"{file}: resultaat '{name}' is nog niet berekend (maak het met '{how}')")
                    if notes is not None and note not in notes:
                        notes.append(note)
                    continue
                out.append(CatalogProblem(file, key, f"resultaat '{name}' is nooit opgeslagen en dit project zegt "
                                                     "niet hoe het gemaakt wordt (analyses: of uses.results[].made_by)"))
        if pages is not None:
            for i, page in enumerate(p.uses("pages")):
                if (page.rstrip("/") or "/") not in pages:
                    out.append(CatalogProblem(file, f"uses.pages[{i}]", f"pagina '{page}' bestaat niet in de web-app"))
    return out


def record_versions(folder: Path, projects: Iterable[Project]) -> dict[str, int]:
    """Keep a copy of every changed project file; returns project id → current version number."""
    current: dict[str, int] = {}
    for p in projects:
        if p.file is None:
            continue
        vdir = folder / VERSIONS_DIR / p.id
        index_path = vdir / "index.json"
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else []
        if not index or index[-1]["sha256"] != p.sha256:
            vdir.mkdir(parents=True, exist_ok=True)
            n = len(index) + 1
            (vdir / f"{n}.yaml").write_bytes(p.file.read_bytes())
            index.append({"version": n, "sha256": p.sha256, "status": p.status,
                          "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            index_path.write_text(json.dumps(index, indent=1), encoding="utf-8")
        current[p.id] = len(index)
    return current


def version_history(folder: Path, project_id: str) -> list[dict[str, Any]]:
    index_path = folder / VERSIONS_DIR / project_id / "index.json"
    return json.loads(index_path.read_text(encoding="utf-8")) if index_path.exists() else []
