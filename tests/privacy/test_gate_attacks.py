"""Attack tests: an attacker who sees everything published tries to pin a small cell by LP.

The attacker here is written independently of the gate's internals: it reads only the published
frames (labels, ``Totaal`` rows, NULLs) and knows the table's categories. Its unknowns are the cover
cells (one per combination of categories); every published row says "the cover cells matching my
labels sum to this value"; all unknowns are ≥ 0. For each cell below 15 it maximises and minimises
the cell with HiGHS (scipy.optimize.linprog). The gate's criterion (docs/adr/0001): the maximum must
reach 15 — the cell cannot be pinned below the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from stadslab.privacy.gate import protect

TOT = "Totaal"
MIN = 15


class Attacker:
    """LP attacker over one or more copies of a cover table (copies = versions of the data)."""

    def __init__(self, cover: pd.DataFrame, copies: int = 1) -> None:
        self.cover = cover.reset_index(drop=True)
        self.n = len(cover)
        self.copies = copies
        self.rows: list[np.ndarray] = []
        self.rhs: list[float] = []
        self.ub_rows: list[np.ndarray] = []
        self.ub_rhs: list[float] = []

    def cover_mask(self, frame: pd.DataFrame, label_cols: list[str], filters: dict | None = None) -> np.ndarray:
        """rows × cover cells: True where the cover cell falls under the published row."""
        m = np.ones((len(frame), self.n), dtype=bool)
        for c in label_cols:
            f = frame[c].astype(str).to_numpy()[:, None]
            m &= (f == TOT) | (f == self.cover[c].astype(str).to_numpy()[None, :])
        for c, v in (filters or {}).items():
            allowed = [str(x) for x in v] if isinstance(v, (list, tuple, set)) else [str(v)]
            m &= np.isin(self.cover[c].astype(str).to_numpy(), allowed)[None, :]
        return m

    def _lift(self, m: np.ndarray, copy: int) -> np.ndarray:
        out = np.zeros((m.shape[0], self.n * self.copies))
        out[:, copy * self.n:(copy + 1) * self.n] = m
        return out

    def publish(self, frame: pd.DataFrame, count: str, label_cols: list[str], *, copy: int = 0,
                filters: dict | None = None) -> None:
        m = self.cover_mask(frame, label_cols, filters)
        known = frame[count].notna().to_numpy()
        self.rows.extend(self._lift(m[known], copy))
        self.rhs.extend(frame[count][known].astype(float).tolist())

    def equality(self, coef: np.ndarray, rhs: float) -> None:
        self.rows.append(coef)
        self.rhs.append(rhs)

    def at_most(self, coef: np.ndarray, rhs: float) -> None:
        self.ub_rows.append(coef)
        self.ub_rhs.append(rhs)

    def bounds(self, coef: np.ndarray) -> tuple[float, float]:
        a = np.asarray(self.rows) if self.rows else None
        b = np.asarray(self.rhs) if self.rows else None
        a_ub = np.asarray(self.ub_rows) if self.ub_rows else None
        b_ub = np.asarray(self.ub_rhs) if self.ub_rows else None
        out = []
        for sign in (1, -1):
            res = linprog(sign * coef, A_eq=a, b_eq=b, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
            if res.status == 3:
                out.append(-sign * np.inf)
            else:
                assert res.status == 0, res.message
                out.append(sign * res.fun)
        return out[0], out[1]

    def cell_coef(self, frame: pd.DataFrame, label_cols: list[str], row: int, copy: int = 0,
                  filters: dict | None = None) -> np.ndarray:
        return self._lift(self.cover_mask(frame.iloc[[row]], label_cols, filters), copy)[0]


def truth(frame: pd.DataFrame, label_cols: list[str], micro: pd.DataFrame, count: str,
          filters: dict | None = None) -> np.ndarray:
    """True count of every published row, recomputed from the input cells."""
    att = Attacker(micro)
    m = att.cover_mask(frame, label_cols, filters)
    return m @ micro[count].to_numpy(dtype=float)


def assert_protected(pub: pd.DataFrame, micro: pd.DataFrame, label_cols: list[str], count: str = "n",
                     zeros: str = "publish") -> int:
    """No published cell below 15 (but 0); every unsafe cell's LP maximum reaches 15. Returns #checked."""
    true = truth(pub, label_cols, micro, count)
    shown = pub[count].to_numpy(dtype="float64", na_value=np.nan)
    published = ~np.isnan(shown)
    assert np.array_equal(shown[published], true[published]), "published values must be the true values"
    small = published & (shown < MIN) & ((shown > 0) | (zeros == "suppress"))
    assert not small.any(), pub[small]
    unsafe = (true < MIN) & ((true > 0) | (zeros == "suppress"))
    assert not (unsafe & published).any()
    att = Attacker(micro)
    att.publish(pub, count, label_cols)
    checked = 0
    for r in np.flatnonzero(unsafe):
        lo, hi = att.bounds(att.cell_coef(pub, label_cols, r))
        assert lo <= true[r] + 1e-6 <= hi + 2e-6
        assert hi >= MIN - 1e-6, f"cel {pub.iloc[r][label_cols].to_dict()} (n={true[r]:.0f}) vastgepind op ≤ {hi}"
        checked += 1
    return checked


def nb(rng: np.random.Generator, mean: float, size, shape: float = 1.2) -> np.ndarray:
    return rng.negative_binomial(shape, shape / (shape + mean), size=size)


def table_1d(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = 8
    return pd.DataFrame({"cat": [f"C{i}" for i in range(k)], "n": nb(rng, 18, k)})


def table_2d(seed: int, rows: int = 6, cols: int = 7, mean: float = 20) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r, c = np.meshgrid(range(rows), range(cols), indexing="ij")
    return pd.DataFrame({"a": [f"A{i}" for i in r.ravel()], "b": [f"B{j}" for j in c.ravel()],
                         "n": nb(rng, mean, r.size)})


def table_hier(seed: int, wijken: int = 3, cats: int = 5, mean: float = 22) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for w in range(wijken):
        for b in range(int(rng.integers(4, 7))):
            for c in range(cats):
                rows.append((f"W{w}", f"W{w}B{b}", f"K{c}"))
    df = pd.DataFrame(rows, columns=["wijk", "buurt", "cat"])
    df["n"] = nb(rng, mean, len(df))
    return df


@pytest.mark.parametrize("seed", range(6))
def test_one_dimensional_tables_are_protected(seed):
    micro = table_1d(seed)
    pt = protect(micro, count="n", dims=["cat"])
    assert assert_protected(pt.to_pandas(), micro, ["cat"]) == pt.stats["primary"]


@pytest.mark.parametrize("seed", range(6))
def test_two_dimensional_tables_are_protected(seed):
    micro = table_2d(seed)
    pt = protect(micro, count="n", dims=["a", "b"])
    assert pt.stats["primary"] > 0
    assert assert_protected(pt.to_pandas(), micro, ["a", "b"]) == pt.stats["primary"]


@pytest.mark.parametrize("seed", range(5))
def test_hierarchical_wijk_buurt_tables_are_protected(seed):
    micro = table_hier(seed)
    pt = protect(micro, count="n", dims=["buurt", "cat"], hierarchy={"buurt": "wijk"})
    pub = pt.to_pandas(public=True)
    assert ((pub["buurt"] == TOT) & (pub["wijk"] != TOT)).any(), "wijk subtotals are published rows"
    assert assert_protected(pub, micro, ["buurt", "wijk", "cat"]) == pt.stats["primary"]


@pytest.mark.parametrize("seed", range(3))
def test_sparse_hierarchical_tables_with_small_margins_are_protected(seed):
    micro = table_hier(100 + seed, wijken=3, cats=4, mean=3)   # many small wijk and buurt totals
    pt = protect(micro, count="n", dims=["buurt", "cat"], hierarchy={"buurt": "wijk"})
    margins_primary = (pt.primary & ~pt.model.is_leaf_cell()).sum()
    assert margins_primary > 0
    assert_protected(pt.to_pandas(), micro, ["buurt", "wijk", "cat"])


@pytest.mark.parametrize("seed", range(3))
def test_three_dimensional_tables_are_protected(seed):
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([[f"W{w}" for w in range(4)], ["V", "M"], ["jong", "midden", "oud"]],
                                     names=["wijk", "geslacht", "leeftijd"]).to_frame(index=False)
    idx["n"] = nb(rng, 25, len(idx))
    pt = protect(idx, count="n", dims=["wijk", "geslacht", "leeftijd"])
    assert_protected(pt.to_pandas(), idx, ["wijk", "geslacht", "leeftijd"])


@pytest.mark.parametrize("seed", range(3))
def test_zeros_suppressed_when_configured_are_protected_too(seed):
    micro = table_2d(seed, mean=12)
    assert (micro["n"] == 0).any()
    pt = protect(micro, count="n", dims=["a", "b"], zeros="suppress")
    assert_protected(pt.to_pandas(), micro, ["a", "b"], zeros="suppress")


def test_the_attacker_does_pin_cells_of_a_primary_only_pattern():
    """Negative control: suppressing only the small cells is not enough, and the attacker finds it."""
    micro = pd.DataFrame({"a": ["A0", "A0", "A1", "A1"], "b": ["B0", "B1", "B0", "B1"], "n": [5, 20, 30, 40]})
    naive = pd.DataFrame({"a": ["A0", "A0", "A1", "A1", "A0", "A1", TOT, TOT, TOT],
                          "b": ["B0", "B1", "B0", "B1", TOT, TOT, "B0", "B1", TOT],
                          "n": pd.array([None, 20, 30, 40, 25, 70, 35, 60, 95], dtype="Int64")})
    att = Attacker(micro)
    att.publish(naive, "n", ["a", "b"])
    assert att.bounds(att.cell_coef(naive, ["a", "b"], 0)) == pytest.approx((5, 5))
    with pytest.raises(AssertionError):
        assert_protected(naive, micro, ["a", "b"])


def test_medium_hierarchical_table_passes_the_attacker():
    micro = table_hier(42, wijken=4, cats=8, mean=18)
    pt = protect(micro, count="n", dims=["buurt", "cat"], hierarchy={"buurt": "wijk"})
    assert assert_protected(pt.to_pandas(), micro, ["buurt", "wijk", "cat"]) >= 30
