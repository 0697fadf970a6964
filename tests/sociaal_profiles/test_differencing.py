"""Acceptance (issue 13): "a differencing attack through any two permitted dashboard or API queries recovers
no cell below 15".

Everything that many permitted queries publish is collected — every profile (incl. a profile and its parent,
and a profile and its complement) at every level (wijk, buurt, school), for all years and per year, by the
analyst and by a scoped school — which contains every pair of queries. An attacker written from the
published frames only then solves, with HiGHS, for every atom (buurt × school × school year × pattern of
profile memberships) the largest value consistent with all of it and with x ≥ 0, knowing every pattern that
is empty at area level (the structural zeros nested profiles make). No cell of 1…14 persons — atom, area
atom, or any published-table cell — may be pinned below 15 (ADR 0001 §2: upper bound ≥ min_cell). A
control shows the attacker's power: the same figures with primary suppression only are pinned.
"""

from __future__ import annotations

import highspy
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.sociaal.profiles import (
    TOTAL,
    derived_table,
    load_profiles,
    profile_view,
)
from stadslab.privacy.gate import SuppressionStore
from tests.sociaal_profiles.conftest import ANALYST, SCHOOL, YEARS

MIN = 15
LEVELS = ("wijk_code", "buurt_code", "school")


@pytest.fixture(scope="module")
def world(env):
    """(atoms: one row per candidate atom with its true count, flags, published rows)."""
    wh, linked, sources, ws = env
    profiles = load_profiles(ws)
    flags = [p.flag for p in profiles]
    d = derived_table(linked, profiles).to_pandas()
    atoms = d.groupby(["buurt_code", "wijk_code", "school", "schooljaar", *flags], as_index=False).size()
    atoms = atoms.rename(columns={"size": "n"})
    # candidates: every buurt × school × year × pattern whose area-level projections are not structurally empty
    by_buurt = atoms.groupby(["buurt_code", "wijk_code", "schooljaar", *flags], as_index=False)["n"].sum()
    by_school = atoms.groupby(["school", "schooljaar", *flags], as_index=False)["n"].sum()
    cand = by_buurt.drop(columns="n").merge(by_school.drop(columns="n"), on=["schooljaar", *flags])
    cand = cand.merge(atoms, how="left", on=list(cand.columns)).fillna({"n": 0})
    cand["n"] = cand["n"].astype(int)
    store = SuppressionStore(None)
    published = []
    for p in profiles:
        for level in LEVELS:
            for year in (None, YEARS[0]):
                for user in (ANALYST, SCHOOL) if level == "school" and year is None else (ANALYST,):
                    rel = profile_view(wh, None, ws, user=user, purpose="sociaal_domein", audit=_Audit(),
                                       profile_id=p.id, level=level, schooljaar=year, linked=linked, sources=sources,
                                       store=store)
                    published.append((p.flag, level, rel.frame))
    return cand, flags, published


class _Audit:
    def append(self, entry) -> None:   # the audit chain is tested elsewhere; here only what is published counts
        pass


def equations(cand: pd.DataFrame, published, drop_suppressed_only: bool = False):
    rows, rhs = [], []
    for flag, level, frame in published:
        for r in frame.itertuples(index=False):
            r = r._asdict()
            area = np.ones(len(cand), bool) if r[level] == TOTAL else (cand[level] == r[level]).to_numpy()
            base = area & (cand["schooljaar"] == r["schooljaar"]).to_numpy()
            for col, m in (("aantal", base & (cand[flag] == "ja").to_numpy()), ("populatie", base)):
                if not pd.isna(r[col]):
                    rows.append(m.astype(float))
                    rhs.append(float(r[col]))
    return np.asarray(rows), np.asarray(rhs)


def upper_bounds(a: np.ndarray, b: np.ndarray, targets: list[np.ndarray], stop_below: float | None = None) -> np.ndarray:
    """max of each target (0/1 coefficient vector over the atoms) subject to a x = b, x ≥ 0 (HiGHS);
    ``stop_below``: stop at the first target whose maximum is below it (the rest stay +inf)."""
    n = a.shape[1]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    for row, v in zip(a, b):
        idx = np.flatnonzero(row).astype(np.int32)
        h.addRow(v, v, len(idx), idx, np.ones(len(idx)))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    out = np.full(len(targets), np.inf)
    prev = np.zeros(0, dtype=np.int32)
    for i, coef in enumerate(targets):
        cols = np.flatnonzero(coef).astype(np.int32)
        if len(prev):
            h.changeColsCost(len(prev), prev, np.zeros(len(prev)))
        h.changeColsCost(len(cols), cols, np.ones(len(cols)))
        prev = cols
        h.run()
        status = h.getModelStatus()
        out[i] = h.getInfo().objective_function_value if status == highspy.HighsModelStatus.kOptimal else np.inf
        if stop_below is not None and out[i] < stop_below:
            break
    return out


def small_cells(cand: pd.DataFrame, flags: list[str]):
    """Every group an attacker could care about with 1…14 persons: atoms at buurt, wijk and school level
    (area × year × membership pattern) and every cell of the published tables (area × year × one flag)."""
    out, seen = [], set()
    groupings = [[lv, "schooljaar", *flags] for lv in LEVELS]
    groupings += [[lv, "schooljaar", f] for lv in LEVELS for f in flags] + [[lv, "schooljaar"] for lv in LEVELS]
    for cols in groupings:
        for key, n in cand.groupby(cols)["n"].sum().items():
            if 0 < n < MIN:
                key = key if isinstance(key, tuple) else (key,)
                coef = np.ones(len(cand), bool)
                for c, v in zip(cols, key):
                    coef &= (cand[c] == v).to_numpy()
                if coef.tobytes() in seen:      # the same group under another name
                    continue
                seen.add(coef.tobytes())
                out.append((dict(zip(cols, key)), int(n), coef))
    return out


def test_no_cell_below_15_is_pinned_by_everything_published(world):
    cand, flags, published = world
    assert len(published) >= 4 * 3 * 2, "many permitted queries were answered"
    a, b = equations(cand, published)
    x = cand["n"].to_numpy(float)
    assert np.allclose(a @ x, b), "published figures are the true counts"
    targets = small_cells(cand, flags)
    assert len(targets) > 50, "the data must contain small cells for the test to mean anything"
    hi = upper_bounds(a, b, [t[2] for t in targets])
    pinned = [(t[0], t[1], round(h, 2)) for t, h in zip(targets, hi) if h < MIN - 1e-6]
    assert not pinned, f"{len(pinned)} small cells pinned below {MIN}, e.g. {pinned[:5]}"


def test_control_primary_suppression_alone_is_pinned(world):
    """The attacker is strong enough: with only the cells of 1…14 hidden (no complementary suppression and
    shares recomputed from the true table) small cells are recovered."""
    cand, flags, published = world
    naive = []
    for flag, level, frame in published:
        f = frame.copy()
        for r_i, r in f.iterrows():
            m = np.ones(len(cand), bool) if r[level] == TOTAL else (cand[level] == r[level]).to_numpy()
            m &= (cand["schooljaar"] == r["schooljaar"]).to_numpy()
            ja, pop = int(cand["n"][m & (cand[flag] == "ja").to_numpy()].sum()), int(cand["n"][m].sum())
            f.loc[r_i, "aantal"] = pd.NA if 0 < ja < MIN else ja
            f.loc[r_i, "populatie"] = pd.NA if 0 < pop < MIN else pop
        naive.append((flag, level, f))
    a, b = equations(cand, naive)
    targets = small_cells(cand, flags)
    hi = upper_bounds(a, b, [t[2] for t in targets], stop_below=MIN - 1e-6)
    assert (hi < MIN - 1e-6).sum() > 0, "the LP attacker pins nothing even without complementary suppression"
