"""Primary suppression: the threshold rule (minimum frequency rule) of the publication gate.

A cell about fewer than ``min_cell`` persons is unsafe (Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, §5.2 "threshold rule"). The social-domain pilot publishes only aggregates of at
least fifteen individuals, so ``min_cell`` is 15 unless a dataset raises it. Lowering it below 15 is
possible only with an explicit reason, which is logged on the ``stadslab.audit`` logger and recorded
in the result's provenance.

Zeros: a true 0 is published by default (``zeros="publish"``): it says nobody in the group has the
property, which is the usual practice for structural and sampling zeros in frequency tables. With
``zeros="suppress"`` a 0 is treated like any count below the threshold. See docs/adr/0001.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from stadslab.errors import PrivacyError

DEFAULT_MIN_CELL = 15
ZERO_POLICIES = ("publish", "suppress")
audit_log = logging.getLogger("stadslab.audit")


def min_cell_for(dataset: Any) -> int:
    """The dataset's threshold: ``privacy.min_cell`` from the catalog, never below the default."""
    privacy = getattr(dataset, "privacy", None) or {}
    return max(DEFAULT_MIN_CELL, int(privacy.get("min_cell", DEFAULT_MIN_CELL)))


def resolve_min_cell(min_cell: int, override_reason: str | None, *, context: str = "") -> dict[str, Any] | None:
    """Check the threshold; a value below 15 needs ``override_reason`` and is audit-logged.

    Returns the override record (for the provenance) or None.
    """
    if not isinstance(min_cell, (int, np.integer)) or isinstance(min_cell, bool) or min_cell < 1:
        raise PrivacyError(f"min_cell moet een geheel getal ≥ 1 zijn, niet {min_cell!r}")
    if min_cell >= DEFAULT_MIN_CELL:
        return None
    if not (override_reason and override_reason.strip()):
        raise PrivacyError(
            f"min_cell={min_cell} ligt onder de norm van {DEFAULT_MIN_CELL} personen per cel",
            hint="een lagere drempel kan alleen met override_reason='…' (wordt vastgelegd in het auditlog)")
    record = {"min_cell": int(min_cell), "default": DEFAULT_MIN_CELL, "reason": override_reason.strip()}
    audit_log.warning("publicatiepoort: drempel verlaagd naar %d (norm %d)%s; reden: %s",
                      min_cell, DEFAULT_MIN_CELL, f" voor {context}" if context else "", record["reason"],
                      extra={"gate_override": record})
    return record


def primary_mask(full: np.ndarray, min_cell: int, zeros: str = "publish") -> np.ndarray:
    """Cells that are unsafe on their own: 0 < n < min_cell (and n == 0 when zeros='suppress')."""
    if zeros not in ZERO_POLICIES:
        raise PrivacyError(f"zeros={zeros!r} is onbekend; kies uit {ZERO_POLICIES}")
    unsafe = (full > 0) & (full < min_cell)
    if zeros == "suppress":
        unsafe |= full == 0
    return unsafe


def protection_need(full: np.ndarray, primary: np.ndarray, min_cell: int) -> np.ndarray:
    """Upper protection level per primary cell: how far an attacker must be able to raise it (min_cell − n)."""
    return np.where(primary, min_cell - full, 0).astype(np.int64)
