"""Getis-Ord Gi* local statistics and the Benjamini–Hochberg false discovery rate.

Pure numpy/scipy: values in, z-scores and p-values out. The grid and area wrappers
(:mod:`.grid`, :mod:`.areas`) build the spatial weights and call :func:`getis_ord_gi_star`.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance statistics.
    Geographical Analysis 24(3), 189–206.
Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional issues and
    an application. Geographical Analysis 27(4), 286–306.
Anselin, L. (1995). Local indicators of spatial association — LISA. Geographical Analysis 27(2),
    93–115 (conditional permutation inference).
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful
    approach to multiple testing. Journal of the Royal Statistical Society B 57(1), 289–300.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy import stats

from stadslab.errors import AnalysisError

METHOD_GI_STAR = ("Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995), self-neighbour included, "
                  "analytic normal z-score, two-sided p")
METHOD_FDR = "Benjamini-Hochberg false discovery rate (Benjamini & Hochberg 1995)"


@dataclass(frozen=True)
class GiStarResult:
    """Gi* per unit, in the order of the input values.

    Attributes
    ----------
    z : z-score of Gi* (positive: the unit and its neighbours hold more than the average);
        NaN where the statistic is undefined (see :func:`getis_ord_gi_star`).
    p : two-sided analytic p-value, ``2·(1 − Φ(|z|))``; NaN where ``z`` is NaN.
    g : the Gi* statistic itself, ``Σ_j w_ij x_j / Σ_j x_j`` (NaN when all values are 0).
    n_neighbours : number of neighbours *other than the unit itself*.
    p_sim : two-sided pseudo p-value from conditional permutations,
        ``min(1, 2·min(#sim ≥ obs + 1, #sim ≤ obs + 1) / (permutations + 1))``, or None without
        permutations. Without ties this is twice esda's folded one-sided ``p_sim``; with ties
        (many zero counts) it does not call an empty cell among empty cells "cold".
    """

    z: np.ndarray
    p: np.ndarray
    g: np.ndarray
    n_neighbours: np.ndarray
    p_sim: np.ndarray | None = None
    method: str = METHOD_GI_STAR


def _as_csr(weights, n: int) -> sp.csr_matrix:
    if not sp.issparse(weights):
        weights = sp.csr_matrix(np.asarray(weights, dtype=float))
    w = sp.csr_matrix(weights, dtype=float)
    if w.shape != (n, n):
        raise AnalysisError(f"de gewichtenmatrix is {w.shape[0]}×{w.shape[1]}, maar er zijn {n} waarden",
                            hint="bouw de gewichten voor precies dezelfde cellen/gebieden, in dezelfde volgorde")
    if w.nnz and (not np.all(np.isfinite(w.data)) or w.data.min() < 0):
        raise AnalysisError("de gewichtenmatrix bevat negatieve of ontbrekende gewichten",
                            hint="gebruik binaire buur-gewichten (0/1)")
    return w


def with_self_weight(weights: sp.spmatrix, self_weight: float = 1.0) -> sp.csr_matrix:
    """``weights`` with its diagonal set to ``self_weight`` (Gi* counts each unit as its own neighbour)."""
    w = sp.csr_matrix(weights, dtype=float)
    n = w.shape[0]
    off = w - sp.diags(w.diagonal(), format="csr")
    out = (off + sp.identity(n, format="csr") * float(self_weight)).tocsr()
    out.eliminate_zeros()
    return out


def getis_ord_gi_star(values: np.ndarray, weights, *, permutations: int = 0,
                      seed: int | None = 0, self_weight: float = 1.0) -> GiStarResult:
    """Getis-Ord Gi* for every unit: is the sum of the unit and its neighbours unusually high or low?

    Parameters
    ----------
    values : 1-d array of n non-negative numbers (counts or rates), no NaN.
    weights : n×n spatial weights (scipy.sparse or dense). Binary contiguity is expected; the
        diagonal may be 0 or 1 — it is always *set* to ``self_weight`` (default 1), because Gi*
        includes the unit itself (the "star"). Non-binary weights are allowed: the general
        moments of Ord & Getis (1995) are used.
    permutations : if > 0, also compute a conditional-permutation pseudo p-value (Anselin 1995):
        the unit's own value stays, its neighbours are drawn at random from the other n−1 units.
        The smallest possible p_sim is 2/(permutations + 1).
    seed : seed for the permutations (reproducible by default).

    Notes
    -----
    With x̄ and S the mean and (population) standard deviation of all n values,
    ``W_i = Σ_j w_ij`` and ``S1_i = Σ_j w_ij²`` (j including i)::

        z_i = (Σ_j w_ij x_j − x̄·W_i) / (S · sqrt((n·S1_i − W_i²) / (n − 1)))

    (Ord & Getis 1995, eq. 9; Getis & Ord 1992). Under the null hypothesis of no spatial
    association (values randomly placed over the units) z is approximately standard normal; ``p``
    is two-sided, so it answers "hot *or* cold spot?". For binary weights this equals
    ``esda.G_Local(y, w, transform='B', star=True).Zs``.

    The z-score is undefined — NaN, and never flagged — when all values are equal (S = 0, e.g.
    all zeros), when a unit has no neighbour besides itself (an island: Gi* would just be the
    standardised value, not a cluster), or when a unit neighbours every unit (variance 0).
    Counts with many zeros make the normal approximation rough; use ``permutations`` to check.

    Examples
    --------
    A path of four units, the first one high:

    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    >>> getis_ord_gi_star(np.array([10.0, 2.0, 0.0, 0.0]), w).z.round(3)
    array([ 1.26 ,  0.728, -1.698, -1.26 ])
    """
    x = np.asarray(values, dtype=float).ravel()
    n = x.size
    if n == 0:
        empty = np.array([], dtype=float)
        return GiStarResult(empty, empty, empty, np.array([], dtype=np.int64))
    if not np.all(np.isfinite(x)):
        raise AnalysisError("Gi* kan niet rekenen met ontbrekende of oneindige waarden",
                            hint="laat gebieden zonder waarde (bijv. zonder inwonertal) weg vóór de toets")
    w = with_self_weight(_as_csr(weights, n), self_weight)
    wx = w @ x
    w_sum = np.asarray(w.sum(axis=1)).ravel()
    s1 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    n_nb = np.diff(w.indptr) - (w.diagonal() != 0)

    mean = x.mean()
    s = np.sqrt(max((x * x).mean() - mean * mean, 0.0))
    total = x.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        g = wx / total if total != 0 else np.full(n, np.nan)
        var_term = (n * s1 - w_sum ** 2) / (n - 1) if n > 1 else np.zeros(n)
        den = s * np.sqrt(np.clip(var_term, 0.0, None))
        # Relative tolerance: S can be 1e-17 instead of 0 for equal non-integer values.
        ok = (den > 1e-12 * max(1.0, abs(mean))) & (n_nb > 0)
        z = np.where(ok, (wx - mean * w_sum) / np.where(ok, den, 1.0), np.nan)
    p = np.where(np.isnan(z), np.nan, 2.0 * stats.norm.sf(np.abs(z)))
    p_sim = _permutation_p(x, w, wx, permutations, seed) if permutations > 0 else None
    if p_sim is not None:
        p_sim = np.where(np.isnan(z), np.nan, p_sim)
    return GiStarResult(z=z, p=p, g=g, n_neighbours=n_nb.astype(np.int64), p_sim=p_sim)


METHOD_POISSON = ("exact Poisson p-value of the neighbourhood count (cell + neighbours) under a homogeneous "
                  "Poisson null, as in Besag & Newell (1991)'s local cluster test; two-sided")


def poisson_neighbourhood_p(counts: np.ndarray, weights, *, self_weight: float = 1.0) -> np.ndarray:
    """Two-sided exact p-values for the Gi* numerator ``Σ_j w_ij x_j`` of *counts* (binary weights).

    Under the null of a homogeneous Poisson process over the n units, every unit's count is
    Poisson(λ) with λ = the mean count, so the neighbourhood sum S_i of k_i units is Poisson(λ·k_i)
    (Besag & Newell 1991, local cluster test with a fixed window). ``p = min(1, 2·min(P(S ≥ s),
    P(S ≤ s)))``. Unlike the normal approximation of Gi*, this stays right for sparse counts (a
    28-day selection over thousands of 125 m cells): an empty cell among empty cells is never "cold",
    and two incidents in a quiet neighbourhood are not a hot spot. Gi*'s z keeps its meaning as the
    effect size; NaN where Gi*'s z is undefined is the caller's to apply.

    >>> import numpy as np, scipy.sparse as sp
    >>> w = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4))
    >>> poisson_neighbourhood_p(np.array([6, 2, 0, 0]), w).round(4)   # λ = 2: S = 8, 8, 2, 0
    array([0.1023, 0.512 , 0.1239, 0.0366])
    """
    x = np.asarray(counts, dtype=float).ravel()
    if x.size == 0:
        return np.array([], dtype=float)
    w = with_self_weight(_as_csr(weights, x.size), self_weight)
    if w.nnz and not np.all((w.data == 0) | (w.data == 1)):
        raise AnalysisError("de Poisson-toets vraagt binaire buurgewichten (0/1)")
    s = w @ x
    mu = x.mean() * np.asarray(w.sum(axis=1)).ravel()
    upper = stats.poisson.sf(s - 1, mu)
    lower = stats.poisson.cdf(s, mu)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def _permutation_p(x: np.ndarray, w: sp.csr_matrix, wx: np.ndarray, permutations: int,
                   seed: int | None, chunk_elements: int = 4_000_000) -> np.ndarray:
    """Conditional randomisation: for each unit keep x_i (times its self weight) and draw its
    k_i neighbours without replacement from the other n − 1 units. As in esda, one set of random
    draws is shared by all units (rows are re-indexed to skip the unit itself), which keeps it
    vectorised; cells are processed in chunks of about ``chunk_elements`` draws (~32 MB each)."""
    n = x.size
    if n < 2:
        return np.full(n, np.nan)
    rng = np.random.default_rng(seed)
    diag = w.diagonal()
    off = (w - sp.diags(diag, format="csr")).tocsr()
    off.eliminate_zeros()
    k = np.diff(off.indptr)
    kmax = int(k.max()) if n else 0
    kmax = min(kmax, n - 1)
    # Neighbour weights per row, padded with zeros to kmax (binary weights: 1s then 0s).
    wpad = np.zeros((n, max(kmax, 1)))
    if off.nnz:
        rows = np.repeat(np.arange(n), k)
        pos = np.arange(off.nnz) - np.repeat(off.indptr[:-1], k)
        keep = pos < kmax
        wpad[rows[keep], pos[keep]] = off.data[keep]
    if kmax == 0:
        return np.full(n, np.nan)
    draws = _distinct_draws(rng, permutations, n - 1, kmax)
    at_least = np.zeros(n)
    at_most = np.zeros(n)
    chunk = max(1, chunk_elements // (permutations * kmax))
    for start in range(0, n, chunk):
        i = np.arange(start, min(start + chunk, n))
        idx = draws[None, :, :] + (draws[None, :, :] >= i[:, None, None])       # skip unit i itself
        sims = np.einsum("cpk,ck->cp", x[idx], wpad[i]) + (diag[i] * x[i])[:, None]
        tol = 1e-9 * np.maximum(1.0, np.abs(wx[i]))[:, None]
        at_least[i] = (sims >= wx[i, None] - tol).sum(axis=1)
        at_most[i] = (sims <= wx[i, None] + tol).sum(axis=1)
    # Ties count for the null in both tails; otherwise an empty cell among empty cells would be
    # "as low as possible" in every permutation and come out as a significant cold spot.
    upper = (at_least + 1.0) / (permutations + 1.0)
    lower = (at_most + 1.0) / (permutations + 1.0)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def _distinct_draws(rng: np.random.Generator, rows: int, population: int, k: int) -> np.ndarray:
    """``rows`` × ``k`` indices, each row k distinct values out of ``range(population)``.

    Small populations: argsort of uniforms (exact shuffle). Large ones: draw with replacement and
    redraw the few rows that contain a duplicate (memory rows × k instead of rows × population)."""
    if population <= 4 * k or population < 64:
        return np.argsort(rng.random((rows, population)), axis=1)[:, :k]
    draws = rng.integers(0, population, size=(rows, k))
    while True:
        s = np.sort(draws, axis=1)
        dup = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if dup.size == 0:
            return draws
        draws[dup] = rng.integers(0, population, size=(dup.size, k))


def fdr_bh(pvalues, alpha: float = 0.05) -> np.ndarray:
    """Which p-values are significant while keeping the false discovery rate at ``alpha``?

    Benjamini & Hochberg (1995) step-up procedure: sort the m p-values, find the largest k with
    ``p_(k) ≤ k·α/m`` and reject the k smallest. Valid for independent or positively dependent
    tests (neighbouring Gi* values are positively correlated, the usual case for hotspot maps).
    NaN p-values (undefined tests) are never significant and do not count in m.

    Returns a boolean array in the input order.

    >>> fdr_bh([0.001, 0.02, 0.03, 0.5], alpha=0.05).tolist()
    [True, True, True, False]
    """
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha moet tussen 0 en 1 liggen, niet {alpha}", hint="gebruikelijk is 0,05")
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.zeros(p.size, dtype=bool)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    below = p[order] <= alpha * np.arange(1, m + 1) / m
    if below.any():
        k = int(np.flatnonzero(below).max()) + 1
        out[order[:k]] = True
    return out


def fdr_bh_adjusted(pvalues) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): significant at FDR α iff q ≤ α.
    NaN stays NaN. Equal to ``scipy.stats.false_discovery_control(p, method='bh')`` on finite p."""
    p = np.asarray(pvalues, dtype=float).ravel()
    q = np.full(p.size, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    if m == 0:
        return q
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    q[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return q
