"""Open DuckDB connections with the spatial extension loaded from the wheel (offline)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import duckdb


@lru_cache(maxsize=1)
def spatial_extension_path() -> str:
    import duckdb_extension_spatial

    return os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions",
                        f"v{duckdb.__version__}", "spatial.duckdb_extension")


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with spatial loaded. ``INSTALL spatial`` needs the network; the extension
    file shipped in the ``duckdb-extension-spatial`` wheel does not."""
    con = duckdb.connect(str(path), read_only=read_only,
                         config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    con.execute(f"LOAD '{spatial_extension_path()}'")
    return con
