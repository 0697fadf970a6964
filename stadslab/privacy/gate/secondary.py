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
* Hidden cells (cells of a cover table that no linked table publishes, see ``protect_linked``) start
  out suppressed at cost 0: a witness may move them freely, the attacker does not see them.
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
KA_SPLIT = 8    # … when a witness must be split over several partners
MAX_TERMS = 64
_BIG = 1e15     # stands for "may not be touched" inside matrix products


@dataclass
class Pattern:
    suppressed: np.ndarray                    # bool, full shape
    protector: np.ndarray                     # int64 flat index of the primary a secondary protects, -1
    witnesses: dict[int, list[Term]] = field(default_factory=dict)
    rects: np.ndarray | None = None            # (p, i, i2, j, j2, amount) of the 2-D rectangle witnesses


class PatternSearch:
    def __init__(self, model: TableModel, suppressed: np.ndarray, *, frozen: np.ndarray | None = None) -> None:
        self.m = model
        self.S = suppressed.copy()
        self.cost = np.where(self.S, 0.0, model.full.astype(np.float64) + 1.0)
        if frozen is not None:
            self.cost[frozen & ~self.S] = np.inf
        self.cache = SupportCache(model)
        self.protector = np.full(model.full.size, -1, dtype=np.int64)
        self.witnesses: dict[int, list[Term]] = {}
        self.rects: list[tuple[int, int, int, int, int, int]] = []
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

    def _a_candidates(self, coords: tuple[int, ...], k: int, ka: int) -> list[int]:
        """Leaves below the cell's node: cheapest path first, then the most persons in the sub-cell."""
        dim = self.m.dims[k]
        node = coords[k]
        if node < dim.n_leaves:
            return [node]
        lo, hi = int(dim.lo[node]), int(dim.hi[node])
        h = int(dim.height[node])
        line = self._line(coords, k)
        proxy = line[dim.anc[lo:hi, :h]].sum(axis=1)
        idx = list(coords)
        idx[k] = slice(lo, hi)
        persons = self.m.full[tuple(idx)]
        order = np.lexsort((-persons, proxy))[:ka]
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
        out.append(unbalanced)
        return out

    def best_term(self, p: int, need: int, thr: int, avail: np.ndarray, ka: int = KA) -> tuple[Term, float, int] | None:
        coords = tuple(int(c) for c in np.unravel_index(p, self.m.shape))
        ka = ka if self.d <= 2 else max(2, ka // 2)
        a_lists = [self._a_candidates(coords, k, ka) for k in range(self.d)]
        best: tuple[Term, float, int] | None = None
        for a_tuple in itertools.product(*a_lists):
            lists = [self._b_candidates(coords, a_tuple, k, thr, avail) for k in range(self.d)]
            if not all(lists):
                continue
            if self.d == 2:
                found = self._best_2d(a_tuple, lists, need, thr, avail)
                if found is not None and (best is None or found[1] < best[1]):
                    best = found
                continue
            for vecs in itertools.product(*lists):
                term = Term(need, tuple(vecs))
                c, room = self._term_cost(term, avail, thr)
                if np.isfinite(c) and (best is None or c < best[1]):
                    best = (term, c, room)
        return best

    def _best_2d(self, a_tuple: tuple[int, ...], lists: list[list[tuple[int, int]]], need: int, thr: int,
                 avail: np.ndarray) -> tuple[Term, float, int] | None:
        """All candidate pairs of a 2-D table at once: cost = M0 · C · M1ᵀ over support indicators.

        Negative corners of a 2-D term are (b0, a1) and (a0, b1) only; candidates were filtered on them.
        """
        mats, rooms, used = [], [], []
        av = avail.reshape(self.m.leaf_shape)
        for k, cands in enumerate(lists):
            sups = [self.cache.dim(k, a, b)[0] for a, b in cands]
            nodes, inv = np.unique(np.concatenate(sups), return_inverse=True)
            mat = np.zeros((len(cands), len(nodes)))
            pos = 0
            room = np.full(len(cands), float(1 << 40))
            for r, ((a, b), sup) in enumerate(zip(cands, sups)):
                mat[r, inv[pos:pos + len(sup)]] = 1.0
                pos += len(sup)
                if b >= 0:
                    room[r] = av[b, a_tuple[1]] if k == 0 else av[a_tuple[0], b]
            mats.append(mat)
            rooms.append(room)
            used.append(nodes)
        sub = self.cost[np.ix_(used[0], used[1])]
        tot = mats[0] @ np.where(np.isfinite(sub), sub, _BIG) @ mats[1].T
        room = np.minimum.outer(rooms[0], rooms[1])
        tot[(room < thr) | (tot >= _BIG)] = np.inf
        k = int(tot.argmin())
        i, j = divmod(k, tot.shape[1])
        if not np.isfinite(tot[i, j]):
            return None
        return Term(need, (lists[0][i], lists[1][j])), float(tot[i, j]), int(room[i, j])

    def general(self, p: int, need: int) -> list[Term] | None:
        avail = self.leaf.reshape(-1)
        found = self.best_term(p, need, need, avail)
        if found is not None:
            return [found[0]]
        # Sparse: split the need over several partners, each giving what it holds.
        avail = avail.copy()
        terms: list[Term] = []
        left = need
        while left > 0 and len(terms) < MAX_TERMS:
            found = None
            for thr in sorted({max(1, -(-left // 2 ** s)) for s in range(6)}, reverse=True):
                found = self.best_term(p, left, thr, avail, KA_SPLIT)
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
    def protect(self, p: int, need: int, label: str = "") -> list[Term]:
        coords = np.unravel_index(p, self.m.shape)
        terms: list[Term] | None = None
        if self.d == 2 and coords[0] < self.m.dims[0].n_leaves and coords[1] < self.m.dims[1].n_leaves:
            i, j = int(coords[0]), int(coords[1])
            found = self.rectangle(i, j, need)
            if found:
                term = found[0]
                (_, i2), (_, j2) = term.vecs
                n1 = self.m.shape[1]
                self.commit(np.asarray([i * n1 + j2, i2 * n1 + j, i2 * n1 + j2]), p)
                self.witnesses[p] = [term]
                self.rects.append((p, i, i2, j, j2, need))
                return [term]
        if terms is None:
            terms = self.general(p, need)
        if terms is None:
            raise PrivacyError(
                f"cel {label or self.m.cell_key(p)} kan niet beschermd worden: elke aanvullende cel is elders "
                "al gepubliceerd of bestaat niet",
                hint="publiceer deze tabel met grovere categorieën, of bescherm gekoppelde tabellen samen "
                     "met protect_linked()")
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
                          forced: np.ndarray | None = None, frozen: np.ndarray | None = None) -> Pattern:
    """Suppress complementary cells until every primary cell has a valid witness.

    ``forced``: cells that start suppressed (earlier patterns, hidden cells of a cover table);
    ``frozen``: cells that may never be part of a witness (published elsewhere, structural zeros).
    """
    start = primary | (forced if forced is not None else False)
    search = PatternSearch(model, start, frozen=frozen)
    for p in order_primaries(model, primary, need).tolist():
        search.protect(p, int(need.reshape(-1)[p]))
    rects = np.asarray(search.rects, dtype=np.int64).reshape(-1, 6)
    return Pattern(suppressed=search.S, protector=search.protector, witnesses=search.witnesses, rects=rects)
