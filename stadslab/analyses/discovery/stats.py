"""Pairwise association with spatially honest p-values, vectorised over all pairs at once.

Method (docs/discovery.md has the long form):

- **Association**: Pearson r on the values and Spearman ρ (Pearson r on mid-ranks) on the areas where
  both variables are known (pairwise complete).
- **Spatial autocorrelation**: neighbouring areas resemble each other, so n areas carry less than n
  independent observations and the textbook t-test is too optimistic. Following Clifford, Richardson &
  Hémon (1989) and Dutilleul (1993) the variance of r under independence of the two processes is

      var(r) = tr(M Σx M Σy) / (tr(M Σx) · tr(M Σy)),     n_eff = 1 + 1 / var(r)

  where M projects out the mean (M = I − 11ᵀ/n; for a partial correlation, M projects out
  [1, controls]) and Σ is a variable's spatial autocorrelation matrix, estimated per distance class k
  by Moran's I in that class: Σ_ij = I_k for a pair (i, j) in class k, Σ_ii = 1. Test:
  t = r·√((n_eff − 2)/(1 − r²)) with n_eff − 2 degrees of freedom (Dutilleul's modified t-test).
  Without autocorrelation (Σ = I) n_eff = n − q, the textbook value.
- **Vectorised**: distance classes partition the pairs of areas, so every trace reduces to a (K+1)×(K+1)
  matrix T per missing-value pattern; var(r) for all pairs is then ``a_x T a_yᵀ`` over the per-variable
  Moran coefficients a (one matrix product for tens of thousands of pairs).

References
    Clifford, P., Richardson, S. & Hémon, D. (1989). Assessing the significance of the correlation between
    two spatial processes. Biometrics 45(1), 123–134.
    Dutilleul, P. (1993). Modifying the t test for assessing the correlation between two spatial processes.
    Biometrics 49(1), 305–314.
    Moran, P. A. P. (1950). Notes on continuous stochastic phenomena. Biometrika 37, 17–23.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import pdist, squareform
from scipy.stats import rankdata
from scipy.stats import t as t_dist

METHOD_ESS = ("effectieve steekproefomvang (Clifford, Richardson & Hémon 1989; Dutilleul 1993) met Moran's I "
              "per afstandsklasse tussen de middelpunten van de gebieden")


@dataclass(frozen=True, eq=False)
class DistanceClasses:
    """Equal-frequency distance classes between area centroids: ``W[k]`` is the 0/1 matrix of the pairs
    in class k (symmetric, zero diagonal); the classes partition all pairs of distinct areas."""

    W: np.ndarray           # (K, n, n)
    edges: np.ndarray       # (K + 1,) class bounds in metres

    @property
    def n(self) -> int:
        return int(self.W.shape[1])

    @cached_property
    def flat(self) -> sp.csr_matrix:
        """The classes stacked as one sparse (K·n × n) matrix: W_k @ Z for all k in one product."""
        K, n, _ = self.W.shape
        return sp.csr_matrix(self.W.reshape(K * n, n))


def distance_classes(xy: np.ndarray, k: int | None = None) -> DistanceClasses:
    """Distance classes for ``xy`` (n × 2, metres). ``k`` defaults to Sturges' rule on the number of
    pairs, 1 + log2(m) (Legendre & Legendre 2012, §13.1, for correlograms), capped at 20."""
    xy = np.asarray(xy, dtype=float)
    n = xy.shape[0]
    d = squareform(pdist(xy))
    iu = np.triu_indices(n, 1)
    m = iu[0].size
    if k is None:
        k = int(min(20, max(2, np.ceil(1 + np.log2(max(m, 2))))))
    k = max(1, min(k, m))
    edges = np.quantile(d[iu], np.linspace(0, 1, k + 1))
    cls = np.clip(np.searchsorted(edges, d[iu], side="right") - 1, 0, k - 1)
    W = np.zeros((k, n, n))
    W[cls, iu[0], iu[1]] = 1.0
    W[cls, iu[1], iu[0]] = 1.0
    return DistanceClasses(W, edges)


@dataclass
class PairTests:
    """Per pair (same order as the pairs asked for)."""

    r: np.ndarray
    n: np.ndarray            # areas used
    n_eff: np.ndarray        # effective sample size (n − q without autocorrelation)
    p: np.ndarray            # spatially corrected two-sided p
    p_naive: np.ndarray      # textbook p (df = n − 2 − q), for comparison only


def pair_tests(X: np.ndarray, i: np.ndarray, j: np.ndarray, classes: DistanceClasses, *, rank: bool,
               controls: np.ndarray | None = None, min_n: int = 8) -> PairTests:
    """Correlation of columns ``i[p]`` and ``j[p]`` of ``X`` (areas × variables, NaN = missing) for every
    pair p, with the effective-sample-size test. ``rank``: Spearman (ranks taken on the areas the pair
    uses) instead of Pearson. ``controls`` (areas × q): partial correlation — both variables are
    residualised on [1, controls] (ranked too when ``rank``). Pairs with fewer than ``min_n`` usable
    areas (or too few for the controls) get NaN."""
    X = np.asarray(X, dtype=float)
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    n_all = X.shape[0]
    q = 0 if controls is None else controls.shape[1]
    P = i.size
    out = PairTests(np.full(P, np.nan), np.zeros(P, dtype=np.int64), np.full(P, np.nan), np.full(P, np.nan),
                    np.full(P, np.nan))
    if P == 0:
        return out
    known = ~np.isnan(X)
    if controls is not None:
        known &= (~np.isnan(controls)).all(axis=1)[:, None]
    # columns with the same missing pattern share all the work below
    _, pattern = np.unique(np.packbits(known, axis=0).T, axis=0, return_inverse=True)
    pattern = pattern.ravel()
    combo = pattern[i] * (pattern.max() + 1) + pattern[j]
    combos, combo_of_pair = np.unique(combo, return_inverse=True)
    joint_of_combo: dict[bytes, list[int]] = {}
    for c_idx, c in enumerate(combos):
        a = int(np.flatnonzero(pattern == c // (pattern.max() + 1))[0])
        b = int(np.flatnonzero(pattern == c % (pattern.max() + 1))[0])
        joint_of_combo.setdefault(np.packbits(known[:, a] & known[:, b]).tobytes(), []).append(c_idx)
    K = classes.W.shape[0]
    Wflat = classes.flat
    for key, combo_ids in joint_of_combo.items():
        sel = np.flatnonzero(np.isin(combo_of_pair, combo_ids))
        m = np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=n_all).astype(bool)
        rows = np.flatnonzero(m)
        nm = rows.size
        out.n[sel] = nm
        if nm < max(min_n, q + 4):
            continue
        cols, inv = np.unique(np.concatenate([i[sel], j[sel]]), return_inverse=True)
        li, lj = inv[: sel.size], inv[sel.size:]
        V = X[np.ix_(rows, cols)]
        if rank:
            V = rankdata(V, axis=0)
        design = np.ones((nm, 1))
        if controls is not None:
            C = controls[rows]
            design = np.hstack([design, rankdata(C, axis=0) if rank else C])
        Q, _ = np.linalg.qr(design)                      # orthonormal basis of [1, controls]
        Z = V - Q @ (Q.T @ V)                            # residuals (= centred values without controls)
        ss = np.einsum("ij,ij->j", Z, Z)
        ok = ss > 1e-12 * max(1.0, float(ss.max(initial=0.0)))
        Zn = np.where(ok, Z / np.sqrt(np.where(ok, ss, 1.0)), 0.0)
        r = np.einsum("np,np->p", Zn[:, li], Zn[:, lj])
        r = np.where(ok[li] & ok[lj], np.clip(r, -1.0, 1.0), np.nan)
        # Moran's I per distance class on the areas used, for each column (Σ estimates)
        Zfull = np.zeros((n_all, cols.size))
        Zfull[rows] = Zn
        WZ = (Wflat @ Zfull).reshape(K, n_all, cols.size)
        num = np.einsum("knc,nc->kc", WZ, Zfull)           # z'W_k z with z'z = 1
        deg = (Wflat @ m.astype(float)).reshape(K, n_all)[:, rows]   # row sums of W_k within the subset
        s0 = deg.sum(axis=1)
        moran = np.where(s0[:, None] > 0, nm * num / np.where(s0 > 0, s0, 1.0)[:, None], 0.0)
        A = np.vstack([np.ones(cols.size), moran]).T      # (c, K+1): coefficient of I and of each W_k
        T, tau = _traces(classes, rows, Q, s0)
        var_r = np.einsum("pk,kl,pl->p", A[li], T, A[lj]) / ((A[li] @ tau) * (A[lj] @ tau))
        base = nm - q                                      # n_eff without autocorrelation
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = np.where(var_r > 0, 1.0 + 1.0 / var_r, base)
        n_eff = np.clip(n_eff, 3.0, base)
        out.r[sel] = r
        out.n_eff[sel] = n_eff
        out.p[sel] = _t_test(r, n_eff - 2.0)
        out.p_naive[sel] = _t_test(r, np.full(sel.size, nm - 2.0 - q))
    return out


def _traces(classes: DistanceClasses, rows: np.ndarray, Q: np.ndarray,
            s0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """T[k, l] = tr(M W_k M W_l) and tau[k] = tr(M W_k) for M = I − QQᵀ on the subset ``rows``, with
    W_0 = I and W_1..W_K the distance classes. Because the classes are disjoint 0/1 matrices with a zero
    diagonal, tr(W_k W_l) = δ_kl · s0_k; the Q terms need only W_k Q (n × (q+1))."""
    nm = rows.size
    K, n_all = classes.W.shape[0], classes.n
    Qfull = np.zeros((n_all, Q.shape[1]))
    Qfull[rows] = Q                                            # zero outside the subset: W_k Qfull = W_k[rows, rows] Q
    WQk = (classes.flat @ Qfull).reshape(K, n_all, Q.shape[1])[:, rows]
    WQ = np.concatenate([Q[None], WQk], axis=0)                # (K+1, nm, q+1): W_k Q, W_0 = I
    QWQ = np.einsum("na,knb->kab", Q, WQ)                      # Qᵀ W_k Q
    s = np.concatenate([[float(nm)], s0])
    T = (np.diag(s)
         - 2.0 * np.einsum("kna,lna->kl", WQ, WQ)              # tr(H W_k W_l) = <W_k Q, W_l Q>
         + np.einsum("kab,lba->kl", QWQ, QWQ))                 # tr(H W_k H W_l)
    tau = np.concatenate([[float(nm)], np.zeros(s0.size)]) - np.einsum("kaa->k", QWQ)
    return T, tau


def _t_test(r: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided p of t = r·√(df / (1 − r²)) with ``df`` degrees of freedom (NaN where undefined)."""
    r = np.asarray(r, dtype=float)
    df = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(df / np.maximum(1.0 - r * r, 1e-300))
        p = 2.0 * t_dist.sf(np.abs(t), df)
    return np.where(np.isfinite(r) & (df > 0), p, np.nan)


def all_pairs(v: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j), i < j, of all pairs of ``v`` variables."""
    i, j = np.triu_indices(v, 1)
    return i.astype(np.int64), j.astype(np.int64)
