"""The actions log of the biweekly enforcement meeting: what was decided, where, by which team, when.

Kept outside the warehouse (which holds versioned source data) in ``<workspace>/overleg/acties.json``:
a small JSON list, rewritten atomically (temp file + fsync + ``os.replace``) under a process lock,
so a crash never leaves half a file. Entries are never edited in place; a withdrawn action is marked.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from stadslab.atomic import write_json
from stadslab.errors import AnalysisError

TEAMS = ("flexteam", "handhaving", "wijkteam", "politie", "buurtteam", "beheer openbare ruimte")
_LOCK = threading.Lock()


def log_path(root: Path) -> Path:
    return Path(root) / "overleg" / "acties.json"


def load(root: Path) -> list[dict[str, Any]]:
    path = log_path(root)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AnalysisError(f"{path}: het actielog is geen geldige JSON ({exc})",
                            hint="herstel het bestand uit de back-up; het wordt alleen atomair herschreven") from None
    return data if isinstance(data, list) else []


def _write(root: Path, items: list[dict[str, Any]]) -> None:
    write_json(log_path(root), items)


def add(root: Path, *, dataset: str, area_code: str, area_name: str, action: str, team: str, on: date,
        user: str) -> dict[str, Any]:
    action = action.strip()
    team = team.strip()
    if not action:
        raise AnalysisError("beschrijf de actie (bijvoorbeeld: extra surveillance fietsenstalling station)")
    if not team:
        raise AnalysisError("noem het team dat de actie uitvoert (bijvoorbeeld flexteam)")
    if len(action) > 500 or len(team) > 80:
        raise AnalysisError("de actie mag hoogstens 500 tekens hebben, het team 80")
    entry = {"id": uuid.uuid4().hex[:12], "dataset": dataset, "gebied": area_code, "gebied_naam": area_name,
             "actie": action, "team": team, "datum": on.isoformat(), "door": user,
             "vastgelegd_op": datetime.now(timezone.utc).isoformat(timespec="seconds"), "ingetrokken": False}
    with _LOCK:
        items = load(root)
        items.append(entry)
        _write(root, items)
    return entry


def withdraw(root: Path, action_id: str, user: str) -> None:
    with _LOCK:
        items = load(root)
        for it in items:
            if it["id"] == action_id:
                it["ingetrokken"] = True
                it["ingetrokken_door"] = user
                it["ingetrokken_op"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
                break
        else:
            raise AnalysisError(f"actie '{action_id}' bestaat niet")
        _write(root, items)


def for_dataset(root: Path, dataset: str) -> list[dict[str, Any]]:
    items = [a for a in load(root) if a.get("dataset") == dataset and not a.get("ingetrokken")]
    return sorted(items, key=lambda a: (a["datum"], a["vastgelegd_op"]), reverse=True)
