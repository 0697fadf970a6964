"""Fixtures for the effect tests: a small simulated frame shaped like the linked frame (in DuckDB via Ibis)."""

from __future__ import annotations

import sys
from pathlib import Path

import ibis
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import synthetic_frame  # noqa: E402


@pytest.fixture(scope="session")
def frame_df():
    return synthetic_frame(3000)


@pytest.fixture(scope="session")
def frame(frame_df):
    con = ibis.duckdb.connect()
    return con.create_table("linked", frame_df)
