"""The programme report: counts per rung/status/domain, hypotheses, factors, and what changed since last time."""

from __future__ import annotations

import json

import yaml

from stadslab.projects.register import read_projects
from stadslab.projects.report import render_html, report_data
from tests.conftest import REPO, run_cli

DEMO_PROJECTS = REPO / "stadslab" / "demo" / "projects"


def test_report_counts_what_the_records_say():
    projects, _ = read_projects(DEMO_PROJECTS)
    data = report_data(projects, municipality="Demostad", previous=None)
    assert data["n_projects"] == len(projects)
    assert sum(x["n"] for x in data["per_rung"]) == len(projects)
    assert sum(x["n"] for x in data["per_status"]) == len(projects)
    n_hyp = sum(len(p.hypotheses) for p in projects)
    h = data["hypotheses"]
    assert h["open"] + h["bevestigd"] + h["verworpen"] == n_hyp
    # 'wisselende datakwaliteit' is named in several evaluations and counted once per mention
    mentions = sum(f.lower() == "wisselende datakwaliteit" for p in projects for e in p.evaluations for f in e.hindering)
    top = {f["factor"].lower(): f["n"] for f in data["hindering"]}
    assert mentions >= 3 and top["wisselende datakwaliteit"] == mentions
    html = render_html(data)
    assert "Tussenevaluatie datagedreven sturing" in html and "Wat hielp en wat hinderde" in html
    assert 'lang="nl"' in html


def test_report_cli_names_status_changes_since_the_previous_report(builder, tmp_path):
    builder.with_utrecht_buurten()
    folder = builder.root / "projects"
    folder.mkdir()
    for src in DEMO_PROJECTS.glob("*.yaml"):
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
        raw.pop("uses", None)
        raw.pop("analyses", None)
        (folder / src.name).write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    first = json.loads(run_cli("project", "report", "-w", str(builder.root), "--out", str(tmp_path / "r1"),
                               "--json").stdout)
    assert first["previous"] is None and first["changed"] == []
    assert (tmp_path / "r1.html").exists() and (tmp_path / "r1.pdf").read_bytes()[:4] == b"%PDF"
    raw = yaml.safe_load((folder / "risicovoorspeller.yaml").read_text(encoding="utf-8"))
    raw["status"] = "gestopt"
    (folder / "risicovoorspeller.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    second = json.loads(run_cli("project", "report", "-w", str(builder.root), "--out", str(tmp_path / "r2"),
                                "--geen-pdf", "--json").stdout)
    assert second["previous"] == first["generated"]
    assert second["changed"] == [{"project": raw["name"], "id": "risicovoorspeller", "van": "pilot", "naar": "gestopt"}]
    assert "pilot → gestopt" in (tmp_path / "r2.html").read_text(encoding="utf-8")
