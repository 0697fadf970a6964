"""Benchmark: the open data portal on a 1 M-row open dataset, 10 concurrent clients.

    .venv/bin/python bench/portal.py [--rows 1000000] [--clients 10] [--requests 40] [--keep DIR]

1. Builds a workspace with one generated open dataset ``bench_meldingen`` (seed 42): 1,000,000 rows of
   meldingen with melding_id, categorie (8 codes), status (3), kanaal (5), wijk_code (10 Utrecht wijken),
   buurt_code (99 buurten), datum (2020–2024) and bedrag; written as Parquet and loaded with
   ``stadslab refresh`` (the normal ingest path).
2. Starts the portal with uvicorn in a separate process (a FastAPI app with only the portal router,
   rate limiting off), so that the clients do not share the server's interpreter.
3. Runs ``datastore_search`` with a filter (categorie, status and a wijk, drawn at random) and facet
   counts for categorie, status, kanaal and wijk_code, limit 20, from 10 concurrent clients:
   - phase ``koud``: every request is a different filter combination (no cache hits possible);
   - phase ``gemengd``: filters drawn from the 8 × 3 × 11 = 264 combinations (as real users repeat).
   Prints p50/p95/max per phase; the last line is ``portal p95_ms=N`` for the cold phase (worst case).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = ["afval", "verlichting", "groen", "overlast", "verkeer", "riolering", "graffiti", "fietswrak"]
STATUSES = ["open", "in behandeling", "afgehandeld"]
CHANNELS = ["app", "website", "telefoon", "balie", "e-mail"]
WIJKEN = [f"WK0344{i:02d}" for i in range(1, 11)]


def build_workspace(root: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    rng = np.random.default_rng(42)
    (root / "catalog").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "stadslab.yaml").write_text(yaml.safe_dump({
        "municipality": {"name": "Utrecht", "gemeente_code": "GM0344"},
        "portal": {"rate_limit": {"requests": 10_000_000, "per_seconds": 1}}}))
    wijk = rng.integers(0, 10, rows)
    buurt = wijk * 10 + rng.integers(0, 10, rows)
    table = pa.table({
        "melding_id": [f"M{i:07d}" for i in range(rows)],
        "categorie": np.array(CATEGORIES)[rng.choice(8, rows, p=[.3, .2, .15, .1, .1, .05, .05, .05])],
        "status": np.array(STATUSES)[rng.integers(0, 3, rows)],
        "kanaal": np.array(CHANNELS)[rng.integers(0, 5, rows)],
        "wijk_code": np.array(WIJKEN)[wijk],
        "buurt_code": [f"BU0344{b // 10 + 1:02d}{b % 10:02d}" for b in buurt],
        "datum": (np.datetime64("2020-01-01") + rng.integers(0, 5 * 365, rows).astype("timedelta64[D]")),
        "bedrag": np.round(rng.gamma(2.0, 40.0, rows), 2),
    })
    pq.write_table(table, root / "data" / "meldingen.parquet")
    entry = {
        "id": "bench_meldingen", "title": "Meldingen (benchmark, gegenereerd)", "owner": "Gemeente Utrecht",
        "classification": "open", "licence": "CC0 1.0", "theme": "openbare ruimte",
        "description": "1 miljoen gegenereerde meldingen voor bench/portal.py.",
        "source": {"path": "meldingen.parquet", "reader": "parquet"},
        "fields": [{"name": "melding_id", "type": "string"}, {"name": "categorie", "type": "string", "codes": CATEGORIES},
                   {"name": "status", "type": "string", "codes": STATUSES}, {"name": "kanaal", "type": "string"},
                   {"name": "wijk_code", "type": "string"}, {"name": "buurt_code", "type": "string"},
                   {"name": "datum", "type": "date"}, {"name": "bedrag", "type": "number"}],
    }
    (root / "catalog" / "bench_meldingen.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True))
    t0 = time.perf_counter()
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "stadslab"), "refresh", "-w", str(root), "--json"],
                          capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stdout + proc.stderr)
    print(f"werkruimte: {rows:,} rijen geladen in {time.perf_counter() - t0:.1f} s ({root})", file=sys.stderr)


def serve(root: str, port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from stadslab.portal import build_router
    from stadslab.web.state import AppState
    from stadslab.workspace import Workspace

    app = FastAPI()
    app.include_router(build_router(AppState(Workspace(Path(root)))))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_phase(url: str, name: str, filters: list[dict], clients: int) -> list[float]:
    import httpx

    times: list[float] = []
    lock = threading.Lock()
    chunks = [filters[i::clients] for i in range(clients)]
    facets = json.dumps(["categorie", "status", "kanaal", "wijk_code"])

    def client(chunk: list[dict]) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            for f in chunk:
                t0 = time.perf_counter()
                r = c.get("/api/3/action/datastore_search", params={
                    "resource_id": "bench_meldingen", "filters": json.dumps(f), "facet.field": facets, "limit": 20})
                dt = (time.perf_counter() - t0) * 1000
                assert r.status_code == 200 and r.json()["success"], r.text[:300]
                with lock:
                    times.append(dt)

    threads = [threading.Thread(target=client, args=(ch,)) for ch in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(times, n=100)
    print(f"{name:8s} n={len(times)} p50={q[49]:.0f} ms p95={q[94]:.0f} ms max={max(times):.0f} ms "
          f"({len(times) / wall:.0f} verzoeken/s)")
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--requests", type=int, default=40, help="per client per phase")
    ap.add_argument("--keep", type=Path, help="keep/reuse the workspace in this folder")
    ap.add_argument("--serve", nargs=2, metavar=("WS", "PORT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve[0], int(a.serve[1]))
        return
    root = a.keep or Path(tempfile.mkdtemp(prefix="stadslab-bench-portal-")) / "ws"
    if not (root / "warehouse.duckdb").exists():
        build_workspace(root, a.rows)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(root), str(port)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/3/action/package_list", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        rng = random.Random(7)
        n = a.clients * a.requests
        # cold: distinct combinations only (categorie × status × wijk × one of 200 buurten-or-none per request)
        combos = [{"categorie": c, "status": s, "wijk_code": w} for c in CATEGORIES for s in STATUSES for w in WIJKEN]
        rng.shuffle(combos)
        cold = [{**combos[i % len(combos)], **({"kanaal": CHANNELS[i // len(combos)]} if i >= len(combos) else {})}
                for i in range(n)]
        assert len({json.dumps(f, sort_keys=True) for f in cold}) == n, "cold phase needs distinct filters"
        t0 = time.perf_counter()
        httpx.get(f"{url}/api/3/action/datastore_search", params={"resource_id": "bench_meldingen", "limit": 1}, timeout=60)
        print(f"eerste verzoek (registry opbouwen): {(time.perf_counter() - t0) * 1000:.0f} ms")
        cold_times = run_phase(url, "koud", cold, a.clients)
        mixed = [{"categorie": rng.choice(CATEGORIES), "status": rng.choice(STATUSES),
                  **({"wijk_code": rng.choice(WIJKEN)} if rng.random() < 10 / 11 else {})} for _ in range(n)]
        run_phase(url, "gemengd", mixed, a.clients)
        print(f"portal p95_ms={statistics.quantiles(cold_times, n=100)[94]:.0f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
