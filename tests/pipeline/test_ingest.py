"""The schema-driven ingest: Dutch formats, validation reports, rejects, drift, the BSN guard."""

from __future__ import annotations

import random

import pytest

from stadslab import operations as ops
from stadslab.errors import RawBSNDetected, SchemaDrift, ValidationFailed
from stadslab.workspace import Workspace

from tests.conftest import elfproef_bsn
from tests.conftest import BAD_CSV


def load_all(ws: Workspace):
    cat = ws.catalog()
    with ws.warehouse() as wh:
        return [ops.ingest_dataset(ws, wh, cat, d.id) for d in ops.load_order(list(cat))]


def test_dutch_formats_markers_and_area_assignment(incident_ws):
    ws = Workspace.resolve(incident_ws.root)
    results = {r.dataset: r for r in load_all(ws)}
    inc = results["incidenten"]
    assert inc.rows_read == 4 and inc.rows_loaded == 4 and inc.rows_rejected == 0
    assert inc.area_stats["assigned"] == 2
    assert inc.area_stats["outside"] == 1 and inc.area_stats["no_coordinates"] == 1
    with ws.warehouse(read_only=True) as wh:
        rows = wh.con.execute("SELECT incident_id, schade, tijd::VARCHAR, buurt_code, wijk_code, grid_125m "
                              "FROM incidenten ORDER BY incident_id").fetchall()
        prov = wh.provenance("incidenten")
    assert rows[0][1] == pytest.approx(1250.5)               # decimal comma + thousands point
    assert rows[0][2] == "2017-09-21 07:40:00"                # Dutch date format
    assert rows[0][4] == "WK034406"                           # Domtoren: wijk 06 Binnenstad
    assert rows[0][5] == "E1094N3647"
    assert rows[1][1] is None                                 # CBS marker '.' became NULL ...
    assert prov["null_markers"] == {"schade": 1}              # ... and was counted
    assert rows[2][3] is None                                 # outside every buurt: kept, flagged
    assert prov["reader_options"]["decimal"] == ","
    assert prov["source_files"][0]["sha256"] and prov["rows_loaded"] == 4


def test_invalid_rows_refused_with_report_and_previous_version_stays(incident_ws):
    ws = Workspace.resolve(incident_ws.root)
    load_all(ws)
    incident_ws.file("incidenten.csv", BAD_CSV)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        with pytest.raises(ValidationFailed) as info:
            ops.ingest_dataset(ws, wh, cat, "incidenten")
        report = info.value.report
        assert report.invalid_rows == 3
        text = str(info.value)
        assert "incidenten.csv, rij 3, kolom 'Soort': waarde 'diefstal'" in text
        assert "codelijst" in text
        assert "rij 4, kolom 'Datum/tijd'" in text and "verwacht een datum met tijd" in text
        assert "rij 5, kolom 'Schade (euro)': waarde '-5'" in text and "minimum 0" in text
        # the last good version is still the current one and queryable
        assert wh.current_version("incidenten") == 1
        assert wh.con.execute("SELECT count(*) FROM incidenten").fetchone()[0] == 4
        assert wh.loads("incidenten", limit=1)[0]["status"] == "mislukt"


def test_reject_mode_sets_invalid_rows_apart(incident_ws, incidents_entry):
    incidents_entry["load"] = {"on_invalid": "reject", "max_reject_share": 0.9}
    incident_ws.dataset(incidents_entry)
    incident_ws.file("incidenten.csv", BAD_CSV)
    ws = Workspace.resolve(incident_ws.root)
    results = {r.dataset: r for r in load_all(ws)}
    assert results["incidenten"].rows_loaded == 1 and results["incidenten"].rows_rejected == 3
    with ws.warehouse(read_only=True) as wh:
        rejects = wh.rejects("incidenten")
    assert [(r["row"], r["column"]) for r in rejects] == [(3, "Soort"), (4, "Datum/tijd"), (5, "Schade (euro)")]
    assert all(r["reason"] for r in rejects)


def test_reject_mode_still_refuses_a_mostly_broken_file(incident_ws, incidents_entry):
    incidents_entry["load"] = {"on_invalid": "reject", "max_reject_share": 0.1}
    incident_ws.dataset(incidents_entry)
    incident_ws.file("incidenten.csv", BAD_CSV)
    ws = Workspace.resolve(incident_ws.root)
    with pytest.raises(ValidationFailed, match="max_reject_share"):
        load_all(ws)


def test_schema_drift_rename_is_reported(incident_ws):
    incident_ws.file("incidenten.csv", "Incident ID;Soort;Datum tijd;Schade (euro);X;Y;Nieuw\nA1;autokraak;21-09-2017 07:40;5;136000;455000;z\n")
    ws = Workspace.resolve(incident_ws.root)
    with pytest.raises(SchemaDrift) as info:
        load_all(ws)
    assert "'Datum/tijd' ontbreekt; lijkt hernoemd naar 'Datum tijd'" in str(info.value)


def test_new_column_is_a_warning_and_alias_accepts_rename(incident_ws, incidents_entry):
    incidents_entry["fields"][2]["aliases"] = ["Pleegdatum"]
    incident_ws.dataset(incidents_entry)
    incident_ws.file("incidenten.csv", "Incident ID;Soort;Pleegdatum;Schade (euro);X;Y;Extra\nA1;autokraak;21-09-2017 07:40;5;136000;455000;z\n")
    ws = Workspace.resolve(incident_ws.root)
    res = {r.dataset: r for r in load_all(ws)}["incidenten"]
    assert res.rows_loaded == 1
    assert any("'Extra'" in w for w in res.warnings)
    assert any("alias" in w for w in res.warnings)


def test_raw_bsn_column_is_refused_whatever_its_name(builder):
    rng = random.Random(7)
    lines = ["klantnummer,bedrag"] + [f"{elfproef_bsn(rng)},{i}" for i in range(200)]
    builder.file("uitkeringen.csv", "\n".join(lines) + "\n")
    builder.dataset({"id": "uitkeringen", "title": "Uitkeringen", "owner": "Werk en Inkomen",
                     "classification": "persoonsgegevens", "purposes": ["onderzoek"],
                     "source": {"path": "uitkeringen.csv"},
                     "fields": [{"name": "klantnummer", "type": "string"}, {"name": "bedrag", "type": "integer"}]})
    ws = Workspace.resolve(builder.root)
    with pytest.raises(RawBSNDetected) as info:
        load_all(ws)
    msg = str(info.value)
    assert "uitkeringen" in msg and "'klantnummer'" in msg and "200 van 200" in msg
    with ws.warehouse(read_only=True) as wh:
        assert wh.current_version("uitkeringen") is None


@pytest.mark.parametrize("fmt, sql_type", [("parquet", "DOUBLE"), ("parquet", "DECIMAL(12,1)"),
                                           ("xlsx", "number cells")])
def test_raw_bsns_stored_as_fractional_numbers_are_refused(builder, fmt, sql_type):
    """Attack: BSNs in a column of a fractional type (a spreadsheet's number cells, a Parquet DOUBLE)
    read as '123456782.0'; the guard reads such numbers as their digits."""
    import duckdb

    bsns = [elfproef_bsn(random.Random(i)) for i in range(200)]
    path = builder.root / "data" / f"uitkeringen.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        con = duckdb.connect()
        con.execute("CREATE TABLE t (klant VARCHAR, bedrag INTEGER)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [[b, i] for i, b in enumerate(bsns)])
        con.execute(f"COPY (SELECT CAST(klant AS {sql_type}) AS klantnummer, bedrag FROM t) TO '{path}' (FORMAT parquet)")
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        sheet = wb.add_worksheet("Blad1")
        sheet.write_row(0, 0, ["klantnummer", "bedrag"])
        for i, b in enumerate(bsns):
            sheet.write_row(i + 1, 0, [int(b), i])
        wb.close()
    builder.dataset({"id": "uitkeringen", "title": "Uitkeringen", "owner": "Werk en Inkomen",
                     "classification": "persoonsgegevens", "purposes": ["onderzoek"],
                     "source": {"path": path.name},
                     "fields": [{"name": "klantnummer", "type": "number"}, {"name": "bedrag", "type": "integer"}]})
    ws = Workspace.resolve(builder.root)
    with pytest.raises(RawBSNDetected) as info:
        load_all(ws)
    assert "'klantnummer'" in str(info.value)
    with ws.warehouse(read_only=True) as wh:
        assert wh.current_version("uitkeringen") is None


def test_raw_bsns_as_text_cells_of_a_spreadsheet_are_refused(builder):
    """Attack on the spreadsheet route, whose guard first skips columns in Arrow that cannot hold a BSN
    (guard.may_hold_bsn): BSNs as text cells in the spellings people use, next to text, dates and
    coordinates that the pre-check skips. A registered stage must not outlive the refused load."""
    import xlsxwriter

    rng = random.Random(5)
    path = builder.root / "data" / "uitkeringen.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    sheet = wb.add_worksheet("Blad1")
    sheet.write_row(0, 0, ["naam", "dossier", "datum", "x"])
    for i in range(300):
        b = elfproef_bsn(rng)
        spelled = (b, f"{b[:4]}.{b[4:6]}.{b[6:]}", f"{b[:3]} {b[3:6]} {b[6:]}")[i % 3]
        sheet.write_row(i + 1, 0, [f"persoon {i}", spelled, f"2024-01-{1 + i % 28:02d}", 136000.25 + i])
    wb.close()
    builder.dataset({"id": "uitkeringen", "title": "Uitkeringen", "owner": "Werk en Inkomen",
                     "classification": "persoonsgegevens", "purposes": ["onderzoek"],
                     "source": {"path": path.name},
                     "fields": [{"name": "naam", "type": "string"}, {"name": "dossier", "type": "string"},
                                {"name": "datum", "type": "date"}, {"name": "x", "type": "number"}]})
    ws = Workspace.resolve(builder.root)
    import gc

    import pyarrow as pa

    with ws.warehouse() as wh:
        held = pa.total_allocated_bytes()
        with pytest.raises(RawBSNDetected) as info:
            ops.ingest_dataset(ws, wh, ws.catalog(), "uitkeringen")
        message = str(info.value)
        del info                                       # its traceback holds the load's frames
        gc.collect()
        assert pa.total_allocated_bytes() == held      # the connection let go of the sheet's Arrow table
        assert wh.current_version("uitkeringen") is None
        left = wh.con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'temp' "
                              "AND table_name LIKE '%stage%'").fetchall()
        assert left == []
    assert "'dossier'" in message and "300 van 300" in message


def test_random_nine_digit_numbers_are_not_mistaken_for_bsn(builder):
    rng = random.Random(3)
    lines = ["ordernummer"] + [str(rng.randint(100_000_000, 999_999_999)) for _ in range(500)]
    builder.file("orders.csv", "\n".join(lines) + "\n")
    builder.dataset({"id": "orders", "title": "Orders", "owner": "Inkoop", "classification": "intern",
                     "source": {"path": "orders.csv"}, "fields": [{"name": "ordernummer", "type": "string"}]})
    ws = Workspace.resolve(builder.root)
    assert load_all(ws)[0].rows_loaded == 500
