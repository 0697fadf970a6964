"""Shared CLI plumbing: workspace option, JSON output, progress, and error → exit code."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import (BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from stadslab.workspace import Workspace

T = TypeVar("T")
err_console = Console(stderr=True)
console = Console()

WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Werkruimte (map); anders $STADSLAB_WORKSPACE of .stadslab/demo",
                            envvar="STADSLAB_WORKSPACE")
JsonOpt = typer.Option(False, "--json", help="Machineleesbare JSON op stdout")


def workspace(path: Optional[str]) -> Workspace:
    return Workspace.resolve(path)


def _default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def progress(label: str, *, quiet: bool = False) -> Iterator[Any]:
    """A Rich progress line on stderr; yields ``say(step, done=None, total=None)``.

    ``say("stap")`` names the current step (spinner, elapsed time); ``say("periode 3/26", 3, 26)`` also
    fills the bar and shows an estimate of the time left (Rich's, from the speed so far)."""
    if quiet or not err_console.is_terminal:
        yield lambda _step, done=None, total=None: None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TaskProgressColumn(), TimeElapsedColumn(), TextColumn("nog"), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def say(step: str, done: float | None = None, total: float | None = None) -> None:
            if total is not None:
                bar.update(task, description=f"{label}: {step}", completed=done or 0, total=total)
            else:
                bar.update(task, description=f"{label}: {step}")
        yield say


def with_retry(open_fn: Callable[[], T], *, seconds: float | None = None) -> T:
    """Open a warehouse file, waiting while another process briefly holds it for writing.

    A running ``stadslab serve`` keeps the files open read-only, so reading commands open them next to
    it; only while the server writes (a refresh, a stored result) is a file locked, for seconds. The wait
    is bounded ($STADSLAB_LOCK_WAIT, default 60 s) and says what it waits for."""
    import os
    import time

    import duckdb

    from stadslab.errors import WarehouseError

    limit = seconds if seconds is not None else float(os.environ.get("STADSLAB_LOCK_WAIT", "60"))
    deadline = time.monotonic() + limit
    told = False
    while True:
        try:
            return open_fn()
        except (duckdb.IOException, WarehouseError) as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                if isinstance(exc, duckdb.IOException):
                    raise WarehouseError(f"het warehouse is niet te openen: {str(exc).splitlines()[0]}",
                                         hint="een ander proces schrijft er lang in; probeer het zo opnieuw") from None
                raise
            if not told:
                err_console.print("[dim]het warehouse wordt even bijgewerkt (door 'stadslab serve' of een "
                                  "refresh); even wachten…[/]")
                told = True
            time.sleep(0.2)


@contextmanager
def read_warehouse(w: Workspace) -> Iterator[Any]:
    """The workspace's warehouse (both files) read-only, waiting briefly while a writer holds it."""
    from stadslab.warehouse.store import Warehouse

    wh = with_retry(lambda: Warehouse.open(w.warehouse_path, read_only=True, restricted_path=w.restricted_path,
                                           restricted_ids=w.restricted_ids()))
    try:
        yield wh
    finally:
        wh.close()
