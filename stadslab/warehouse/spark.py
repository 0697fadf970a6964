"""The scale-out backend: the same Ibis expressions on Apache Spark (PySpark).

Three ways to reach Spark, chosen in stadslab.yaml (see engine.py, docs/scale.md):
``spark.remote: sc://HOST:PORT`` (Spark Connect, how a municipality reaches a managed cluster),
``spark.master: spark://HOST:PORT`` (a standalone cluster; this process is the driver) or
``local[N]`` (tests). Tables come from the lake (warehouse/lake.py): the Parquet copy of exactly the
version the warehouse committed, registered as a Spark view; ``ibis.pyspark`` then runs the
analyses unchanged. Geometry arrives as WKB bytes: analyses group by area codes, not geometries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stadslab.warehouse.store import Warehouse, qident

DEFAULT_CONF = {
    "spark.sql.shuffle.partitions": "8",          # small aggregates: Spark's 200 default is pure overhead
    "spark.sql.session.timeZone": "UTC",          # timestamps as the warehouse stores them
    # results come back to this process as Arrow batches: Ibis's to_pandas/to_pyarrow call toPandas(),
    # which without Arrow builds a Python Row per result row (2.5 M cells: 46 s instead of 6 s, docs/scale.md)
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",         # AQE (Spark 4's default, stated): coalesces small shuffle partitions
}


def spark_session(master: str | None = "local[2]", app_name: str = "stadslab", *, remote: str | None = None,
                  conf: dict[str, Any] | None = None):
    """A SparkSession: Spark Connect when ``remote`` is given, else a driver in this process for
    ``master`` (``local[N]`` or ``spark://HOST:PORT``). Extra ``conf`` from stadslab.yaml."""
    from pyspark.sql import SparkSession

    settings = {**DEFAULT_CONF, **{k: str(v) for k, v in (conf or {}).items()}}
    if remote:
        builder = SparkSession.builder.remote(remote).appName(app_name)
        for k, v in settings.items():
            builder = builder.config(k, v)
        return builder.getOrCreate()
    # a Spark Connect session earlier in this process leaves pyspark in "connect mode": a classic
    # driver session is asked for explicitly here
    if "SPARK_REMOTE" not in os.environ:
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    builder = (SparkSession.builder.master(master or "local[2]").appName(app_name)
               .config("spark.ui.enabled", "false"))
    host = os.environ.get("STADSLAB_SPARK_DRIVER_HOST")
    if host or (master or "").startswith("local") or "127.0.0.1" in (master or "") or "localhost" in (master or ""):
        host = host or "127.0.0.1"
        builder = builder.config("spark.driver.bindAddress", host).config("spark.driver.host", host)
    for k, v in settings.items():
        builder = builder.config(k, v)
    return builder.getOrCreate()


def spark_backend(session=None):
    import ibis

    return ibis.pyspark.connect(session or spark_session())


def parquet_table(backend, uri: str, name: str):
    """Register Parquet files (a file or a lake version folder) as a Spark view; its Ibis table."""
    session = backend._session
    session.read.parquet(uri).createOrReplaceTempView(name)
    return backend.table(name)


def export_parquet(wh: Warehouse, dataset: str, folder: Path, version: int | None = None) -> Path:
    """Write a dataset version (without geometry columns) to ``folder/<dataset>__<n>.parquet``
    (a one-off hand-over; the lake is the maintained layout)."""
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
    return parquet_table(backend, Path(parquet).resolve().as_uri(), name)
