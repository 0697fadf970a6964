"""A load killed half-way (SIGKILL at a chosen point) leaves neither the warehouse nor the lake with a
partial version: the reader's rule (version number from the warehouse, manifest present) never sees
one, and reconcile at open removes the leftovers. Also: no analysis module imports DuckDB."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stadslab import operations as ops
from stadslab.warehouse import engine as E
from stadslab.warehouse import lake as L
from tests.conftest import REPO

LOAD = """
import sys
from stadslab import operations as ops
from stadslab.workspace import Workspace
from pathlib import Path
ws = Workspace(Path(sys.argv[1])); cat = ws.catalog()
with ws.warehouse() as wh:
    ops.ingest_dataset(ws, wh, cat, "incidenten")
"""


def _kill_load_at(root: Path, point: str, tmp: Path) -> None:
    marker = tmp / f"paused-{point}"
    env = {**os.environ, "STADSLAB_TEST_PAUSE": point, "STADSLAB_TEST_PAUSE_MARKER": str(marker),
           "STADSLAB_TEST_PAUSE_SECONDS": "120", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", LOAD, str(root)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = time.time() + 120
    while not marker.exists():
        if proc.poll() is not None or time.time() > end:
            proc.kill()
            raise AssertionError(f"load did not reach {point}: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)


def _lake_versions(lake: L.Lake, dataset: str) -> list[str]:
    folder = Path(lake.root) / dataset
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("point", ["lake-write", "lake-renamed", "commit"])
def test_killed_load_leaves_no_partial_version(builder, tmp_path, point):
    from tests.conftest import INCIDENTS
    from tests.scale.conftest import incident_csv
    from stadslab.workspace import Workspace
    import yaml

    builder.with_utrecht_buurten().dataset(INCIDENTS)
    builder.file("incidenten.csv", incident_csv(2000))
    (builder.root / "stadslab.yaml").write_text(yaml.safe_dump({"lake": "lake"}))
    ws = Workspace(builder.root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        for d in ops.load_order(list(cat)):
            ops.ingest_dataset(ws, wh, cat, d.id)
    lake = E.settings(ws.root, ws.config).lake
    assert _lake_versions(lake, "incidenten") == ["v=1"]

    _kill_load_at(ws.root, point, tmp_path)
    left = _lake_versions(lake, "incidenten")
    if point == "lake-write":
        assert any(n.startswith(".tmp-") for n in left)          # the half-written copy, never named v=2
    if point == "lake-renamed":
        assert "v=2" in left                                      # complete in the lake, not committed
    with ws.warehouse() as wh:
        assert wh.current_version("incidenten") == 1 and [v["version"] for v in wh.versions("incidenten")] == [1]
        report = L.reconcile(wh.con, lake)                      # what engine.wrap and every lake write run first
        assert _lake_versions(lake, "incidenten") == ["v=1"], report
        res = ops.ingest_dataset(ws, wh, cat, "incidenten")      # the next load takes number 2 cleanly
        assert res.version == 2
        m = L.read_manifest(lake, "incidenten", 2, "open")
        assert m["rows"] == 2000 and L.verify(lake, m)


ANALYSES = REPO / "stadslab" / "analyses"


def test_no_analysis_module_imports_duckdb():
    """Analyses are Ibis expressions so that they run on Spark too: a direct DuckDB import is a bug."""
    offenders = []
    for py in sorted(ANALYSES.rglob("*.py")):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "duckdb" or n.startswith("duckdb.") for n in names):
                offenders.append(f"{py.relative_to(REPO)}:{node.lineno}")
    assert not offenders, "analysemodules horen Ibis te gebruiken, niet duckdb: " + ", ".join(offenders)

