"""Atomic small-file writes: a reader never sees half a file, a crash leaves the old one.

Used by the workspace's small JSON stores (actions log, discovery notes, signalen, suppression store):
write to a temp file in the same folder (owner-only, mkstemp's 0600), fsync, then ``os.replace``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any, *, indent: int | None = 1, compact: bool = False) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, default=str,
                      **({"separators": (",", ":")} if compact else {"indent": indent}))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
