"""`stadslab project check`: structure, closed phases, and references to datasets, results and pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stadslab.catalog import load_catalog
from stadslab.projects.register import known_pages, read_projects, reference_problems
from stadslab.workspace import DEMO_CATALOG
from tests.conftest import REPO, run_cli

DEMO_PROJECTS = REPO / "stadslab" / "demo" / "projects"

MINIMAL = {
    "id": "proef", "name": "Proefproject", "question": "Werkt het?", "owner": "Gemeente", "rung": "monitoring",
    "status": "idee",
    "phases": {p: {"access": "open"} for p in ("onderzoekskader", "dataverzameling", "duiding", "gebruik")},
}


def _write(ws: Path, record: dict) -> Path:
    folder = ws / "projects"
    folder.mkdir(exist_ok=True)
    path = folder / f"{record['id']}.yaml"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    return path


def _check(ws: Path):
    return run_cli("project", "check", "-w", str(ws), "--json", check=False)


def test_demo_projects_are_valid_against_the_demo_catalog():
    projects, problems = read_projects(DEMO_PROJECTS)
    assert not problems and len(projects) >= 5
    ids = {d.id for d in load_catalog(DEMO_CATALOG)} | {d.id for d in load_catalog(DEMO_CATALOG.parent / "catalog_sociaal")}
    notes: list[str] = []
    assert reference_problems(projects, datasets=ids, results=set(), pages=known_pages(), notes=notes) == []
    assert any("backtest_risico_groningen_fietsdiefstal" in n and "stadslab predict backtest" in n for n in notes)
    assert {p.rung for p in projects} >= {"monitoring", "voorspellen", "profileren"}


def test_known_pages_come_from_the_page_list():
    pages = known_pages()
    assert {"/", "/monitor", "/incidenten", "/risico", "/projecten", "/open"} <= pages
    assert "/bestaat-niet" not in pages


@pytest.mark.parametrize("change, key, words", [
    (lambda r: r.setdefault("uses", {}).update(datasets=["bestaat_niet"]), "[uses.datasets[0]]", "bestaat_niet"),
    (lambda r: r.setdefault("uses", {}).update(results=["nooit_opgeslagen"]), "[uses.results[0]]", "nooit_opgeslagen"),
    (lambda r: r.setdefault("uses", {}).update(pages=["/geen-pagina"]), "[uses.pages[0]]", "/geen-pagina"),
    (lambda r: r["phases"].update(duiding={"access": "gesloten"}), "[phases.duiding.reason]", "waarom"),
    (lambda r: r.update(rung="ladder"), "[rung]", "ladder"),
    (lambda r: r.update(hypotheses=[{"id": "h1", "statement": "x", "status": "bevestigd",
                                     "evidence": [{"result": "spook"}]}]),
     "[hypotheses[0].evidence[0].result]", "spook"),
])
def test_check_fails_with_file_and_key(builder, change, key, words):
    builder.with_utrecht_buurten()
    record = json.loads(json.dumps(MINIMAL))
    change(record)
    _write(builder.root, record)
    proc = _check(builder.root)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert not out["ok"]
    assert any(p.startswith(f"proef.yaml {key}") and words in p for p in out["problems"]), out["problems"]


def test_check_passes_and_versions_every_change(builder):
    builder.with_utrecht_buurten()
    record = json.loads(json.dumps(MINIMAL))
    record["uses"] = {"datasets": ["buurten_2024"], "pages": ["/monitor"],
                      "results": [{"name": "later", "made_by": "stadslab project run proef"}]}
    path = _write(builder.root, record)
    first = json.loads(_check(builder.root).stdout)
    assert first["ok"] and first["versions"] == {"proef": 1}
    assert any("later" in n and "nog niet berekend" in n for n in first["notes"])
    assert json.loads(_check(builder.root).stdout)["versions"] == {"proef": 1}   # unchanged: no new version
    record["status"] = "pilot"
    path.write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    assert json.loads(_check(builder.root).stdout)["versions"] == {"proef": 2}
    index = json.loads((builder.root / "projects" / ".versions" / "proef" / "index.json").read_text())
    assert [v["status"] for v in index] == ["idee", "pilot"]
    assert (builder.root / "projects" / ".versions" / "proef" / "1.yaml").exists()
