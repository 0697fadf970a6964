"""The scale-out backend: the same Ibis expressions on Apache Spark (PySpark).

A dataset version is exported to Parquet (the hand-over format for a cluster) and registered as a
Spark view; ``ibis.pyspark`` then runs the analyses unchanged. Locally ``local[2]`` runs offline.
Geometry columns stay behind: analyses group by area codes, not geometries.
"""

from __future__ import annotations

from pathlib import Path

from stadslab.warehouse.store import Warehouse, qident


def spark_session(master: str = "local[2]", app_name: str = "stadslab"):
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


def spark_backend(session=None):
    import ibis

    return ibis.pyspark.connect(session or spark_session())


def export_parquet(wh: Warehouse, dataset: str, folder: Path, version: int | None = None) -> Path:
    """Write a dataset version (without geometry columns) to ``folder/<dataset>__<n>.parquet``."""
    table = wh.table_name(dataset, version)
    n = version if version is not None else wh.current_version(dataset)
    geo = [r[0] for r in wh.con.execute(f"DESCRIBE {table}").fetchall() if r[1].startswith("GEOMETRY")]
    exclude = f" EXCLUDE ({', '.join(qident(c) for c in geo)})" if geo else ""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{dataset}__{n}.parquet"
    wh.con.execute(f"COPY (SELECT *{exclude} FROM {table}) TO '{out}' (FORMAT parquet)")
    return out


def spark_table(backend, parquet: Path, name: str):
    """Register a Parquet export as a Spark view and return its Ibis table."""
    session = backend._session
    session.read.parquet(str(parquet)).createOrReplaceTempView(name)
    return backend.table(name)
