"""Start a real ``stadslab serve`` in a child process and wait until it answers (tests and benches).

The app is measured and tested as users meet it: through uvicorn on 127.0.0.1, in its own process
that owns the workspace's warehouse.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STADSLAB = Path(sys.executable).with_name("stadslab")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(ws: Path, *extra: str, ready: str = "/api/incidenten", timeout: float = 60) -> Iterator[str]:
    """``stadslab serve -w ws`` on a free port (its output in ``ws/server.log``); yields the base URL
    once ``ready`` answers 200, and stops the server afterwards."""
    port = free_port()
    log_path = Path(ws) / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(STADSLAB), "serve", "-w", str(ws), "--port", str(port), *extra],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + timeout
            while True:
                try:
                    if httpx.get(base + ready, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("stadslab serve start niet:\n" + log_path.read_text())
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
