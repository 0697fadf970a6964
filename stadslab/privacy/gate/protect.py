"""The publication gate's public entry point: ``protect()`` → ``ProtectedTable``.

Every aggregate of a ``persoonsgegevens`` dataset leaves Stadslab through here (web pages, API,
exports, CLI, open data portal). Steps: build the table with all margins; primary suppression
(threshold rule, primary.py); complementary suppression (secondary.py) with a witness per primary
cell; verify every witness (the certificate: an explicit nonnegative table, consistent with all that
is published, in which the cell reaches ``min_cell``); refuse to return anything if a check fails.
Method and argument: docs/adr/0001-publication-gate.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from stadslab.errors import AnalysisError, PrivacyError
from stadslab.privacy.gate import differencing, lp_audit
from stadslab.privacy.gate.primary import (DEFAULT_MIN_CELL, audit_log, primary_mask, protection_need,
                                           resolve_min_cell)
from stadslab.privacy.gate.secondary import secondary_suppression
from stadslab.privacy.gate.suppression_store import SuppressionStore
from stadslab.privacy.gate.tables import TableModel, from_frame, leaf_level, to_frame, view_mask
from stadslab.privacy.gate.witness import verify_witnesses

ALGORITHM = "stadslab-gate 1.0"
METHOD = ("drempelregel (n < min_cell) + complementaire onderdrukking met hypercube-getuigen "
          "(GHMITER-achtig, in bladruimte), per cel gecertificeerd")
SUPPRESSED = "suppressed"
PUBLIC_MARK = "onderdrukt"


@dataclass
class ProtectedTable:
    """Every cell and margin with its published value (NULL when suppressed) and the reason."""

    frame: pd.DataFrame
    stats: dict[str, int]
    provenance: dict[str, Any]
    model: TableModel = field(repr=False)          # the (cover) table the pattern was computed on
    suppressed: np.ndarray = field(repr=False)     # over the model: suppressed or hidden (not published)
    primary: np.ndarray = field(repr=False)        # over the model: primary cells of this table

    def to_pandas(self, *, public: bool = False) -> pd.DataFrame:
        """The table; ``public=True`` hides *why* a cell is suppressed (primary and secondary look alike).

        Publishing the reason tells an attacker which cells are below the threshold; the reason is for
        the data lab and the privacy officer, public outputs use ``public=True``.
        """
        out = self.frame.copy()
        if public:
            out[SUPPRESSED] = np.where(out[SUPPRESSED] != "", PUBLIC_MARK, "")
        return out

    def to_arrow(self, *, public: bool = False) -> pa.Table:
        return pa.Table.from_pandas(self.to_pandas(public=public), preserve_index=False)

    def audit(self) -> dict[str, Any]:
        """Exact LP audit (slow on big tables): upper bound of every primary cell ≥ min_cell, given
        everything published by this table and the tables protected together with it."""
        known_zero = ~self.model.present if self.provenance.get("absent") == "structural" else None
        return lp_audit.audit(self.model, self.suppressed, self.primary, self.provenance["min_cell"], known_zero)

    def select(self, public: bool = True, **filters: Any) -> pd.DataFrame:
        """A whole-category slice of this table (see differencing.select)."""
        return differencing.select(self, filters, public=public)


def _value_specs(values: list[str] | Mapping[str, str] | None) -> dict[str, str]:
    if values is None:
        return {}
    specs = {v: "mean" for v in values} if not isinstance(values, Mapping) else dict(values)
    for name, agg in specs.items():
        if agg not in ("mean", "sum"):
            raise AnalysisError(f"afgeleide kolom '{name}': aggregatie {agg!r} onbekend",
                                hint="'mean' (gemiddelde/aandeel/percentage per persoon) of 'sum' (optelbaar)")
    return specs


def _reasons(model: TableModel, suppressed: np.ndarray, primary: np.ndarray, hidden: np.ndarray,
             protector: np.ndarray, origin: dict[int, str], min_cell: int, zeros: str) -> np.ndarray:
    reasons = np.full(model.full.size, "", dtype=object)
    flat_prim = primary.reshape(-1)
    reasons[flat_prim] = f"primair: n<{min_cell}" if zeros == "publish" else f"primair: n<{min_cell} of 0"
    sec = np.flatnonzero(suppressed.reshape(-1) & ~flat_prim & ~hidden.reshape(-1))
    prot = protector[sec]
    mine = prot >= 0
    if mine.any():
        reasons[sec[mine]] = "secundair: beschermt cel " + model.cell_keys(prot[mine])
    if (~mine).any():
        reasons[sec[~mine]] = np.asarray([f"secundair: eerder onderdrukt ({origin.get(int(i)) or 'archief'})"
                                          for i in sec[~mine]], dtype=object)
    return reasons


def protect_linked(df: pd.DataFrame | pa.Table, *, count: str, dims: list[str], tables: list[list[str]],
                   hierarchy: Mapping[str, Any] | None = None, min_cell: int = DEFAULT_MIN_CELL,
                   values: list[str] | Mapping[str, str] | None = None, totals_label: str = "Totaal",
                   store: SuppressionStore | None = None, structure_id: Any = None,
                   override_reason: str | None = None, zeros: str = "publish",
                   absent: str = "zero") -> list[ProtectedTable]:
    """Protect several tables of one dataset *together*, so their shared margins cannot be combined.

    ``df`` holds the cover table (one row per combination of all ``dims``); each entry of ``tables``
    is the dimension list of one published table (a sub-table of the cover, e.g. buurt × geslacht and
    buurt × leeftijd of the cover buurt × geslacht × leeftijd). The witnesses live in the cover: a
    complementary suppression must hold against an attacker who sees all the tables at once and
    knows they come from the same people. Cells of the cover that no table publishes stay hidden.
    Other parameters as :func:`protect`.
    """
    started = time.perf_counter()
    if isinstance(df, pa.Table):
        df = df.to_pandas()
    if absent not in ("zero", "structural"):
        raise AnalysisError(f"absent={absent!r} is onbekend; kies 'zero' of 'structural'")
    if store is not None and structure_id is None:
        raise PrivacyError("een onderdrukkingsarchief vraagt ook structure_id",
                           hint="geef de vastgelegde TableStructure of 'dataset/naam' mee")
    if not tables:
        raise AnalysisError("geef minstens één tabel (lijst dimensies) om te publiceren")
    override = resolve_min_cell(min_cell, override_reason, context=str(structure_id or ""))
    model = from_frame(df, count=count, dims=list(dims), hierarchy=hierarchy, totals=totals_label,
                       values=_value_specs(values))
    views = [view_mask(model, t) for t in tables]
    visible = np.logical_or.reduce(views)
    hidden = ~visible
    primary = primary_mask(model.full, min_cell, zeros) & visible
    need = protection_need(model.full, primary, min_cell)
    frozen = np.zeros(model.shape, dtype=bool)
    forced = hidden.copy()
    ctx = None
    if store is not None:
        dataset, population, sid = differencing.split_structure_id(structure_id)
        ctx = store.prepare(model, dataset=dataset, population=population, structure_id=sid, visible=visible)
        forced |= ctx.forced
        clash = ctx.frozen & primary
        if clash.any():    # a cell below the threshold is never published, whatever came before
            audit_log.warning("publicatiepoort: %d cel(len) eerder gepubliceerd en nu onder de drempel (%s)",
                              int(clash.sum()), sid)
        frozen |= ctx.frozen & ~primary
    if absent == "structural":
        frozen[tuple(slice(0, d.n_leaves) for d in model.dims)] |= ~model.present
    pattern = secondary_suppression(model, primary, need, forced=forced, frozen=frozen)
    suppressed = pattern.suppressed
    checked = verify_witnesses(model, suppressed, need, pattern.witnesses, pattern.rects)
    if set(pattern.witnesses) != set(np.flatnonzero(primary.reshape(-1)).tolist()):
        raise PrivacyError("publicatiepoort: interne controle faalt (primaire cel zonder getuige); "
                           "er wordt niets gepubliceerd")
    small = visible & ~suppressed & (model.full < min_cell) & ((model.full > 0) | (zeros == "suppress"))
    if small.any():
        raise PrivacyError("publicatiepoort: interne controle faalt (kleine cel gepubliceerd); er wordt niets gepubliceerd")
    reasons = _reasons(model, suppressed, primary, hidden, pattern.protector,
                       {} if ctx is None else ctx.origin, min_cell, zeros)
    provenance: dict[str, Any] = {
        "method": METHOD, "algorithm": ALGORITHM, "min_cell": int(min_cell), "zeros": zeros,
        "criterion": "per primaire cel: LP-bovengrens over alles wat gepubliceerd is ≥ min_cell",
        "certificates_checked": checked, "override": override, "absent": absent,
        "hierarchy": {k: (v if isinstance(v, (str, list)) else "mapping") for k, v in (hierarchy or {}).items()},
        "structure_id": None if structure_id is None else differencing.split_structure_id(structure_id)[2],
        "linked_tables": [list(t) for t in tables] if len(tables) > 1 else None}
    if ctx is not None:
        provenance["store"] = {"forced": int((ctx.forced & visible).sum()), "frozen": int(ctx.frozen.sum()),
                               "version": store.record(model, ctx, suppressed, {"tables": [list(t) for t in tables],
                                                                                 "min_cell": int(min_cell),
                                                                                 "zeros": zeros})}
    provenance["seconds"] = round(time.perf_counter() - started, 3)
    out = []
    for t, view in zip(tables, views):
        rows = np.flatnonzero(view.reshape(-1))
        interior = view & leaf_level(model, t)
        sup_v, prim_v = suppressed & view, primary & view
        stats = {"cells": int(interior.sum()), "margins": int((view & ~interior).sum()),
                 "primary": int(prim_v.sum()), "secondary": int((sup_v & ~prim_v).sum()),
                 "suppressed": int(sup_v.sum()), "published": int((view & ~suppressed).sum()),
                 "secondary_margins": int((sup_v & ~prim_v & ~interior).sum())}
        frame = to_frame(model, rows, t, suppressed, reasons, SUPPRESSED)
        out.append(ProtectedTable(frame=frame, stats=stats, provenance={**provenance, "dims": list(t)},
                                  model=model, suppressed=suppressed, primary=prim_v))
    return out


def protect(df: pd.DataFrame | pa.Table, *, count: str, dims: list[str],
            hierarchy: Mapping[str, Any] | None = None, min_cell: int = DEFAULT_MIN_CELL,
            values: list[str] | Mapping[str, str] | None = None, totals_label: str = "Totaal",
            store: SuppressionStore | None = None, structure_id: Any = None,
            override_reason: str | None = None, zeros: str = "publish", absent: str = "zero") -> ProtectedTable:
    """Protect one table for publication.

    Parameters
    ----------
    df : one row per interior cell (no margins): the dimension columns, ``count`` and value columns.
    count : column with the number of persons per cell.
    dims : dimension columns. A missing combination counts as 0 persons (see ``absent``).
    hierarchy : per dimension its parent level(s): a column name (``{"buurt": "wijk"}``), a list of
        columns from low to high, or a mapping child → parent (output column ``<dim>_parent``).
    min_cell : threshold (default 15). Higher is always allowed; lower needs ``override_reason``,
        which is logged on the ``stadslab.audit`` logger and kept in ``provenance["override"]``.
    values : derived figures per cell (means, rates, shares): a list (aggregated to margins as a
        count-weighted mean) or ``{column: "mean" | "sum"}``. Suppressed with their cell.
    totals_label : the value shown in a dimension column for a margin row.
    store, structure_id : a SuppressionStore and the table's id (TableStructure or "dataset/name"):
        suppressed cells stay suppressed in later refreshes and in other tables of the dataset.
    zeros : "publish" (a true 0 is shown) or "suppress" (0 is unsafe like 1…14).
    absent : a combination missing from ``df`` is a cell with 0 persons ("zero", default) or a publicly
        known impossible combination ("structural"): then it is never used as a complementary cell.

    Returns
    -------
    ProtectedTable with every cell and margin (rows whose dimension value is ``totals_label``), the
    published count (NULL when suppressed), ``suppressed`` (reason, '' when published), ``stats`` and
    ``provenance``.
    """
    return protect_linked(df, count=count, dims=dims, tables=[list(dims)], hierarchy=hierarchy,
                          min_cell=min_cell, values=values, totals_label=totals_label, store=store,
                          structure_id=structure_id, override_reason=override_reason, zeros=zeros,
                          absent=absent)[0]
