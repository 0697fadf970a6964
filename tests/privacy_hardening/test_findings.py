"""Issue 9, as an attacker tried it: each test is one finding and failed on the code before the fix."""

from __future__ import annotations

import json
import stat

import duckdb
import pytest

from stadslab.catalog.model import Dataset
from stadslab.catalog.release_rules import release_problems
from stadslab.errors import AnalysisError, PrivacyError
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import release_aggregate
from stadslab.warehouse.sqlpath import open_sql_connection
from tests.conftest import run_cli
from tests.privacy_hardening.conftest import ANALYST, ENTRY, make_warehouse, persons

PW = {"STADSLAB_PASSWORD": "analist-demo"}

# Every spelling an attacker tried or might try to reach personal data from free SQL (finding 1).
SPELLINGS = [
    "SELECT count(*) FROM query_table('sociaal_uitkeringen')",
    "SELECT * FROM query('FROM sociaal_' || 'uitkeringen')",
    "SELECT * FROM query_table(concat('sociaal_', 'verzuim'))",
    "SELECT * FROM query('SELECT * FROM v.' || 'sociaal_verzuim__1')",
    "ATTACH '{ws}/restricted.duckdb' AS r",
    "ATTACH '{ws}/restricted.duckdb' AS r (READ_ONLY)",
    "SELECT * FROM read_parquet('{ws}/data/sociaal/uitkeringen.parquet')",
    "SELECT * FROM read_parquet('{ws}/data/sociaal/*.parquet')",
    "SELECT * FROM '{ws}/data/sociaal/verzuim.parquet'",
    "SELECT * FROM read_csv('{ws}/restricted.duckdb')",
    "SELECT * FROM read_blob('{ws}/restricted.duckdb')",
    "SELECT * FROM read_text('{ws}/audit/audit.jsonl')",
    "SELECT * FROM glob('{ws}/*')",
    "SELECT * FROM st_read('{ws}/data/sociaal/verzuim.parquet')",
    "COPY (SELECT 1) TO '{ws}/uit.csv'",
    "EXPORT DATABASE '{ws}/export'",
    "SET enable_external_access = true",
    "RESET enable_external_access",
    "SET lock_configuration = false",
    "INSTALL httpfs",
    "LOAD '{ws}/evil.duckdb_extension'",
    "CREATE TABLE x AS SELECT 1",
    "PRAGMA database_list",
]


def _restricted_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    text = json.dumps([con.execute(q).fetchall() for q in (
        "SELECT * FROM duckdb_tables()", "SELECT * FROM duckdb_views()", "SELECT * FROM information_schema.tables",
        "SELECT * FROM duckdb_databases()", "PRAGMA database_list", "SELECT * FROM duckdb_settings()")], default=str)
    return {n for n in ("sociaal_uitkeringen", "sociaal_verzuim", "sociaal_buurtteam", "pseudo_id", "restricted")
            if n in text}


def test_free_sql_cannot_reach_personal_data_whatever_the_spelling(demo_ws):
    con = open_sql_connection(demo_ws / "warehouse.duckdb")
    try:
        assert con.execute("SELECT count(*) FROM groningen_fietsdiefstal").fetchone()[0] > 10_000  # still useful
        assert not _restricted_names(con), "the free-SQL connection lists restricted data"
        for sql in SPELLINGS:
            try:
                rows = con.execute(sql.format(ws=demo_ws)).fetchall()
            except duckdb.Error:
                continue
            assert "pseudo" not in json.dumps(rows, default=str), sql
            assert not _restricted_names(con), f"after {sql!r} the connection reaches restricted data"
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False
    finally:
        con.close()
    assert not (demo_ws / "uit.csv").exists() and not (demo_ws / "export").exists()


def test_query_cli_refuses_and_audits_bypass_attempts(demo_ws):
    log = AuditLog(demo_ws / "audit" / "audit.jsonl")
    before = len(log.entries())
    proc = run_cli("query", f"SELECT * FROM read_parquet('{demo_ws}/data/sociaal/verzuim.parquet')",
                   "-w", str(demo_ws), check=False)
    assert proc.returncode == 7 and "Traceback" not in proc.stderr and "geweigerd" in proc.stderr, proc.stderr
    refused = [e for e in log.entries()[before:] if not e["allowed"] and e["route"] == "cli:query"]
    assert len(refused) == 1 and refused[0]["reason"] == "bestandstoegang geweigerd"


def test_pseudonyms_and_identifiers_are_never_dimensions(personal, tmp_path):
    wh, ds = personal
    audit = AuditLog(tmp_path / "audit.jsonl")
    for by in (["pseudo_id"], ["pseudo_id", "leeftijd"], ["dossier"], ["start"]):
        with pytest.raises((PrivacyError, AnalysisError)) as err:
            release_aggregate(wh, ds, user=ANALYST, purpose="sociaal_domein", by=by, audit=audit, store=None)
        assert "wijk_code" in str(err.value), "the message lists what is allowed"
    # and an entry that declares one is refused by the catalog check
    bad = {**ENTRY, "release": {**ENTRY["release"], "dimensions": ["pseudo_id", "wijk_code"]}}
    assert any("pseudoniem" in msg for _, msg in release_problems(bad))


def test_undeclared_structures_are_refused_with_the_declared_list(personal, tmp_path):
    wh, ds = personal
    with pytest.raises(PrivacyError) as err:
        release_aggregate(wh, ds, user=ANALYST, purpose="sociaal_domein", by=["buurt", "regeling"],
                          audit=AuditLog(tmp_path / "a.jsonl"), store=None)
    assert "niet vastgelegd" in err.value.message and "wijk_regeling" in (err.value.hint or "")


def test_differencing_across_margin_kinds_is_impossible(tmp_path):
    """Finding 3: a table whose margins count person-years next to a count of distinct persons per wijk
    gives, by subtraction, the number of persons in both years. With declared structures a request
    per wijk is the margin of the declared wijk × jaar table — the same person-years, the same number."""
    frame = persons(seed=3, n=400)
    twice = frame.sample(40, random_state=1).assign(start=__import__("datetime").date(2024, 3, 1))
    frame = __import__("pandas").concat([frame, twice], ignore_index=True)       # 40 persons in two years
    entry = {**ENTRY, "release": {"dimensions": ["wijk_code", "periode"], "structures": [
        {"id": "wijk_jaar", "dims": ["wijk_code", "periode"], "period": {"field": "start", "grain": "jaar"},
         "margins": "sum_of_cells"}]}}
    wh, ds = make_warehouse(tmp_path, frame, entry)
    store = SuppressionStore(tmp_path / "gate.json")
    audit = AuditLog(tmp_path / "a.jsonl")
    try:
        per_year = release_aggregate(wh, ds, user=ANALYST, purpose="sociaal_domein", by=["wijk_code", "periode"],
                                     audit=audit, store=store).frame
        per_wijk = release_aggregate(wh, ds, user=ANALYST, purpose="sociaal_domein", by=["wijk_code"],
                                     audit=audit, store=store).frame
        margin = per_year[per_year["periode"] == "Totaal"].set_index("wijk_code")["n"]
        assert (per_wijk.set_index("wijk_code")["n"].dropna() == margin.reindex(per_wijk["wijk_code"]).dropna()).all()
        # a distinct-person structure next to the sum-of-cells one is refused by the catalog check
        mixed = {**entry, "release": {**entry["release"], "structures": [
            *entry["release"]["structures"], {"id": "wijk", "dims": ["wijk_code"], "margins": "persons_distinct"}]}}
        assert any("sum_of_cells" in msg for _, msg in release_problems(mixed))
        # declaring distinct-person margins where persons overlap is refused at release time
        wrong = {**entry, "release": {**entry["release"], "structures": [
            {**entry["release"]["structures"][0], "margins": "persons_distinct"}]}}
        with pytest.raises(PrivacyError, match="meer dan één cel"):
            release_aggregate(wh, Dataset.from_dict(wrong), user=ANALYST, purpose="sociaal_domein",
                              by=["wijk_code"], audit=audit, store=store)
        # the store keeps the two quantities apart: keys carry the measure
        keys = list(store.data["datasets"]["hulp"])
        assert keys and all(k.startswith("maat=") for k in keys)
    finally:
        wh.close()


def test_failed_reads_after_access_are_audited(personal, tmp_path):
    wh, ds = personal
    audit = AuditLog(tmp_path / "audit.jsonl")
    attempts = [dict(by=["regeling"], filters={"wijk_code": ["bestaat-niet"]}),     # bad filter value
                dict(by=["wijk_code", "wijk_code"]),                                 # duplicate per
                dict(by=["buurt", "leeftijd"]),                                      # undeclared table
                dict(by=["regeling"], filters={"wijk_code": ["W1", "W2"]})]          # a list: differencing
    for a in attempts:
        with pytest.raises((PrivacyError, AnalysisError)):
            release_aggregate(wh, ds, user=ANALYST, purpose="sociaal_domein", audit=audit, store=None, **a)
    entries = audit.entries()
    assert len(entries) == len(attempts) and not any(e["allowed"] for e in entries)
    assert all(e["reason"].startswith("geweigerd") for e in entries)


def test_workspace_files_are_owner_only(demo_ws):
    from stadslab.workspace import Workspace

    loose = demo_ws / "data" / "los.csv"          # a file copied in with a permissive mode
    loose.write_text("a\n1\n")
    loose.chmod(0o644)
    Workspace.resolve(demo_ws)                   # opening a workspace makes what is there owner-only
    checked = 0
    for path in [demo_ws, *demo_ws.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} has mode {oct(mode)}"
        checked += 1
    for name in ("warehouse.duckdb", "restricted.duckdb", "data/sociaal/uitkeringen.parquet"):
        assert (demo_ws / name).exists()
    loose.unlink()
    assert checked > 50


def test_cli_aggregate_on_a_missing_field_lists_the_fields_without_traceback(demo_ws):
    proc = run_cli("aggregate", "sociaal_uitkeringen", "--by", "buurt_code", "-w", str(demo_ws), "--user", "analist",
                   "--purpose", "sociaal_domein", env=PW, check=False)
    assert proc.returncode == 9 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert "geen veld" in proc.stderr and "postcode_buurtcode" in proc.stderr


def test_an_older_workspace_moves_personal_data_out_of_the_main_file(tmp_path):
    """Workspaces from before the split kept personal datasets in warehouse.duckdb: the first writable
    open moves them (versions, bookkeeping) into restricted.duckdb; free SQL refuses until then."""
    from stadslab.warehouse.sqlpath import restricted_in_main
    from stadslab.warehouse.store import Warehouse

    frame = persons(n=60)
    old = Warehouse.open(tmp_path / "warehouse.duckdb")               # the old layout: one file
    old.con.register("__gen", frame)
    for _ in range(2):   # (today's store refuses to put a persoonsgegevens version here; the old one did)
        old.commit_version("hulp", "__gen", {"rows_loaded": len(frame)})
    old.con.execute("UPDATE stadslab.versions SET classification = 'persoonsgegevens'")
    old.close()
    con = open_sql_connection(tmp_path / "warehouse.duckdb")
    assert restricted_in_main(con, {"hulp"}) == ["hulp"]               # the CLI refuses free SQL on this file
    con.close()
    wh = Warehouse.open(tmp_path / "warehouse.duckdb", restricted_path=tmp_path / "restricted.duckdb",
                        restricted_ids={"hulp"})
    try:
        assert [v["version"] for v in wh.versions("hulp")] == [1, 2] and wh.current_version("hulp") == 2
        assert wh.table("hulp").count().to_pandas() == 60
        wh.rollback("hulp", 1)
        assert wh.current_version("hulp") == 1
    finally:
        wh.close()
    con = open_sql_connection(tmp_path / "warehouse.duckdb")
    try:
        assert restricted_in_main(con, {"hulp"}) == []
        assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE 'hulp%'").fetchall()
    finally:
        con.close()
