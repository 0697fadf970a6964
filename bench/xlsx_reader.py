"""Micro-benchmark: the spreadsheet reader against python-calamine alone on a generated XLSX.

    .venv/bin/python bench/xlsx_reader.py [--rows 100000] [--repeat 5] [--file /tmp/x.xlsx]
    .venv/bin/python bench/xlsx_reader.py --csv 5000000      # the CSV reader against plain read_csv

Baseline = ``CalamineWorkbook.from_path(p).get_sheet_by_name(s).to_python()`` (parse + Python objects).
Reader   = ``read_spreadsheet`` into a registered Arrow table (layout detection, text conversion, __row).
Runs are interleaved and the best of each is compared, because the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

import python_calamine
import xlsxwriter

from stadslab.ingest.readers import reader_for
from stadslab.warehouse.connection import connect


def generate(path: Path, rows: int) -> None:
    """A police-export-like sheet: ~10 columns of numbers, dates, date-times, text, and '.' markers."""
    rnd = random.Random(1)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Data")
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    tfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.write_row(0, 0, ["Registratienummer", "Pleegdatum", "Tijdstip", "Wijk", "Buurt", "Delict", "Aantal",
                        "Schade", "X", "Y"])
    base = dt.datetime(2024, 1, 1)
    delicten = ["Diefstal fiets", "Inbraak woning", "Vernieling"]
    for i in range(1, rows + 1):
        ws.write_number(i, 0, 1_000_000 + i)
        ws.write_datetime(i, 1, (base + dt.timedelta(days=i % 365)).date(), dfmt)
        ws.write_datetime(i, 2, base + dt.timedelta(minutes=i * 7), tfmt)
        ws.write_string(i, 3, f"Wijk {i % 10:02d}")
        ws.write_string(i, 4, f"Buurt {i % 97}")
        ws.write_string(i, 5, rnd.choice(delicten))
        ws.write_number(i, 6, i % 5)
        if i % 11:
            ws.write_number(i, 7, round(rnd.random() * 1000, 2))
        else:
            ws.write_string(i, 7, ".")
        ws.write_number(i, 8, 130_000 + i % 5000)
        ws.write_number(i, 9, 450_000 + i % 7000)
    wb.close()


def bench_csv(rows: int, repeat: int) -> None:
    """CSV reader (sniff, header, __row with the line-break count) against a plain all-VARCHAR read_csv."""
    path = Path(f"/tmp/stadslab_bench_csv_{rows}.csv")
    con = connect()
    if not path.exists():
        con.execute(f"""COPY (SELECT i AS id, 'PL0100_BVH_' || i AS code, 'Straat ' || (i % 997) AS straat,
            (i % 500)::VARCHAR AS nr, '9715PZ' AS pc, 'Groningen' AS plaats,
            TIMESTAMP '2017-01-01' + to_seconds(i * 7) AS tijd, (i % 13) * 1.5 AS temp,
            230000 + (i % 5000) AS x, 580000 + (i % 7000) AS y FROM range(1, {rows + 1}) t(i))
            TO '{path}' (HEADER, DELIMITER ',')""")
    reader = reader_for(path)
    base, ours = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE plain AS SELECT * FROM read_csv('{path}', all_varchar = true)")
        base.append(time.perf_counter() - t)
        con.execute("DROP TABLE plain")
        t = time.perf_counter()
        result = reader.read(con, path, {}, "bench")
        ours.append(time.perf_counter() - t)
        con.execute("DROP TABLE bench")
    print(f"rows={result.rows} size={path.stat().st_size / 1e6:.0f} MB")
    print(f"plain read_csv: best {min(base):.3f} s  median {sorted(base)[len(base) // 2]:.3f} s")
    print(f"csv reader:     best {min(ours):.3f} s  median {sorted(ours)[len(ours) // 2]:.3f} s")
    print(f"ratio (best/best): {min(ours) / min(base):.2f}  (median/median): "
          f"{sorted(ours)[len(ours) // 2] / sorted(base)[len(base) // 2]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--file", type=Path, default=Path("/tmp/stadslab_bench_xlsx_reader.xlsx"))
    ap.add_argument("--csv", type=int, metavar="ROWS", help="benchmark the CSV reader on a generated file instead")
    args = ap.parse_args()
    if args.csv:
        bench_csv(args.csv, args.repeat)
        return
    if not args.file.exists():
        t = time.perf_counter()
        generate(args.file, args.rows)
        print(f"generated {args.file} ({args.rows} rows) in {time.perf_counter() - t:.1f} s")
    con = connect()
    reader = reader_for(args.file)
    base, ours = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        python_calamine.CalamineWorkbook.from_path(str(args.file)).get_sheet_by_name("Data").to_python()
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = reader.read(con, args.file, {}, "bench")
        ours.append(time.perf_counter() - t)
    print(f"rows={result.rows} columns={len(result.columns)}")
    print(f"calamine alone: best {min(base):.3f} s  median {sorted(base)[len(base) // 2]:.3f} s")
    print(f"reader:         best {min(ours):.3f} s  median {sorted(ours)[len(ours) // 2]:.3f} s")
    print(f"ratio (best/best): {min(ours) / min(base):.2f}")


if __name__ == "__main__":
    main()
