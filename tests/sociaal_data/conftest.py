"""Fixtures for the DDD data tests: one small SIMULATED workspace of our own (never .stadslab/demo),
built through the real chain (holders' kit → data lab re-key → refresh with retention)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from stadslab.workspace import DEMO_CATALOG, DEMO_DATA, init_workspace

SCALE = 0.05
SEED = 7
REFERENCE = date(2026, 12, 6)      # retention reference date of the first load (injected, not "today")
AREAS = ("utrecht_buurten_2024", "utrecht_wijken_2024")


@pytest.fixture(scope="session")
def ddd_ws(tmp_path_factory) -> Path:
    from stadslab.demo.ddd_pipeline import build_ddd_demo
    from stadslab.ingest.retention import ENV_REFERENCE
    from stadslab.operations import refresh_changed

    root = tmp_path_factory.mktemp("ddd") / "ws"
    ws = init_workspace(root)
    for a in AREAS:                   # the area registry, so buurt codes get wijk and gemeente codes
        shutil.copy2(DEMO_CATALOG / f"{a}.yaml", root / "catalog")
    shutil.copytree(DEMO_DATA / "utrecht" / "boundaries_2024", root / "data" / "utrecht" / "boundaries_2024")
    build_ddd_demo(root, scale=SCALE, seed=SEED)
    old = os.environ.get(ENV_REFERENCE)
    os.environ[ENV_REFERENCE] = REFERENCE.isoformat()
    try:
        with ws.warehouse() as wh:
            done = refresh_changed(ws, wh, ws.catalog())
    finally:
        if old is None:
            os.environ.pop(ENV_REFERENCE, None)
        else:
            os.environ[ENV_REFERENCE] = old
    assert all(r["status"] == "geladen" for r in done), done
    return root


@pytest.fixture(scope="session")
def frame(ddd_ws):
    from stadslab.analyses.sociaal import linked_frame
    from stadslab.workspace import Workspace

    ws = Workspace.resolve(ddd_ws)
    with ws.warehouse(read_only=True) as wh:
        return linked_frame(wh, ws.catalog()).to_pandas()


@pytest.fixture(scope="session")
def truth(ddd_ws):
    import pyarrow.parquet as pq

    return pq.read_table(ddd_ws.parent / "ws-bronhouders" / "ddd" / "ruw" / "waarheid_leerlingjaren.parquet").to_pandas()


@pytest.fixture(scope="session")
def to_project(ddd_ws):
    """BSN → project pseudonym, the way the chain computes it (source key, then the project key)."""
    import pyarrow as pa

    from stadslab.privacy.keys import load_key
    from stadslab.privacy.rekey import derive_project_key, rekey_array

    source = load_key(ddd_ws.parent / "ws-bronhouders" / "bronsleutel.key", kind="source")
    project = derive_project_key(load_key(ddd_ws.parent / "ws-datalab" / "master.key", kind="master"), "ddd")

    def convert(bsns: list[str]) -> tuple[list[str], list[str]]:
        src = [source.pseudonym(b) for b in bsns]
        return src, rekey_array(pa.array(src), project).to_pylist()
    return convert
