"""Differencing attacks: two permitted outputs combined must not reveal a count below 15.

Each scenario has a negative control (the naive way is attacked successfully by the same LP
attacker) and the gate's way (the attack fails). The attacker is the one of test_gate_attacks.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stadslab.errors import PrivacyError
from stadslab.privacy.gate import (StructureRegistry, SuppressionStore, TableStructure, protect, select,
                                   whole_category_filters)
from stadslab.privacy.gate.protect import protect_linked

_spec = importlib.util.spec_from_file_location("gate_attacker", Path(__file__).with_name("test_gate_attacks.py"))
attacker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attacker)
Attacker, truth, nb = attacker.Attacker, attacker.truth, attacker.nb
MIN = 15
H = {"buurt": "wijk"}


def people(seed: int, mean: float = 6) -> pd.DataFrame:
    """Cover table: 3 wijken × 4 buurten × geslacht × leeftijd."""
    rng = np.random.default_rng(seed)
    idx = pd.MultiIndex.from_product([[f"W{w}" for w in range(3)], range(4), ["V", "M"], ["jong", "midden", "oud"]],
                                     names=["wijk", "buurt", "geslacht", "leeftijd"]).to_frame(index=False)
    idx["buurt"] = idx["wijk"] + "B" + idx["buurt"].astype(str)
    idx["n"] = nb(rng, mean, len(idx))
    return idx


def by(micro: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return micro.groupby(cols, as_index=False)["n"].sum()


def worst_upper(att: Attacker, pubs: list[tuple[pd.DataFrame, list[str], int]], micros: list[pd.DataFrame],
                extra_targets: list[tuple[pd.DataFrame, list[str], int]] = ()) -> float:
    """Lowest LP maximum over every unsafe (0 < n < 15) row of the given publications."""
    worst = np.inf
    for frame, cols, copy in [*pubs, *extra_targets]:
        t = truth(frame, cols, micros[copy], "n")
        for r in np.flatnonzero((t > 0) & (t < MIN)):
            worst = min(worst, att.bounds(att.cell_coef(frame, cols, r, copy=copy))[1])
    return worst


# -- "all" versus "all but one category" ------------------------------------------------------

def test_all_but_one_and_other_non_category_filters_are_refused():
    for bad in ({"leeftijd": ["jong", "midden"]}, {"leeftijd": "!oud"}, {"leeftijd": range(3)},
                {"leeftijd": "niet oud"}, {"leeftijd": {"not": "oud"}}):
        with pytest.raises(PrivacyError):
            whole_category_filters(bad)
    pt = protect(by(people(1), ["wijk", "buurt", "leeftijd"]), count="n", dims=["buurt", "leeftijd"], hierarchy=H)
    with pytest.raises(PrivacyError):
        select(pt, {"leeftijd": ["jong", "midden"]})
    with pytest.raises(PrivacyError):
        select(pt, {"geslacht": "V"})                      # not a dimension of this table
    reg = StructureRegistry([TableStructure.of("wmo", ["buurt", "leeftijd"], hierarchy=H)])
    assert reg.resolve("wmo", ["buurt", "leeftijd"]).dataset == "wmo"
    with pytest.raises(PrivacyError):
        reg.resolve("wmo", ["buurt"], filters={"leeftijd": "jong"})   # not declared


def _all_but_one_data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = [(f"W{b // 3}", f"B{b}", lf, int(rng.integers(3, 12) if lf == "oud" else rng.integers(20, 60)))
            for b in range(6) for lf in ("jong", "midden", "oud")]
    return pd.DataFrame(rows, columns=["wijk", "buurt", "leeftijd", "n"])


def test_naive_all_and_all_but_one_tables_reveal_the_missing_category():
    cover = _all_but_one_data()
    everyone = protect(by(cover, ["wijk", "buurt"]), count="n", dims=["buurt"], hierarchy=H).to_pandas()
    not_old = protect(by(cover[cover.leeftijd != "oud"], ["wijk", "buurt"]), count="n", dims=["buurt"],
                      hierarchy=H).to_pandas()
    att = Attacker(cover)
    att.publish(everyone, "n", ["buurt", "wijk"])
    att.publish(not_old, "n", ["buurt", "wijk"], filters={"leeftijd": ["jong", "midden"]})
    old = cover[cover.leeftijd == "oud"].reset_index(drop=True)
    coef = att.cover_mask(old, ["buurt", "wijk", "leeftijd"])[0].astype(float)
    assert att.bounds(coef) == pytest.approx((old.n[0], old.n[0]))    # pinned exactly


def test_slices_of_one_protected_table_cannot_be_differenced():
    cover = _all_but_one_data()
    pt = protect(cover, count="n", dims=["buurt", "leeftijd"], hierarchy=H)
    cols = ["buurt", "wijk", "leeftijd"]
    slices = [pt.select(leeftijd="Totaal")] + [pt.select(leeftijd=v) for v in ("jong", "midden", "oud")]
    assert all(len(s) == 9 for s in slices)          # 6 buurten + 2 wijken + gemeente
    att = Attacker(cover)
    for s in slices:
        att.publish(s, "n", cols)
    assert worst_upper(att, [(s, cols, 0) for s in slices], [cover]) >= MIN


# -- overlapping filters ------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_overlapping_whole_category_filters_come_from_one_pattern(seed):
    cover = people(seed, mean=7)
    pt = protect(cover, count="n", dims=["buurt", "geslacht", "leeftijd"], hierarchy=H)
    cols = ["buurt", "wijk", "geslacht", "leeftijd"]
    views = [pt.select(geslacht="V"), pt.select(leeftijd="jong"), pt.select(geslacht="Totaal", leeftijd="Totaal")]
    att = Attacker(cover)
    for v in views:
        att.publish(v, "n", cols)
    assert worst_upper(att, [(v, cols, 0) for v in views], [cover]) >= MIN


# -- consecutive refreshes --------------------------------------------------------------------

def _refresh(seed: int, store: SuppressionStore | None, zeros: str = "publish", into_zero: bool = False,
             mean: float = 8):
    v1 = by(people(seed, mean=mean), ["wijk", "buurt", "leeftijd"])
    rng = np.random.default_rng(1000 + seed)
    pool = np.flatnonzero(v1.n == 0) if into_zero else np.arange(len(v1))
    v2 = v1.copy()
    v2.loc[int(rng.choice(pool)), "n"] += 1
    sid = "jeugd/buurt_leeftijd"
    kw = dict(count="n", dims=["buurt", "leeftijd"], hierarchy=H, zeros=zeros, store=store,
              structure_id=sid if store is not None else None)
    f1, f2 = protect(v1, **kw).to_pandas(), protect(v2, **kw).to_pandas()
    cols = ["buurt", "wijk", "leeftijd"]
    att = Attacker(v1[["wijk", "buurt", "leeftijd"]], copies=2)
    att.publish(f1, "n", cols, copy=0)
    att.publish(f2, "n", cols, copy=1)
    n = len(v1)
    for i in range(n):                       # the attacker knows: nobody left …
        c = np.zeros(2 * n)
        c[i], c[n + i] = 1, -1
        att.at_most(c, 0)
    c = np.concatenate([-np.ones(n), np.ones(n)])
    att.equality(c, 1)                       # … and exactly one person came in
    return att, (f1, f2), (v1, v2), cols


def test_consecutive_refreshes_without_the_store_can_be_differenced():
    worst = min(worst_upper(att, [(f1, cols, 0), (f2, cols, 1)], [m1, m2])
                for att, (f1, f2), (m1, m2), cols in (_refresh(s, None) for s in range(16)))
    assert worst < MIN


@pytest.mark.parametrize("seed", range(16))
def test_consecutive_refreshes_with_the_store_cannot_be_differenced(seed):
    att, (f1, f2), (m1, m2), cols = _refresh(seed, SuppressionStore(None))
    assert ((f1.n.isna()) & f2.n.notna()).sum() == 0, "a suppressed cell stays suppressed"
    assert worst_upper(att, [(f1, cols, 0), (f2, cols, 1)], [m1, m2]) >= MIN


def test_person_added_to_a_published_zero_is_the_documented_limit_and_zero_suppression_closes_it():
    seed = 3
    att, (f1, f2), (m1, m2), cols = _refresh(seed, SuppressionStore(None), zeros="publish", into_zero=True, mean=2)
    assert worst_upper(att, [(f1, cols, 0), (f2, cols, 1)], [m1, m2]) <= 1 + 1e-6     # ADR: known limit
    att, (f1, f2), (m1, m2), cols = _refresh(seed, SuppressionStore(None), zeros="suppress", into_zero=True,
                                             mean=2)
    assert worst_upper(att, [(f1, cols, 0), (f2, cols, 1)], [m1, m2]) >= MIN


# -- margins of two tables sharing a dimension ----------------------------------------------------

def _two_tables_attack(cover, p1, p2) -> float:
    f1, f2 = p1.to_pandas(), p2.to_pandas()
    c1, c2 = ["buurt", "wijk", "geslacht"], ["buurt", "wijk", "leeftijd"]
    att = Attacker(cover)
    att.publish(f1, "n", c1)
    att.publish(f2, "n", c2)
    return worst_upper(att, [(f1, c1, 0), (f2, c2, 0)], [cover])


def test_separately_protected_tables_sharing_buurt_margins_can_be_combined():
    worst = np.inf
    for seed in range(8):
        cover = people(seed, mean=4)
        p1 = protect(by(cover, ["wijk", "buurt", "geslacht"]), count="n", dims=["buurt", "geslacht"], hierarchy=H)
        p2 = protect(by(cover, ["wijk", "buurt", "leeftijd"]), count="n", dims=["buurt", "leeftijd"], hierarchy=H)
        worst = min(worst, _two_tables_attack(cover, p1, p2))
    assert worst < MIN


@pytest.mark.parametrize("seed", range(8))
def test_linked_tables_sharing_buurt_margins_cannot_be_combined(seed):
    cover = people(seed, mean=4)
    p1, p2 = protect_linked(cover, count="n", dims=["buurt", "geslacht", "leeftijd"],
                            tables=[["buurt", "geslacht"], ["buurt", "leeftijd"]], hierarchy=H)
    assert list(p1.to_pandas().columns) == ["buurt", "wijk", "geslacht", "n", "suppressed"]
    b1 = p1.to_pandas().query("geslacht == 'Totaal'").set_index(["buurt", "wijk"]).n
    b2 = p2.to_pandas().query("leeftijd == 'Totaal'").set_index(["buurt", "wijk"]).n
    assert b1.isna().equals(b2.isna()), "shared margins have one suppression pattern"
    assert _two_tables_attack(cover, p1, p2) >= MIN
    assert p1.audit()["passed"] and p2.audit()["passed"]


# -- the store ----------------------------------------------------------------------------------

def test_store_is_a_json_file_and_later_versions_keep_earlier_suppressions(tmp_path):
    path = tmp_path / "gate" / "store.json"
    structure = TableStructure.of("wmo", ["buurt", "leeftijd"], hierarchy=H)
    v1 = by(people(7), ["wijk", "buurt", "leeftijd"])
    p1 = protect(v1, count="n", dims=["buurt", "leeftijd"], hierarchy=H, store=SuppressionStore(path),
                 structure_id=structure)
    assert path.exists() and p1.provenance["store"]["version"] == 1
    v2 = v1.assign(n=v1.n + 40)                      # everything large now
    p2 = protect(v2, count="n", dims=["buurt", "leeftijd"], hierarchy=H, store=SuppressionStore(path),
                 structure_id=structure)
    assert p2.stats["primary"] == 0
    assert p2.frame.n.isna().equals(p1.frame.n.isna())
    assert p2.frame.suppressed[p2.frame.n.isna()].str.startswith("secundair: eerder onderdrukt").all()
    assert p2.provenance["store"]["version"] == 2
    cells = json.loads(path.read_text())["datasets"]["wmo"]
    assert {r["s"] for r in cells.values()} == {"s", "p"}
    assert not any("v" in r for r in cells.values() if r["s"] == "s"), "no suppressed count is stored"


def test_cells_published_by_another_table_are_never_used_as_complementary_cells():
    store = SuppressionStore(None)
    cover = people(11, mean=5)
    p1 = protect(by(cover, ["wijk", "buurt", "geslacht"]), count="n", dims=["buurt", "geslacht"], hierarchy=H,
                 store=store, structure_id="wmo/g")
    shown = p1.to_pandas().query("geslacht == 'Totaal' and n.notna()", engine="python")
    try:
        p2 = protect(by(cover, ["wijk", "buurt", "leeftijd"]), count="n", dims=["buurt", "leeftijd"],
                     hierarchy=H, store=store, structure_id="wmo/l")
    except PrivacyError as exc:                      # refusing is allowed; publishing it hidden is not
        assert "protect_linked" in str(exc)
        return
    f2 = p2.to_pandas().query("leeftijd == 'Totaal'").set_index(["buurt", "wijk"])
    assert f2.loc[shown.set_index(["buurt", "wijk"]).index, "n"].notna().all()
