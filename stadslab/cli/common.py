"""Shared CLI plumbing: workspace option, JSON output, progress, and error → exit code."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from stadslab.workspace import Workspace

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
    """A Rich progress line on stderr; yields a callback(step) that names the current step."""
    if quiet or not err_console.is_terminal:
        yield lambda _step: None
        return
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda step: bar.update(task, description=f"{label}: {step}")
