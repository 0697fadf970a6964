"""``stadslab profiel lijst|toon|tel`` on a real small workspace: helper A's SIMULATED DDD sources (scale 0.05)
through the real chain (holders pseudonymise, the lab re-keys, refresh), the demo profiles as init --demo
copies them, the real linked frame. No command prints a pseudonym or a row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stadslab.cli import app
from stadslab.errors import AccessDenied, AnalysisError
from tests.conftest import run_cli

HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
AREAS = ("utrecht_buurten_2024", "utrecht_wijken_2024")
ENV = {"STADSLAB_PASSWORD": "analist-demo"}


def cli(*args: str):
    """The real Typer app in-process (the subprocess path is exercised once below: it is slow on 2 cores)."""
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory) -> Path:
    from stadslab.demo.ddd_pipeline import ddd_workspace

    root = tmp_path_factory.mktemp("ddd-profielen") / "ws"
    ddd_workspace(root, scale=0.05, profiles=True)      # the demo profiles, as init --demo copies them
    run_cli("refresh", "-w", str(root), "--json")
    return root


def test_lijst_and_toon_show_definitions_and_versions(small_ws):
    out = json.loads(cli("profiel", "lijst", "-w", str(small_ws), "--json").stdout)
    assert {p["id"] for p in out} == {"verzuim_hoog", "verzuim_bijstand_zrm", "bijstand", "zrm_laag"}
    assert all(p["versie"] == 1 and len(p["sha256"]) == 64 for p in out)
    one = json.loads(cli("profiel", "toon", "verzuim_bijstand_zrm", "-w", str(small_ws), "--json").stdout)
    assert one["voorwaarden_tekst"] == "verzuim_pct > 10 en bijstand = ja en zrm_financien ≤ 2"
    assert [v["versie"] for v in one["versies"]] == [1]
    res = cli("profiel", "toon", "bestaat_niet", "-w", str(small_ws))
    assert isinstance(res.exception, AnalysisError) and "bestaat niet" in str(res.exception)


def test_tel_is_gated_audited_and_shows_no_pseudonym(small_ws):
    proc = run_cli("profiel", "tel", "bijstand", "--niveau", "wijk", "--user", "analist", "--purpose", "sociaal_domein",
                   "-w", str(small_ws), "--json", env=ENV)
    out = json.loads(proc.stdout)
    rows = out["rows"]
    assert rows and {r["wijk_code"] for r in rows} >= {"Totaal"}
    for r in rows:
        for col in ("aantal", "populatie"):
            assert r[col] is None or r[col] == 0 or r[col] >= 15, r
    p = out["provenance"]
    assert p["profiel"] == "bijstand" and p["profielversie"] == 1 and p["gesimuleerd"] is True
    assert set(p["bronnen"]) == {"ddd_verzuim", "ddd_uitkeringen", "ddd_zrm", "ddd_trajecten"}
    assert all(isinstance(v, int) for v in p["bronnen"].values())
    assert not HEX32.search(proc.stdout + proc.stderr)
    table = cli("profiel", "tel", "bijstand", "--niveau", "school", "--schooljaar", "2023/24", "--user", "analist",
                "--purpose", "sociaal_domein", "-w", str(small_ws))
    assert table.exit_code == 0, table.output
    assert "GESIMULEERDE" in table.stdout and "2023/24" in table.stdout and not HEX32.search(table.stdout)
    audit = (small_ws / "audit" / "audit.jsonl").read_text(encoding="utf-8")
    assert "cli:profiel profiel=bijstand@v1" in audit


def test_tel_refuses_wrong_purpose_and_unknown_level(small_ws):
    res = cli("profiel", "tel", "bijstand", "--user", "analist", "--purpose", "veiligheid", "-w", str(small_ws))
    assert isinstance(res.exception, AccessDenied) and "doel" in str(res.exception)
    res = cli("profiel", "tel", "bijstand", "--niveau", "provincie", "--user", "analist", "--purpose",
              "sociaal_domein", "-w", str(small_ws))
    assert isinstance(res.exception, AnalysisError) and "niveau" in str(res.exception)
    refused = [json.loads(x) for x in (small_ws / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
               if "veiligheid" in x]
    assert refused and not any(e.get("allowed") for e in refused)

