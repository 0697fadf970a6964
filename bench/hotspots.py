"""Time grid_hotspots (Gi* on the 125 m grid + FDR + cell geometry) on real and synthetic data.

1. Groningen bicycle thefts 2013–2017 (~16 k incidents): from a workspace's warehouse when
   ``--workspace`` is given (Ibis table, counted in DuckDB), else from the bundled CSV (pandas,
   cell ids computed here as the ingest does: ``E<floor(x/125)>N<floor(y/125)>``).
2. A synthetic city of 1 M points (25 × 25 km, ~40 k cells; clustered + uniform background),
   passed as an Ibis memtable so the counting runs in DuckDB as it would in the app.

Each figure is the median of ``--repeat`` runs. Last line: ``hotspots grid_ms=N`` (Groningen).
Usage: .venv/bin/python bench/hotspots.py [--workspace DIR] [--repeat 5] [--points 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import ibis
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab.analyses.hotspots import grid_hotspots  # noqa: E402

CSV = REPO / "data" / "demo" / "groningen" / "fietsdiefstal" / "fietsdiefstallen_groningen_2013_2017.csv"


def groningen_table(workspace: str | None, stack: ExitStack):
    if workspace:
        from stadslab.workspace import Workspace

        wh = stack.enter_context(Workspace.resolve(workspace).warehouse(read_only=True))
        return wh.table("groningen_fietsdiefstal"), "warehouse (Ibis/DuckDB)"
    d = pd.read_csv(CSV, usecols=["X", "Y"])
    ok = d.X.notna() & d.Y.notna()
    ix = np.floor(d.X[ok] / 125).astype(np.int64).astype(str)
    iy = np.floor(d.Y[ok] / 125).astype(np.int64).astype(str)
    return pd.DataFrame({"grid_125m": "E" + ix + "N" + iy}), "CSV (pandas)"


def synthetic(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x0, y0, size = 120_000.0, 480_000.0, 25_000.0
    n_bg = n // 2
    centres = rng.uniform(2_000, size - 2_000, (60, 2))
    which = rng.integers(0, len(centres), n - n_bg)
    clustered = centres[which] + rng.normal(0, rng.uniform(80, 600, len(centres))[which, None], (n - n_bg, 2))
    pts = np.vstack([rng.uniform(0, size, (n_bg, 2)), clustered]) + [x0, y0]
    ix = np.floor(pts[:, 0] / 125).astype(np.int64).astype(str)
    iy = np.floor(pts[:, 1] / 125).astype(np.int64).astype(str)
    return pd.DataFrame({"grid_125m": np.char.add(np.char.add(np.char.add("E", ix), "N"), iy)})


def timed(fn, repeat: int) -> tuple[float, pd.DataFrame]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def report(name: str, ms: float, out: pd.DataFrame) -> None:
    a = out.attrs
    print(f"{name}: {ms:.0f} ms median; {a['n_points']} points, {a['n_cells']} cells, "
          f"hot {a['n_hot']}, cold {a['n_cold']} (FDR) vs {a['n_significant_unadjusted']} p<alpha unadjusted")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--points", type=int, default=1_000_000)
    args = ap.parse_args()

    stack = ExitStack()
    table, source = groningen_table(args.workspace, stack)
    ms, out = timed(lambda: grid_hotspots(table), args.repeat)
    report(f"Groningen fietsdiefstal from {source}", ms, out)
    ms_perm, out_p = timed(lambda: grid_hotspots(table, permutations=9999), 1)
    report("Groningen, 9999 conditional permutations", ms_perm, out_p)

    t0 = time.perf_counter()
    big = synthetic(args.points)
    print(f"synthetic {args.points} points generated in {(time.perf_counter() - t0):.1f} s")
    ms_pd, out_big = timed(lambda: grid_hotspots(big), max(1, args.repeat // 2))
    report(f"synthetic {args.points} points, pandas input", ms_pd, out_big)
    ms_np, _ = timed(lambda: grid_hotspots(big, polygons=False), max(1, args.repeat // 2))
    print(f"synthetic {args.points} points, pandas input, without polygons: {ms_np:.0f} ms median")
    mem = ibis.memtable(big)
    ms_ib, out_ib = timed(lambda: grid_hotspots(mem), max(1, args.repeat // 2))
    report(f"synthetic {args.points} points, Ibis memtable (DuckDB counts)", ms_ib, out_ib)
    stack.close()
    print(f"hotspots grid_ms={ms:.0f}")


if __name__ == "__main__":
    main()
