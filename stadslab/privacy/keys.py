"""Pseudonymisation keys: key files, the keyed pseudonym, and parallel hashing.

Key custody (also in docs/privacy-kit.md)
-----------------------------------------
- A **source key** (``kind: source``) is made once by one source holder with
  ``stadslab source keygen`` and shared with the other source holders (Werk en Inkomen,
  Leerlingzaken, buurtteams, ...) through a sealed channel (in person on an encrypted stick, or
  the municipality's secret vault) — never by e-mail. Every holder pseudonymises with the same key,
  so the same BSN gets the same pseudonym in every source and the data lab can link them.
- The key stays with the source holders. It is **never** given to the data lab and never stored in
  the warehouse or a workspace: whoever holds the key and a list of BSNs can recompute pseudonyms
  for those persons. ``write_key`` and ``load_key`` refuse a path inside a Stadslab workspace.
- Key files are written with mode 0600; ``load_key`` refuses files that group or others can read.
- The ``key_id`` is the first 12 hex digits of SHA-256("stadslab-key-id/1" ‖ secret): it names a
  key in receipts without revealing it (recovering a 256-bit secret from its hash is infeasible).
- **Rotation** (a key leaked, a holder leaves, or the agreed term ends): make a new key, and *all*
  sources re-pseudonymise their complete deliveries with it; pseudonyms under the old and the new
  key cannot be linked to each other by design. Destroy the old key afterwards.
- A **master key** (``kind: master``) belongs to the data lab and lives in a key folder the data
  lab controls outside the warehouse; project keys are derived from it (see rekey.py).

The pseudonym
-------------
``pseudonym = hex(HMAC-SHA256(secret, nine ASCII digits of the BSN))[:32]`` — HMAC (RFC 2104)
truncated to 128 bits (RFC 2104 §5 allows truncation to at least half the output), written as 32
lowercase hex characters. 128 bits make an accidental collision among even 10^9 persons
negligible (birthday bound ≈ 10^-21). Anyone with the key can reproduce it with any HMAC library.

Speed: per row Python can only call into OpenSSL, so we copy pre-keyed inner and outer SHA-256
states (the first block of each HMAC pass is the same for every row) and spread the rows over
worker processes (``HashPool``); see bench/pseudonymise.py for the measured rate.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import stat
import struct
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stadslab.errors import PrivacyError

KEY_FORMAT = "stadslab-key/1"
ALGORITHM = "HMAC-SHA256-128"
KINDS = ("source", "master", "project")
DIGEST_BYTES = 16
WORKSPACE_MARKERS = ("stadslab.yaml", "warehouse.duckdb")


@dataclass(frozen=True)
class Key:
    secret: bytes = field(repr=False)
    kind: str = "source"
    created: str = ""
    note: str = ""
    project_id: str | None = None
    path: Path | None = None

    @property
    def key_id(self) -> str:
        return key_id_for(self.secret)

    def pseudonym(self, message: str | bytes) -> str:
        """Pseudonym of one message (a normalised BSN or a source pseudonym)."""
        m = message.encode("ascii") if isinstance(message, str) else message
        return _Hasher(self.secret).one(m).hex()

    def as_json(self) -> dict[str, Any]:
        data = {"format": KEY_FORMAT, "key_id": self.key_id, "kind": self.kind, "algorithm": ALGORITHM,
                "created": self.created, "secret": base64.b64encode(self.secret).decode("ascii"),
                "note": self.note}
        if self.project_id is not None:
            data["project_id"] = self.project_id
        return data


def key_id_for(secret: bytes) -> str:
    return hashlib.sha256(b"stadslab-key-id/1" + secret).hexdigest()[:12]


def new_key(*, kind: str = "source", note: str = "", project_id: str | None = None) -> Key:
    if kind not in KINDS:
        raise PrivacyError(f"onbekende sleutelsoort '{kind}'", hint=f"kies uit: {', '.join(KINDS)}")
    return Key(secret=secrets.token_bytes(32), kind=kind, note=note, project_id=project_id,
               created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _inside_workspace(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if any((parent / m).exists() for m in WORKSPACE_MARKERS):
            return parent
    return None


def write_key(key: Key, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``key`` as JSON with mode 0600 (created with that mode: never briefly readable)."""
    path = Path(path)
    ws = _inside_workspace(path)
    if ws is not None:
        raise PrivacyError(f"sleutelbestand {path} ligt in de Stadslab-werkruimte {ws}",
                           hint="Bewaar sleutels buiten elke werkruimte en buiten het warehouse.")
    if path.exists() and not overwrite:
        raise PrivacyError(f"sleutelbestand {path} bestaat al; een sleutel wordt nooit overschreven",
                           hint="Kies een andere naam. Een nieuwe sleutel betekent: alle bronnen opnieuw pseudonimiseren.")
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(key.as_json(), fh, indent=2)
        fh.write("\n")
    os.chmod(path, 0o600)
    return path


def load_key(path: str | Path, *, kind: str | None = None) -> Key:
    """Read and validate a key file. ``kind`` (source/master/project) is checked when given."""
    path = Path(path)
    if not path.is_file():
        raise PrivacyError(f"sleutelbestand {path} niet gevonden",
                           hint="Maak er een met 'stadslab source keygen --out SLEUTEL.json' of vraag hem op bij de sleutelbeheerder.")
    ws = _inside_workspace(path)
    if ws is not None:
        raise PrivacyError(f"sleutelbestand {path} ligt in de Stadslab-werkruimte {ws}",
                           hint="Verplaats de sleutel naar een map buiten de werkruimte.")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise PrivacyError(f"sleutelbestand {path} is leesbaar voor anderen "
                           f"(rechten {oct(stat.S_IMODE(path.stat().st_mode))})",
                           hint=f"chmod 600 {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PrivacyError(f"sleutelbestand {path} is geen geldige JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        raise PrivacyError(f"sleutelbestand {path} heeft niet het formaat {KEY_FORMAT}")
    for name in ("key_id", "kind", "algorithm", "created", "secret"):
        if name not in data:
            raise PrivacyError(f"sleutelbestand {path} mist het veld '{name}'")
    if data["algorithm"] != ALGORITHM:
        raise PrivacyError(f"sleutelbestand {path}: algoritme '{data['algorithm']}' wordt niet ondersteund",
                           hint=f"verwacht: {ALGORITHM}")
    try:
        secret = base64.b64decode(data["secret"], validate=True)
    except (ValueError, TypeError):
        raise PrivacyError(f"sleutelbestand {path}: 'secret' is geen geldige base64") from None
    if len(secret) != 32:
        raise PrivacyError(f"sleutelbestand {path}: het geheim is {len(secret)} bytes (verwacht: 32)")
    if key_id_for(secret) != data["key_id"]:
        raise PrivacyError(f"sleutelbestand {path}: key_id past niet bij het geheim (bestand beschadigd of bewerkt)")
    if data["kind"] not in KINDS:
        raise PrivacyError(f"sleutelbestand {path}: onbekende soort '{data['kind']}'")
    if kind is not None and data["kind"] != kind:
        raise PrivacyError(f"sleutelbestand {path} is een {data['kind']}-sleutel; hier is een {kind}-sleutel nodig")
    return Key(secret=secret, kind=data["kind"], created=data["created"], note=data.get("note", ""),
               project_id=data.get("project_id"), path=path)


# --------------------------------------------------------------------------- hashing

class _Hasher:
    """HMAC-SHA256 with the key blocks absorbed once; per message two state copies (RFC 2104)."""

    def __init__(self, secret: bytes) -> None:
        block = secret.ljust(64, b"\0") if len(secret) <= 64 else hashlib.sha256(secret).digest().ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def one(self, message: bytes) -> bytes:
        i = self.inner.copy()
        i.update(message)
        o = self.outer.copy()
        o.update(i.digest())
        return o.digest()[:DIGEST_BYTES]

    def many(self, messages: bytes, width: int) -> bytes:
        """Concatenated 32-byte digests of ``messages`` cut in pieces of ``width`` bytes.

        Untruncated: ``hex_digests`` truncates all rows at once (cheaper than a slice per row).
        """
        import numpy as np

        ic, oc = self.inner.copy, self.outer.copy
        parts = np.frombuffer(messages, dtype=f"S{width}").tolist()
        out = []
        append = out.append
        for m in parts:   # the one unavoidable per-row loop; everything inside is C
            i = ic()
            i.update(m)
            o = oc()
            o.update(i.digest())
            append(o.digest())
        return b"".join(out)


def hex_digests(full: bytes) -> bytes:
    """Concatenated 32-byte digests → concatenated 32-character hex pseudonyms (first 16 bytes)."""
    import numpy as np

    return np.frombuffer(full, dtype=np.uint8).reshape(-1, 32)[:, :DIGEST_BYTES].tobytes().hex().encode("ascii")


def _serve() -> None:
    """Worker process main loop: secret (32 bytes) once, then frames ``<u32 length><u8 width>data``
    on stdin; answers ``<u32 length>hex`` on stdout. Ends at end of input."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    hasher = _Hasher(inp.read(32))
    while len(head := inp.read(5)) == 5:
        size, width = struct.unpack("<IB", head)
        result = hex_digests(hasher.many(inp.read(size), width))
        out.write(struct.pack("<I", len(result)) + result)
        out.flush()


class _Worker:
    """One hashing process. Loads keys.py by file path, so it starts in ~0.1 s whatever the
    calling program imported (multiprocessing's spawn would re-import the caller's main module)."""

    def __init__(self, secret: bytes) -> None:
        root = Path(__file__).resolve().parents[2]
        code = ("import sys, importlib.util as u; sys.path.insert(0, %r); "
                "s = u.spec_from_file_location('_stadslab_hash_worker', %r); m = u.module_from_spec(s); "
                "sys.modules[s.name] = m; s.loader.exec_module(m); m._serve()") % (str(root), str(Path(__file__).resolve()))
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.pending: deque[Future] = deque()
        self.lock = threading.Lock()
        self.error: BaseException | None = None   # set once the worker is gone
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.jobs.put(secret)   # the secret travels through the pipe: never on a command line or disk
        threading.Thread(target=self._write, daemon=True).start()
        threading.Thread(target=self._read, daemon=True).start()

    def submit(self, messages: bytes, width: int) -> Future:
        fut: Future = Future()
        with self.lock:
            if self.error is not None:
                fut.set_exception(self.error)
                return fut
            self.pending.append(fut)
        self.jobs.put(struct.pack("<IB", len(messages), width) + messages)
        return fut

    def _write(self) -> None:   # a thread, so the caller never waits for a busy worker to read
        try:
            while (data := self.jobs.get()) is not None:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def _read(self) -> None:
        out = self.proc.stdout
        try:
            while len(head := out.read(4)) == 4:
                size = struct.unpack("<I", head)[0]
                data = out.read(size)
                if len(data) != size:
                    break   # the worker died while answering
                self.pending.popleft().set_result(data)
        except Exception as exc:   # noqa: BLE001 — delivered to the waiting caller below
            error: BaseException = exc
        else:
            error = PrivacyError("een rekenproces voor het pseudonimiseren is onverwacht gestopt")
        with self.lock:
            self.error = error
            while self.pending:
                fut = self.pending.popleft()
                if not fut.done():
                    fut.set_exception(error)

    def close(self) -> None:
        self.jobs.put(None)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def hex_pseudonyms(hexed: bytes, valid: Any = None) -> Any:
    """A pyarrow string column from concatenated 32-character hex pseudonyms (``HashPool.collect``).

    ``valid`` (numpy bool, one per output row) marks the rows the pseudonyms belong to; other rows
    are null. Built from buffers, no Python object per row.
    """
    import numpy as np

    from stadslab.privacy.bsn import fixed_width_strings

    if valid is None or valid.all():
        return fixed_width_strings(hexed, 2 * DIGEST_BYTES)
    full = np.full(len(valid), b"0" * 2 * DIGEST_BYTES, dtype=f"S{2 * DIGEST_BYTES}")
    full[valid] = np.frombuffer(hexed, dtype=f"S{2 * DIGEST_BYTES}")
    return fixed_width_strings(full.tobytes(), 2 * DIGEST_BYTES, mask=~valid)


class HashPool:
    """Keyed hashing of fixed-width messages, spread over ``workers`` processes.

    ``submit`` returns one future per slice; ``collect`` joins their hex pseudonyms in order. With
    ``workers=0`` everything runs in this process (small files: no start-up cost). Threads would
    not help: hashlib holds the GIL for messages this short.
    """

    def __init__(self, secret: bytes, workers: int = 0) -> None:
        self.secret = secret
        self.workers = workers
        self._local = _Hasher(secret)
        self._procs = [_Worker(secret) for _ in range(workers)]

    def submit(self, messages: bytes, width: int) -> list[Future]:
        n = len(messages) // width
        if not self._procs or n < 4096:
            fut: Future = Future()
            fut.set_result(hex_digests(self._local.many(messages, width)))
            return [fut]
        step = -(-n // len(self._procs))
        return [w.submit(messages[k * width:(k + step) * width], width)
                for w, k in zip(self._procs, range(0, n, step))]

    @staticmethod
    def collect(futures: list[Future]) -> bytes:
        """Concatenated 32-character hex pseudonyms, in order."""
        return b"".join(f.result() for f in futures)

    def close(self) -> None:
        for w in self._procs:
            w.close()
        self._procs = []

    def __enter__(self) -> "HashPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
