"""Fixtures for the effect tests: a small simulated frame shaped like the linked frame (in DuckDB via Ibis)."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import synthetic_frame


@pytest.fixture(scope="session")
def frame_df():
    return synthetic_frame(3000)


@pytest.fixture(scope="session")
def frame(frame_df):
    con = ibis.duckdb.connect()
    return con.create_table("linked", frame_df)


AREAS = ("utrecht_buurten_2024", "utrecht_wijken_2024")
SCALE = 0.1
PARTNER = {"id": "school3", "name": "Zorgcoördinator school S003", "password": "school3-demo", "roles": ["school"],
           "purposes": ["sociaal_domein"], "scope": {"school": "S003"}}


@pytest.fixture(scope="session")
def ddd_ws(tmp_path_factory) -> Path:
    """A workspace with the area registry and helper A's SIMULATED DDD sources (scale 0.1), loaded through
    the real chain (holders pseudonymise, the lab re-keys, ``stadslab refresh``)."""


    from stadslab.demo.ddd_pipeline import ddd_workspace
    from stadslab.operations import refresh_changed
    from stadslab.privacy.passwords import hash_password
    from stadslab.workspace import Workspace, demo_config

    root = tmp_path_factory.mktemp("ddd") / "ws"
    config = demo_config()
    partner = {k: v for k, v in PARTNER.items() if k != "password"} | {"password_hash": hash_password(PARTNER["password"])}
    config["access"]["users"].append(partner)
    ddd_workspace(root, scale=SCALE, config=config)
    w = Workspace(root)
    with w.warehouse() as wh:           # what 'stadslab refresh' does, in this process (saves a start-up)
        done = refresh_changed(w, wh, w.catalog())
    assert all(r["status"] == "geladen" for r in done) and len(done) == 6, done
    return root
