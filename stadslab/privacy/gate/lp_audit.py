"""Exact audit by linear programming: the interval an attacker gets for each suppressed cell.

The attacker knows every published cell (interior cells and margins), the additive structure and
that counts are nonnegative. For a suppressed cell p the attainable range is

    [ min p , max p ]  over  { x ≥ 0 on the leaf cells : every published cell = its sum of leaves }

(Cox 1980 "Suppression methodology and statistical disclosure control"; Fischetti & Salazar-González
2001 "Solving the cell suppression problem on tabular data with linear constraints"). Unknowns are
the suppressed leaf cells only; published leaves are constants. Solved with HiGHS, reusing one model
and changing only the objective per cell (warm starts), so a few thousand cells take seconds.
This audit is exact but not cheap; the production path relies on the witnesses, the audit is used in
tests and by ``stadslab gate protect --audit``.
"""

from __future__ import annotations

import itertools

import highspy
import numpy as np

from stadslab.privacy.gate.tables import TableModel

INF = float("inf")


def _pairs(model: TableModel, leaf_multi: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(cell flat index, position in leaf list) for every cell that contains each listed leaf."""
    cells, owners = [], []
    n = len(leaf_multi[0])
    pos = np.arange(n)
    choices = [range(dm.anc.shape[1]) for dm in model.dims]
    for hs in itertools.product(*choices):
        idx = tuple(dm.anc[lm, h] for dm, lm, h in zip(model.dims, leaf_multi, hs))
        cells.append(np.ravel_multi_index(idx, model.shape))
        owners.append(pos)
    return np.concatenate(cells), np.concatenate(owners)


def attacker_intervals(model: TableModel, suppressed: np.ndarray, targets: np.ndarray,
                       known_zero: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """LP lower and upper bound of each target cell (flat indices) given the publication.

    ``known_zero`` (leaf mask) marks structural zeros the attacker knows: those leaves are fixed at 0.
    """
    sup_leaf = suppressed[tuple(slice(0, dm.n_leaves) for dm in model.dims)]
    leaf_multi = np.nonzero(sup_leaf)
    n = len(leaf_multi[0])
    lo = np.zeros(len(targets))
    hi = np.zeros(len(targets))
    full_flat = model.full.reshape(-1)
    if n == 0:
        lo[:] = hi[:] = full_flat[targets]
        return lo, hi
    values = model.leaf[leaf_multi].astype(np.float64)
    cells, owners = _pairs(model, leaf_multi)
    published = ~suppressed.reshape(-1)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    upper = np.full(n, highspy.kHighsInf)
    if known_zero is not None:
        upper[known_zero[leaf_multi]] = 0.0
    h.addVars(n, np.zeros(n), upper)
    keep = published[cells]
    c_rows, o_rows = cells[keep], owners[keep]
    if len(c_rows):
        order = np.argsort(c_rows, kind="stable")
        c_rows, o_rows = c_rows[order], o_rows[order]
        uniq, starts = np.unique(c_rows, return_index=True)
        rhs = np.add.reduceat(values[o_rows], starts)
        h.addRows(len(uniq), rhs, rhs, len(o_rows), starts.astype(np.int32), o_rows.astype(np.int32),
                  np.ones(len(o_rows)))
    # constant part (published leaves) of a target = its count minus its suppressed leaves
    t_order = np.argsort(cells, kind="stable")
    sc, so = cells[t_order], owners[t_order]
    prev: np.ndarray = np.zeros(0, dtype=np.int32)
    for i, p in enumerate(np.asarray(targets).tolist()):
        a, b = np.searchsorted(sc, p, "left"), np.searchsorted(sc, p, "right")
        cols = so[a:b].astype(np.int32)
        const = float(full_flat[p]) - float(values[cols].sum())
        if len(prev):
            h.changeColsCost(len(prev), prev, np.zeros(len(prev)))
        if len(cols) == 0:
            lo[i] = hi[i] = full_flat[p]
            prev = cols
            continue
        h.changeColsCost(len(cols), cols, np.ones(len(cols)))
        prev = cols
        for sense, out in ((highspy.ObjSense.kMinimize, lo), (highspy.ObjSense.kMaximize, hi)):
            h.changeObjectiveSense(sense)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                out[i] = const + h.getInfo().objective_function_value
            elif status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                out[i] = INF if sense == highspy.ObjSense.kMaximize else -INF
            else:
                raise RuntimeError(f"LP-audit: HiGHS status {h.modelStatusToString(status)} voor cel {p}")
    return lo, hi


def audit(model: TableModel, suppressed: np.ndarray, primary: np.ndarray, min_cell: int,
          known_zero: np.ndarray | None = None) -> dict:
    """Check every primary cell: the attacker's upper bound must reach min_cell. Returns a report."""
    targets = np.flatnonzero(primary.reshape(-1))
    lo, hi = attacker_intervals(model, suppressed, targets, known_zero)
    tol = 1e-6
    bad = targets[hi < min_cell - tol]
    return {"checked": int(len(targets)), "failed": int(len(bad)),
            "failed_cells": [model.cell_key(int(c)) for c in bad[:20]],
            "min_upper": float(hi.min()) if len(hi) else None,
            "min_width": float((hi - lo).min()) if len(hi) else None, "passed": len(bad) == 0}
