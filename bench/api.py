"""API latency of the web app under 20 concurrent clients (issue #4: p95 ≤ 150 ms).

Starts ``stadslab serve`` on a demo workspace (built in a temp folder through the CLI unless
``--workspace`` names one) and measures, per endpoint, with N client threads each on its own
keep-alive connection:

- map:     the buurt choropleth of the Incidentenkaart (Groningen, real police data) and the monitor map
- table:   the incident table per buurt and the monitor table
- hotspot: the 125 m Gi* raster

Each client cycles through several filter sets (periods 14 d / 28 d / kwartaal / jaar, time of day,
weekday). Two phases, reported separately:

1. cold: one request per filter set, one at a time, on a fresh server — the cost of computing a layer
   the first time (the server caches computed layers per dataset version and filter set);
2. load: N clients at once, each cycling through the filter sets — latency as the meeting room sees it.

Prints both per endpoint; the last line is ``api p95_ms=N``: the worst endpoint's p95 under load.
Usage: .venv/bin/python bench/api.py [--workspace DIR] [--clients 20] [--requests 15]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
STADSLAB = REPO / ".venv" / "bin" / "stadslab"
sys.path.insert(0, str(REPO))

from stadslab.web.launch import running_server  # noqa: E402,F401 (map_page.py imports it from here)
G = "/api/incidenten/groningen_fietsdiefstal"
FILTERS = ["periode=28d", "periode=14d", "periode=kwartaal", "periode=jaar", "periode=28d&dagdeel=avond",
           "periode=kwartaal&dagdeel=nacht&dagdeel=avond", "periode=jaar&dag=6&dag=7", "periode=28d&dag=1"]
ENDPOINTS = {
    "map (incidenten buurten)": [f"{G}/buurten.geojson?{f}" for f in FILTERS],
    "map (monitor)": [f"/api/monitor/kaart.geojson?gebied={c}&jaar={y}" for c in ("GM0344", "WK034406", "WK034403")
                      for y in (2023, 2024)],
    "table (incidenten)": [f"{G}/tabel?{f}" for f in FILTERS],
    "table (monitor)": [f"/api/monitor/tabel?gebied={c}" for c in ("GM0344", "WK034401", "WK034409")],
    "hotspot (125 m raster)": [f"{G}/raster.geojson?{f}" for f in FILTERS],
}


@contextlib.contextmanager
def demo_workspace(path: str | None):
    if path:
        yield Path(path)
        return
    tmp = Path(tempfile.mkdtemp(prefix="stadslab-bench-"))
    try:
        ws = tmp / "ws"
        subprocess.run([str(STADSLAB), "init", str(ws), "--demo"], check=True, capture_output=True)
        subprocess.run([str(STADSLAB), "refresh", "-w", str(ws), "--json"], check=True, capture_output=True)
        yield ws
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(base: str, urls: list[str], clients: int, per_client: int) -> np.ndarray:
    times: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        local = []
        with httpx.Client(base_url=base, timeout=30) as c:
            c.get(urls[i % len(urls)])   # open the keep-alive connection first, as a browser tab has it
            start.wait()
            for k in range(per_client):
                url = urls[(i + k) % len(urls)]
                t = time.perf_counter()
                r = c.get(url)
                local.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    errors.append(f"{url}: {r.status_code}")
        with lock:
            times.extend(local)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("fouten: " + "; ".join(errors[:5]))
    return np.asarray(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=15, help="requests per client per endpoint")
    args = ap.parse_args()
    worst = 0.0
    with demo_workspace(args.workspace) as ws, running_server(ws) as base:
        print(f"server {base}, workspace {ws}, {args.clients} clients × {args.requests} requests per endpoint")
        with httpx.Client(base_url=base, timeout=30) as c:
            for name, urls in ENDPOINTS.items():
                cold = []
                for u in urls:
                    t = time.perf_counter()
                    c.get(u).raise_for_status()
                    cold.append((time.perf_counter() - t) * 1000)
                print(f"cold  {name:26s} first request per filter set: median {np.median(cold):6.1f} ms, "
                      f"max {max(cold):6.1f} ms ({len(urls)} sets)")
        for name, urls in ENDPOINTS.items():
            t0 = time.perf_counter()
            ms = measure(base, urls, args.clients, args.requests)
            wall = time.perf_counter() - t0
            p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
            worst = max(worst, p95)
            print(f"load  {name:26s} n={len(ms):4d}  p50={p50:6.1f} ms  p95={p95:6.1f} ms  max={ms.max():6.1f} ms  "
                  f"{len(ms) / wall:6.0f} req/s")
    print(f"api p95_ms={worst:.0f}")


if __name__ == "__main__":
    sys.exit(main())
