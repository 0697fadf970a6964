"""Secondary (complementary) suppression: a greedy witness search, one primary cell at a time.

For each primary cell p (need = min_cell − n(p)) the search picks the cheapest *witness* (see
``witness.py``): a leaf perturbation that raises p by ``need``, changes only cells that are or become
suppressed, and keeps every leaf nonnegative. Its support is suppressed; the witness is kept as the
certificate that p cannot be pinned below ``min_cell`` by linear programming over everything that is
published. Cost of suppressing a cell = its count + 1 ("least total value", ties broken towards fewer
cells), so large margins are used only when nothing else works.

* Fast path (2-D tables, leaf cells): the best sibling rectangle {i, i2} × {j, j2} (the hypercube of
  GHMITER/τ-ARGUS Modular, Giessing & Repsilber 2002), one vectorised NumPy step per primary.
* General path (margins, hierarchies, 1-D and ≥3-D tables): per dimension a few candidate vectors
  (e_a − e_b with b outside the cell's node, or e_a up to the total), ranked by the cost of the line
  through the cell, then the product of candidates is evaluated exactly.
* Sparse rows: when no single partner holds ``need`` persons the witness is split into terms whose
  amounts add up (each partner gives what it has).
* Linked mode (tables of one dataset that share margins, see differencing.py): a cell's vector is
  balanced in every dimension where the cell is not a total, so a witness never touches a margin the
  cell is not part of; stored vectors of shared cells are reused so both tables agree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from stadslab.errors import PrivacyError
from stadslab.privacy.gate.tables import TableModel
from stadslab.privacy.gate.witness import SupportCache, Term, leaf_corners

KA = 3          # candidate leaves inside an aggregate node
KB = 5          # candidate partners per dimension
MAX_TERMS = 12


@dataclass
class Pattern:
    suppressed: np.ndarray                    # bool, full shape
    protector: np.ndarray                     # int64 flat index of the primary a secondary protects, -1
    witnesses: dict[int, list[Term]] = field(default_factory=dict)


class PatternSearch:
    def __init__(self, model: TableModel, suppressed: np.ndarray, *, frozen: np.ndarray | None = None,
                 linked: bool = False) -> None:
        self.m = model
        self.S = suppressed.copy()
        self.cost = np.where(self.S, 0.0, model.full.astype(np.float64) + 1.0)
        if frozen is not None:
            self.cost[frozen & ~self.S] = np.inf
        self.linked = linked
        self.cache = SupportCache(model)
        self.protector = np.full(model.full.size, -1, dtype=np.int64)
        self.witnesses: dict[int, list[Term]] = {}
        self.d = len(model.dims)
        leaves = tuple(slice(0, dm.n_leaves) for dm in model.dims)
        self.cost_leaf = self.cost[leaves]            # views: commits show through
        self.leaf = model.leaf
        self.S_flat = self.S.reshape(-1)
        self.cost_flat = self.cost.reshape(-1)

    # -- bookkeeping -------------------------------------------------------------------------
    def commit(self, cells: np.ndarray, p: int) -> None:
        new = cells[~self.S_flat[cells]]
        if len(new):
            self.S_flat[new] = True
            self.cost_flat[new] = 0.0
            self.protector[new] = p

    def _term_cost(self, term: Term, avail: np.ndarray, thr: int) -> tuple[float, int]:
        cells, _ = self.cache.cells(term)
        c = float(self.cost_flat[cells].sum())
        if not np.isfinite(c):
            return np.inf, 0
        corners, sign = leaf_corners(term, self.m.leaf_shape)
        neg = corners[sign < 0]
        room = int(avail[neg].min()) if len(neg) else 1 << 40
        return (c, room) if room >= thr else (np.inf, 0)

    # -- fast path ---------------------------------------------------------------------------
    def rectangle(self, i: int, j: int, need: int) -> tuple[Term, float] | None:
        d1, d2 = self.m.dims
        r0, r1 = d1.sibling_range(i)
        c0, c1 = d2.sibling_range(j)
        if r1 - r0 < 2 or c1 - c0 < 2:
            return None
        cl, x = self.cost_leaf, self.leaf
        colcost = np.where(x[r0:r1, j] >= need, cl[r0:r1, j], np.inf)
        colcost[i - r0] = np.inf
        rowcost = np.where(x[i, c0:c1] >= need, cl[i, c0:c1], np.inf)
        rowcost[j - c0] = np.inf
        tot = cl[r0:r1, c0:c1] + colcost[:, None] + rowcost[None, :]
        k = int(tot.argmin())
        best = float(tot.flat[k])
        if not np.isfinite(best):
            return None
        w = c1 - c0
        return Term(need, ((i, r0 + k // w), (j, c0 + k % w))), best

    # -- general path ------------------------------------------------------------------------
    def _line(self, coords: tuple[int, ...], k: int) -> np.ndarray:
        idx = list(coords)
        idx[k] = slice(None)
        return self.cost[tuple(idx)]

    def _a_candidates(self, coords: tuple[int, ...], k: int) -> list[int]:
        dim = self.m.dims[k]
        node = coords[k]
        if node < dim.n_leaves:
            return [node]
        lo, hi = int(dim.lo[node]), int(dim.hi[node])
        h = int(dim.height[node])
        line = self._line(coords, k)
        proxy = line[dim.anc[lo:hi, :h]].sum(axis=1) if h else np.zeros(hi - lo)
        ka = KA if self.d <= 2 else 2
        order = np.argsort(proxy, kind="stable")[:ka]
        return [lo + int(o) for o in order]

    def _b_candidates(self, coords: tuple[int, ...], a_tuple: tuple[int, ...], k: int, thr: int,
                      avail: np.ndarray) -> list[tuple[int, int]]:
        dim = self.m.dims[k]
        node, a = coords[k], a_tuple[k]
        w = self._line(coords, k)
        if tuple(coords) != a_tuple:
            w = w + self._line(a_tuple, k)
        unbalanced = (a, -1)
        if node == dim.root:
            return [unbalanced]
        out: list[tuple[int, int]] = []
        anc = dim.anc
        hl = np.argmax(anc == anc[a], axis=1)
        wa = np.concatenate([[0.0], np.cumsum(w[anc[a]])])
        wb = np.concatenate([np.zeros((dim.n_leaves, 1)), np.cumsum(w[anc], axis=1)], axis=1)
        proxy = wb[np.arange(dim.n_leaves), hl] + wa[hl]
        mass_idx = list(a_tuple)
        mass_idx[k] = slice(None)
        mass = avail.reshape(self.m.leaf_shape)[tuple(mass_idx)]
        ok = (mass >= thr) & np.isfinite(proxy)
        ok[int(dim.lo[node]):int(dim.hi[node])] = False
        cand = np.flatnonzero(ok)
        if len(cand) > KB:
            cand = cand[np.argpartition(proxy[cand], KB)[:KB]]
        out.extend((a, int(b)) for b in cand)
        if not self.linked:
            out.append(unbalanced)
        return out

    def best_term(self, p: int, need: int, thr: int, avail: np.ndarray,
                  fixed: dict[int, tuple[int, int]] | None = None) -> tuple[Term, float, int] | None:
        coords = tuple(int(c) for c in np.unravel_index(p, self.m.shape))
        fixed = fixed or {}
        a_lists = [[fixed[k][0]] if k in fixed else self._a_candidates(coords, k) for k in range(self.d)]
        best: tuple[Term, float, int] | None = None
        for a_tuple in itertools.product(*a_lists):
            lists = [[fixed[k]] if k in fixed else self._b_candidates(coords, a_tuple, k, thr, avail)
                     for k in range(self.d)]
            for vecs in itertools.product(*lists):
                term = Term(need, tuple(vecs))
                c, room = self._term_cost(term, avail, thr)
                if np.isfinite(c) and (best is None or c < best[1]):
                    best = (term, c, room)
        return best

    def general(self, p: int, need: int, fixed: dict[int, tuple[int, int]] | None = None) -> list[Term] | None:
        avail = self.leaf.reshape(-1)
        found = self.best_term(p, need, need, avail, fixed)
        if found is not None:
            return [found[0]]
        # Sparse: split the need over several partners, each giving what it holds.
        avail = avail.copy()
        terms: list[Term] = []
        left = need
        while left > 0 and len(terms) < MAX_TERMS:
            found = None
            for thr in sorted({max(1, -(-left // 2 ** s)) for s in range(6)}, reverse=True):
                found = self.best_term(p, left, thr, avail, fixed)
                if found is not None:
                    break
            if found is None:
                return None
            term0, _, room = found
            amount = min(left, room)
            term = Term(amount, term0.vecs)
            corners, sign = leaf_corners(term, self.m.leaf_shape)
            avail[corners[sign < 0]] -= amount
            cells, _ = self.cache.cells(term)
            self.commit(cells, p)
            terms.append(term)
            left -= amount
        return terms if left <= 0 else None

    # -- driver ------------------------------------------------------------------------------
    def protect(self, p: int, need: int, reuse: dict[int, tuple[int, int]] | None = None,
                label: str = "") -> list[Term]:
        coords = np.unravel_index(p, self.m.shape)
        terms: list[Term] | None = None
        if reuse and len(reuse) == self.d:
            term = Term(need, tuple(reuse[k] for k in range(self.d)))
            c, _ = self._term_cost(term, self.leaf.reshape(-1), need)
            terms = [term] if np.isfinite(c) else None
        elif reuse:
            terms = self.general(p, need, reuse)
        if terms is None and self.d == 2 and all(c < dm.n_leaves for c, dm in zip(coords, self.m.dims)):
            found = self.rectangle(int(coords[0]), int(coords[1]), need)
            terms = [found[0]] if found else None
        if terms is None:
            terms = self.general(p, need)
        if terms is None:
            raise PrivacyError(
                f"cel {label or p} kan niet beschermd worden zonder gedeelde totalen te raken",
                hint="publiceer deze tabel met grovere categorieën, of zonder koppeling aan andere tabellen")
        for term in terms:
            self.commit(self.cache.cells(term)[0], p)
        self.witnesses[p] = terms
        return terms


def order_primaries(model: TableModel, primary: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Margins before interior cells (top-down, as τ-ARGUS Modular), then the largest need first."""
    flats = np.flatnonzero(primary.reshape(-1))
    interior = model.is_leaf_cell().reshape(-1)[flats]
    keys = np.lexsort((flats, -need.reshape(-1)[flats], interior))
    return flats[keys]


def secondary_suppression(model: TableModel, primary: np.ndarray, need: np.ndarray, *,
                          forced: np.ndarray | None = None, frozen: np.ndarray | None = None,
                          linked: bool = False, reuse: dict[int, dict[int, tuple[int, int]]] | None = None,
                          labels: dict[int, str] | None = None) -> Pattern:
    """Suppress complementary cells until every primary cell has a valid witness."""
    start = primary | (forced if forced is not None else False)
    search = PatternSearch(model, start, frozen=frozen, linked=linked)
    reuse = reuse or {}
    for p in order_primaries(model, primary, need).tolist():
        search.protect(p, int(need.reshape(-1)[p]), reuse.get(p), (labels or {}).get(p, ""))
    return Pattern(suppressed=search.S, protector=search.protector, witnesses=search.witnesses)
