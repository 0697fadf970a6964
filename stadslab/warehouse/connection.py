"""Open DuckDB connections with the spatial extension loaded from the wheel (offline)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import duckdb


def qident(name: str) -> str:
    """``name`` as a DuckDB identifier (double quotes, embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=1)
def spatial_extension_path() -> str:
    import duckdb_extension_spatial

    return os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions",
                        f"v{duckdb.__version__}", "spatial.duckdb_extension")


@lru_cache(maxsize=1)
def extension_directory() -> str:
    """A private extension folder inside the installed wheel's folder (so: inside .venv).

    Ibis checks ``duckdb_extensions()`` for *installed and loaded* and otherwise runs
    ``INSTALL spatial``, which needs the network. Installing the wheel's file into this folder
    once makes that check pass offline, for every connection."""
    folder = Path(spatial_extension_path()).parent / "installed"
    folder.mkdir(parents=True, exist_ok=True)
    return folder.as_posix()


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with spatial installed and loaded from the wheel (offline)."""
    con = duckdb.connect(str(path), read_only=read_only,
                         config={"autoinstall_known_extensions": False, "autoload_known_extensions": False,
                                 "extension_directory": extension_directory()})
    con.execute("SET enable_progress_bar = false")   # DuckDB's own bar writes over the CLI's Rich bars and into logs
    installed = con.execute("SELECT installed FROM duckdb_extensions() WHERE extension_name = 'spatial'").fetchone()
    if not (installed and installed[0]):
        con.execute(f"INSTALL '{spatial_extension_path()}'")
    con.execute("LOAD spatial")
    return con
