"""Real Spark for the scale tests: a standalone master with two workers and a Spark Connect server,
all from the pyspark distribution, on 127.0.0.1, started once per test session and stopped at its end.

Spark start-up is slow on 2 cores: one cluster serves every test. The Connect server is itself an
application on that cluster (one core), the in-process driver of the ``spark://`` tests the other.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stadslab.web.launch import free_port
from tests.conftest import BUURTEN_2024_YAML, INCIDENTS, UTRECHT_BUURTEN_RD

pytestmark = pytest.mark.spark


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(tmp), "SPARK_WORKER_DIR": str(tmp / "work"), "SPARK_NO_DAEMONIZE": "1",
            "PYSPARK_PYTHON": str(Path(os.sys.executable))}


def _start(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)      # its own process group: stopped as a whole


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait(what: str, ok, timeout: float, procs: list[subprocess.Popen], logs: list[Path]) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if ok():
            return
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.5)
    tail = "\n".join(f"--- {p}\n" + p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    raise RuntimeError(f"{what} niet gestart binnen {timeout} s\n{tail}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """(master URL, Spark Connect URL) of a running standalone cluster and Connect server."""
    tmp = tmp_path_factory.mktemp("spark")
    env = _env(tmp)
    cls = str(spark_home() / "bin" / "spark-class")
    port = free_port()
    procs: list[subprocess.Popen] = []
    logs = [tmp / "master.log", tmp / "worker1.log", tmp / "worker2.log", tmp / "connect.log"]
    try:
        procs.append(_start([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                             str(port), "--webui-port", str(free_port())], logs[0], env))
        _wait("Spark master", lambda: _port_open(port), 90, procs, logs)
        master = f"spark://127.0.0.1:{port}"
        for i in (1, 2):
            procs.append(_start([cls, "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1",
                                 "--cores", "1", "--memory", "1g", "--webui-port", str(free_port())], logs[i], env))
        _wait("twee Spark workers", lambda: logs[0].read_text(errors="replace").count("Registering worker") >= 2,
              120, procs, logs)
        cport = free_port()
        conf = {"spark.connect.grpc.binding.port": cport, "spark.connect.grpc.binding.address": "127.0.0.1",
                "spark.cores.max": 1, "spark.executor.memory": "512m", "spark.driver.memory": "512m",
                "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", "spark.ui.enabled": "false",
                "spark.sql.shuffle.partitions": 4, "spark.sql.session.timeZone": "UTC"}
        cmd = [str(spark_home() / "bin" / "spark-submit"), "--class",
               "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", master,
               "--name", "stadslab-test-connect"]
        for k, v in conf.items():
            cmd += ["--conf", f"{k}={v}"]
        procs.append(_start([*cmd, "spark-internal"], logs[3], env))
        _wait("Spark Connect", lambda: _port_open(cport), 120, procs, logs)
        yield master, f"sc://127.0.0.1:{cport}"
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.fixture(scope="module")
def standalone_backend(spark_cluster):
    """Ibis on a driver in this process, executors on the standalone cluster's free worker (per module:
    a process holds one classic SparkContext, and no Spark Connect session beside it)."""
    from stadslab.warehouse.spark import spark_backend, spark_session

    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:          # e.g. the local[2] parity test's session: one SparkContext per process
        active.stop()
    session = spark_session(spark_cluster[0], "stadslab-test-standalone",
                            conf={"spark.cores.max": 1, "spark.executor.memory": "512m", "spark.sql.shuffle.partitions": 4})
    yield spark_backend(session)
    session.stop()


@pytest.fixture(scope="module")
def connect_backend(spark_cluster):
    from stadslab.warehouse.spark import spark_backend, spark_session

    session = spark_session(None, remote=spark_cluster[1])
    yield spark_backend(session)
    session.stop()


# --- a small workspace with the demo's kinds of data ---------------------------------------------

SOCIAL = {
    "title": "Sociaal (gesimuleerd)", "owner": "test", "classification": "persoonsgegevens",
    "purposes": ["sociaal_domein"], "privacy": {"min_cell": 15},
    "access": {"roles": ["sociaal_analist"], "purposes": ["sociaal_domein"]},
    "geography": {"level": "buurt", "division_year": 2024},
    "fields": [{"name": "pseudo_id", "type": "string", "role": "pseudonym"},
               {"name": "buurt", "type": "string", "role": "area_code"},
               {"name": "regeling", "type": "string", "codes": ["bijstand", "ioaw", "bbz"]}],
    "release": {"dimensions": ["wijk_code", "regeling", "in_schuld"],
                "structures": [{"id": "wijk_regeling", "dims": ["wijk_code", "regeling"], "margins": "persons_distinct"},
                               {"id": "wijk_schuld", "dims": ["wijk_code", "in_schuld"], "margins": "persons_distinct"}]},
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One workspace per test module with Utrecht's buurten loaded (and the lookup raster built) once;
    each test writes its own file and catalog entry and loads a new version (the fast-path tests)."""
    from stadslab import operations as ops
    from stadslab.workspace import Workspace
    from tests.conftest import WorkspaceBuilder

    b = WorkspaceBuilder(tmp_path_factory.mktemp("fast") / "ws").with_utrecht_buurten()
    ws = Workspace(b.root)
    with ws.warehouse() as wh:
        ops.ingest_dataset(ws, wh, ws.catalog(), "buurten_2024")
    return b


def incident_csv(n: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    rows = ["Incident ID;Soort;Datum/tijd;Schade (euro);X;Y"]
    kinds = ["woninginbraak", "autokraak", "fietsdiefstal"]
    for i in range(n):
        rows.append(f"B{i};{rng.choice(kinds)};{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-2023 "
                    f"{rng.randint(0, 23):02d}:00;{rng.randint(0, 900)};{rng.uniform(128000, 142000):.1f};"
                    f"{rng.uniform(449000, 462000):.1f}")
    return "\n".join(rows) + "\n"


def social_frames(seed: int = 5, n: int = 1200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Persons in Utrecht buurten (gesimuleerd); a second source holds a subset of the same pseudonyms."""
    rng = np.random.default_rng(seed)
    buurten = ["BU03440101", "BU03440102", "BU03440103", "BU03440201", "BU03440202", "BU03440301"]
    wijk = {b: "WK" + b[2:8] for b in buurten}
    b = rng.choice(buurten, n)
    hulp = pd.DataFrame({"pseudo_id": [f"{i:032x}" for i in range(n)], "buurt": b,
                         "wijk_code": [wijk[x] for x in b], "gemeente_code": "GM0344",
                         "regeling": rng.choice(["bijstand", "ioaw", "bbz"], n, p=[.8, .15, .05]),
                         "__row": np.arange(2, n + 2), "__file": "gesimuleerd"})
    pick = rng.random(n) < 0.4
    schuld = hulp.loc[pick, ["pseudo_id", "buurt", "wijk_code", "gemeente_code", "regeling", "__row", "__file"]]
    return hulp, schuld.reset_index(drop=True)


@pytest.fixture(scope="session")
def scale_ws(tmp_path_factory):
    """A workspace (lake enabled) with Utrecht buurten, 4000 incidents and two linked personal datasets."""
    from stadslab import operations as ops
    from stadslab.catalog.model import Dataset
    from stadslab.workspace import Workspace

    root = tmp_path_factory.mktemp("scale") / "ws"
    (root / "catalog").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "stadslab.yaml").write_text(yaml.safe_dump({"gemeente": "Utrecht", "lake": "lake"}))
    shutil.copy(UTRECHT_BUURTEN_RD, root / "data" / "buurten.geojson")
    (root / "catalog" / "buurten.yaml").write_text(yaml.safe_dump(BUURTEN_2024_YAML))
    (root / "catalog" / "incidenten.yaml").write_text(yaml.safe_dump(INCIDENTS))
    (root / "data" / "incidenten.csv").write_text(incident_csv(4000), encoding="utf-8")
    entries = {}
    for name in ("hulp", "schuld"):
        entries[name] = {**SOCIAL, "id": name, "source": {"path": f"{name}.parquet"}}
        (root / "catalog" / f"{name}.yaml").write_text(yaml.safe_dump(entries[name]))
    ws = Workspace(root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        for d in ops.load_order([cat.get("buurten_2024"), cat.get("incidenten")]):
            ops.ingest_dataset(ws, wh, cat, d.id)
        for name, frame in zip(("hulp", "schuld"), social_frames()):
            ds = Dataset.from_dict(entries[name])
            wh.con.register("__gen", frame)
            wh.commit_version(ds.id, "__gen", {"classification": ds.classification, "rows_loaded": len(frame)})
            wh.con.unregister("__gen")
    return ws
