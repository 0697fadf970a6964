"""The table model of the publication gate: cells, margins and hierarchies as one dense array.

A table has d dimensions. Each dimension is a tree of *nodes*: the categories (leaves), optional
intermediate levels (buurt → wijk → gemeente) and the root, which is printed as the totals label
(``Totaal``). Nodes are numbered leaves first, grouped by parent so that every node covers a
contiguous range of leaves, and the root last. The full table is the dense array over all node
combinations, ``full[n1, …, nd]`` = sum of the leaf cells below, so the leaf block is
``full[:L1, …, :Ld]``. Every additive relation an attacker can use (row and column totals, the
hierarchy, the grand total) is "a node equals the sum of its children" in one dimension, with the
other coordinates fixed; the gate works on leaf perturbations, which respect all of them at once.

Labels are turned into strings; an input category may not equal the totals label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from stadslab.errors import AnalysisError

MAX_CELLS = 5_000_000      # dense model limit; beyond this the table is not a publishable aggregate


@dataclass(frozen=True)
class Dimension:
    """One dimension: output columns (leaf level first) and the node tree.

    ``labels[node, level]`` is what the output shows in column ``levels[level]``; ``anc[leaf, h]`` is the
    ancestor of a leaf at height h (``anc[:, 0]`` = the leaf, ``anc[:, -1]`` = the root).
    """

    name: str
    levels: tuple[str, ...]
    labels: np.ndarray        # (n_nodes, n_levels) object
    height: np.ndarray        # (n_nodes,) 0 for leaves, len(levels) for the root
    lo: np.ndarray            # (n_nodes,) first leaf covered
    hi: np.ndarray            # (n_nodes,) one past the last leaf covered
    anc: np.ndarray           # (n_leaves, n_levels + 1) ancestor node ids
    parent: np.ndarray        # (n_nodes,) parent node id, -1 for the root

    @property
    def n_nodes(self) -> int:
        return len(self.height)

    @property
    def n_leaves(self) -> int:
        return self.anc.shape[0]

    @property
    def root(self) -> int:
        return self.n_nodes - 1

    def key(self, node: int) -> str:
        """``column=value`` of a node at its own level; '' for the root."""
        h = int(self.height[node])
        return "" if node == self.root else f"{self.levels[h]}={self.labels[node, h]}"

    def sibling_range(self, leaf: int) -> tuple[int, int]:
        p = self.parent[leaf]
        return int(self.lo[p]), int(self.hi[p])


def _levels_for(dim: str, spec: object, df: pd.DataFrame) -> tuple[list[str], list[np.ndarray]]:
    """Output column names and per-row label arrays, leaf level first."""
    leaf = df[dim].astype(str).to_numpy(dtype=object)
    if spec is None:
        return [dim], [leaf]
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, (list, tuple)):
        cols = [dim, *spec]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise AnalysisError(f"hiërarchie van '{dim}': kolom(men) {missing} ontbreken in de tabel",
                                hint="geef de bovenliggende niveaus als kolommen mee, of als mapping {kind: ouder}")
        return cols, [df[c].astype(str).to_numpy(dtype=object) for c in cols]
    if isinstance(spec, Mapping):
        mapping = {str(k): str(v) for k, v in spec.items()}
        cols, arrays, cur = [dim], [leaf], leaf
        for depth in range(1, 10):
            up = pd.Series(cur).map(mapping)
            if depth == 1 and up.isna().any():
                bad = sorted(set(pd.Series(cur)[up.isna()]))[:5]
                raise AnalysisError(f"hiërarchie van '{dim}': geen ouder voor {bad}",
                                    hint="elke categorie moet in de mapping kind → ouder staan")
            if depth > 1 and up.isna().all():
                break
            if up.isna().any():
                raise AnalysisError(f"hiërarchie van '{dim}': niveau {depth} is niet voor alle categorieën "
                                    "gegeven", hint="alle takken van de boom moeten even diep zijn")
            cur = up.to_numpy(dtype=object)
            cols.append(f"{dim}_parent" if depth == 1 else f"{dim}_parent{depth}")
            arrays.append(cur)
        return cols, arrays
    raise AnalysisError(f"hiërarchie van '{dim}': onbekende vorm {type(spec).__name__}",
                        hint="gebruik een kolomnaam, een lijst kolomnamen of een mapping {kind: ouder}")


def build_dimension(dim: str, cols: list[str], arrays: list[np.ndarray], totals: str) -> tuple[Dimension, np.ndarray]:
    """The node tree of one dimension and, per input row, its leaf id."""
    frame = pd.DataFrame({c: a for c, a in zip(cols, arrays)})
    for c in cols:
        if (frame[c] == totals).any():
            raise AnalysisError(f"kolom '{c}' bevat de waarde '{totals}', die voor totalen gereserveerd is",
                                hint="hernoem die categorie of kies een ander totals_label")
    combos = frame.drop_duplicates().sort_values(cols[::-1], kind="stable").reset_index(drop=True)
    if combos[dim].duplicated().any():
        bad = combos.loc[combos[dim].duplicated(keep=False), cols].head(4).to_dict("records")
        raise AnalysisError(f"hiërarchie van '{dim}': een categorie hoort bij meer dan één ouder: {bad}",
                            hint="een buurt ligt in precies één wijk")
    n_lv = len(cols)
    n_leaves = len(combos)
    labels, height, lo, hi, parent_key = [], [], [], [], []
    anc = np.empty((n_leaves, n_lv + 1), dtype=np.int64)
    offset = 0
    level_ids: list[np.ndarray] = []
    for h in range(n_lv):
        keys = combos[cols[h:]].apply(tuple, axis=1) if h else pd.Series(range(n_leaves))
        codes, uniq = pd.factorize(keys, sort=False)
        ids = offset + np.arange(len(uniq))
        anc[:, h] = ids[codes]
        level_ids.append(ids)
        first = np.searchsorted(codes, np.arange(len(uniq)), side="left")
        last = np.searchsorted(codes, np.arange(len(uniq)), side="right")
        for u in range(len(uniq)):
            row = combos.iloc[first[u]]
            labels.append(tuple([totals] * h + [row[c] for c in cols[h:]]))
        height.extend([h] * len(uniq))
        lo.extend(first.tolist())
        hi.extend(last.tolist())
        offset += len(uniq)
        parent_key.append(codes)
    labels.append(tuple([totals] * n_lv))
    height.append(n_lv)
    lo.append(0)
    hi.append(n_leaves)
    root = offset
    anc[:, n_lv] = root
    parent = np.full(offset + 1, -1, dtype=np.int64)
    for h in range(n_lv):
        parent[anc[:, h]] = anc[:, h + 1]
    lab = np.empty((offset + 1, n_lv), dtype=object)
    lab[:] = labels
    d = Dimension(name=dim, levels=tuple(cols), labels=lab, height=np.asarray(height),
                  lo=np.asarray(lo), hi=np.asarray(hi), anc=anc, parent=parent)
    leaf_of_row = pd.Index(combos[dim]).get_indexer(frame[dim])
    return d, leaf_of_row


def aggregate(leaf: np.ndarray, dims: Sequence[Dimension]) -> np.ndarray:
    """All node sums from the leaf array: per axis, node = cumsum[hi] - cumsum[lo]."""
    out = leaf
    for axis, d in enumerate(dims):
        shape = list(out.shape)
        shape[axis] = 1
        cs = np.concatenate([np.zeros(shape, dtype=out.dtype), np.cumsum(out, axis=axis)], axis=axis)
        out = np.take(cs, d.hi, axis=axis) - np.take(cs, d.lo, axis=axis)
    return out


@dataclass
class TableModel:
    dims: list[Dimension]
    count: str
    totals: str
    leaf: np.ndarray                     # int64 leaf counts
    full: np.ndarray                     # int64 counts of every cell and margin
    values: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)   # name → (agg, full float)
    present: np.ndarray | None = None    # bool leaf mask: combination occurs in the input

    @property
    def shape(self) -> tuple[int, ...]:
        return self.full.shape

    @property
    def leaf_shape(self) -> tuple[int, ...]:
        return self.leaf.shape

    def is_leaf_cell(self) -> np.ndarray:
        """Boolean over the full array: cell has a leaf in every dimension (not a margin)."""
        m = np.zeros(self.shape, dtype=bool)
        m[tuple(slice(0, d.n_leaves) for d in self.dims)] = True
        return m

    def cell_key(self, flat: int, prefix: str = "") -> str:
        coords = np.unravel_index(flat, self.shape)
        parts = [d.key(int(c)) for d, c in zip(self.dims, coords) if c != d.root]
        return prefix + (", ".join(parts) if parts else "totaal")

    def cell_keys(self, flats: np.ndarray) -> np.ndarray:
        """Vectorised ``cell_key`` for many cells (object array)."""
        coords = np.unravel_index(np.asarray(flats, dtype=np.int64), self.shape)
        out = pd.Series([""] * len(flats), dtype=object)
        for d, c in zip(self.dims, coords):
            keys = np.array([d.key(n) for n in range(d.n_nodes)], dtype=object)[c]
            part = pd.Series(keys, dtype=object)
            sep = np.where((out != "") & (part != ""), ", ", "")
            out = out + sep + part
        return np.where(out == "", "totaal", out).astype(object)


def from_frame(df: pd.DataFrame, *, count: str, dims: list[str], hierarchy: Mapping[str, object] | None,
               totals: str, values: Mapping[str, str]) -> TableModel:
    """Build the table model from one row per leaf cell (no margins in the input)."""
    if not dims:
        raise AnalysisError("een tabel heeft minstens één dimensie", hint="geef dims=[...] mee")
    if len(df) == 0:
        raise AnalysisError("lege tabel: er is niets te beschermen of te publiceren")
    needed = [count, *dims, *values]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise AnalysisError(f"kolom(men) {missing} ontbreken; aanwezig: {list(df.columns)}")
    hierarchy = dict(hierarchy or {})
    unknown = set(hierarchy) - set(dims)
    if unknown:
        raise AnalysisError(f"hiërarchie voor {sorted(unknown)}, maar dat zijn geen dimensies {dims}")
    cnt = pd.to_numeric(df[count], errors="coerce")
    if cnt.isna().any() or (cnt < 0).any() or (cnt % 1 != 0).any():
        row = int(np.flatnonzero(cnt.isna() | (cnt < 0) | (cnt % 1 != 0))[0])
        raise AnalysisError(f"kolom '{count}', rij {row + 1}: waarde {df[count].iloc[row]!r} is geen aantal",
                            hint="aantallen zijn gehele getallen ≥ 0 zonder lege waarden")
    built = []
    for d in dims:
        cols, arrays = _levels_for(d, hierarchy.get(d), df)
        built.append(build_dimension(d, cols, arrays, totals))
    dim_objs = [b[0] for b in built]
    idx = tuple(b[1] for b in built)
    leaf_shape = tuple(d.n_leaves for d in dim_objs)
    full_shape = tuple(d.n_nodes for d in dim_objs)
    if int(np.prod(full_shape, dtype=np.float64)) > MAX_CELLS:
        raise AnalysisError(f"tabel met {int(np.prod(full_shape, dtype=np.float64)):,} cellen is te groot",
                            hint=f"maximaal {MAX_CELLS:,} cellen inclusief marges; kies minder dimensies")
    flat = np.ravel_multi_index(idx, leaf_shape)
    if len(np.unique(flat)) != len(flat):
        dup = pd.Series(flat).duplicated(keep=False).to_numpy()
        rows = (np.flatnonzero(dup)[:4] + 1).tolist()
        raise AnalysisError(f"dezelfde cel komt meer dan eens voor (rijen {rows})",
                            hint="lever één rij per cel; de poort berekent zelf de totalen")
    leaf = np.zeros(leaf_shape, dtype=np.int64)
    leaf.reshape(-1)[flat] = cnt.to_numpy(dtype=np.int64)
    present = np.zeros(leaf_shape, dtype=bool)
    present.reshape(-1)[flat] = True
    model = TableModel(dims=dim_objs, count=count, totals=totals, leaf=leaf, full=aggregate(leaf, dim_objs),
                       present=present)
    for name, agg in values.items():
        v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
        c = cnt.to_numpy(dtype=np.float64)
        weighted = v * c if agg == "mean" else v
        known = ~np.isnan(weighted) | (c == 0)
        lv = np.zeros(leaf_shape)
        lv.reshape(-1)[flat] = np.where(np.isnan(weighted), 0.0, weighted)
        unknown_leaf = np.zeros(leaf_shape)
        unknown_leaf.reshape(-1)[flat] = (~known).astype(np.float64)
        total = aggregate(lv, dim_objs)
        if agg == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                total = np.where(model.full > 0, total / np.maximum(model.full, 1), np.nan)
        total[aggregate(unknown_leaf, dim_objs) > 0] = np.nan
        model.values[name] = (agg, total)
    return model


def view_mask(model: TableModel, dims: Sequence[str]) -> np.ndarray:
    """Cells of the sub-table over ``dims``: every other dimension at its total."""
    names = [d.name for d in model.dims]
    unknown = set(dims) - set(names)
    if unknown:
        raise AnalysisError(f"tabel over {sorted(unknown)}: geen dimensie van de dekkende tabel {names}")
    idx = tuple(slice(None) if d.name in dims else d.root for d in model.dims)
    mask = np.zeros(model.shape, dtype=bool)
    mask[idx] = True
    return mask


def leaf_level(model: TableModel, dims: Sequence[str]) -> np.ndarray:
    """Cells that are at leaf level in every dimension of ``dims`` (interior cells of that table)."""
    mask = np.ones(model.shape, dtype=bool)
    for k, d in enumerate(model.dims):
        if d.name in dims:
            shape = [1] * len(model.dims)
            shape[k] = d.n_nodes
            mask &= (np.arange(d.n_nodes) < d.n_leaves).reshape(shape)
    return mask


def to_frame(model: TableModel, rows: np.ndarray, dims: Sequence[str], suppressed: np.ndarray,
             reasons: np.ndarray, reason_col: str) -> pd.DataFrame:
    """Output rows (flat indices) with the level columns of ``dims``, count, values and the reason."""
    coords = np.unravel_index(rows, model.shape)
    cols: dict[str, object] = {}
    for d, c in zip(model.dims, coords):
        if d.name in dims:
            for h, level in enumerate(d.levels):
                cols[level] = d.labels[c, h]
    sup = suppressed.reshape(-1)[rows]
    cols[model.count] = pd.arrays.IntegerArray(np.where(sup, 0, model.full.reshape(-1)[rows]).astype(np.int64), sup)
    for name, (_, vals) in model.values.items():
        v = vals.reshape(-1)[rows]
        hide = sup | np.isnan(v)
        cols[name] = pd.arrays.FloatingArray(np.where(hide, 0.0, v), hide)
    cols[reason_col] = reasons[rows]
    return pd.DataFrame(cols)
