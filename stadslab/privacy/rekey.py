"""Project pseudonyms: re-key linked data before it is released to a project.

Inside the data lab, sources are linked on the *source pseudonym* (``pseudo_id``, the same in every
source). A project gets a table in which every source pseudonym is replaced by a *project pseudonym*:

    project_pseudonym = hex(HMAC-SHA256(project_key, source_pseudonym as 32 ASCII hex chars))[:32]

so tables released to project A and to project B share no identifier and cannot be joined, while
all tables released to one project still join with each other (same project key).

Choice of key: derived, not stored
----------------------------------
``project_key = HKDF-SHA256(ikm=master secret, salt="stadslab-project-key/1", info=project id)``
(RFC 5869). The data lab keeps one **master key** (``stadslab source keygen --kind master``) in a
key folder it controls, outside every workspace and outside the warehouse (keys.py refuses a key
path inside a workspace). Project keys are derived when needed (``stadslab source project-key``)
and can be destroyed after the release, because the same project id gives the same key again: a
later release to the same project stays joinable with the earlier one. One secret to guard instead
of one per project; the price is that whoever holds the master can re-derive every project key — so
the master never leaves the data lab's key folder, and project keys never go to the project.
No key material is written to the warehouse: only ``key_id`` (a hash) appears in receipts.

Note the limits: the data lab itself (holding master and source pseudonyms) can link across projects;
that is its role as the linking party. Re-keying does not make a table anonymous: small cells are
the publication gate's business (minimum 15).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stadslab import __version__
from stadslab.errors import PrivacyError
from stadslab.privacy.keys import (ALGORITHM, DIGEST_BYTES, HashPool, Key, hex_pseudonyms, load_key, write_key)
from stadslab.privacy.tabular import HashingWriter, file_sha256, open_source, output_format

HKDF_SALT = b"stadslab-project-key/1"
PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
PSEUDONYM = r"^[0-9a-f]{32}$"


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF with SHA-256, RFC 5869 §2.2 (extract) and §2.3 (expand). Tested against its Appendix A."""
    if length > 255 * 32:
        raise ValueError("HKDF: length too large")
    prk = hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()
    out, block = b"", b""
    for i in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
    return out[:length]


def derive_project_key(master: Key | str | Path, project_id: str) -> Key:
    """The project key for ``project_id``, derived from the data lab's master key."""
    master = master if isinstance(master, Key) else load_key(master, kind="master")
    if master.kind != "master":
        raise PrivacyError(f"een projectsleutel wordt afgeleid van de mastersleutel, niet van een {master.kind}-sleutel")
    if not PROJECT_ID.match(project_id or ""):
        raise PrivacyError(f"ongeldige project-id '{project_id}'",
                           hint="letters, cijfers, '_', '-' en '.', hoogstens 64 tekens")
    secret = hkdf_sha256(master.secret, salt=HKDF_SALT, info=project_id.encode("utf-8"))
    return Key(secret=secret, kind="project", project_id=project_id,
               created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               note=f"projectsleutel voor '{project_id}', afgeleid van master {master.key_id}")


def write_project_key(master: Key | str | Path, project_id: str, out: str | Path) -> Path:
    return write_key(derive_project_key(master, project_id), out)


def _check_key(key: Key | str | Path) -> Key:
    key = key if isinstance(key, Key) else load_key(key, kind="project")
    if key.kind != "project":
        raise PrivacyError(f"herversleutelen vraagt een projectsleutel; dit is een {key.kind}-sleutel",
                           hint="maak er een met 'stadslab source project-key --master MASTER --project ID --out SLEUTEL'")
    return key


def rekey_array(values: pa.Array | pa.ChunkedArray, key: Key | str | Path, *, pool: HashPool | None = None,
                column: str = "pseudo_id") -> pa.StringArray:
    """Project pseudonyms for a column of source pseudonyms (nulls stay null)."""
    key = _check_key(key)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = pc.utf8_lower(values.cast(pa.string()))
    present = np.asarray(pc.is_valid(values))
    shaped = np.asarray(pc.fill_null(pc.match_substring_regex(values, PSEUDONYM), False))
    bad = int((present & ~shaped).sum())
    if bad:
        raise PrivacyError(f"kolom '{column}': {bad} waarden zijn geen bronpseudoniem (32 hexadecimale tekens)",
                           hint="herversleutel alleen kolommen die met 'stadslab source pseudonymise' zijn gemaakt")
    kept = values.filter(pa.array(present)) if not present.all() else values
    offsets = np.frombuffer(kept.buffers()[1], dtype=np.int32)[kept.offset:kept.offset + len(kept) + 1]
    messages = np.frombuffer(kept.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].tobytes()
    own = pool is None
    pool = pool or HashPool(key.secret, 0)
    try:
        hexed = HashPool.collect(pool.submit(messages, 2 * DIGEST_BYTES))
    finally:
        if own:
            pool.close()
    return hex_pseudonyms(hexed, present)


def rekey_table(table: pa.Table, key: Key | str | Path, *, columns: Sequence[str] = ("pseudo_id",)) -> pa.Table:
    key = _check_key(key)
    for c in columns:
        if c not in table.column_names:
            raise PrivacyError(f"kolom '{c}' niet gevonden", hint=f"kolommen: {', '.join(table.column_names)}")
        table = table.set_column(table.column_names.index(c), c, rekey_array(table[c], key, column=c))
    return table


def rekey_file(input: str | Path, output: str | Path, *, key: Key | str | Path,
               columns: Sequence[str] = ("pseudo_id",), receipt_path: str | Path | None = None,
               workers: int | None = None, progress: Callable[[int, int | None], None] | None = None) -> dict[str, Any]:
    """Re-key the pseudonym column(s) of a CSV/XLSX/Parquet file; writes CSV or Parquet and a receipt."""
    t0, started = time.perf_counter(), datetime.now(timezone.utc)
    input, output = Path(input), Path(output)
    key = _check_key(key)
    fmt = output_format(output)
    src = open_source(input)
    missing = [c for c in columns if c not in src.columns]
    if missing:
        raise PrivacyError(f"bestand {input}: kolom {', '.join(missing)} niet gevonden",
                           hint=f"kolommen: {', '.join(src.columns)}")
    if workers is None:
        workers = 2 if input.stat().st_size >= 64 << 20 else 0
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    sink = HashingWriter(tmp, fmt)
    rows = 0
    try:
        with HashPool(key.secret, workers) as pool:
            for batch, _ in src.batches():
                arrays = [rekey_array(batch.column(n), key, pool=pool, column=n) if n in columns else batch.column(n)
                          for n in batch.schema.names]
                sink.write(pa.RecordBatch.from_arrays(arrays, names=batch.schema.names))
                rows += batch.num_rows
                if progress:
                    progress(rows, src.estimated_rows)
        if sink.schema is None:
            sink.write_empty(pa.schema([(c, pa.string()) for c in src.columns]))
        sink.close()
    except BaseException:
        sink.abort()
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, output)
    receipt = {
        "format": "stadslab-receipt/1", "tool": "stadslab source rekey", "tool_version": __version__,
        "input": {"file": input.name, "sha256": file_sha256(input)},
        "output": {"file": output.name, "sha256": sink.sha256, "bytes": sink.bytes, "format": fmt},
        "rows": rows, "columns": list(columns), "project_id": key.project_id, "key_id": key.key_id,
        "algorithm": ALGORITHM,
        "started": started.isoformat(timespec="seconds"), "seconds": round(time.perf_counter() - t0, 3),
    }
    receipt_path = Path(receipt_path) if receipt_path else output.with_name(output.name + ".receipt.json")
    receipt_path.write_text(json.dumps(receipt, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    receipt["receipt_file"] = str(receipt_path)
    return receipt
