"""Hotspot accuracy measures: hit rate, PAI, PEI, and calibration of predicted counts.

Ranking and ties
    Cells are ranked by score (high → low); ties are broken by the long-term count (incidents in
    the cell in the last 365 days before ``t0``, high → low) and then by cell id (ascending string
    order), so every ranking is deterministic. NaN scores rank last. Note that for a sparse
    baseline such as ``last_period`` many cells tie at 0, so the tie-break adds long-term
    information to it; this makes the baseline stronger, not weaker — the honest direction.

Number of flagged cells
    ``k = max(1, round(fraction × n_area_cells))`` with ``n_area_cells = land_area_ha × 10 000 /
    15 625`` (a 125 m cell is 1.5625 ha); at most the number of candidate cells. PAI uses the
    realised fraction ``k / n_area_cells``.
"""

from __future__ import annotations

import math

import numpy as np


def n_flagged(fraction: float, n_area_cells: float, n_candidates: int) -> int:
    """Cells flagged for an area fraction (rounded half up, at least 1, at most the candidates)."""
    return int(min(max(1, math.floor(fraction * n_area_cells + 0.5)), n_candidates))


def rank_cells(score: np.ndarray, longterm: np.ndarray) -> np.ndarray:
    """Cell indices best first: score desc, then long-term count desc, then index asc (cells are
    kept sorted by id, so index order is id order)."""
    s = np.where(np.isnan(score), -np.inf, score.astype(np.float64))
    lt = np.nan_to_num(longterm.astype(np.float64), nan=-1.0)
    return np.lexsort((np.arange(len(s)), -lt, -s))


def hit_rate(observed: np.ndarray, flagged: np.ndarray, total: float) -> float:
    """Share of the period's incidents inside the flagged cells (NaN when there were none)."""
    return float(observed[flagged].sum() / total) if total > 0 else float("nan")


def pai(hit: float, area_fraction: float) -> float:
    """Predictive Accuracy Index, Chainey, Tompson & Uhlig (2008), *Security Journal* 21:4–28:
    ``PAI = (n / N) / (a / A)`` = hit rate / share of the area flagged."""
    return hit / area_fraction


def pei(hit: float, best_sorted: np.ndarray, k: int, total: float) -> float:
    """Predictive Efficiency Index, Hunt (2016), *Do crime hot spots move?* (PhD thesis, American
    University; used in the NIJ Real-Time Crime Forecasting Challenge): the hit rate divided by
    the largest hit rate any ``k`` cells could have had
    in that period (``PEI = PAI / PAI*``); 1 = perfect. NaN when the period had no incidents."""
    best = float(best_sorted[:k].sum())
    return hit * total / best if best > 0 else float("nan")


def evaluate_ranking(score: np.ndarray, longterm: np.ndarray, observed: np.ndarray, total: float,
                     best_sorted: np.ndarray, fractions: list[float], n_area_cells: float) -> dict[str, dict]:
    """Hit rate, PAI and PEI of one ranking in one period, per area fraction."""
    order = rank_cells(score, longterm)
    out = {}
    for f in fractions:
        k = n_flagged(f, n_area_cells, len(order))
        h = hit_rate(observed, order[:k], total)
        out[str(f)] = {"k": k, "hit_rate": h, "pai": pai(h, k / n_area_cells), "pei": pei(h, best_sorted, k, total)}
    return out


def calibration(pred: np.ndarray, obs: np.ndarray, bins: int = 10) -> dict:
    """Calibration of expected counts: pairs (cell, period) are sorted by prediction (ties by
    observed count would peek; we keep input order, which is cell id order) and split into
    ``bins`` groups of equal size; per group mean predicted vs mean observed, plus totals."""
    pred, obs = np.asarray(pred, np.float64).ravel(), np.asarray(obs, np.float64).ravel()
    order = np.argsort(pred, kind="stable")
    groups = []
    for g, idx in enumerate(np.array_split(order, bins), start=1):
        if len(idx):
            groups.append({"decile": g, "n": int(len(idx)), "predicted_mean": float(pred[idx].mean()),
                           "observed_mean": float(obs[idx].mean()),
                           "predicted_sum": float(pred[idx].sum()), "observed_sum": float(obs[idx].sum())})
    tp, to = float(pred.sum()), float(obs.sum())
    return {"deciles": groups, "total_predicted": tp, "total_observed": to,
            "ratio_predicted_observed": tp / to if to > 0 else float("nan")}
