"""Ingest speed against plain references (issue: foundation, performance).

1. A generated 5 M-row incident CSV with RD coordinates, ingested by Stadslab with validation and
   buurt assignment against Utrecht's 111 buurten, versus plain DuckDB ``read_csv`` into a table.
2. A generated 100 k-row XLSX ingested by Stadslab versus python-calamine reading the sheet.

Prints both times and ratios, each with the machine's load average (1 min) when it was taken (a
shared machine: compare ratios from one run, never seconds across runs); the last line reads
``ingest ratio csv=X.XX xlsx=Y.YY csv_peak_rss_mb=N load=L``.
Usage: .venv/bin/python bench/ingest.py [--rows 5000000] [--xlsx-rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab import operations as ops  # noqa: E402
from stadslab.warehouse.connection import connect  # noqa: E402
from stadslab.workspace import Workspace  # noqa: E402

BUURTEN = REPO / "data/demo/utrecht/boundaries_2024/utrecht_buurten_2024_rd.geojson"
FIELDS = [
    {"name": "incident_id", "type": "integer", "nullable": False},
    {"name": "soort", "type": "string", "codes": ["woninginbraak", "autokraak", "fietsdiefstal", "vernieling"]},
    {"name": "tijd", "type": "datetime", "role": "time", "format": "%Y-%m-%d %H:%M:%S"},
    {"name": "schade", "type": "number", "range": {"min": 0}},
    {"name": "x", "type": "number", "role": "x"},
    {"name": "y", "type": "number", "role": "y"},
]


def workspace(root: Path, source: str, fields: list[dict], options: dict | None = None) -> Workspace:
    (root / "catalog").mkdir(parents=True)
    (root / "data").mkdir()
    shutil.copy(BUURTEN, root / "data" / "buurten.geojson")
    (root / "catalog" / "buurten.yaml").write_text(yaml.safe_dump({
        "id": "buurten", "title": "Buurten 2024", "owner": "CBS", "classification": "open",
        "areas": {"level": "buurt", "year": 2024, "code_field": "buurtcode", "name_field": "buurtnaam",
                  "parent_field": "wijkcode"},
        "geography": {"level": "polygon"}, "source": {"path": "buurten.geojson"},
        "fields": [{"name": "buurtcode", "type": "string"}, {"name": "buurtnaam", "type": "string"},
                   {"name": "wijkcode", "type": "string"}, {"name": "geom", "type": "geometry", "role": "geometry"}]}))
    (root / "catalog" / "incidenten.yaml").write_text(yaml.safe_dump({
        "id": "incidenten", "title": "Incidenten", "owner": "Politie", "classification": "open",
        "geography": {"level": "point", "division_year": 2024},
        "source": {"path": source, "options": options or {}}, "fields": fields}))
    return Workspace(root)


def generate_csv(path: Path, rows: int) -> None:
    con = connect()
    con.execute(f"""COPY (SELECT i AS incident_id,
        (['woninginbraak','autokraak','fietsdiefstal','vernieling'])[1 + (hash(i) % 4)::INT] AS soort,
        TIMESTAMP '2020-01-01' + to_seconds((hash(i * 7) % 126230400)::BIGINT) AS tijd,
        round((hash(i * 3) % 500000) / 100.0, 2) AS schade,
        round(127000 + (hash(i * 11) % 1600000) / 100.0, 1) AS x,
        round(448000 + (hash(i * 13) % 1500000) / 100.0, 1) AS y
        FROM range({rows}) t(i)) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()


def generate_xlsx(path: Path, rows: int) -> None:
    import random

    import xlsxwriter

    rng = random.Random(1)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Incidenten")
    ws.write_row(0, 0, [f["name"] for f in FIELDS])
    kinds = FIELDS[1]["codes"]
    for r in range(1, rows + 1):
        ws.write_row(r, 0, [r, kinds[r % 4], f"2023-{1 + r % 12:02d}-{1 + r % 28:02d} 12:{r % 60:02d}:00",
                            rng.randint(0, 5000) / 10, 127000 + rng.random() * 16000, 448000 + rng.random() * 15000])
    wb.close()


def csv_load_rss(root: Path, source: Path) -> tuple[float, float, str]:
    """In a fresh process: the buurten, a first load of ``source`` and the timed next version; returns
    (seconds of the next version, peak RSS in MB of that process, route taken)."""
    import resource

    ws = workspace(root, source.name, FIELDS)
    shutil.copy(source, root / "data" / source.name)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        ops.ingest_dataset(ws, wh, cat, "buurten")
        ops.ingest_dataset(ws, wh, cat, "incidenten")
        t0 = time.perf_counter()
        ops.ingest_dataset(ws, wh, cat, "incidenten")
        seconds = time.perf_counter() - t0
        route = wh.provenance("incidenten")["reader_options"].get("route", "?")
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, route


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="stadslab-bench-"))
    try:
        csv = tmp / "incidenten.csv"
        generate_csv(csv, args.rows)
        print(f"csv: {args.rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB")

        def plain_csv():
            con = connect(tmp / "plain.duckdb")
            con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{csv}')")
            con.close()

        counter = iter(range(100))

        def stadslab_ingest(source: Path, fields, options=None):
            """Each run: a fresh workspace; the first load of the file also builds the buurt lookup
            raster (once per area division, then cached in the warehouse) and is reported apart;
            the timed load is the next version of the same file, as every dagmonitor refresh is."""
            def run():
                root = tmp / f"ws{next(counter)}"
                ws = workspace(root, source.name, fields, options)
                shutil.copy(source, root / "data" / source.name)  # not timed separately: small vs the load
                cat = ws.catalog()
                with ws.warehouse() as wh:
                    ops.ingest_dataset(ws, wh, cat, "buurten")
                    t0 = time.perf_counter()
                    ops.ingest_dataset(ws, wh, cat, "incidenten")
                    run.first.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    res = ops.ingest_dataset(ws, wh, cat, "incidenten")
                    run.seconds.append(time.perf_counter() - t0)
                    run.result = res
            run.seconds, run.first = [], []
            return run

        # the two sides in turn (plain, Stadslab, plain, …): a shared machine's load drifts, so each
        # side's best time comes from the same stretch of the run
        ing = stadslab_ingest(csv, FIELDS)
        plains = []
        for _ in range(args.repeat):
            plains.append(best(plain_csv, 1))
            ing()
        t_plain, t_ing = min(plains), min(ing.seconds)
        print("csv pairs (read_csv s, Stadslab s): " + ", ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(plains, ing.seconds)))
        a = ing.result.area_stats
        print(f"csv plain duckdb read_csv: {t_plain:.2f} s ({load()})")
        print(f"csv stadslab ingest (validation + buurt assignment): {t_ing:.2f} s "
              f"({ing.result.rows_loaded:,} rows, {a['assigned_share']:.1%} in a buurt); "
              f"first load incl. building the buurt lookup raster: {min(ing.first):.2f} s ({load()})")

        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            secs, rss, route = pool.submit(csv_load_rss, tmp / "ws_rss", csv).result()
        print(f"csv {args.rows:,}-row load in a fresh process: {secs:.2f} s, route '{route}', "
              f"peak RSS {rss:.0f} MB (file {csv.stat().st_size / 1e6:.0f} MB; {load()})")

        xlsx = tmp / "incidenten.xlsx"
        generate_xlsx(xlsx, args.xlsx_rows)
        from python_calamine import CalamineWorkbook

        ing_x = stadslab_ingest(xlsx, FIELDS)
        cals = []
        for _ in range(args.repeat):
            cals.append(best(lambda: CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python(), 1))
            ing_x()
        t_cal, t_x = min(cals), min(ing_x.seconds)
        print("xlsx pairs (calamine s, Stadslab s): " + ", ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(cals, ing_x.seconds)))
        print(f"xlsx calamine read: {t_cal:.2f} s ({load()})")
        print(f"xlsx stadslab ingest: {t_x:.2f} s ({ing_x.result.rows_loaded:,} rows); "
              f"first load incl. raster: {min(ing_x.first):.2f} s ({load()})")
        print(f"ingest ratio csv={t_ing / t_plain:.2f} xlsx={t_x / t_cal:.2f} csv_peak_rss_mb={rss:.0f} "
              f"load={os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
