"""Serving state shared by the web app and the open data portal: one warehouse per process.

DuckDB allows one writing process per file, so the server process *is* that writer: it keeps one
connection and hands each request thread its own cursor (``Warehouse`` over ``con.cursor()``, which
shares the database instance, its loaded spatial extension and its cache). Refreshes started from the
app run in this process under ``write_lock``; a ``stadslab refresh`` in another shell gets a clear
"warehouse in use" message instead of a corrupt file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from stadslab.catalog.loader import Catalog
from stadslab.privacy.access import AccessConfig
from stadslab.privacy.audit import AuditLog
from stadslab.warehouse.engine import wrap
from stadslab.warehouse.store import Warehouse
from stadslab.workspace import Workspace


class AppState:
    """Everything a request handler needs: workspace, catalog, access rules, audit log, warehouse."""

    def __init__(self, workspace: Workspace, *, read_only: bool = False) -> None:
        self.workspace = workspace
        self._wh = Warehouse.open(workspace.warehouse_path, read_only=read_only,
                                  restricted_path=workspace.restricted_path, restricted_ids=workspace.restricted_ids())
        # the workspace's engine, as the CLI's Workspace.warehouse(): with ``engine: spark`` analyses read the
        # lake on the cluster; bookkeeping, the gate and the audit stay here (docs/scale.md)
        self._engine_wh = wrap(workspace.root, workspace.config, self._wh)
        self._local = threading.local()
        self.write_lock = threading.Lock()
        self.generation = 0  # bumped after every refresh, so caches keyed on it expire
        self.cache = None    # the app sets an LRUCache (web/cache.py); keys include ``generation``

    @cached_property
    def catalog(self) -> Catalog:
        return self.workspace.catalog()

    @cached_property
    def access(self) -> AccessConfig:
        return AccessConfig.from_config(self.workspace.config)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.workspace.root / "audit" / "audit.jsonl")

    @property
    def warehouse_path(self) -> Path:
        return self.workspace.warehouse_path

    def warehouse(self) -> Warehouse:
        """This thread's view of the warehouse (own cursor; safe to use from a worker thread)."""
        wh = getattr(self._local, "wh", None)
        if wh is None or getattr(self._local, "generation", -1) != self.generation:
            wh = self._engine_wh.cursor()   # restricted.duckdb attached too: the release path reads it
            self._local.wh, self._local.generation = wh, self.generation
        return wh

    @contextmanager
    def writer(self) -> Iterator[Warehouse]:
        """The process's writing warehouse, one writer at a time (refresh from the app; ingest is DuckDB's)."""
        with self.write_lock:
            yield self._wh
            self.generation += 1
            self.__dict__.pop("catalog", None)

    def refresh_changed(self) -> list[dict]:
        """Reload what changed in the workspace's sources, inside this process (the warehouse's one
        writer): the dagmonitor refresh while the app runs. Caches expire with ``generation``."""
        from stadslab import operations as ops

        with self.writer() as wh:
            done = ops.refresh_changed(self.workspace, wh, self.workspace.catalog())
        return done

    def start_refresh_loop(self, every_seconds: float) -> threading.Thread:
        """A daemon thread that calls ``refresh_changed`` every ``every_seconds``; failures are logged
        in ``stadslab.loads`` by the ingest itself and never stop the loop."""
        import logging
        import time

        log = logging.getLogger("stadslab.refresh")

        def loop() -> None:
            while True:
                time.sleep(every_seconds)
                try:
                    for rec in self.refresh_changed():
                        log.warning("verversen: %s %s", rec["dataset"], rec.get("status"))
                except Exception as exc:  # keep serving; the next round tries again
                    log.error("verversen mislukt: %s", exc)

        thread = threading.Thread(target=loop, name="stadslab-refresh", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._wh.close()
