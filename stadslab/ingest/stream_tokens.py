"""Source tokens for the stream endpoint: one random token per (stream, source), kept hashed.

The catalog says only *that* a stream takes tokens from the workspace; the hashes live in
``<workspace>/stream-tokens.yaml`` (owner-only permissions), never in the catalog. A token is 32
random bytes, so a plain SHA-256 suffices (no password stretching needed); it is compared in constant
time. ``stadslab stream token DATASET BRON`` makes one and shows it once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import yaml

from stadslab.workspace import Workspace

TOKENS_FILE = "stream-tokens.yaml"


def _path(ws: Workspace) -> Path:
    return ws.root / TOKENS_FILE


_CACHE: dict[str, tuple[int, dict]] = {}


def _read(ws: Workspace) -> dict[str, dict[str, str]]:
    """The hashes, re-read only when the file changed (the endpoint asks on every batch)."""
    path = _path(ws)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    cached = _CACHE.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    _CACHE[str(path)] = (mtime, data)
    return data


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(ws: Workspace, dataset: str, source: str) -> str:
    """A new token for ``source`` on ``dataset`` (replaces an older one of that source)."""
    token = "sl_" + secrets.token_urlsafe(32)
    data = _read(ws)
    data.setdefault(dataset, {})[source] = digest(token)
    path = _path(ws)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# SHA-256 van de brontokens per stream (stadslab stream token); de tokens zelf staan hier niet.\n")
        yaml.safe_dump(data, fh, sort_keys=True)
    os.replace(tmp, path)
    return token


def source_for(ws: Workspace, dataset: str, token: str | None) -> str | None:
    """The source name a token belongs to on ``dataset``, or None."""
    if not token:
        return None
    d = digest(token)
    found = None
    for source, h in (_read(ws).get(dataset) or {}).items():
        if hmac.compare_digest(str(h), d):
            found = source
    return found


def sources(ws: Workspace, dataset: str) -> list[str]:
    return sorted((_read(ws).get(dataset) or {}).keys())
