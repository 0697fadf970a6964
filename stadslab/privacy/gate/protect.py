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
from stadslab.privacy.gate.primary import (DEFAULT_MIN_CELL, primary_mask, protection_need,
                                           resolve_min_cell)
from stadslab.privacy.gate.secondary import secondary_suppression
from stadslab.privacy.gate.suppression_store import SuppressionStore
from stadslab.privacy.gate.tables import TableModel, from_frame
from stadslab.privacy.gate.witness import SupportCache, check_rectangles, check_witness

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
    model: TableModel = field(repr=False)
    suppressed: np.ndarray = field(repr=False)
    primary: np.ndarray = field(repr=False)

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
        """Exact LP audit (slow on big tables): upper bound of every primary cell ≥ min_cell."""
        return lp_audit.audit(self.model, self.suppressed, self.primary, self.provenance["min_cell"])

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


def _verify(model: TableModel, suppressed: np.ndarray, need: np.ndarray, witnesses: dict) -> int:
    """Check the witness of every primary cell; returns how many were checked."""
    flat_need = need.reshape(-1)
    rects, rect_need, others = [], [], []
    two_d = len(model.dims) == 2
    for p, terms in witnesses.items():
        if two_d and len(terms) == 1 and all(b >= 0 for _, b in terms[0].vecs):
            (i, i2), (j, j2) = terms[0].vecs
            d1, d2 = model.dims
            if (np.unravel_index(p, model.shape) == (i, j) and d1.parent[i] == d1.parent[i2]
                    and d2.parent[j] == d2.parent[j2]):
                rects.append((i, i2, j, j2, terms[0].amount))
                rect_need.append(flat_need[p])
                continue
        others.append(p)
    if rects:
        ok = check_rectangles(model, suppressed, np.asarray(rects, dtype=np.int64), np.asarray(rect_need))
        if not ok.all():
            raise PrivacyError("publicatiepoort: interne controle faalt (rechthoek-getuige ongeldig); "
                               "er wordt niets gepubliceerd")
    cache = SupportCache(model)
    for p in others:
        problem = check_witness(model, cache, suppressed, p, int(flat_need[p]), witnesses[p])
        if problem:
            raise PrivacyError(f"publicatiepoort: interne controle faalt voor cel {model.cell_key(p)}: {problem}; "
                               "er wordt niets gepubliceerd")
    return len(rects) + len(others)


def _frame(model: TableModel, suppressed: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    n = model.full.size
    coords = np.unravel_index(np.arange(n), model.shape)
    cols: dict[str, Any] = {}
    for d, c in zip(model.dims, coords):
        for h, level in enumerate(d.levels):
            cols[level] = d.labels[c, h]
    sup = suppressed.reshape(-1)
    cols[model.count] = pd.arrays.IntegerArray(np.where(sup, 0, model.full.reshape(-1)).astype(np.int64), sup.copy())
    for name, (_, vals) in model.values.items():
        v = vals.reshape(-1)
        cols[name] = pd.arrays.FloatingArray(np.where(sup | np.isnan(v), 0.0, v), sup | np.isnan(v))
    cols[SUPPRESSED] = reasons
    return pd.DataFrame(cols)


def protect(df: pd.DataFrame | pa.Table, *, count: str, dims: list[str],
            hierarchy: Mapping[str, Any] | None = None, min_cell: int = DEFAULT_MIN_CELL,
            values: list[str] | Mapping[str, str] | None = None, totals_label: str = "Totaal",
            store: SuppressionStore | None = None, structure_id: Any = None,
            override_reason: str | None = None, zeros: str = "publish") -> ProtectedTable:
    """Protect one table for publication.

    Parameters
    ----------
    df : one row per interior cell (no margins): the dimension columns, ``count`` and value columns.
    count : column with the number of persons per cell.
    dims : dimension columns. A missing combination counts as 0 persons.
    hierarchy : per dimension its parent level(s): a column name (``{"buurt": "wijk"}``), a list of
        columns from low to high, or a mapping child → parent (output column ``<dim>_parent``).
    min_cell : threshold (default 15). Higher is always allowed; lower needs ``override_reason``.
    values : derived figures per cell (means, rates, shares): a list (aggregated to margins as a
        count-weighted mean) or ``{column: "mean" | "sum"}``. Suppressed with their cell.
    store, structure_id : a SuppressionStore and the table's id (TableStructure or "dataset/name");
        together they switch on the differencing defence (stored patterns, linked tables).
    zeros : "publish" (a true 0 is shown) or "suppress" (0 is unsafe like 1…14).
    """
    started = time.perf_counter()
    if isinstance(df, pa.Table):
        df = df.to_pandas()
    if len(df) == 0:
        raise AnalysisError("lege tabel: er is niets te beschermen of te publiceren")
    if store is not None and structure_id is None:
        raise PrivacyError("een onderdrukkingsarchief vraagt ook structure_id",
                           hint="geef de vastgelegde TableStructure of 'dataset/naam' mee")
    override = resolve_min_cell(min_cell, override_reason, context=str(structure_id or ""))
    model = from_frame(df, count=count, dims=list(dims), hierarchy=hierarchy, totals=totals_label,
                       values=_value_specs(values))
    primary = primary_mask(model.full, min_cell, zeros)
    need = protection_need(model.full, primary, min_cell)
    ctx = None
    if store is not None:
        dataset, population, sid = differencing.split_structure_id(structure_id)
        ctx = store.prepare(model, dataset=dataset, population=population, structure_id=sid)
        clash = ctx.frozen & primary
        ctx.frozen &= ~primary        # a cell below the threshold is never published, whatever came before
        if clash.any():
            from stadslab.privacy.gate.primary import audit_log
            audit_log.warning("publicatiepoort: %d cel(len) eerder gepubliceerd en nu onder de drempel (%s)",
                              int(clash.sum()), sid)
    pattern = secondary_suppression(
        model, primary, need, forced=None if ctx is None else ctx.forced,
        frozen=None if ctx is None else ctx.frozen, linked=ctx is not None,
        reuse=None if ctx is None else ctx.reuse)
    suppressed = pattern.suppressed
    checked = _verify(model, suppressed, need, pattern.witnesses)
    published_small = ~suppressed & (model.full < min_cell) & ((model.full > 0) | (zeros == "suppress"))
    if published_small.any():
        raise PrivacyError("publicatiepoort: interne controle faalt (kleine cel gepubliceerd); er wordt niets gepubliceerd")

    reasons = np.full(model.full.size, "", dtype=object)
    flat_sup, flat_prim = suppressed.reshape(-1), primary.reshape(-1)
    reasons[flat_prim] = f"primair: n<{min_cell}" if zeros == "publish" else f"primair: n<{min_cell} of 0"
    sec = np.flatnonzero(flat_sup & ~flat_prim)
    prot = pattern.protector[sec]
    mine = prot >= 0
    if mine.any():
        reasons[sec[mine]] = "secundair: beschermt cel " + model.cell_keys(prot[mine])
    if ctx is not None and (~mine).any():
        reasons[sec[~mine]] = np.asarray(
            [f"secundair: eerder onderdrukt ({ctx.origin.get(int(i)) or 'archief'})" for i in sec[~mine]], dtype=object)
    frame = _frame(model, suppressed, reasons)

    interior = model.is_leaf_cell()
    stats = {"cells": int(interior.sum()), "margins": int((~interior).sum()), "primary": int(primary.sum()),
             "secondary": int((suppressed & ~primary).sum()), "suppressed": int(suppressed.sum()),
             "published": int((~suppressed).sum()),
             "secondary_margins": int((suppressed & ~primary & ~interior).sum())}
    provenance: dict[str, Any] = {
        "method": METHOD, "algorithm": ALGORITHM, "min_cell": int(min_cell), "zeros": zeros,
        "criterion": "per primaire cel: LP-bovengrens over alles wat gepubliceerd is ≥ min_cell",
        "certificates_checked": checked, "override": override, "dims": list(dims),
        "hierarchy": {k: (v if isinstance(v, (str, list)) else "mapping") for k, v in (hierarchy or {}).items()},
        "structure_id": None if structure_id is None else differencing.split_structure_id(structure_id)[2],
        "seconds": round(time.perf_counter() - started, 3)}
    if ctx is not None:
        provenance["store"] = {"forced": int(ctx.forced.sum()), "frozen": int(ctx.frozen.sum()),
                               "reused_witnesses": len(ctx.reuse)}
        provenance["store"]["version"] = store.record(
            model, ctx, suppressed, primary, pattern.witnesses,
            {"dims": list(dims), "min_cell": int(min_cell), "zeros": zeros})
    return ProtectedTable(frame=frame, stats=stats, provenance=provenance, model=model,
                          suppressed=suppressed, primary=primary)
