"""The audit log: every read of a ``persoonsgegevens`` dataset, append-only and tamper-evident.

It lives outside the warehouse (``<workspace>/audit/audit.jsonl``), one JSON object per line. Each
entry carries the sha256 of the previous line, so changing or deleting an entry breaks the chain,
and ``stadslab audit --verify`` finds it. The file is opened in append mode only; the application
has no code path that rewrites it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


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


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: AuditEntry) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": datetime.now(timezone.utc).isoformat(), **vars(entry), "prev": self._last_hash()}
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def _last_hash(self) -> str:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return GENESIS
        with open(self.path, "rb") as fh:
            fh.seek(max(0, self.path.stat().st_size - 65536))
            last = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return hashlib.sha256(last).hexdigest()

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def verify(self) -> list[str]:
        """Problems in the hash chain (empty: intact)."""
        problems = []
        prev = GENESIS
        if not self.path.exists():
            return problems
        for n, raw in enumerate(self.path.read_bytes().splitlines(), start=1):
            try:
                rec = json.loads(raw)
            except ValueError:
                problems.append(f"regel {n}: geen geldige JSON")
                prev = hashlib.sha256(raw).hexdigest()
                continue
            if rec.get("prev") != prev:
                problems.append(f"regel {n}: keten verbroken (een eerdere regel is gewijzigd of verwijderd)")
            prev = hashlib.sha256(raw).hexdigest()
        return problems

    def summary(self, *, dataset: str | None = None, user: str | None = None,
                since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        """The privacy officer's view: reads per dataset, user and purpose in a period."""
        out: dict[tuple, dict[str, Any]] = {}
        for e in self.entries():
            if (dataset and e["dataset"] != dataset) or (user and e["user"] != user):
                continue
            if (since and e["time"] < since) or (until and e["time"] >= until):
                continue
            key = (e["dataset"], e["user"], e["purpose"], e["allowed"])
            rec = out.setdefault(key, {"dataset": e["dataset"], "user": e["user"], "purpose": e["purpose"],
                                       "allowed": e["allowed"], "reads": 0, "rows_out": 0, "first": e["time"],
                                       "last": e["time"], "routes": set()})
            rec["reads"] += 1
            rec["rows_out"] += e.get("rows_out") or 0
            rec["last"] = e["time"]
            rec["routes"].add(e["route"])
        return [{**r, "routes": sorted(r["routes"])} for r in out.values()]
