"""The audit log: every read of personal data (and every refused or failed one), append-only and
tamper-evident against whoever can write the workspace.

The log lives in the workspace (``<workspace>/audit/audit.jsonl``), one JSON object per line. Each
line carries ``prev`` (the MAC of the line before) and ``mac`` = HMAC-SHA256(key, the line without
``mac``). The key lives **outside** the workspace, like the bronhouder key: ``$STADSLAB_AUDIT_KEY``
(a file path), else ``audit.key`` in ``stadslab.yaml``, else ``<workspace>-audit/audit.key`` next to
the workspace (made on first use, mode 0600). Without the key nobody can recompute a valid chain, so
editing any line — also line 1 with all later hashes recomputed — is detected.

A chain alone does not show what was cut off at the end: removing trailing lines, or the whole file,
leaves a valid shorter chain. Therefore every append also writes an *anchor* next to the key
(``anker-<hash of log path>.json``: number of entries and MAC of the last one). ``verify`` checks
the chain *and* that its head is the anchor. An administrator who holds the key and the anchor can
still rewrite history; that is outside what this protects (docs/security.md).

Lines written by the older, unkeyed format (sha256 chain only) are reported by ``verify``, never
accepted silently.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stadslab.errors import PrivacyError

GENESIS = "0" * 64
KEY_ENV = "STADSLAB_AUDIT_KEY"
KEY_FILE = "audit.key"


@dataclass(frozen=True)
class AuditEntry:
    user: str
    role: str
    purpose: str | None
    dataset: str
    version: int | None
    route: str                      # cli:query, web:/monitor, api:/api/..., export:csv
    filters: dict[str, Any]
    rows_out: int | None
    allowed: bool = True
    reason: str = ""


def _workspace_of(log_path: Path) -> Path | None:
    """The workspace a log at ``<ws>/audit/audit.jsonl`` belongs to (None for a loose log file)."""
    ws = log_path.parent.parent
    return ws if log_path.parent.name == "audit" and (ws / "stadslab.yaml").exists() else None


def default_key_path(log_path: Path) -> Path:
    """Where the key is when nothing is configured: next to the workspace (or the log's folder), never in it."""
    log_path = Path(log_path).absolute()
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env).expanduser().absolute()
    ws = _workspace_of(log_path)
    if ws is not None:
        try:
            import yaml

            cfg = yaml.safe_load((ws / "stadslab.yaml").read_text(encoding="utf-8")) or {}
            configured = ((cfg.get("audit") or {}) if isinstance(cfg, dict) else {}).get("key")
        except (OSError, ValueError, AttributeError):
            configured = None
        if configured:
            p = Path(str(configured)).expanduser()
            return (p if p.is_absolute() else ws / p).absolute()
        return ws.parent / f"{ws.name}-audit" / KEY_FILE
    folder = log_path.parent
    return folder.parent / f"{folder.name}-audit" / KEY_FILE


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in record.items() if k != "mac"}, ensure_ascii=False, sort_keys=True,
                      default=str, separators=(",", ":")).encode("utf-8")


class AuditLog:
    def __init__(self, path: Path, key_path: Path | None = None) -> None:
        self.path = Path(path)
        self.key_path = Path(key_path).absolute() if key_path else default_key_path(self.path)
        ws = _workspace_of(self.path.absolute())
        if ws is not None and _inside(self.key_path, ws):
            raise PrivacyError(f"de auditsleutel {self.key_path} staat in de werkruimte; wie de werkruimte kan "
                               "schrijven, kan dan ook het logboek herschrijven",
                               hint="zet audit.key in stadslab.yaml (of $STADSLAB_AUDIT_KEY) op een pad buiten "
                                    f"{ws}")

    # ---- key and anchor (outside the workspace) ----------------------------------------------------

    @property
    def anchor_path(self) -> Path:
        tag = hashlib.sha256(str(self.path.resolve()).encode("utf-8")).hexdigest()[:16]
        return self.key_path.parent / f"anker-{tag}.json"

    def _key(self, *, create: bool) -> bytes | None:
        try:
            return bytes.fromhex(self.key_path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            if not create:
                return None
        except ValueError:
            raise PrivacyError(f"auditsleutel {self.key_path} is onleesbaar (verwacht hex)") from None
        self.key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:        # another process made it first
            return bytes.fromhex(self.key_path.read_text(encoding="ascii").strip())
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.hex())
        return key

    def anchor(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.anchor_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            return {"entries": -1, "mac": "", "corrupt": True}

    def _write_anchor(self, entries: int, mac: str, problems: list[str]) -> None:
        tmp = self.anchor_path.with_suffix(f".{os.getpid()}.tmp")
        data = json.dumps({"log": str(self.path.resolve()), "entries": entries, "mac": mac,
                           "time": datetime.now(timezone.utc).isoformat(), "problems": problems[-20:]})
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.anchor_path)

    @staticmethod
    def _mac(key: bytes, record: dict[str, Any]) -> str:
        return hmac.new(key, _canonical(record), hashlib.sha256).hexdigest()

    # ---- writing -------------------------------------------------------------------------------------

    def append(self, entry: AuditEntry) -> dict[str, Any]:
        """Write one entry: chained to the last line by its MAC, keyed, and the anchor moved to it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = self._key(create=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)   # one writer at a time across processes (CLI and server)
            prev, count, problems = self._head()
            record = {"time": datetime.now(timezone.utc).isoformat(), **vars(entry), "prev": prev}
            record["mac"] = self._mac(key, record)
            # ASCII only: no character in a request (U+2028, U+0085, …) can split a line for a reader
            line = json.dumps(record, ensure_ascii=True, sort_keys=True, default=str)
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
            self._write_anchor(count + 1, record["mac"], problems)
        finally:
            os.close(fd)   # closing releases the lock
        return record

    def _head(self) -> tuple[str, int, list[str]]:
        """(chain value of the last line, number of lines, problems the anchor keeps). In the normal case
        the anchor says the count and only the file's tail is read. When the file does not end where the
        anchor says, the mismatch is kept in the anchor for ``verify``: the next append must not make a
        cut-off log look whole again."""
        anchor = self.anchor()
        problems = list((anchor or {}).get("problems") or [])
        if not self.path.exists() or self.path.stat().st_size == 0:
            if anchor and int(anchor.get("entries", 0)) > 0:
                problems.append(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}: logboek was leeg of "
                                f"weg, het anker verwachtte {anchor.get('entries')} regels")
            return GENESIS, 0, problems
        with open(self.path, "rb") as fh:
            size = self.path.stat().st_size
            fh.seek(max(0, size - 65536))
            last = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            rec = json.loads(last)
            prev = rec["mac"] if isinstance(rec, dict) and isinstance(rec.get("mac"), str) else None
        except ValueError:
            prev = None
        if prev is None:   # old unkeyed line: continue from its sha256 (verify still reports the old part)
            prev = hashlib.sha256(last).hexdigest()
        if anchor and not anchor.get("corrupt") and anchor.get("mac") == prev:
            return prev, int(anchor["entries"]), problems
        count = sum(1 for raw in self.path.read_bytes().split(b"\n") if raw.strip())
        if anchor is not None:
            problems.append(f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}: logboek eindigde niet "
                            f"waar het anker zei ({anchor.get('entries')} regels verwacht, {count} gevonden)")
        return prev, count, problems

    # ---- reading -------------------------------------------------------------------------------------

    def last(self) -> dict[str, Any] | None:
        """The last entry (read from the file's tail only), or None."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, "rb") as fh:
            fh.seek(max(0, self.path.stat().st_size - 65536))
            raw = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            rec = json.loads(raw)
        except ValueError:
            return None
        return rec if isinstance(rec, dict) else None

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue   # verify reports it; the overview skips it
                if isinstance(rec, dict):
                    out.append(rec)
        return out

    def verify(self) -> list[str]:
        """Problems in the keyed chain and its anchor (empty: intact)."""
        problems: list[str] = []
        key = self._key(create=False)
        anchor = self.anchor()
        lines = [raw for raw in self.path.read_bytes().split(b"\n") if raw.strip()] if self.path.exists() else []
        if key is None:
            if lines or anchor:
                problems.append(f"auditsleutel ontbreekt ({self.key_path}): de keten is niet te controleren")
            return problems
        prev, old = GENESIS, 0
        for n, raw in enumerate(lines, start=1):
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict):
                    raise ValueError
            except ValueError:
                problems.append(f"regel {n}: geen geldige JSON")
                prev = hashlib.sha256(raw).hexdigest()
                continue
            if rec.get("prev") != prev:
                problems.append(f"regel {n}: keten verbroken (een eerdere regel is gewijzigd of verwijderd)")
            if "mac" not in rec:
                old += 1
                prev = hashlib.sha256(raw).hexdigest()
                continue
            if not hmac.compare_digest(str(rec["mac"]), self._mac(key, rec)):
                problems.append(f"regel {n}: sleutel-MAC klopt niet (regel gewijzigd of niet door Stadslab geschreven)")
            prev = str(rec["mac"])
        if old:
            problems.insert(0, f"{old} regel(s) in het oude formaat zonder sleutel (alleen sha256-keten): niet "
                               "te controleren tegen wijzigen; bewaar het oude logboek apart en begin een nieuw")
        if anchor is None:
            if lines:
                problems.append(f"anker ontbreekt ({self.anchor_path}): niet te zien of er regels aan het eind "
                                "zijn verwijderd")
        elif anchor.get("corrupt"):
            problems.append(f"anker {self.anchor_path} is onleesbaar")
        else:
            problems += [f"eerder vastgesteld: {p}" for p in anchor.get("problems") or []]
            want_n, want_mac = int(anchor.get("entries", -1)), str(anchor.get("mac", ""))
            if len(lines) < want_n:
                problems.append(f"logboek ingekort: {len(lines)} regels, het anker verwacht er {want_n} "
                                "(regels aan het eind verwijderd of bestand geleegd)")
            elif len(lines) > want_n:
                problems.append(f"logboek heeft {len(lines)} regels, het anker {want_n}: regels toegevoegd buiten "
                                "Stadslab om (of een schrijfactie is halverwege afgebroken)")
            elif lines and prev != want_mac:
                problems.append("laatste regel komt niet overeen met het anker (gewijzigd of vervangen)")
        return problems

    def migrate(self) -> Path | None:
        """Set an old-format (unkeyed) log aside as ``audit-oud-<time>.jsonl`` and start a keyed log whose
        first entry records the old file's sha256 and line count. None when there is nothing to migrate."""
        if not self.path.exists() or not any("mac" not in e for e in self.entries()):
            return None
        raw = self.path.read_bytes()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        old = self.path.with_name(f"audit-oud-{stamp}.jsonl")
        os.replace(self.path, old)
        try:
            self.anchor_path.unlink()
        except FileNotFoundError:
            pass
        lines = sum(1 for r in raw.split(b"\n") if r.strip())
        self.append(AuditEntry("stadslab", "beheer", None, "-", None, "cli:audit --migreer",
                               {"oud_logboek": old.name, "sha256": hashlib.sha256(raw).hexdigest(),
                                "regels": lines}, None, reason="oud ongesleuteld logboek apart gezet"))
        return old

    def summary(self, *, dataset: str | None = None, user: str | None = None,
                since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        """The privacy officer's view: reads per dataset, user and purpose in a period."""
        out: dict[tuple, dict[str, Any]] = {}
        for e in self.entries():
            if (dataset and e.get("dataset") != dataset) or (user and e.get("user") != user):
                continue
            t = str(e.get("time", ""))
            if (since and t < since) or (until and t >= until):
                continue
            key = (e.get("dataset"), e.get("user"), e.get("purpose"), e.get("allowed"))
            rec = out.setdefault(key, {"dataset": e.get("dataset"), "user": e.get("user"),
                                       "purpose": e.get("purpose"), "allowed": e.get("allowed"), "reads": 0,
                                       "rows_out": 0, "first": t, "last": t, "routes": set()})
            rec["reads"] += 1
            rec["rows_out"] += e.get("rows_out") or 0
            rec["last"] = t
            rec["routes"].add(str(e.get("route")))
        return [{**r, "routes": sorted(r["routes"])} for r in out.values()]
