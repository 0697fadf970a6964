"""Protection witnesses: an explicit table that an attacker cannot rule out, per suppressed cell.

The attacker's interval for a suppressed cell p is [min, max] of p over all nonnegative tables that
reproduce every published cell (linear programming; Cox 1980, Fischetti & Salazar 2001). To show that
``max ≥ min_cell`` it is enough to exhibit *one* such table in which p ≥ min_cell. The gate builds it
as the true table plus a perturbation δ of the leaf cells:

    δ = Σ_i  amount_i · (u_i1 ⊗ u_i2 ⊗ … ⊗ u_id)          (a sum of "terms")

where per dimension u is either e_a − e_b (two leaves: *balanced*) or e_a (*unbalanced*). A margin's
change is the sum of the leaf changes below it, so the node sums of δ satisfy every additive relation
of the table automatically (rows, columns, hierarchy, grand total). A node A of a dimension changes by
u(A) = [a ∈ A] − [b ∈ A]: for a balanced vector only the nodes on the paths from a and b up to (not
including) their lowest common ancestor change; for an unbalanced one every ancestor of a, up to the
total. The *support* of a term is the product of these node sets, the *corners* are its leaf cells.

The witness is valid when (1) every cell in the support is suppressed (published cells unchanged),
(2) leaf + δ ≥ 0 (leaves nonnegative implies margins nonnegative), (3) δ(p) ≥ min_cell − n(p).
Adding suppressions never invalidates a witness, so a greedy search may fix cells one at a time.
This is the hypercube idea of Repsilber/Giessing (GHMITER, τ-ARGUS), taken to leaf space so that
hierarchies need no separate sub-table bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from stadslab.errors import PrivacyError
from stadslab.privacy.gate.tables import Dimension, TableModel


@dataclass(frozen=True)
class Term:
    amount: int
    vecs: tuple[tuple[int, int], ...]      # per dimension (a, b); b == -1 means unbalanced


def _support(dim: Dimension, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    if b < 0:
        nodes = dim.anc[a]
        return nodes, np.ones(len(nodes), dtype=np.int64)
    eq = dim.anc[a] == dim.anc[b]
    hl = int(np.argmax(eq))
    nodes = np.concatenate([dim.anc[a, :hl], dim.anc[b, :hl]])
    signs = np.concatenate([np.ones(hl, dtype=np.int64), -np.ones(hl, dtype=np.int64)])
    return nodes, signs


_ONE = np.ones(1, dtype=np.int64)
_PLUS_MINUS = np.asarray([1, -1], dtype=np.int64)


def _outer_flat(nodes: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Row-major flat indices of the product of per-dimension index lists."""
    flat = nodes[0]
    for k in range(1, len(nodes)):
        flat = np.add.outer(flat * shape[k], nodes[k]).ravel()
    return flat


def _outer_sign(signs: list[np.ndarray]) -> np.ndarray:
    out = signs[0]
    for s in signs[1:]:
        out = np.multiply.outer(out, s).ravel()
    return out


class SupportCache:
    """Memoised per-dimension supports (they are asked for again and again during the search)."""

    def __init__(self, model: TableModel) -> None:
        self.model = model
        self._fns = [lru_cache(maxsize=200_000)(lambda a, b, d=d: _support(d, a, b)) for d in model.dims]

    def dim(self, k: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        return self._fns[k](a, b)

    def cells(self, term: Term) -> tuple[np.ndarray, np.ndarray]:
        """Flat indices of the support of a term and the sign of each."""
        parts = [self.dim(k, a, b) for k, (a, b) in enumerate(term.vecs)]
        return _outer_flat([p[0] for p in parts], self.model.shape), _outer_sign([p[1] for p in parts])


def leaf_corners(term: Term, leaf_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Flat leaf indices of a term's corners and their signs (+1 / −1)."""
    leaves = [np.asarray([a] if b < 0 else [a, b]) for a, b in term.vecs]
    signs = [_ONE if b < 0 else _PLUS_MINUS for _, b in term.vecs]
    return _outer_flat(leaves, leaf_shape), _outer_sign(signs)


def check_witness(model: TableModel, cache: SupportCache, suppressed: np.ndarray, p: int, need: int,
                  terms: list[Term]) -> str | None:
    """None when the witness proves the upper protection of cell p, else what is wrong (Dutch)."""
    if not terms:
        return "geen getuige"
    gain = 0
    delta: dict[int, int] = {}
    for term in terms:
        if term.amount <= 0:
            return "term met bedrag ≤ 0"
        cells, signs = cache.cells(term)
        if not suppressed.reshape(-1)[cells].all():
            return "getuige raakt een gepubliceerde cel"
        hit = np.flatnonzero(cells == p)
        if len(hit):
            gain += int(signs[hit[0]]) * term.amount
        corners, csign = leaf_corners(term, model.leaf_shape)
        for c, s in zip(corners.tolist(), csign.tolist()):
            delta[c] = delta.get(c, 0) + s * term.amount
    if gain < need:
        return f"cel stijgt maar {gain} van de nodige {need}"
    leaf = model.leaf.reshape(-1)
    if any(leaf[c] + v < 0 for c, v in delta.items()):
        return "getuige maakt een cel negatief"
    return None


def check_rectangles(model: TableModel, suppressed: np.ndarray, rect: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Vectorised check of 2-D sibling rectangles, rows (i, i2, j, j2, amount): True where valid.

    Siblings (same parent) make the support exactly the four leaf corners; (i, j) rises by amount,
    (i, j2) and (i2, j) fall by it.
    """
    i, i2, j, j2, amt = rect.T
    d1, d2 = model.dims
    s = suppressed
    ok = s[i, j] & s[i, j2] & s[i2, j] & s[i2, j2] & (i != i2) & (j != j2)
    ok &= (d1.parent[i] == d1.parent[i2]) & (d2.parent[j] == d2.parent[j2])
    ok &= (i < d1.n_leaves) & (i2 < d1.n_leaves) & (j < d2.n_leaves) & (j2 < d2.n_leaves)
    return ok & (model.leaf[i, j2] >= amt) & (model.leaf[i2, j] >= amt) & (amt >= need)


def verify_witnesses(model: TableModel, suppressed: np.ndarray, need: np.ndarray, witnesses: dict,
                     rects: np.ndarray | None = None) -> int:
    """Check the witness of every primary cell (raises PrivacyError); returns how many were checked.

    ``rects`` (p, i, i2, j, j2, amount) are checked vectorised; every other witness term by term.
    """
    flat_need = need.reshape(-1)
    done: set[int] = set()
    if rects is not None and len(rects):
        p, i, i2, j, j2, amt = rects.T
        ok = check_rectangles(model, suppressed, np.stack([i, i2, j, j2, amt], axis=1), flat_need[p])
        ok &= p == i * model.shape[1] + j
        if not ok.all():
            raise PrivacyError("publicatiepoort: interne controle faalt (rechthoek-getuige ongeldig); "
                               "er wordt niets gepubliceerd")
        done = set(p.tolist())
    cache = SupportCache(model)
    others = [p for p in witnesses if p not in done]
    for p in others:
        problem = check_witness(model, cache, suppressed, p, int(flat_need[p]), witnesses[p])
        if problem:
            raise PrivacyError(f"publicatiepoort: interne controle faalt voor cel {model.cell_key(p)}: {problem}; "
                               "er wordt niets gepubliceerd")
    return len(done) + len(others)
