"""The demo's analyses through Spark Connect (the way a municipality reaches a managed cluster)
give DuckDB's figures."""

from __future__ import annotations

import pytest

from tests.scale.parity import analyses, compare, on_duckdb, spark_wh

pytestmark = pytest.mark.spark


def test_spark_connect_gives_duckdb_figures(scale_ws, connect_backend, tmp_path):
    expected = on_duckdb(scale_ws, tmp_path / "duck")
    with scale_ws.warehouse() as wh:
        sw = spark_wh(scale_ws, wh, connect_backend)
        assert "connect" in type(sw.table("incidenten")._find_backend()._session).__module__
        (tmp_path / "spark").mkdir()
        compare(expected, analyses(sw, scale_ws.catalog(), tmp_path / "spark"))
