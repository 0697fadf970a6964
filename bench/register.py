"""Render time of the project register with 100 projects (issue: p95 ≤ 300 ms).

Builds a workspace in a temp folder (``stadslab init``, no data needed), writes N project records generated
from the demo's records (ids p001…, every rung and status, closed phases, hypotheses, evaluations), starts a real
``stadslab serve`` and requests, one client at a time on a keep-alive connection:

- ``/projecten`` (the public register, all N projects),
- ``/projecten/<id>`` for every project (a project page with its live figures).

The first request after a change re-reads and checks the records (reported apart as ``cold_ms``); the register
caches them per file signature. Prints per page kind min/median/p95 and, last, ``register p95_ms=N`` (the worse
of the two p95 figures). Usage: .venv/bin/python bench/register.py [--projects 100] [--rounds 20]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
STADSLAB = REPO / ".venv" / "bin" / "stadslab"
sys.path.insert(0, str(REPO))

from stadslab.projects.model import RUNGS, STATUSES  # noqa: E402
from stadslab.web.launch import running_server  # noqa: E402


def write_projects(folder: Path, n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    templates = [yaml.safe_load(p.read_text(encoding="utf-8"))
                 for p in sorted((REPO / "stadslab" / "demo" / "projects").glob("*.yaml"))]
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(1, n + 1):
        raw = dict(templates[i % len(templates)])
        raw = yaml.safe_load(yaml.safe_dump(raw))       # deep copy
        raw["id"] = f"p{i:03d}"
        raw["name"] = f"{raw['name']} ({i})"
        raw["rung"] = RUNGS[i % len(RUNGS)]
        raw["status"] = STATUSES[rng.randrange(len(STATUSES))]
        raw.pop("uses", None)          # this workspace has no data: keep the records self-contained
        raw.pop("analyses", None)
        for h in raw.get("hypotheses", []):
            h.pop("evidence", None)
        raw.pop("algorithm_register", None)
        for side in (raw.get("public_value") or {}).values():
            if isinstance(side, dict):
                side.pop("indicators", None)
        (folder / f"{raw['id']}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
        ids.append(raw["id"])
    return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--projects", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run([str(STADSLAB), "init", str(ws)], check=True, capture_output=True)
        ids = write_projects(ws / "projects", args.projects)
        with running_server(ws, ready="/") as base, httpx.Client(base_url=base, timeout=60) as c:
            t0 = time.perf_counter()
            assert c.get("/projecten").status_code == 200
            cold = (time.perf_counter() - t0) * 1000
            timings: dict[str, list[float]] = {"register": [], "project": []}
            for r in range(args.rounds):
                t0 = time.perf_counter()
                resp = c.get("/projecten")
                timings["register"].append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200 and resp.text.count('class="project-kaart"') == args.projects
                pid = ids[(r * 7) % len(ids)]
                for p in (pid, ids[(r * 13 + 5) % len(ids)]):
                    t0 = time.perf_counter()
                    assert c.get(f"/projecten/{p}").status_code == 200
                    timings["project"].append((time.perf_counter() - t0) * 1000)
    worst = 0.0
    print(f"projects={args.projects} cold_ms={cold:.0f}")
    for kind, xs in timings.items():
        a = np.array(xs)
        p95 = float(np.percentile(a, 95))
        worst = max(worst, p95)
        print(f"{kind:9s} n={len(a)} min={a.min():.1f} ms median={np.median(a):.1f} ms p95={p95:.1f} ms")
    print(f"register p95_ms={worst:.0f}")


if __name__ == "__main__":
    main()
