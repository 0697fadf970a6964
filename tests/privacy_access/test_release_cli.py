"""The privacy layer end to end on the demo workspace: simulated holders pseudonymise, the data lab
loads, and figures about persons leave only through access check + gate + audit."""

from __future__ import annotations

import json

import pytest

from stadslab.privacy.guard import scan_stage
from stadslab.warehouse.connection import connect
from tests.conftest import run_cli

PW = {"STADSLAB_PASSWORD": "analist-demo"}


def _aggregate(ws, *args, env=PW, check=True):
    return run_cli("aggregate", *args, "-w", str(ws), "--json", env=env, check=check)


def test_gated_aggregate_has_no_small_cells_and_is_audited(demo_ws):
    before = json.loads(run_cli("audit", "-w", str(demo_ws), "--json").stdout)
    out = json.loads(_aggregate(demo_ws, "sociaal_uitkeringen", "--by", "wijk_code,regeling",
                                "--user", "analist", "--purpose", "sociaal_domein").stdout)
    rows = out["rows"]
    published = [r["n"] for r in rows if r["n"] is not None]
    assert published and all(n == 0 or n >= 15 for n in published)
    assert any(r["suppressed"] for r in rows), "demo wijken × regeling must need suppression"
    assert all(r["n"] is None for r in rows if r["suppressed"]), "suppressed cells are empty, never 0"
    total = next(r for r in rows if r["wijk_code"] == "Totaal" and r["regeling"] == "Totaal")
    assert total["n"] > 900
    assert out["provenance"]["min_cell"] == 15 and out["provenance"]["measure"] == "unieke pseudo_id"
    after = json.loads(run_cli("audit", "-w", str(demo_ws), "--json").stdout)
    reads = {(r["dataset"], r["user"], r["allowed"]): r["reads"] for r in after}
    old = {(r["dataset"], r["user"], r["allowed"]): r["reads"] for r in before}
    key = ("sociaal_uitkeringen", "analist", True)
    assert reads[key] == old.get(key, 0) + 1
    assert run_cli("audit", "-w", str(demo_ws), "--verify").returncode == 0


def test_wrong_role_or_purpose_is_refused_and_logged(demo_ws):
    proc = _aggregate(demo_ws, "sociaal_verzuim", "--by", "wijk_code", "--user", "wijkmanager", "--purpose",
                      "sociaal_domein", env={"STADSLAB_PASSWORD": "wijkmanager-demo"}, check=False)
    assert proc.returncode == 11 and "rol professional" in proc.stderr
    proc = _aggregate(demo_ws, "sociaal_verzuim", "--by", "wijk_code", "--user", "analist", "--purpose",
                      "veiligheid", check=False)
    assert proc.returncode == 11 and "doel 'veiligheid'" in proc.stderr
    proc = _aggregate(demo_ws, "sociaal_verzuim", "--by", "wijk_code", check=False)
    assert proc.returncode == 11 and "inloggen" in proc.stderr
    proc = _aggregate(demo_ws, "sociaal_verzuim", "--by", "wijk_code", "--user", "analist", "--purpose",
                      "sociaal_domein", env={"STADSLAB_PASSWORD": "fout"}, check=False)
    assert proc.returncode == 11 and "wachtwoord" in proc.stderr
    refused = [r for r in json.loads(run_cli("audit", "-w", str(demo_ws), "--json", "--dataset",
                                             "sociaal_verzuim").stdout) if not r["allowed"]]
    assert {r["user"] for r in refused} >= {"wijkmanager", "analist", "anoniem"}


def test_differencing_by_filter_is_refused(demo_ws):
    proc = _aggregate(demo_ws, "sociaal_buurtteam", "--by", "wijk_code", "--where", "interventie=gezinscoaching",
                      "--where", "interventie=dagbesteding", "--user", "analist", "--purpose", "sociaal_domein",
                      check=False)
    assert proc.returncode == 10 and "één hele categorie" in proc.stderr


def test_free_sql_cannot_reach_personal_data(demo_ws):
    proc = run_cli("query", "SELECT count(*) FROM sociaal_uitkeringen", "-w", str(demo_ws), check=False)
    assert proc.returncode == 11 and "stadslab aggregate" in proc.stderr
    proc = run_cli("query", "SELECT * FROM v.sociaal_verzuim__1", "-w", str(demo_ws), check=False)
    assert proc.returncode == 11
    parquet = demo_ws / "data" / "sociaal" / "verzuim.parquet"
    proc = run_cli("query", f"SELECT count(*) FROM read_parquet('{parquet}')", "-w", str(demo_ws), check=False)
    assert proc.returncode == 7
    ok = json.loads(run_cli("query", "SELECT count(*) AS n FROM groningen_fietsdiefstal", "-w", str(demo_ws),
                            "--json").stdout)
    assert ok[0]["n"] == 15947


def test_no_raw_bsn_and_no_key_in_the_workspace(demo_ws):
    con = connect(demo_ws / "warehouse.duckdb", read_only=True)
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.columns "
                             "WHERE data_type = 'VARCHAR' OR data_type LIKE '%INT%' GROUP BY ALL").fetchall()
        for schema, name in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "AND (data_type = 'VARCHAR' OR data_type LIKE '%INT%')", [schema, name]).fetchall()]
            for col, (nine, valid) in scan_stage(con, f'"{schema}"."{name}"', cols).items():
                assert not (nine >= 20 and valid > 0.5 * nine), f"{schema}.{name}.{col} looks like raw BSNs"
    finally:
        con.close()
    for path in demo_ws.rglob("*"):
        if path.is_file() and path.stat().st_size < 10_000:
            assert '"secret"' not in path.read_text(errors="ignore"), f"key material in workspace: {path}"
    holders = demo_ws.parent / f"{demo_ws.name}-bronhouders"
    assert (holders / "bronsleutel.key").exists()
    scan = run_cli("source", "scan", str(demo_ws / "data" / "sociaal"), "--json")
    assert json.loads(scan.stdout)["findings"] == []
    assert run_cli("source", "scan", str(holders / "ruw"), check=False).returncode == 12


@pytest.mark.parametrize("dataset,n_min", [("sociaal_uitkeringen", 1000), ("sociaal_verzuim", 650)])
def test_social_sources_are_loaded_with_buurt_and_wijk(demo_ws, dataset, n_min):
    status = {r["id"]: r for r in json.loads(run_cli("status", "-w", str(demo_ws), "--json").stdout)}
    assert status[dataset]["rows"] >= n_min
    assert status[dataset]["area_assigned_share"] > 0.95


def test_linking_sources_by_pseudonym_matches_the_simulated_truth(demo_ws):
    """Leerlingzaken and Werk en Inkomen pseudonymised with the same key link on the parent: the
    number of pupils with absence in a benefit household equals the simulation's truth."""
    import duckdb

    out = json.loads(_aggregate(demo_ws, "sociaal_verzuim", "--by", "in_sociaal_uitkeringen",
                                "--link", "sociaal_uitkeringen:pseudo_id_ouder",
                                "--user", "analist", "--purpose", "sociaal_domein").stdout)
    linked = {r["in_sociaal_uitkeringen"]: r["n"] for r in out["rows"]}
    truth = demo_ws.parent / f"{demo_ws.name}-bronhouders" / "ruw" / "bevolking_waarheid.parquet"
    pupils, in_benefit_household = duckdb.sql(f"""
        WITH t AS (SELECT * FROM read_parquet('{truth}')),
             hh AS (SELECT huishouden, bool_or(uitkering) AS u FROM t GROUP BY 1)
        SELECT count(*) FILTER (WHERE verzuim), count(*) FILTER (WHERE verzuim AND hh.u)
        FROM t JOIN hh USING (huishouden)""").fetchone()
    assert linked["ja"] == in_benefit_household
    assert pupils - 2 <= linked["Totaal"] <= pupils   # rows with a damaged BSN stay with the holder
    assert out["provenance"]["linked"] == {"sociaal_uitkeringen": 1}
