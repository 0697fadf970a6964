"""The engine setting of a workspace: where the analyses' Ibis expressions run.

stadslab.yaml::

    engine: duckdb                 # default: embedded, the warehouse file itself
    # or
    engine: spark
    spark:
      remote: sc://spark.example.nl:15002   # Spark Connect (managed cluster), or
      master: spark://10.0.0.5:7077         # a standalone master (this process is the driver)
      conf: {spark.executor.memory: 4g}     # optional Spark settings (no secrets here)
    lake: s3://bucket/stadslab     # where committed versions are copied for the cluster (default <ws>/lake)

Secrets never go in the catalog or in stadslab.yaml: a Spark Connect token comes from
``STADSLAB_SPARK_TOKEN`` (appended to the ``sc://`` URL), object-store keys from the environment
variables the store's client reads (``AWS_ACCESS_KEY_ID``…). ``STADSLAB_SPARK_REMOTE`` /
``STADSLAB_SPARK_MASTER`` override the file (for a test or a one-off run).

What runs where: with ``engine: spark`` every ``Warehouse.table(id)`` is a Spark table over the lake
copy of exactly the version the warehouse has current, so analyses (monitoring counts, hotspot
counts, risk features and backtests, forecasting inputs, ``release_aggregate`` with linking, portal
publications) run on the cluster unchanged. What comes back to this process is the aggregated result
(``to_pandas`` of a group-by), on which the publication gate and the audit log run, as on DuckDB.
Bookkeeping (versions, provenance, loads, stored results) stays in the DuckDB file; ingest stays on
DuckDB (it is the one writer, and the lake copy is part of its commit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stadslab.errors import WorkspaceError
from stadslab.warehouse import lake as lakes
from stadslab.warehouse.store import Warehouse

ENGINES = ("duckdb", "spark")
_SESSIONS: dict[tuple, Any] = {}


@dataclass(frozen=True)
class EngineSettings:
    name: str = "duckdb"
    remote: str | None = None
    master: str | None = None
    conf: dict[str, Any] = field(default_factory=dict)
    lake: lakes.Lake | None = None

    @property
    def where(self) -> str:
        if self.name == "duckdb":
            return "DuckDB (ingebed)"
        return f"Spark Connect {self.remote}" if self.remote else f"Spark {self.master or 'local[2]'}"


def settings(root: Path, config: dict[str, Any]) -> EngineSettings:
    """The engine settings of a workspace from its stadslab.yaml contents (``config``)."""
    name = str(config.get("engine", "duckdb")).strip().lower()
    if name not in ENGINES:
        raise WorkspaceError(f"onbekende engine '{name}' in stadslab.yaml", hint="kies 'duckdb' of 'spark'")
    spark = config.get("spark") or {}
    if not isinstance(spark, dict):
        raise WorkspaceError("stadslab.yaml: 'spark' moet een blok zijn met remote of master")
    remote = os.environ.get("STADSLAB_SPARK_REMOTE") or spark.get("remote")
    master = os.environ.get("STADSLAB_SPARK_MASTER") or spark.get("master")
    for key in ("token", "password", "secret", "access_key", "secret_key"):
        if key in spark or any(key in str(k).lower() for k in (spark.get("conf") or {})):
            raise WorkspaceError(f"stadslab.yaml: geheimen ('{key}') horen niet in de werkruimte",
                                 hint="zet een Spark Connect-token in STADSLAB_SPARK_TOKEN en sleutels van de "
                                      "objectopslag in de omgevingsvariabelen van die opslag")
    if remote and not str(remote).startswith("sc://"):
        raise WorkspaceError(f"spark.remote moet met sc:// beginnen, niet '{remote}'")
    if master and not (str(master).startswith(("spark://", "local"))):
        raise WorkspaceError(f"spark.master moet met spark:// of local beginnen, niet '{master}'")
    return EngineSettings(name, remote, master, dict(spark.get("conf") or {}), lakes.lake_for(root, config))


def session_for(s: EngineSettings):
    """One SparkSession per process and endpoint (Spark start-up costs seconds)."""
    from stadslab.warehouse.spark import spark_session

    remote = s.remote
    token = os.environ.get("STADSLAB_SPARK_TOKEN")
    if remote and token and "token=" not in remote:
        remote = remote.rstrip("/") + f"/;token={token}"
    key = (remote, s.master, tuple(sorted(s.conf.items())))
    if key not in _SESSIONS:
        _SESSIONS[key] = spark_session(s.master, remote=remote, conf=s.conf)
    return _SESSIONS[key]


class SparkWarehouse:
    """A Warehouse whose ``table()`` reads the lake on Spark; everything else is the DuckDB warehouse
    (bookkeeping, provenance, stored results). Pilots see the same interface."""

    engine = "spark"

    def __init__(self, wh: Warehouse, backend, lake: lakes.Lake, registered: set[str] | None = None) -> None:
        self._wh, self._backend, self.lake = wh, backend, lake
        # Spark views registered in the shared session (versions never change: a name stays valid)
        self._registered: set[str] = registered if registered is not None else set()

    def __getattr__(self, name: str):
        return getattr(self._wh, name)

    @property
    def ibis(self):
        """The Spark backend; bookkeeping schemas (``stadslab.areas``, ``stream``, ``results``…) asked for
        by name stay on the DuckDB file, as on the DuckDB engine."""
        return _Routed(self._backend, self._wh.ibis)

    @property
    def warehouse(self) -> Warehouse:
        return self._wh

    def lake_uri(self, dataset: str, version: int | None = None) -> str:
        """The lake folder of a version (written now if the version predates the lake)."""
        version = version if version is not None else self._wh.current_version(dataset)
        self._wh.table_name(dataset, version)                      # VersionNotFound as usual
        cls = self._wh.provenance(dataset, version).get("classification")
        manifest = lakes.read_manifest(self.lake, dataset, int(version), cls)
        if manifest is None:
            lakes.reconcile(self._wh.con, self.lake, export_missing=True, current={dataset: int(version)})
            manifest = lakes.read_manifest(self.lake, dataset, int(version), cls)
        return manifest["uri"]

    def table(self, dataset: str, version: int | None = None):
        from stadslab.warehouse.spark import parquet_table

        version = version if version is not None else self._wh.current_version(dataset)
        name = f"{dataset}__{int(version)}" if version is not None else dataset
        if name not in self._registered:
            parquet_table(self._backend, self.lake_uri(dataset, version), name)
            self._registered.add(name)
        return self._backend.table(name)

    def save_result(self, name: str, table, **kw) -> int:
        """Results computed on the cluster come back as Arrow (aggregates) and are stored in DuckDB."""
        import ibis

        if isinstance(table, ibis.Expr):
            table = table.to_pyarrow()
        return self._wh.save_result(name, table, **kw)

    def cursor(self) -> "SparkWarehouse":
        """A request thread's view (web server): own DuckDB cursor, the one Spark session."""
        return SparkWarehouse(self._wh.cursor(), self._backend, self.lake, self._registered)


BOOKKEEPING = ("stadslab", "stream", "results", "route", "v")


class _Routed:
    """The Spark Ibis backend, except ``table(name, database=<bookkeeping schema>)``: those tables
    (area registry, streams, stored results) live only in the DuckDB file."""

    def __init__(self, spark, duck) -> None:
        self._spark, self._duck = spark, duck

    def table(self, name: str, database=None, **kw):
        if database in BOOKKEEPING:
            return self._duck.table(name, database=database, **kw)
        return self._spark.table(name, database=database, **kw) if database else self._spark.table(name, **kw)

    def __getattr__(self, name: str):
        return getattr(self._spark, name)


def wrap(root: Path, config: dict[str, Any], wh: Warehouse):
    """``wh`` itself for ``engine: duckdb``; a SparkWarehouse for ``engine: spark``."""
    s = settings(root, config)
    if s.name == "duckdb":
        return wh
    from stadslab.warehouse.spark import spark_backend

    if s.lake is not None and s.lake.local is not None and not wh.read_only:
        lakes.reconcile(wh.con, s.lake)          # at open: nothing the warehouse did not commit
    return SparkWarehouse(wh, spark_backend(session_for(s)), s.lake)


def open_workspace(ws, *, read_only: bool = False):
    """``with open_workspace(ws) as wh``: the workspace's warehouse on its configured engine (the same as
    ``Workspace.warehouse()``, which calls :func:`wrap`)."""
    from contextlib import contextmanager

    @contextmanager
    def _cm():
        with ws.warehouse(read_only=read_only) as wh:   # Workspace.warehouse() wraps already
            yield wh

    return _cm()
