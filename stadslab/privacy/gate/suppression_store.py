"""The suppression store: what each cell of a dataset's published tables looked like last time.

Differencing defence (docs/adr/0001): a cell is identified by its dataset, its population (the
table's whole-category filters; the release path adds the measure, ``maat=unieke pseudo_id`` or
``maat=persoon-cellen <structure>``, so two different quantities never share a key) and its non-total
coordinates, e.g. ``wijk_code=WK001`` — the same
key in every table of the dataset that contains that cell (a buurt total in "buurt × geslacht" is the
same cell as in "buurt × leeftijd"). Per cell the store keeps:

* ``s``: "p" published (with its value ``v`` and the tables ``by`` that published it) or "s"
  suppressed; a suppressed cell stays suppressed in every later refresh and every other table of
  the dataset (patterns only grow, so consecutive versions cannot be differenced).

A cell published with the same value by another table of the dataset is *frozen*: it may not be
used as a complementary suppression (the other table shows it anyway). The store is one JSON file, written atomically (write to a temporary file, rename).
It holds only published values and suppression flags, never a suppressed count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from stadslab.atomic import write_json
from stadslab.errors import PrivacyError
from stadslab.privacy.gate.tables import TableModel

FORMAT = 1


@dataclass
class StoreContext:
    dataset: str
    population: str
    structure_id: str
    keys: np.ndarray                            # cell key per flat index
    forced: np.ndarray                          # bool full: suppressed before
    frozen: np.ndarray                          # bool full: published before with the same value
    origin: dict[int, str] = field(default_factory=dict)   # flat → structure that suppressed it first


class SuppressionStore:
    """JSON-backed store; ``SuppressionStore(None)`` keeps everything in memory (tests)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.data: dict[str, Any] = {"format": FORMAT, "datasets": {}, "structures": {}}
        if self.path is not None and self.path.exists():
            try:
                self.data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise PrivacyError(f"onderdrukkingsarchief {self.path} is onleesbaar: {exc}",
                                   hint="herstel het bestand uit de back-up; zonder archief zijn "
                                        "opeenvolgende publicaties niet tegen verschilaanvallen beschermd") from exc
            if self.data.get("format") != FORMAT:
                raise PrivacyError(f"onderdrukkingsarchief {self.path}: onbekend formaat {self.data.get('format')}")

    def save(self) -> None:
        if self.path is None:
            return
        write_json(self.path, self.data, compact=True)

    def structure_version(self, structure_id: str) -> int:
        return int(self.data["structures"].get(structure_id, {}).get("version", 0))

    def _cells(self, dataset: str) -> dict[str, dict[str, Any]]:
        return self.data["datasets"].setdefault(dataset, {})

    def prepare(self, model: TableModel, *, dataset: str, population: str, structure_id: str,
                visible: np.ndarray | None = None) -> StoreContext:
        """Forced and frozen cells for a table about to be protected (``visible``: cells it publishes)."""
        flat = np.arange(model.full.size)
        keys = np.asarray([f"{population}|{k}" for k in model.cell_keys(flat)], dtype=object)
        if visible is not None:
            keys[~visible.reshape(-1)] = None
        cells = self._cells(dataset)
        forced = np.zeros(model.full.size, dtype=bool)
        frozen = np.zeros(model.full.size, dtype=bool)
        ctx = StoreContext(dataset, population, structure_id, keys, forced, frozen)
        if not cells:
            ctx.forced, ctx.frozen = forced.reshape(model.shape), frozen.reshape(model.shape)
            return ctx
        values = model.full.reshape(-1)
        for i, key in enumerate(keys.tolist()):
            rec = cells.get(key) if key is not None else None
            if rec is None and key is not None and population:
                # stores written before keys carried the measure: a cell suppressed then stays suppressed
                old = cells.get("|" + key.split("|", 1)[1])
                rec = old if old is not None and old["s"] == "s" else None
            if rec is None:
                continue
            if rec["s"] == "s":
                forced[i] = True
                ctx.origin[i] = rec.get("by", "")
            elif rec.get("v") == int(values[i]) and set(rec.get("by", ())) - {structure_id}:
                frozen[i] = True
        ctx.forced, ctx.frozen = forced.reshape(model.shape), frozen.reshape(model.shape)
        return ctx

    def record(self, model: TableModel, ctx: StoreContext, suppressed: np.ndarray, meta: dict[str, Any]) -> int:
        """Write the new pattern (suppressed cells stay suppressed) and return the structure's version."""
        cells = self._cells(ctx.dataset)
        sup = suppressed.reshape(-1)
        values = model.full.reshape(-1)
        for i, key in enumerate(ctx.keys.tolist()):
            if key is None:
                continue
            old = cells.get(key)
            if sup[i]:
                cells[key] = {"s": "s", "by": old["by"] if old and old["s"] == "s" else ctx.structure_id}
            elif old is None or old["s"] != "s":
                by = set(old.get("by", ())) if old and old.get("v") == int(values[i]) else set()
                cells[key] = {"s": "p", "v": int(values[i]), "by": sorted(by | {ctx.structure_id})}
        version = self.structure_version(ctx.structure_id) + 1
        self.data["structures"][ctx.structure_id] = {
            **meta, "dataset": ctx.dataset, "version": version,
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.save()
        return version
