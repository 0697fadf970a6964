"""The fast path after issue 16's speed work: a parallel scan numbered by the written row order, the
area look-up on plain lists — still the text path's table, line numbers and messages."""

from __future__ import annotations

import copy

import pytest

from stadslab import operations as ops
from stadslab.errors import ValidationFailed
from stadslab.ingest import fastpath
from stadslab.workspace import Workspace
from tests.conftest import INCIDENTS
from tests.scale.conftest import incident_csv



def _load(b, entry: dict, files: dict[str, str]):
    b.dataset(entry)
    for name, text in files.items():
        b.file(name, text)
    ws = Workspace(b.root)
    with ws.warehouse() as wh:
        res = ops.ingest_dataset(ws, wh, ws.catalog(), entry["id"])
        prov = wh.provenance(entry["id"])
        table = wh.table_name(entry["id"])
        cols = [r[0] for r in wh.con.execute(f"DESCRIBE {table}").fetchall()]
        rows = wh.con.execute(f"SELECT * FROM {table} ORDER BY __file, __row").fetchall()
        # __row rises by one in the order a reader scans the version (a view has no rowid)
        scanned = [r[0] for r in wh.con.execute(f"SELECT __row FROM {table}").fetchall()]
        in_order = sum(1 for a, b in zip(scanned, scanned[1:]) if b != a + 1)
    return res, prov, cols, rows, in_order


def _both_routes(b, entry: dict, files: dict[str, str], monkeypatch):
    fast = _load(b, copy.deepcopy(entry), files)
    assert fast[1]["reader_options"]["route"] == "snel", fast[0].warnings
    with monkeypatch.context() as m:
        m.setattr(fastpath, "ENABLED", False)
        text = _load(b, copy.deepcopy(entry), files)
    assert text[1]["reader_options"]["route"] == "tekst"
    return fast, text


EVERY_TYPE = {
    "id": "alles", "title": "Alle typen (test)", "owner": "Test", "classification": "open",
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "alles.csv"},
    "fields": [
        {"name": "code", "source": "Code", "type": "string", "nullable": False, "unique": True},
        {"name": "aantal", "source": "Aantal", "type": "integer", "range": {"min": 0}},
        {"name": "bedrag", "source": "Bedrag", "type": "number"},
        {"name": "actief", "source": "Actief", "type": "boolean"},
        {"name": "dag", "source": "Dag", "type": "date"},
        {"name": "moment", "source": "Moment", "type": "datetime"},
        {"name": "uur", "source": "Uur", "type": "time"},
        {"name": "x", "source": "X", "type": "number", "role": "x"},
        {"name": "y", "source": "Y", "type": "number", "role": "y"},
    ],
}


def _every_type_csv(n: int) -> str:
    lines = ["Code;Aantal;Bedrag;Actief;Dag;Moment;Uur;X;Y"]
    for i in range(n):
        lines.append(f"C{i};{i % 97};{i % 1000},{i % 100:02d};{'ja' if i % 3 else 'nee'};"
                     f"{1 + i % 28:02d}-{1 + i % 12:02d}-2024;2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d};"
                     f"{i % 24:02d}:{i % 60:02d};{128000 + (i * 37) % 14000},5;{449000 + (i * 53) % 13000},25")
    lines[5] = lines[5].replace(";ja;", ";;").replace(";nee;", ";;")          # an empty cell
    lines[7] = lines[7].rsplit(";", 2)[0] + ";;"                           # no coordinates
    lines[9] = lines[9].rsplit(";", 2)[0] + ";90000;400000"               # outside every buurt
    return "\n".join(lines) + "\n"


def test_every_type_fast_path_equals_text_path(shared, monkeypatch):
    fast, text = _both_routes(shared, EVERY_TYPE, {"alles.csv": _every_type_csv(3000)}, monkeypatch)
    assert fast[2] == text[2] and fast[3] == text[3]                  # every column, every row, __row too
    assert fast[1]["area_stats"] == text[1]["area_stats"]
    assert fast[1]["area_stats"]["no_coordinates"] == 1 and fast[1]["area_stats"]["outside"] >= 1


def test_rows_numbered_in_file_order_across_row_groups(shared, monkeypatch):
    """More rows than two DuckDB row groups (122 880): the parallel scan writes them in file order."""
    n = 250_000
    fast, text = _both_routes(shared, copy.deepcopy(INCIDENTS), {"incidenten.csv": incident_csv(n)}, monkeypatch)
    assert fast[0].rows_loaded == n and fast[4] == 0                 # __row rises by one in the table's order
    assert fast[3] == text[3]
    by_id = {r[0]: r[6] for r in fast[3]}
    assert by_id["B0"] == 2 and by_id[f"B{n - 1}"] == n + 1 and by_id["B200000"] == 200_002


def test_bad_value_deep_in_a_large_file_names_its_row(shared):
    lines = incident_csv(200_000).splitlines()
    lines[180_000] = lines[180_000].rsplit(";", 3)[0] + ";-5;136000.0;455000.0"
    with pytest.raises(ValidationFailed) as exc:
        _load(shared, copy.deepcopy(INCIDENTS), {"incidenten.csv": "\n".join(lines) + "\n"})
    assert "rij 180001" in str(exc.value) and "Schade" in str(exc.value)


def test_two_files_keep_their_line_numbers(shared, monkeypatch):
    entry = copy.deepcopy(INCIDENTS)
    entry["id"], entry["source"] = "incidenten_twee", {"path": "deel_*.csv"}
    a, b = incident_csv(400, seed=1), incident_csv(300, seed=2).replace("\nB", "\nD")
    fast, text = _both_routes(shared, entry, {"deel_1.csv": a, "deel_2.csv": b}, monkeypatch)
    assert fast[3] == text[3] and fast[0].rows_loaded == 700
    first = {(r[0], r[7]): r[6] for r in fast[3]}
    assert first[("B0", "deel_1.csv")] == 2 and first[("D0", "deel_2.csv")] == 2
