"""The same Ibis aggregation on DuckDB and on PySpark local[2] gives the same result, with the engine
chosen in stadslab.yaml (``engine: spark``) and Spark reading the lake copy the ingest committed.
The real-cluster versions (standalone master + workers, Spark Connect) are in tests/scale/."""

from __future__ import annotations

import random

import pandas as pd
import pytest
import yaml

from stadslab import operations as ops
from stadslab.analyses.monitoring import counts_per_area
from stadslab.warehouse import engine as E
from stadslab.workspace import Workspace

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def stop_spark():
    yield
    for session in list(E._SESSIONS.values()):
        session.stop()
    E._SESSIONS.clear()


def test_ingested_dataset_aggregates_identically_on_duckdb_and_spark(incident_ws, stop_spark):
    rows = ["Incident ID;Soort;Datum/tijd;Schade (euro);X;Y"]
    rng = random.Random(11)
    kinds = ["woninginbraak", "autokraak", "fietsdiefstal"]
    for i in range(3000):
        rows.append(f"B{i};{rng.choice(kinds)};{rng.randint(1, 28):02d}-0{rng.randint(1, 9)}-2023 12:00;"
                    f"{rng.randint(0, 900)};{rng.uniform(128000, 142000):.1f};{rng.uniform(449000, 462000):.1f}")
    incident_ws.file("incidenten.csv", "\n".join(rows) + "\n")
    config = {"engine": "spark", "spark": {"master": "local[2]"}, "lake": "lake"}
    (incident_ws.root / "stadslab.yaml").write_text(yaml.safe_dump(config))
    ws = Workspace.resolve(incident_ws.root)
    cat = ws.catalog()
    expr_args = dict(by=["wijk_code", "soort"], time_column="tijd",
                     start=pd.Timestamp("2023-03-01"), end=pd.Timestamp("2023-08-01"))
    with ws.warehouse() as wh:
        for d in ops.load_order(list(cat)):
            ops.ingest_dataset(ws, wh, cat, d.id)
        on_duckdb = counts_per_area(wh.table("incidenten"), **expr_args).to_pandas()
        spark_wh = E.wrap(ws.root, ws.config, wh)
        assert isinstance(spark_wh, E.SparkWarehouse)
        on_spark = counts_per_area(spark_wh.table("incidenten"), **expr_args).to_pandas()
    key = ["wijk_code", "soort"]
    a = on_duckdb.sort_values(key, na_position="first").reset_index(drop=True)
    b = on_spark.sort_values(key, na_position="first").reset_index(drop=True)
    assert len(a) > 20 and a["n"].sum() > 1000
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
