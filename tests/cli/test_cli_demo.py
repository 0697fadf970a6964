"""The CLI on the demo workspace, as a data-lab analyst uses it."""

from __future__ import annotations

import json

from tests.conftest import run_cli


def status(ws) -> dict:
    return {r["id"]: r for r in json.loads(run_cli("status", "-w", str(ws), "--json").stdout)}


def test_demo_loads_every_dataset_without_hand_editing(demo_ws):
    from stadslab.workspace import Workspace

    streams = {d.id for d in Workspace.resolve(demo_ws).catalog() if d.stream is not None}   # append-only, no file
    rows = status(demo_ws)
    assert len(rows) >= 10 and streams
    for ds_id, r in rows.items():
        if ds_id in streams:
            continue
        assert r["version"] is not None, f"{ds_id} not loaded"
        assert r["rows"] > 0 and r["rejected_rows"] == 0, ds_id
        assert set(r) >= {"id", "version", "rows", "rejected_rows"}


def test_groningen_incidents_get_a_buurt_code(demo_ws):
    g = status(demo_ws)["groningen_fietsdiefstal"]
    assert g["rows"] == 15947
    assert g["area_assigned_share"] >= 0.99
    out = json.loads(run_cli("versions", "groningen_fietsdiefstal", "-w", str(demo_ws), "--json").stdout)
    stats = out["versions"][-1]["area_stats"]
    assert stats["assigned"] + stats["outside"] + stats["no_coordinates"] == 15947
    assert len(stats["outside_sample"]) == min(20, stats["outside"] + stats["no_coordinates"]) or stats["outside"] == 0


def test_official_cbs_xlsx_loads_with_utrecht_population(demo_ws):
    out = json.loads(run_cli("query", "SELECT a_inw FROM cbs_kwb_utrecht_2024 WHERE gwb_code_10 = 'GM0344'",
                             "-w", str(demo_ws), "--json").stdout)
    assert out == [{"a_inw": 374238}]
    sums = json.loads(run_cli("query", "SELECT recs, sum(a_inw) AS s FROM cbs_kwb_utrecht_2024 GROUP BY recs",
                              "-w", str(demo_ws), "--json").stdout)
    by_level = {r["recs"]: r["s"] for r in sums}
    # CBS rounds small wijk/buurt counts, so the parts fall a few persons short of the whole (as published)
    for level in ("Wijk", "Buurt"):
        assert 0 <= 374238 - by_level[level] <= 0.0005 * 374238, (level, by_level[level])


def test_area_registry_holds_the_bundled_divisions(demo_ws):
    out = json.loads(run_cli("query", "SELECT year, level, count(*) AS n FROM stadslab.areas GROUP BY ALL ORDER BY ALL",
                             "-w", str(demo_ws), "--json").stdout)
    got = {(r["year"], r["level"]): r["n"] for r in out}
    assert got[(2024, "buurt")] == 111 and got[(2024, "wijk")] == 10
    assert got[(2013, "buurt")] == 111
    assert got[(2021, "wijk")] == 99
    assert got[(2017, "buurt")] > 50


def test_query_is_read_only(demo_ws):
    proc = run_cli("query", "DROP TABLE stadslab.versions", "-w", str(demo_ws), check=False)
    assert proc.returncode == 7
    assert "alleen-lezen" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_second_refresh_reloads_nothing(demo_ws):
    out = json.loads(run_cli("refresh", "-w", str(demo_ws), "--json").stdout)
    assert out == {"reloaded": []}


def test_unknown_dataset_gives_catalog_exit_code(demo_ws):
    proc = run_cli("ingest", "bestaat_niet", "-w", str(demo_ws), check=False)
    assert proc.returncode == 3
    assert "onbekende dataset 'bestaat_niet'" in proc.stderr and "Traceback" not in proc.stderr
