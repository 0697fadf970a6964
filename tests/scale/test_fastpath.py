"""The typed fast path of the ingest: the same version table as the text path on clean files, and
the text path's messages, rejects, markers and refusals whenever a value or the file's shape needs them."""

from __future__ import annotations

import copy

import pytest

from stadslab import operations as ops
from stadslab.errors import RawBSNDetected, ValidationFailed
from stadslab.ingest import fastpath
from stadslab.workspace import Workspace
from tests.conftest import INCIDENTS, elfproef_bsn
from tests.scale.conftest import incident_csv



def _load(b, text: str, entry: dict | None = None, encoding: str = "utf-8"):
    b.dataset(entry or copy.deepcopy(INCIDENTS))
    b.file("incidenten.csv", text, encoding=encoding)
    ws = Workspace(b.root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        res = ops.ingest_dataset(ws, wh, cat, "incidenten")
        prov = wh.provenance("incidenten")
        table = wh.table_name("incidenten")
        rows = wh.con.execute(f"SELECT * FROM {table} ORDER BY __row").fetchall()
        cols = [r[0] for r in wh.con.execute(f"DESCRIBE {table}").fetchall()]
        rejects = wh.rejects("incidenten")
    return res, prov, cols, rows, rejects


def test_clean_file_takes_fast_path_and_equals_text_path(shared, monkeypatch):
    text = incident_csv(3000)
    res, prov, cols, rows, _ = _load(shared, text)
    assert prov["reader_options"]["route"] == "snel"
    assert res.rows_loaded == 3000 and res.rows_read == 3000
    monkeypatch.setattr(fastpath, "ENABLED", False)
    res2, prov2, cols2, rows2, _ = _load(shared, text)
    assert prov2["reader_options"]["route"] == "tekst" and res2.version == res.version + 1
    assert cols == cols2 and rows == rows2                        # every column, every row, __row included
    assert prov["area_stats"] == prov2["area_stats"] and prov["null_markers"] == prov2["null_markers"] == {}


def test_bad_value_falls_back_with_row_precise_rejects(shared):
    text = incident_csv(50).splitlines()
    text[7] = text[7].replace(";woninginbraak;", ";diefstal;").replace(";autokraak;", ";diefstal;") \
        .replace(";fietsdiefstal;", ";diefstal;")
    entry = copy.deepcopy(INCIDENTS)
    entry["load"] = {"on_invalid": "reject", "max_reject_share": 0.5}
    res, prov, _, rows, rejects = _load(shared, "\n".join(text) + "\n", entry)
    assert prov["reader_options"]["route"] == "tekst"
    assert any("tekstroute" in w for w in res.warnings)
    assert res.rows_rejected == 1 and len(rows) == 49
    assert rejects[0]["row"] == 8 and rejects[0]["column"] == "Soort" and "codelijst" in rejects[0]["reason"]


def test_bad_value_with_on_invalid_fail_names_the_row(shared):
    text = incident_csv(20).splitlines()
    text[4] = text[4].rsplit(";", 3)[0] + ";-5;136000.0;455000.0"
    with pytest.raises(ValidationFailed) as exc:
        _load(shared, "\n".join(text) + "\n")
    assert "rij 5" in str(exc.value) and "Schade" in str(exc.value)


def test_null_markers_are_counted_on_the_text_path(shared):
    text = incident_csv(30).splitlines()
    text[3] = text[3].rsplit(";", 3)[0] + ";.;136000.0;455000.0"
    res, prov, *_ = _load(shared, "\n".join(text) + "\n")
    assert prov["reader_options"]["route"] == "tekst" and prov["null_markers"] == {"schade": 1}


def test_duplicate_in_unique_field_is_caught(shared):
    text = incident_csv(30).splitlines()
    text[5] = "B0" + text[5][text[5].index(";"):]
    with pytest.raises(ValidationFailed) as exc:
        _load(shared, "\n".join(text) + "\n")
    assert "uniek" in str(exc.value)


def test_record_over_two_lines_keeps_line_numbers(shared):
    lines = incident_csv(10).splitlines()
    entry = copy.deepcopy(INCIDENTS)
    entry["fields"].append({"name": "opmerking", "source": "Opmerking", "type": "string"})
    lines = [lines[0] + ";Opmerking"] + [ln + ";ok" for ln in lines[1:]]
    lines[3] = lines[3][:-2] + '"twee\nregels"'
    res, prov, _, rows, _ = _load(shared, "\n".join(lines) + "\n", entry)
    assert prov["reader_options"]["route"] == "tekst"
    by_id = {r[0]: r for r in rows}
    row_col = 6 + 1
    assert by_id["B2"][row_col] == 4 and by_id["B3"][row_col] == 6     # B2 spans lines 4 and 5


def test_raw_bsn_column_is_refused_on_the_fast_path(shared):
    import random

    rng = random.Random(3)
    entry = copy.deepcopy(INCIDENTS)
    entry["fields"].append({"name": "kenmerk", "source": "Kenmerk", "type": "integer"})
    lines = incident_csv(200).splitlines()
    lines = [lines[0] + ";Kenmerk"] + [ln + ";" + elfproef_bsn(rng) for ln in lines[1:]]
    with pytest.raises(RawBSNDetected):
        _load(shared, "\n".join(lines) + "\n", entry)


def test_latin1_dutch_file_still_loads(shared):
    from tests.conftest import GOOD_CSV

    res, prov, *_ = _load(shared, GOOD_CSV.lstrip(), encoding="latin-1")
    assert res.rows_loaded == 4 and prov["null_markers"] == {"schade": 1}


def test_file_larger_than_the_memory_limit_loads(shared, tmp_path):
    """DuckDB streams the fast path and spills where it must: a CSV larger than the memory limit loads."""
    import duckdb

    shared.dataset(copy.deepcopy(INCIDENTS))
    csv = shared.root / "data" / "incidenten.csv"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'B' || i AS "Incident ID", (['woninginbraak','autokraak','fietsdiefstal'])[1 + i % 3] AS "Soort",
        strftime(TIMESTAMP '2023-01-01' + to_seconds(i % 30000000), '%d-%m-%Y %H:%M') AS "Datum/tijd",
        (i % 900)::VARCHAR AS "Schade (euro)", round(128000 + (hash(i) % 14000), 1) AS "X",
        round(449000 + (hash(i * 3) % 13000), 1) AS "Y" FROM range(1800000) t(i)) TO '{csv}' (DELIMITER ';', HEADER)""")
    con.close()
    assert csv.stat().st_size > 100e6
    ws = Workspace(shared.root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        wh.con.execute(f"SET memory_limit = '100MB'; SET threads = 1; SET temp_directory = '{tmp_path / 'spill'}'")
        res = ops.ingest_dataset(ws, wh, cat, "incidenten")
        assert wh.provenance("incidenten")["reader_options"]["route"] == "snel", res.warnings
    assert res.rows_loaded == 1_800_000
