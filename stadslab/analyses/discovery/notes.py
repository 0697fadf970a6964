"""A lead recorded as a hypothesis: in a project of the project register when there is one, else as a note
with provenance in the workspace (``<workspace>/ontdekken/hypothesen.json``).

The note file is a small JSON list, rewritten atomically (temp file + fsync + ``os.replace``) under a
process lock; entries are never edited in place.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from stadslab.atomic import write_json
from stadslab.errors import AnalysisError

_LOCK = threading.Lock()


def notes_path(root: Path) -> Path:
    return Path(root) / "ontdekken" / "hypothesen.json"


def load_notes(root: Path) -> list[dict[str, Any]]:
    path = notes_path(root)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AnalysisError(f"{path}: geen geldige JSON ({exc})", hint="herstel het bestand uit de back-up") from None
    return data if isinstance(data, list) else []


def _write(root: Path, items: list[dict[str, Any]]) -> None:
    write_json(notes_path(root), items)


def hypothesis_text(lead: dict[str, Any], labels: dict[str, str], level: str, year: int) -> str:
    x, y = labels.get(lead["x"], lead["x"]), labels.get(lead["y"], lead["y"])
    direction = "meer" if (lead.get("rho") or 0) > 0 else "minder"
    return (f"In {level}en met meer '{x}' is er {direction} '{y}' ({year}; ρ = {lead['rho']:.2f}, "
            f"oordeel: {lead.get('verdict') or 'niet gecontroleerd'}). Te onderzoeken: waarom — en geldt het ook "
            f"voor de mensen zelf? (verband tussen gebieden, geen oorzaak)")


def add_note(root: Path, *, lead: dict[str, Any], text: str, level: str, year: int,
             sources: list[dict[str, Any]], result: dict[str, Any] | None, user: str,
             project: str | None = None) -> dict[str, Any]:
    text = text.strip()
    if not text:
        raise AnalysisError("schrijf de hypothese op (een zin is genoeg)")
    if len(text) > 2000:
        raise AnalysisError("de hypothese mag hoogstens 2.000 tekens hebben")
    entry = {"id": uuid.uuid4().hex[:12], "hypothese": text, "x": lead["x"], "y": lead["y"], "niveau": level,
             "jaar": year, "rho": lead.get("rho"), "p_adj": lead.get("p_adj"), "partial_rho": lead.get("partial_rho"),
             "oordeel": lead.get("verdict"), "n_gebieden": lead.get("n_areas"), "bronnen": sources,
             "resultaat": result, "project": project, "door": user,
             "vastgelegd_op": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with _LOCK:
        items = load_notes(root)
        items.append(entry)
        _write(root, items)
    return entry
