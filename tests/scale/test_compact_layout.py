"""Issue 16's compact version layout and the CSV reader's own conversions: what a reader of a version
sees is unchanged (columns, types, values, line numbers), what is written is the source's columns plus
an area id, and nothing is silent (a value the reader cannot convert still goes to the text path)."""

from __future__ import annotations

import copy

import pytest

from stadslab import operations as ops
from stadslab.ingest import fastpath
from stadslab.workspace import Workspace



MELDINGEN = {
    "id": "meldingen", "title": "Meldingen (test)", "owner": "Test", "classification": "open",
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "meldingen.csv"},
    "fields": [
        {"name": "nr", "source": "nr", "type": "integer", "nullable": False},
        {"name": "soort", "source": "soort", "type": "string", "codes": ["afval", "licht", "overlast"]},
        {"name": "moment", "source": "moment", "type": "datetime", "format": "%Y-%m-%d %H:%M:%S"},
        {"name": "dag", "source": "dag", "type": "date", "format": "%d-%m-%Y"},
        {"name": "bedrag", "source": "bedrag", "type": "number", "range": {"min": 0}},
        {"name": "x", "source": "x", "type": "number", "role": "x"},
        {"name": "y", "source": "y", "type": "number", "role": "y"},
    ],
}


def _csv(n: int, odd: dict[int, str] | None = None) -> str:
    lines = ["nr,soort,moment,dag,bedrag,x,y"]
    for i in range(n):
        lines.append(f"{i},{['afval', 'licht', 'overlast'][i % 3]},2024-{1 + i % 12:02d}-{1 + i % 28:02d} "
                     f"{i % 24:02d}:{i % 60:02d}:{i % 7:02d},{1 + i % 28:02d}-{1 + i % 12:02d}-2024,"
                     f"{(i * 37) % 5000 / 4},{128000 + (i * 37) % 14000}.5,{449000 + (i * 53) % 13000}.25")
    for line, text in (odd or {}).items():
        lines[line] = text
    return "\n".join(lines) + "\n"


# values both conversions accept alike: blanks around, exponent, sign, an empty cell; one row outside
# every buurt and one without coordinates
ODD = {3: "2,licht, 2024-01-03 02:02:02 ,03-01-2024, 12.5 ,1.285e5,+449106",
       5: "4,afval,,,,,",
       9: "8,overlast,2024-09-09 08:08:01,09-09-2024,0,90000,400000"}


def _load(b, entry: dict, text: str):
    b.dataset(entry)
    b.file(entry["source"]["path"], text)
    ws = Workspace(b.root)
    with ws.warehouse() as wh:
        res = ops.ingest_dataset(ws, wh, ws.catalog(), entry["id"])
        prov = wh.provenance(entry["id"])
        table = wh.table_name(entry["id"])
        described = wh.con.execute(f"DESCRIBE {table}").fetchall()
        rows = wh.con.execute(f"SELECT * FROM {table} ORDER BY __row").fetchall()
    return res, prov, [(r[0], r[1]) for r in described], rows


def _both_routes(b, entry: dict, text: str, monkeypatch):
    fast = _load(b, copy.deepcopy(entry), text)
    with monkeypatch.context() as m:
        m.setattr(fastpath, "ENABLED", False)
        slow = _load(b, copy.deepcopy(entry), text)
    assert slow[1]["reader_options"]["route"] == "tekst"
    return fast, slow


def _close(a: tuple, b: tuple) -> bool:
    return all(x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-9) for x, y in zip(a, b))


def test_reader_conversions_equal_the_text_path(shared, monkeypatch):
    fast, slow = _both_routes(shared, MELDINGEN, _csv(2000, ODD), monkeypatch)
    assert fast[1]["reader_options"]["route"] == "snel", fast[0].warnings
    assert set(fast[1]["reader_options"]["door_lezer_omgezet"]) == {"moment", "dag", "bedrag", "x", "y"}
    assert fast[2] == slow[2]                                            # names and types
    assert len(fast[3]) == len(slow[3]) == 2000
    assert all(_close(a, b) for a, b in zip(fast[3], slow[3]))          # every value, __row and __file too
    by_nr = {r[0]: r for r in fast[3]}
    assert by_nr[2][4] == 12.5 and by_nr[2][5] == 128500.0 and by_nr[2][-1] is not None   # blanks, 1.285e5, +
    assert fast[1]["area_stats"] == slow[1]["area_stats"]
    assert fast[1]["area_stats"]["no_coordinates"] == 1 and fast[1]["area_stats"]["outside"] >= 1


@pytest.mark.parametrize("bad, why", [("7,licht,2024-01-01 00:00:00,01-01-2024,.,128000,449000", "marker"),
                                      ("7,licht,2024-01-01 00:00:00,01-01-2024,12;5,128000,449000", "value"),
                                      ("7,licht,2024-13-01 00:00:00,01-01-2024,1,128000,449000", "date")])
def test_a_value_the_reader_cannot_convert_goes_to_the_text_path(shared, bad, why):
    entry = copy.deepcopy(MELDINGEN)
    res, prov, _, rows = _load(shared, {**entry, "load": {"on_invalid": "reject", "max_reject_share": 0.5}},
                               _csv(50, {8: bad}))
    assert prov["reader_options"]["route"] == "tekst"
    if why == "marker":      # a null marker: counted in provenance, the row kept
        assert prov["null_markers"] == {"bedrag": 1} and res.rows_loaded == 50
    else:                    # an invalid value: the row set aside with its line and reason
        assert res.rows_rejected == 1 and res.rows_loaded == 49 and 9 not in [r[7] for r in rows]


def test_point_version_is_a_view_over_the_source_columns_and_an_area_id(shared):
    _load(shared, copy.deepcopy(MELDINGEN), _csv(300))
    ws = Workspace(shared.root)
    with ws.warehouse() as wh:
        table = wh.table_name("meldingen").split(".", 1)[1].strip('"')
        kind = wh.con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'v' "
                              "AND table_name = ?", [table]).fetchone()[0]
        written = [r[0] for r in wh.con.execute(f'DESCRIBE v."{table}__data"').fetchall()]
        seen = [r[0] for r in wh.con.execute(f'DESCRIBE v."{table}"').fetchall()]
        codes = wh.con.execute(f'SELECT len(buurt) FROM v."{table}__codes"').fetchall()
        view_sql = wh.con.execute("SELECT sql FROM duckdb_views() WHERE schema_name = 'v' AND view_name = ?",
                                  [table]).fetchone()[0]
        # the view's codes are the registry's: a point in the Domtoren's buurt
        dom = wh.con.execute("SELECT buurt_code, wijk_code, gemeente_code, lon, lat FROM meldingen "
                             "WHERE buurt_code IS NOT NULL ORDER BY __row LIMIT 1").fetchone()
        registry = wh.con.execute("SELECT parent_code, gemeente_code FROM stadslab.areas WHERE code = ? AND year = 2024",
                                  [dom[0]]).fetchone()
    assert kind == "VIEW"
    assert written == ["nr", "soort", "moment", "dag", "bedrag", "x", "y", "__area"]
    assert seen == ["nr", "soort", "moment", "dag", "bedrag", "x", "y", "__row", "__file", "x_rd", "y_rd", "lon",
                    "lat", "buurt_code", "wijk_code", "gemeente_code", "grid_125m"]
    assert len(codes) == 1 and codes[0][0] > 50
    # the coordinates are read and checked once (helper sub-selects), not inside every lon/lat term:
    # written out, the view was 25 kB and DuckDB spent 7 ms planning it on every query
    assert view_sql.count("TRY_CAST") <= 6 and len(view_sql) < 6000, len(view_sql)
    assert (dom[1], dom[2]) == registry and 4.9 < dom[3] < 5.3 and 51.9 < dom[4] < 52.2


@pytest.mark.parametrize("points", [True, False])
def test_retention_writes_line_numbers_that_survive_the_deleted_rows(shared, points):
    """A bewaartermijn deletes rows from the new version: there the line number is written, not derived
    from the row's position (which the deleted rows would shift) — with and without point geometry."""
    entry = copy.deepcopy(MELDINGEN)
    entry["id"], entry["source"] = f"meldingen_termijn_{int(points)}", {"path": f"termijn_{int(points)}.csv"}
    if not points:
        del entry["geography"]
        for f in entry["fields"]:
            f.pop("role", None)
    entry["governance"] = {"bewaartermijn": {"field": "moment", "maanden": 6}}
    text = _csv(400)
    import os

    os.environ["STADSLAB_RETENTION_DATE"] = "2025-03-15"
    try:
        res, prov, _, rows = _load(shared, entry, text)
    finally:
        del os.environ["STADSLAB_RETENTION_DATE"]
    assert prov["reader_options"]["route"] == "snel"
    assert prov["reader_options"]["bewaartermijn"]["verwijderd"] > 0
    assert 0 < res.rows_loaded < 400
    lines = text.splitlines()
    for r in rows:                     # every kept row names its own line of the file
        assert lines[r[7] - 1].split(",")[0] == str(r[0])


def test_a_load_that_fails_after_writing_leaves_no_rows(shared, monkeypatch):
    """The rows are committed before the version's transaction; a load that fails after that drops
    them, and a killed one leaves them for the next open (tests/pipeline/test_versions.py)."""
    entry = copy.deepcopy(MELDINGEN)
    entry["id"], entry["source"] = "meldingen_mis", {"path": "mis.csv"}
    _load(shared, copy.deepcopy(entry), _csv(100))

    def broken(*_a, **_k):
        raise RuntimeError("stroom uitgevallen")

    monkeypatch.setattr("stadslab.ingest.retention.apply_retention", broken)
    with pytest.raises(Exception):
        _load(shared, copy.deepcopy(entry), _csv(120))
    ws = Workspace(shared.root)
    with ws.warehouse() as wh:
        left = {r[0] for r in wh.con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'v' "
                                             "AND table_name LIKE 'meldingen_mis%'").fetchall()}
        assert wh.current_version("meldingen_mis") == 1
    assert left == {"meldingen_mis__1__data", "meldingen_mis__1__codes"}
