"""The discovery run on a matrix: all pairs, spatial test, Benjamini–Hochberg, confounder checks, verdicts.

Pure numpy/scipy on an areas × variables matrix, so the bench, the planted tests and the warehouse run
(``run.py``) share it. Verdicts (Dutch, as the page and CLI show them):

- ``blijft bestaan``: the partial Spearman correlation, controlling for all usual suspects that are
  available, still has the same sign and is significant (spatial test, α) — the pair is a lead;
- ``verdwijnt na correctie voor X``: it does not; X is the single suspect whose correction alone makes it
  vanish (the one that leaves the weakest partial), or else the smallest set found by adding suspects in
  order of how much each weakens the relation;
- ``te weinig gebieden``: fewer than ``min_partial_df`` degrees of freedom remain after the correction;
- ``niet gecontroleerd``: no suspect is available (no CBS Kerncijfers for the year).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stadslab.analyses.discovery.stats import DistanceClasses, all_pairs, pair_tests
from stadslab.analyses.hotspots.gistar import fdr_bh_adjusted

BLIJFT = "blijft bestaan"
VERDWIJNT = "verdwijnt na correctie voor"
TE_WEINIG = "te weinig gebieden"
NIET_GECONTROLEERD = "niet gecontroleerd (geen verstorende variabelen beschikbaar)"
ZELF = "niet gecontroleerd (het paar bestaat uit verdachten zelf)"
ALL, ALL_LABEL = -1, "alle verdachten samen"


@dataclass(frozen=True)
class Suspect:
    """A usual suspect (confounder) as a column of the matrix, with its Dutch name for verdicts."""

    index: int
    label: str


@dataclass(frozen=True)
class Settings:
    alpha: float = 0.05            # FDR level over all pairs, and level of the partial test
    min_areas: int = 10            # pairs with fewer areas are not tested
    min_partial_df: int = 10       # areas − suspects − 2 needed for a partial correlation


def discover_matrix(X: np.ndarray, names: list[str], classes: DistanceClasses, suspects: list[Suspect], *,
                    settings: Settings = Settings(),
                    step: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per pair of variables: Spearman and Pearson with effective sample sizes and spatially
    corrected p-values, BH-adjusted p over all pairs, and for surviving pairs the partial ρ and verdict."""
    step = step or (lambda _s: None)
    i, j = all_pairs(X.shape[1])
    step(f"{i.size} paren: Spearman")
    sp = pair_tests(X, i, j, classes, rank=True, min_n=settings.min_areas)
    step("Pearson")
    pe = pair_tests(X, i, j, classes, rank=False, min_n=settings.min_areas)
    p_adj = fdr_bh_adjusted(sp.p)
    out = pd.DataFrame({
        "x": np.asarray(names, dtype=object)[i], "y": np.asarray(names, dtype=object)[j],
        "rho": sp.r, "p": sp.p, "p_adj": p_adj, "p_naive": sp.p_naive, "n_areas": sp.n, "n_eff": sp.n_eff,
        "pearson": pe.r, "pearson_p": pe.p, "pearson_n_eff": pe.n_eff,
        "partial_rho": np.nan, "partial_p": np.nan, "partial_n": 0, "verdict": "", "verdict_confounders": "",
    })
    survivors = np.flatnonzero(p_adj <= settings.alpha)
    step(f"{survivors.size} paren overleven Benjamini-Hochberg: correctie voor verstorende variabelen")
    if survivors.size:
        _confounders(out, X, i, j, survivors, classes, suspects, settings)
    out["_i"], out["_j"] = i, j
    return out


def _vanished(r: np.ndarray, p: np.ndarray, rho: np.ndarray, alpha: float) -> np.ndarray:
    return ~((p < alpha) & (np.sign(r) == np.sign(rho)))


def _confounders(out: pd.DataFrame, X: np.ndarray, i: np.ndarray, j: np.ndarray, survivors: np.ndarray,
                 classes: DistanceClasses, suspects: list[Suspect], s: Settings) -> None:
    if not suspects:
        out.loc[survivors, "verdict"] = NIET_GECONTROLEERD
        return
    si, sj, rho = i[survivors], j[survivors], out["rho"].to_numpy()[survivors]
    idx = np.array([c.index for c in suspects])
    label = {c.index: c.label for c in suspects}
    # the control set of a pair: every suspect that is not one of the pair itself
    own = np.array([tuple(c for c in idx if c != a and c != b) for a, b in zip(si, sj)], dtype=object)
    full_r, full_p, full_n = np.full(si.size, np.nan), np.full(si.size, np.nan), np.zeros(si.size, dtype=int)
    keys = pd.Series([tuple(k) for k in own])
    for key, members in keys.groupby(keys).groups.items():
        rows = np.asarray(members)
        if not key:
            continue
        t = pair_tests(X, si[rows], sj[rows], classes, rank=True, controls=X[:, list(key)], min_n=s.min_areas)
        full_r[rows], full_p[rows], full_n[rows] = t.r, t.p, t.n
    # each suspect alone: which one carries the relation?
    single_r = np.full((si.size, idx.size), np.nan)
    single_p = np.full((si.size, idx.size), np.nan)
    for c_pos, c in enumerate(idx):
        rows = np.flatnonzero((si != c) & (sj != c))
        t = pair_tests(X, si[rows], sj[rows], classes, rank=True, controls=X[:, [c]], min_n=s.min_areas)
        single_r[rows, c_pos], single_p[rows, c_pos] = t.r, t.p
    nq = np.array([len(k) for k in own])
    gone_full = _vanished(full_r, full_p, rho, s.alpha)
    blame: list[list[int]] = [[] for _ in range(si.size)]
    need = np.flatnonzero((nq > 0) & (full_n - nq - 2 >= s.min_partial_df) & ~np.isnan(full_r) & gone_full)
    _blame(X, si, sj, rho, idx, single_r, single_p, need, blame, classes, s)
    verdicts, names = [], []
    for k in range(si.size):
        labels = [label.get(c, ALL_LABEL) for c in blame[k]]
        if nq[k] == 0:
            verdicts.append(NIET_GECONTROLEERD if not idx.size else ZELF)
        elif full_n[k] - nq[k] - 2 < s.min_partial_df or np.isnan(full_r[k]):
            verdicts.append(TE_WEINIG)
        elif not gone_full[k]:
            verdicts.append(BLIJFT)
        else:
            verdicts.append(f"{VERDWIJNT} {_join(labels)}")
        names.append(",".join(labels))
    out.loc[survivors, "partial_rho"] = full_r
    out.loc[survivors, "partial_p"] = full_p
    out.loc[survivors, "partial_n"] = full_n
    out.loc[survivors, "verdict"] = verdicts
    out.loc[survivors, "verdict_confounders"] = names


def _blame(X: np.ndarray, si: np.ndarray, sj: np.ndarray, rho: np.ndarray, idx: np.ndarray, r1: np.ndarray,
           p1: np.ndarray, need: np.ndarray, blame: list[list[int]], classes: DistanceClasses, s: Settings) -> None:
    """For the pairs ``need`` (vanished under all suspects): the suspect whose correction alone makes the
    pair vanish (the weakest partial left), else the shortest prefix of the suspects ordered by how much
    each alone weakens the relation. Prefixes are tested for all pairs sharing them at once."""
    usable = (idx[None, :] != si[:, None]) & (idx[None, :] != sj[:, None])
    gone1 = usable & _vanished(r1, p1, np.repeat(rho[:, None], idx.size, axis=1), s.alpha)
    strength = np.where(np.isnan(r1) | ~usable, np.inf, np.abs(r1))
    pending = []
    for k in need:
        if gone1[k].any():
            pos = np.flatnonzero(gone1[k])
            blame[k] = [int(idx[pos[np.argmin(strength[k, pos])]])]
        else:
            blame[k] = [int(idx[p]) for p in np.argsort(strength[k], kind="stable") if usable[k, p]]
            pending.append(k)
    for size in range(2, min(3, idx.size + 1)):     # pairs of suspects; beyond that: "all together"
        groups: dict[tuple[int, ...], list[int]] = {}
        for k in pending:
            if len(blame[k]) > size:
                groups.setdefault(tuple(blame[k][:size]), []).append(k)
        pending = []
        for prefix, members in groups.items():
            rows = np.asarray(members)
            t = pair_tests(X, si[rows], sj[rows], classes, rank=True, controls=X[:, list(prefix)], min_n=s.min_areas)
            gone = _vanished(t.r, t.p, rho[rows], s.alpha)
            for k, g in zip(rows, gone):
                if g:
                    blame[k] = list(prefix)
                else:
                    pending.append(int(k))
    for k in pending:      # only the whole set carries it: the two that weigh most, then the rest
        blame[k] = blame[k] + [ALL]


def _join(labels: list[str]) -> str:
    if labels and labels[-1] == ALL_LABEL:   # no one or two suspects suffice: all together, these weigh most
        return f"alle verdachten samen (vooral {labels[0]}" + (f" en {labels[1]})" if len(labels) > 2 else ")")
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " en " + labels[-1]
