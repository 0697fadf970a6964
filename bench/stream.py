"""Stream ingest over HTTP (issue 11): sustained readings per second and the p99 acknowledgement time.

A real ``stadslab serve`` (its own process, uvicorn on 127.0.0.1) over a workspace with the 8,025 real Den
Haag containers in the register; ``--clients`` threads post JSON batches of ``--batch`` readings to
``POST /api/stream/denhaag_containervulling`` with a source token, each waiting for its acknowledgement
(200 = committed in DuckDB) before sending the next, for ``--seconds``. Every reading is new (unique
sensor and time), validated against the register and appended with its batch's provenance.
Bodies are made before the clock starts, so the figure is the server's.

Last line: ``stream readings_per_s=N p99_ms=M``.
Usage: .venv/bin/python bench/stream.py [--seconds 30] [--batch 1000] [--clients 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab import operations as ops  # noqa: E402
from stadslab.demo.container_sim import REGISTER  # noqa: E402
from stadslab.ingest.stream_tokens import create_token  # noqa: E402
from stadslab.web.launch import running_server  # noqa: E402
from stadslab.workspace import Workspace  # noqa: E402

DS = "denhaag_containervulling"
CATALOG = REPO / "stadslab" / "demo" / "catalog"


def make_workspace(root: Path) -> Workspace:
    (root / "catalog").mkdir(parents=True)
    (root / "data" / "denhaag" / "containers").mkdir(parents=True)
    (root / "stadslab.yaml").write_text("municipality: {name: Den Haag, gemeente_code: GM0518, division_year: 2024}\n")
    shutil.copy(REGISTER, root / "data/denhaag/containers" / REGISTER.name)
    for name in ("denhaag_containerregister.yaml", "denhaag_containervulling.yaml"):
        shutil.copy(CATALOG / name, root / "catalog" / name)
    ws = Workspace(root)
    with ws.warehouse() as wh:
        ops.ingest_dataset(ws, wh, ws.catalog(), "denhaag_containerregister")
    return ws


def bodies(n_batches: int, batch: int, start: datetime) -> list[bytes]:
    ids = [f"DH-{i:05d}" for i in range(1, 8026)]
    out, k = [], 0
    for _ in range(n_batches):
        rows = []
        for _ in range(batch):
            t = start + timedelta(seconds=(k // len(ids)) * 10)
            rows.append({"sensor_id": ids[k % len(ids)], "tijd": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "vulgraad": round((k * 7) % 1000 / 10, 1), "batterij": 88.5})
            k += 1
        out.append(json.dumps({"readings": rows}).encode())
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--max-rate", type=float, default=60_000, help="readings/s to prepare bodies for")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="stadslab-bench-stream-"))
    try:
        ws = make_workspace(tmp / "ws")
        token = create_token(ws, DS, "bench")
        n = int(a.max_rate * a.seconds / a.batch) + a.clients
        print(f"{n} batches van {a.batch} metingen voorbereiden…", file=sys.stderr)
        pool = bodies(n, a.batch, datetime.now(timezone.utc) - timedelta(days=20))
        with running_server(ws.root, ready=f"/api/stream/{DS}/status") as base:
            host, port = base.removeprefix("http://").split(":")
            lock = threading.Lock()
            latencies: list[float] = []
            done = [0]
            nxt = [0]
            stop_at = [0.0]

            def client() -> None:
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                while time.perf_counter() < stop_at[0]:
                    with lock:
                        i = nxt[0]
                        nxt[0] += 1
                    if i >= len(pool):
                        break
                    t0 = time.perf_counter()
                    conn.request("POST", f"/api/stream/{DS}", body=pool[i], headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                    dt = time.perf_counter() - t0
                    if resp.status != 200:
                        raise RuntimeError(f"{resp.status}: {body[:300]!r}")
                    got = json.loads(body)
                    with lock:
                        latencies.append(dt)
                        done[0] += got["nieuw"]
                conn.close()

            # warm-up: one batch (table creation, register cache)
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("POST", f"/api/stream/{DS}", body=pool[0], headers={"Authorization": f"Bearer {token}"})
            assert conn.getresponse().status == 200
            nxt[0] = 1
            t_start = time.perf_counter()
            stop_at[0] = t_start + a.seconds
            threads = [threading.Thread(target=client) for _ in range(a.clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - t_start
        lat = sorted(latencies)
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = done[0] / elapsed
        print(f"{done[0]:,} metingen in {elapsed:.1f} s met {a.clients} clients, batches van {a.batch}: "
              f"{rate:,.0f} metingen/s; bevestiging p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(lat)} batches)")
        print(f"stream readings_per_s={rate:.0f} p99_ms={p99:.0f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
