"""The DDD chain: holders' kit → data-lab re-key → workspace; catalog entries; retention at refresh."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from stadslab.privacy.bsn import is_valid_bsn_array
from stadslab.workspace import Workspace

DDD = ("ddd_verzuim", "ddd_uitkeringen", "ddd_zrm", "ddd_trajecten")


def _strings(table: pa.Table) -> list[str]:
    out: list[str] = []
    for col in table.columns:
        out += [str(v) for v in pc.unique(col.cast(pa.string())).to_pylist() if v is not None]
    return out


def test_no_bsn_in_workspace_data(ddd_ws, truth):
    raw = set(truth["bsn"]) | set(truth["bsn_ouder"])
    files = sorted((ddd_ws / "data" / "ddd").glob("*.parquet"))
    assert len(files) == 4
    for f in files:
        values = _strings(pq.read_table(f))
        nine = [v for v in values if re.fullmatch(r"[0-9]{8,9}", v)]
        assert not is_valid_bsn_array(np.array(nine, dtype=str)).any() if nine else True, f
        assert not raw & set(values), f
    for f in (ddd_ws / "data" / "ddd").iterdir():       # receipts and manifest too: no raw BSN anywhere
        text = f.read_bytes()
        assert not any(b.encode() in text for b in list(raw)[:200]), f


def test_keys_and_source_files_stay_outside_the_workspace(ddd_ws):
    inside = [p.name for p in ddd_ws.rglob("*") if p.suffix == ".key"]
    assert inside == []
    assert (ddd_ws.parent / "ws-datalab" / "master.key").exists()
    assert (ddd_ws.parent / "ws-bronhouders" / "bronsleutel.key").exists()
    assert (ddd_ws.parent / "ws-datalab" / "ontvangst" / "ddd" / "verzuim.parquet").exists()
    receipt = json.loads((ddd_ws / "data" / "ddd" / "verzuim.parquet.receipt.json").read_text())
    assert receipt["project_id"] == "ddd" and receipt["columns"] == ["pseudo_id", "pseudo_id_ouder"]


def test_project_pseudonyms_are_not_source_pseudonyms(ddd_ws, truth, to_project):
    bsns = list(truth["bsn"].drop_duplicates()[:300])
    source, project = to_project(bsns)
    assert all(re.fullmatch(r"[0-9a-f]{32}", p) for p in source + project)
    received = set(pq.read_table(ddd_ws.parent / "ws-datalab" / "ontvangst" / "ddd" / "verzuim.parquet")
                   ["pseudo_id"].to_pylist())
    delivered = set(pq.read_table(ddd_ws / "data" / "ddd" / "verzuim.parquet")["pseudo_id"].to_pylist())
    assert set(source) <= received                 # what the holders delivered: source pseudonyms
    assert set(project) <= delivered               # what the workspace holds: project pseudonyms
    assert not set(source) & delivered             # ... so nothing joins with sociaal_* (source-keyed)
    assert not received & delivered


def test_catalog_entries(ddd_ws):
    from stadslab.catalog.loader import check_catalog

    problems = [p for p in check_catalog(ddd_ws / "catalog") if p.file.startswith("ddd_")]
    assert problems == []
    cat = Workspace.resolve(ddd_ws).catalog()
    for d in DDD:
        ds = cat.get(d)
        assert ds.classification == "persoonsgegevens" and ds.simulated
        assert set(ds.access.roles) == {"sociaal_analist", "school", "buurtteam"}
        assert ds.access.purposes == ("sociaal_domein",)
        assert ds.governance["convenant"]["id"].startswith("CONV-DDD")
        assert ds.governance["bewaartermijn"]["field"] in {f.name for f in ds.fields}
        assert ds.release["structures"]


def test_loaded_with_area_codes(ddd_ws):
    ws = Workspace.resolve(ddd_ws)
    with ws.warehouse(read_only=True) as wh:
        for d in DDD:
            t = wh.table(d)
            assert {"wijk_code", "gemeente_code"} <= set(t.columns)
            n_missing = t.filter(t.wijk_code.isnull()).count().to_pyarrow().as_py()
            assert n_missing == 0, d


def test_retention_removed_old_benefit_months(ddd_ws):
    ws = Workspace.resolve(ddd_ws)
    with ws.warehouse(read_only=True) as wh:
        p = wh.provenance("ddd_uitkeringen")
        ret = p["reader_options"]["bewaartermijn"]
        assert ret == {"veld": "maand", "termijn": {"jaren": 7}, "peildatum": "2026-12-06", "grens": "2019-12-06",
                       "verwijderd": ret["verwijderd"]}
        assert ret["verwijderd"] > 0
        assert p["rows_loaded"] == p["rows_read"] - ret["verwijderd"]
        assert any("bewaartermijn" in n for n in p["notes"])
        t = wh.table("ddd_uitkeringen")
        oldest = t.maand.min().to_pyarrow().as_py()
        assert oldest >= date(2019, 12, 6)
        raw = pq.read_table(ddd_ws / "data" / "ddd" / "uitkeringen.parquet")
        assert raw.num_rows == p["rows_read"]
        assert pc.sum(pc.less(raw["maand"], pa.scalar(date(2019, 12, 6)))).as_py() == ret["verwijderd"]
        zrm = wh.provenance("ddd_zrm")["reader_options"]["bewaartermijn"]
        assert zrm["verwijderd"] == 0                      # 15 years: nothing of the ZRM history expires yet
    lines = [json.loads(x) for x in (ddd_ws / "audit" / "audit.jsonl").read_text().splitlines()]
    mine = [x for x in lines if x.get("route") == "ingest:bewaartermijn"]
    assert {x["dataset"] for x in mine} >= set(DDD)
    entry = next(x for x in mine if x["dataset"] == "ddd_uitkeringen")
    assert entry["rows_out"] == ret["verwijderd"] and entry["filters"]["grens"] == "2019-12-06"


def test_retention_later_reference_removes_more_and_school_years(ddd_ws, monkeypatch):
    from stadslab.ingest.retention import ENV_REFERENCE
    from stadslab.operations import ingest_dataset
    from stadslab.privacy.audit import AuditLog

    ws = Workspace.resolve(ddd_ws)
    monkeypatch.setenv(ENV_REFERENCE, "2030-01-01")
    with ws.warehouse() as wh:
        before = wh.current_version("ddd_verzuim")
        res = ingest_dataset(ws, wh, ws.catalog(), "ddd_verzuim", trigger="refresh")
        ret = wh.provenance("ddd_verzuim", res.version)["reader_options"]["bewaartermijn"]
        # 7 years before 2030-01-01 is 2023-01-01: school years 2021/22 (ends 31-07-2022) go, 2022/23 stays
        assert ret["grens"] == "2023-01-01"
        left = wh.table("ddd_verzuim", res.version).schooljaar.value_counts().to_pandas()
        assert set(left["schooljaar"]) == {"2022/23", "2023/24", "2024/25"}
        assert ret["verwijderd"] > 0 and res.rows_loaded + ret["verwijderd"] == res.rows_read
        from stadslab.operations import rollback

        rollback(ws, wh, ws.catalog(), "ddd_verzuim", before)     # the other tests read the full version
    assert AuditLog(ddd_ws / "audit" / "audit.jsonl").verify() == []


def test_cutoff_calendar():
    from stadslab.ingest.retention import cutoff, reference_date

    assert cutoff({"jaren": 7}, date(2026, 12, 6)) == date(2019, 12, 6)
    assert cutoff({"maanden": 18}, date(2025, 3, 31)) == date(2023, 9, 30)
    assert cutoff({"jaren": 1}, date(2024, 2, 29)) == date(2023, 2, 28)
    assert reference_date(date(2020, 1, 2)) == date(2020, 1, 2)


def test_retention_needs_a_known_field(tmp_path):
    import duckdb

    from stadslab.catalog.model import Dataset
    from stadslab.errors import IngestError
    from stadslab.ingest.retention import apply_retention

    ds = Dataset.from_dict({"id": "x", "title": "x", "owner": "o", "classification": "intern",
                            "source": {"path": "x.csv"}, "fields": [{"name": "d", "type": "date"}],
                            "governance": {"bewaartermijn": {"field": "nope", "jaren": 1}}})
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT DATE '2000-01-01' AS d")
    with pytest.raises(IngestError):
        apply_retention(con, ds, "t", {}, {"rows_loaded": 1}, reference=date(2020, 1, 1))
    ok = Dataset.from_dict({**{"id": "x", "title": "x", "owner": "o", "classification": "intern",
                               "source": {"path": "x.csv"}, "fields": [{"name": "d", "type": "date"}]},
                            "governance": {"bewaartermijn": {"field": "d", "maanden": 6}}})
    extra, prov = {"rows_loaded": 1}, {}
    rec = apply_retention(con, ok, "t", prov, extra, tmp_path, reference=date(2020, 1, 1))
    assert rec["verwijderd"] == 1 and extra["rows_loaded"] == 0 and prov["notes"]
    assert not (tmp_path.parent / "audit").exists()        # not a workspace: no audit line


def test_catalog_check_names_a_bad_governance_block(tmp_path):
    import shutil

    import yaml

    from stadslab.catalog.loader import check_catalog
    from stadslab.demo.ddd_pipeline import CATALOG_TEMPLATES

    entry = yaml.safe_load((CATALOG_TEMPLATES / "ddd_zrm.yaml").read_text(encoding="utf-8"))
    entry["governance"]["bewaartermijn"] = {"field": "zrm_financien", "jaren": 5}
    entry["governance"]["convenant"]["geldig_tot"] = "2020-01-01"
    (tmp_path / "ddd_zrm.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    paths = {p.key_path for p in check_catalog(tmp_path)}
    assert {"governance.bewaartermijn.field", "governance.convenant.geldig_tot"} <= paths
    shutil.copy2(CATALOG_TEMPLATES / "ddd_zrm.yaml", tmp_path / "ddd_zrm.yaml")
    assert check_catalog(tmp_path) == []
    entry["governance"]["bewaartermijn"] = {"field": "datum"}          # no jaren/maanden: structure error
    (tmp_path / "ddd_zrm.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    assert check_catalog(tmp_path)
