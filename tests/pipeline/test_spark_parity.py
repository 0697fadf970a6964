"""The same Ibis aggregation on DuckDB and on PySpark local[2] gives the same result."""

from __future__ import annotations

import pytest

from stadslab import operations as ops
from stadslab.analyses.monitoring import counts_per_area
from stadslab.workspace import Workspace

from tests.conftest import DEMO_DATA

pytestmark = pytest.mark.spark

GRONINGEN = DEMO_DATA / "groningen" / "fietsdiefstal"


@pytest.fixture(scope="module")
def spark():
    from stadslab.warehouse.spark import spark_backend, spark_session

    session = spark_session()
    yield spark_backend(session)
    session.stop()


def test_ingested_dataset_aggregates_identically_on_duckdb_and_spark(incident_ws, spark, tmp_path):
    import pandas as pd
    from stadslab.warehouse.spark import export_parquet, spark_table

    rows = ["Incident ID;Soort;Datum/tijd;Schade (euro);X;Y"]
    import random
    rng = random.Random(11)
    kinds = ["woninginbraak", "autokraak", "fietsdiefstal"]
    for i in range(3000):
        rows.append(f"B{i};{rng.choice(kinds)};{rng.randint(1, 28):02d}-0{rng.randint(1, 9)}-2023 12:00;"
                    f"{rng.randint(0, 900)};{rng.uniform(128000, 142000):.1f};{rng.uniform(449000, 462000):.1f}")
    incident_ws.file("incidenten.csv", "\n".join(rows) + "\n")
    ws = Workspace.resolve(incident_ws.root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        for d in ops.load_order(list(cat)):
            ops.ingest_dataset(ws, wh, cat, d.id)
        expr_args = dict(by=["wijk_code", "soort"], time_column="tijd",
                         start=pd.Timestamp("2023-03-01"), end=pd.Timestamp("2023-08-01"))
        on_duckdb = counts_per_area(wh.table("incidenten"), **expr_args).to_pandas()
        parquet = export_parquet(wh, "incidenten", tmp_path / "export")
    on_spark = counts_per_area(spark_table(spark, parquet, "incidenten"), **expr_args).to_pandas()
    key = ["wijk_code", "soort"]
    a = on_duckdb.sort_values(key, na_position="first").reset_index(drop=True)
    b = on_spark.sort_values(key, na_position="first").reset_index(drop=True)
    assert len(a) > 20 and a["n"].sum() > 1000
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
