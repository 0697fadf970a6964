"""CLI behaviour on small workspaces: catalog check, exit codes, JSON output."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def test_catalog_check_names_file_and_key_path(builder):
    (builder.root / "catalog" / "kapot.yaml").write_text(
        "id: kapot\ntitle: Kapot\nowner: X\nclassification: geheim\nsource: {path: a.csv}\n"
        "fields:\n  - {name: a, type: tekst}\n")
    proc = run_cli("catalog", "check", "-w", str(builder.root), check=False)
    assert proc.returncode == 3
    assert "kapot.yaml [classification]" in proc.stdout
    assert "kapot.yaml [fields[0].type]" in proc.stdout


def test_no_workspace_is_a_clear_error(tmp_path):
    proc = run_cli("status", "-w", str(tmp_path / "leeg"), check=False)
    assert proc.returncode == 2
    assert "geen Stadslab-werkruimte" in proc.stderr


def test_ingest_json_and_versions(incident_ws):
    ws = str(incident_ws.root)
    run_cli("ingest", "buurten_2024", "-w", ws)
    out = json.loads(run_cli("ingest", "incidenten", "-w", ws, "--json").stdout)
    assert out["status"] == "geladen" and out["version"] == 1 and out["rows_loaded"] == 4
    versions = json.loads(run_cli("versions", "incidenten", "-w", ws, "--json").stdout)["versions"]
    assert versions[0]["source_files"][0]["path"] == "incidenten.csv"
    assert len(versions[0]["source_files"][0]["sha256"]) == 64


def test_invalid_file_exit_code_and_json_report(incident_ws):
    from tests.conftest import BAD_CSV

    ws = str(incident_ws.root)
    run_cli("ingest", "buurten_2024", "-w", ws)
    incident_ws.file("incidenten.csv", BAD_CSV)
    proc = run_cli("ingest", "incidenten", "-w", ws, "--json", check=False)
    assert proc.returncode == 5
    report = json.loads(proc.stdout)["report"]
    assert report["invalid_rows"] == 3
    assert {(e["row"], e["column"]) for e in report["examples"]} == {(3, "Soort"), (4, "Datum/tijd"), (5, "Schade (euro)")}
