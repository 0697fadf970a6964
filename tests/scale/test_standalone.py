"""The demo's analyses on a standalone Spark cluster (master + two workers, driver in this process)
give DuckDB's figures, reading the lake copy of exactly the committed version."""

from __future__ import annotations

from pathlib import Path

import pytest

from stadslab.warehouse import engine as E
from stadslab.warehouse import lake as L
from tests.scale.parity import analyses, compare, on_duckdb, spark_wh

pytestmark = pytest.mark.spark


def test_standalone_cluster_gives_duckdb_figures(scale_ws, standalone_backend, tmp_path):
    expected = on_duckdb(scale_ws, tmp_path / "duck")
    with scale_ws.warehouse() as wh:
        sw = spark_wh(scale_ws, wh, standalone_backend)
        assert "spark" in type(sw.table("incidenten")._find_backend()).__module__
        (tmp_path / "spark").mkdir()
        compare(expected, analyses(sw, scale_ws.catalog(), tmp_path / "spark"))


def test_lake_holds_exactly_the_committed_versions(scale_ws):
    lake = E.settings(scale_ws.root, scale_ws.config).lake
    with scale_ws.warehouse() as wh:
        v = wh.current_version("incidenten")
        m = L.read_manifest(lake, "incidenten", v, "open")
        assert m is not None and m["rows"] == wh.provenance("incidenten")["rows_loaded"]
        assert L.verify(lake, m)
        assert wh.provenance("incidenten")["reader_options"]["lake"]["sha256"] == m["sha256"]   # provenance names it
        # a restricted dataset's lake copy (written on first use) is owner-only, apart from the open part
        uri = E.SparkWarehouse(wh, None, lake).lake_uri("hulp")
        hulp = Path(lake.folder("hulp", wh.current_version("hulp"), "persoonsgegevens"))
        assert uri == "file://" + str(hulp.resolve() / "data")
    assert hulp.exists() and "_restricted" in hulp.parts
    for p in [hulp, hulp.parent, hulp.parent.parent, *hulp.rglob("*")]:
        assert L.is_owner_only(p), p

