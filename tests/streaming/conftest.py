"""Fixtures for the streaming tests: a small workspace (50 real Den Haag containers, the simulated fill
stream), a real Mosquitto broker on a free port with a generated config, and a server we can SIGKILL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from stadslab.demo.container_sim import load_containers
from stadslab.web.launch import STADSLAB, free_port
from tests.conftest import REPO

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
CATALOG = REPO / "stadslab" / "demo" / "catalog"


def make_stream_ws(root: Path, n_containers: int = 50) -> Path:
    (root / "catalog").mkdir(parents=True)
    (root / "data" / "denhaag" / "containers").mkdir(parents=True)
    (root / "stadslab.yaml").write_text("municipality: {name: Den Haag, gemeente_code: GM0518, division_year: 2024}\n")
    load_containers().head(n_containers).to_csv(root / "data/denhaag/containers/denhaag_containerregister.csv.gz",
                                                index=False, compression="gzip")
    for name in ("denhaag_containerregister.yaml", "denhaag_containervulling.yaml"):
        shutil.copy(CATALOG / name, root / "catalog" / name)
    from stadslab import operations as ops
    from stadslab.workspace import Workspace

    ws = Workspace(root)
    with ws.warehouse() as wh:     # in-process: the same ingest as 'stadslab ingest', without a second Python start
        ops.ingest_dataset(ws, wh, ws.catalog(), "denhaag_containerregister")
    return root


@pytest.fixture(scope="session")
def stream_template(tmp_path_factory) -> Path:
    return make_stream_ws(tmp_path_factory.mktemp("stream") / "ws")


@pytest.fixture
def stream_ws(stream_template, tmp_path) -> Path:
    """A private copy of a small workspace: 50 real containers in the register, the fill stream."""
    root = tmp_path / "ws"
    shutil.copytree(stream_template, root)
    return root


@pytest.fixture
def token(stream_ws) -> str:
    from stadslab.ingest.stream_tokens import create_token
    from stadslab.workspace import Workspace

    return create_token(Workspace(stream_ws), "denhaag_containervulling", "test")


@pytest.fixture
def mosquitto(tmp_path) -> Iterator[int]:
    """A real broker on a free port; its own config (no system service), sessions kept in memory."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto ontbreekt: apt-get install -y mosquitto (make test doet dat)")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_inflight_messages 200\nmax_queued_messages 100000\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    import socket
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("mosquitto start niet")
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


class Server:
    """``stadslab serve`` on a fixed port that a test may kill (SIGKILL) and start again."""

    def __init__(self, ws: Path, *extra: str) -> None:
        self.ws, self.extra, self.port = ws, extra, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        log = open(self.ws / "server.log", "a")
        self.proc = subprocess.Popen([str(STADSLAB), "serve", "-w", str(self.ws), "--port", str(self.port), *self.extra],
                                     stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.time() + timeout
        while True:
            try:
                if httpx.get(self.base + "/api/stream/denhaag_containervulling/status", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server start niet:\n" + (self.ws / "server.log").read_text())
            time.sleep(0.2)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def server_factory(stream_ws):
    made = []

    def make(*extra: str) -> Server:
        s = Server(stream_ws, *extra)
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


def catalog_yaml(name: str) -> dict:
    return yaml.safe_load((CATALOG / name).read_text())


# ---- pytest-playwright: Debian's Chromium, Dutch locale (as in tests/web) -------------------------------


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "nl-NL", "viewport": {"width": 1440, "height": 900}}
