"""Reading and refreshing while ``stadslab serve`` runs on the same workspace (issue 10, item 1).

The server keeps the warehouse files open for writing (refreshes, realtime readings, stored results);
DuckDB then lets no other process open them, not even read-only. Rather than make users learn about
locks, the server announces itself at start in ``<workspace>/.stadslab-serve.json`` (mode 0600: port,
process id and a random secret) and the CLI hands ``status``, ``versions``, ``query``, ``aggregate`` and
``refresh`` to it over loopback (stadslab/web/api/handover.py). Without a running server the CLI opens
the files itself, as before.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from stadslab.errors import StadslabError, WarehouseError
from stadslab.workspace import Workspace

ANNOUNCE_FILE = ".stadslab-serve.json"
TOKEN_HEADER = "x-stadslab-cli-token"


def announce(ws: Workspace, app: Any, port: int) -> Path:
    """Write the announcement (owner-only) and give the app its secret; the caller removes it at exit."""
    token = secrets.token_urlsafe(32)
    app.state.cli_token = token
    path = ws.root / ANNOUNCE_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"port": port, "pid": os.getpid(), "token": token, "workspace": str(ws.root)}, fh)
    os.chmod(path, 0o600)
    return path


def withdraw(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def running_server(ws: Workspace) -> dict[str, Any] | None:
    """The announcement of a live server on this workspace, else None (stale files are ignored)."""
    path = ws.root / ANNOUNCE_FILE
    try:
        info = json.loads(path.read_text())
        os.kill(int(info["pid"]), 0)       # is that process still there?
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if info.get("workspace") != str(ws.root):   # a copied workspace: that server serves the original
        return None
    return info


def forward(ws: Workspace, command: str, payload: dict[str, Any] | None = None, *,
            timeout: float = 600) -> dict[str, Any] | None:
    """Send ``command`` to the running server; None when no server runs (the caller opens the files)."""
    info = running_server(ws)
    if info is None:
        return None
    import httpx

    try:
        r = httpx.post(f"http://127.0.0.1:{info['port']}/api/intern/cli/{command}", json=payload or {},
                       headers={TOKEN_HEADER: info["token"]}, timeout=timeout)
    except httpx.HTTPError:
        return None                          # not answering: fall back to opening the files
    if r.status_code == 409:
        body = r.json()
        err = StadslabError(body["fout"], hint=body.get("hint"))
        err.exit_code = int(body.get("exit_code", 1))
        raise err
    if r.status_code != 200:
        raise WarehouseError(f"de draaiende server ({info['port']}) gaf {r.status_code} op '{command}'",
                             hint="stop 'stadslab serve' en probeer het opnieuw")
    return r.json()
