"""The lake: every committed version also as Parquet with a manifest, the layout a cluster reads.

Layout under the lake root (a folder, or an object-store URI through ``pyarrow.fs``)::

    <root>/<dataset>/v=<n>/data_*.parquet      the version's rows (geometry as WKB)
    <root>/<dataset>/v=<n>/manifest.json       dataset, version, schema, rows, sha256 per file and overall
    <root>/_restricted/<dataset>/v=<n>/…       personal and confidential datasets: owner-only (0700/0600)

Atomic across the warehouse and the lake. The ingest writes the lake copy *inside* the DuckDB
transaction of the load, after the version table is written and before COMMIT:
Parquet into ``<dataset>/.tmp-v=<n>-<pid>/``, fsync every file, manifest last, fsync, rename to
``v=<n>``, fsync the folder — then DuckDB commits. A process killed before the rename leaves a
``.tmp-`` folder; killed between the rename and COMMIT it leaves ``v=<n>`` with a manifest but no
committed version. :func:`reconcile` (run before every lake write and when an engine opens the
lake) removes both, and writes the copy of a committed version that has none (a lake configured
later). So a reader that takes the version number from the warehouse (``stadslab.current``) and
checks the manifest reads exactly the rows the warehouse committed, never a partial version.

On an object store a rename is a copy: there the files are uploaded first and the manifest last,
and a folder without a manifest counts as absent (the same rule reconcile applies locally).
Credentials come from the environment (``AWS_*``, ``AZURE_*``, …: pyarrow's own rules), never from
the catalog or stadslab.yaml.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

RESTRICTED_DIR = "_restricted"
RESTRICTED_CLASSES = ("vertrouwelijk", "persoonsgegevens")
MANIFEST = "manifest.json"
FORMAT = 1
FILE_SIZE = "256MB"         # several files per large version: a cluster reads them in parallel


@dataclass(frozen=True)
class Lake:
    root: str               # a local folder or a URI (file://, s3://, gs://, abfs://)

    @property
    def local(self) -> Path | None:
        if "://" not in self.root:
            return Path(self.root)
        if self.root.startswith("file://"):
            return Path(self.root[len("file://"):])
        return None

    def folder(self, dataset: str, version: int, classification: str | None = None) -> str:
        base = f"{RESTRICTED_DIR}/{dataset}" if classification in RESTRICTED_CLASSES else dataset
        return f"{self.root.rstrip('/')}/{base}/v={int(version)}"

    def uri(self, dataset: str, version: int, classification: str | None = None) -> str:
        """What a cluster reads (Spark: ``spark.read.parquet(uri)``): the version's data folder.
        Not percent-encoded: Spark takes ``v=1`` literally."""
        f = self.folder(dataset, version, classification) + "/data"
        return f if "://" in f else "file://" + str(Path(f).resolve())


def lake_for(root: Path, config: dict[str, Any]) -> Lake | None:
    """The workspace's lake from stadslab.yaml: ``lake: PATH|URI``; with ``engine: spark`` and no
    ``lake`` the default ``<workspace>/lake``; else None (no lake: the embedded engine needs none)."""
    value = config.get("lake")
    if isinstance(value, dict):
        value = value.get("uri") or value.get("path")
    if value:
        text = str(value)
        if "://" not in text and not Path(text).is_absolute():
            text = str((root / text).resolve())
        return Lake(text)
    if str(config.get("engine", "duckdb")).lower() == "spark":
        return Lake(str(root / "lake"))
    return None


def lake_of_warehouse(path: Path) -> Lake | None:
    """The lake of the workspace whose warehouse file is ``path`` (stadslab.yaml next to it)."""
    import yaml

    cfg = Path(path).parent / "stadslab.yaml"
    try:
        config = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {} if cfg.exists() else {}
    except (OSError, yaml.YAMLError):
        config = {}
    return lake_for(Path(path).parent, config if isinstance(config, dict) else {})


def _test_pause(point: str) -> None:
    """Fault-injection hook: ``STADSLAB_TEST_PAUSE=<point>`` stops the load here (see tests/scale)."""
    if os.environ.get("STADSLAB_TEST_PAUSE") == point:
        marker = os.environ.get("STADSLAB_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).write_text("paused")
        time.sleep(float(os.environ.get("STADSLAB_TEST_PAUSE_SECONDS", "60")))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _select(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, list[dict[str, str]]]:
    """SELECT list for the Parquet copy (geometry as WKB) and the schema recorded in the manifest."""
    cols = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
    parts, schema = [], []
    for name, typ in cols:
        q = '"' + name.replace('"', '""') + '"'
        if str(typ).startswith("GEOMETRY"):
            parts.append(f"ST_AsWKB({q}) AS {q}")
            schema.append({"name": name, "type": "BLOB", "encoding": "WKB"})
        else:
            parts.append(q)
            schema.append({"name": name, "type": str(typ)})
    return ", ".join(parts), schema


def write_version(con: duckdb.DuckDBPyConnection, lake: Lake, dataset: str, version: int, table: str, *,
                  classification: str | None = None, rows: int | None = None,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``table`` (a committed-to-be version, inside the load's transaction) as version
    ``version`` of ``dataset``; returns the manifest. The caller commits afterwards."""
    select, schema = _select(con, table)
    restricted = classification in RESTRICTED_CLASSES
    local = lake.local
    stage = Path(lake.folder(dataset, version, classification)) if local else None
    work = (stage.parent / f".tmp-v={int(version)}-{os.getpid()}") if stage else \
        Path(os.environ.get("TMPDIR", "/tmp")) / f"stadslab-lake-{dataset}-{version}-{os.getpid()}"
    if work.exists():
        shutil.rmtree(work)
    mode = 0o700 if restricted else 0o755
    work.mkdir(parents=True, mode=mode)
    if restricted:   # the parents too: nothing of a restricted dataset is listable by others
        for p in (work.parent, work.parent.parent):
            os.chmod(p, 0o700)
    target = str(work / "data")
    con.execute(f"COPY (SELECT {select} FROM {table}) TO '{target}' "
                f"(FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES '{FILE_SIZE}', OVERWRITE_OR_IGNORE)")
    _test_pause("lake-write")
    files = sorted(p for p in work.rglob("*.parquet"))
    if restricted:
        for d in [p for p in work.rglob("*") if p.is_dir()]:
            os.chmod(d, 0o700)
    overall = hashlib.sha256()
    listed = []
    for p in files:
        if restricted:
            os.chmod(p, 0o600)
        _fsync(p)
        digest = _sha256(p)
        overall.update(f"{p.relative_to(work)}:{digest}\n".encode())
        listed.append({"path": str(p.relative_to(work)), "bytes": p.stat().st_size, "sha256": digest})
    if rows is None:
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    manifest = {"format": FORMAT, "dataset": dataset, "version": int(version), "classification": classification,
                "rows": int(rows), "schema": schema, "files": listed, "sha256": overall.hexdigest(),
                "uri": lake.uri(dataset, version, classification), **(extra or {})}
    mpath = work / MANIFEST
    mpath.write_text(json.dumps(manifest, indent=1, default=str))
    if restricted:
        os.chmod(mpath, 0o600)
    _fsync(mpath)
    _fsync(work)
    if stage is not None:
        if stage.exists():           # an orphan of a killed load with the same number
            shutil.rmtree(stage)
        os.rename(work, stage)
        _fsync(stage.parent)
    else:
        _upload(work, lake.folder(dataset, version, classification))
        shutil.rmtree(work, ignore_errors=True)
    _test_pause("lake-renamed")
    return manifest


def _upload(src: Path, uri: str) -> None:
    """Object store: data files first, the manifest last (its presence marks the version complete)."""
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(uri)
    fs.create_dir(base, recursive=True)
    for p in sorted(src.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            pafs.copy_files(str(p), f"{base}/{p.relative_to(src)}", destination_filesystem=fs)
    pafs.copy_files(str(src / MANIFEST), f"{base}/{MANIFEST}", destination_filesystem=fs)


def read_manifest(lake: Lake, dataset: str, version: int, classification: str | None = None) -> dict[str, Any] | None:
    folder = lake.folder(dataset, version, classification)
    if lake.local is not None:
        p = Path(folder) / MANIFEST
        return json.loads(p.read_text()) if p.exists() else None
    import pyarrow.fs as pafs

    fs, base = pafs.FileSystem.from_uri(folder)
    try:
        with fs.open_input_stream(f"{base}/{MANIFEST}") as fh:
            return json.loads(fh.read())
    except (FileNotFoundError, OSError):
        return None


def verify(lake: Lake, manifest: dict[str, Any]) -> bool:
    """Files present with the sizes and hashes the manifest names (local lakes)."""
    folder = lake.local and Path(lake.folder(manifest["dataset"], manifest["version"], manifest.get("classification")))
    if not folder:
        return True
    return all((folder / f["path"]).exists() and _sha256(folder / f["path"]) == f["sha256"]
               for f in manifest["files"])


def committed(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, int], tuple[str | None, str]]:
    """(dataset, version) → (classification, qualified table) of every committed version, in every
    attached file (the main warehouse and restricted.duckdb)."""
    out: dict[tuple[str, int], tuple[str | None, str]] = {}
    dbs = [r[0] for r in con.execute("SELECT database_name FROM duckdb_databases() WHERE NOT internal").fetchall()]
    for db in dbs:
        try:
            rows = con.execute(f'SELECT dataset, version, classification, table_name FROM "{db}".stadslab.versions').fetchall()
        except duckdb.Error:
            continue
        out.update({(d, int(v)): (c, f'"{db}".v."{t}"') for d, v, c, t in rows})
    return out


def reconcile(con: duckdb.DuckDBPyConnection, lake: Lake, *, export_missing: bool = False,
              current: dict[str, int] | None = None) -> dict[str, list[str]]:
    """Remove what no commit backs (``.tmp-`` folders, versions the warehouse never committed) and,
    with ``export_missing``, write the lake copy of current versions that lack one. Local lakes."""
    report: dict[str, list[str]] = {"removed": [], "exported": []}
    root = lake.local
    if root is None or not (root.exists() or (export_missing and current)):
        return report
    root.mkdir(parents=True, exist_ok=True)      # a lake configured after the fact: its folder may not exist yet
    known = committed(con)
    for base in [root, root / RESTRICTED_DIR]:
        if not base.exists():
            continue
        for ds_dir in sorted(p for p in base.iterdir() if p.is_dir() and p.name != RESTRICTED_DIR):
            for vdir in sorted(ds_dir.iterdir()):
                if not vdir.is_dir():
                    continue
                orphan = vdir.name.startswith(".tmp-")
                if not orphan and vdir.name.startswith("v="):
                    try:
                        version = int(vdir.name[2:])
                    except ValueError:
                        continue
                    orphan = (ds_dir.name, version) not in known or not (vdir / MANIFEST).exists()
                if orphan:
                    shutil.rmtree(vdir, ignore_errors=True)
                    report["removed"].append(str(vdir))
    if export_missing and current:
        for dataset, version in current.items():
            if (dataset, version) not in known:
                continue
            cls, table = known[(dataset, version)]
            if read_manifest(lake, dataset, version, cls) is None:   # committed before the lake existed
                write_version(con, lake, dataset, version, table, classification=cls)
                report["exported"].append(f"{dataset} v{version}")
    return report


def is_owner_only(path: Path) -> bool:
    """True when group and others have no permission bits on ``path`` (for tests and checks)."""
    return not (stat.S_IMODE(path.stat().st_mode) & 0o077)
