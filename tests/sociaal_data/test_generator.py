"""The SIMULATED DDD generator: reproducible, tied to CBS KWB, valid BSNs, the planted effect in the truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stadslab.demo.synthetic_ddd import DOMAINS, PLANTED_EFFECT_PP, simulate
from stadslab.privacy.bsn import is_valid_bsn_array


@pytest.fixture(scope="module")
def sim():
    return simulate(0.05, seed=3)


def test_reproducible_and_seeded(sim):
    again = simulate(0.05, seed=3)
    for name in ("verzuim", "uitkeringen", "zrm", "trajecten"):
        for col, values in sim[name].items():
            a, b = np.asarray(values), np.asarray(again[name][col])
            assert (a.astype(str) == b.astype(str)).all(), (name, col)   # as text: NaT equals NaT
    other = simulate(0.05, seed=4)
    assert not np.array_equal(sim["verzuim"]["bsn_leerling"][:50], other["verzuim"]["bsn_leerling"][:50])


def test_households_and_children_follow_kwb(sim):
    bu = sim["bu"]
    expected = bu["a_hh"] * 0.05
    got = sim["households_per_buurt"]
    inhabited = bu["a_inw"] > 0
    assert abs(got.sum() / expected[inhabited].sum() - 1) < 0.05
    assert np.corrcoef(got[inhabited], expected[inhabited])[0, 1] > 0.97
    kids = sim["pupils_per_buurt"]
    assert np.corrcoef(kids[inhabited], bu["a_00_14"][inhabited])[0, 1] > 0.9


def test_bijstand_follows_buurt_shares(sim):
    """Benefit households per wijk follow a_soz_wb (the KWB bijstand count) per wijk."""
    bu = sim["bu"]
    u = sim["uitkeringen"]
    code_to_wijk = dict(zip(bu["code"], bu["wijk_code"]))
    in_2023 = (u["maand"] >= np.datetime64("2023-08-01")) & (u["maand"] < np.datetime64("2024-08-01"))
    heads = {}
    for b, p in zip(u["buurt_code"][in_2023], u["bsn_aanvrager"][in_2023]):
        heads.setdefault(code_to_wijk[b], set()).add(p)
    wijken = sorted(heads)
    got = np.array([len(heads[w]) for w in wijken])
    exp = np.array([bu["a_soz_wb"][bu["wijk_code"] == w].sum() for w in wijken])
    assert np.corrcoef(got, exp)[0, 1] > 0.9


def test_bsns_valid_and_links_by_household_head(sim):
    v, u, z, t = sim["verzuim"], sim["uitkeringen"], sim["zrm"], sim["trajecten"]
    for arr in (v["bsn_leerling"], v["bsn_ouder"], u["bsn_aanvrager"], z["bsn"], t["bsn"]):
        assert is_valid_bsn_array(np.asarray(arr, dtype=str)).all()
    assert not set(v["bsn_leerling"]) & set(v["bsn_ouder"])          # pupils are never household heads
    assert set(t["bsn"]) & set(v["bsn_ouder"])                        # trajectories of pupils' households exist
    heads_with_kids = set(v["bsn_ouder"])
    assert len(set(z["bsn"]) - set(t["bsn"])) > len(set(t["bsn"]))    # ZRM reaches many without support
    assert len(heads_with_kids & set(z["bsn"])) > 0


def test_tables_have_the_contract_shapes(sim):
    v = sim["verzuim"]
    assert set(np.unique(v["schooljaar"])) == {"2021/22", "2022/23", "2023/24", "2024/25"}
    ages = np.char.str_len(np.asarray(v["schooljaar"]).astype(str))
    assert (ages == 7).all()
    assert ((v["verzuim_pct"] >= 0) & (v["verzuim_pct"] <= 100)).all()
    assert np.allclose(v["verzuim_pct"], np.round(100 * v["verzuimde_uren"] / v["lesuren"], 2))
    for d in DOMAINS:
        s = sim["zrm"][f"zrm_{d}"]
        assert s.min() >= 1 and s.max() <= 5
    t = sim["trajecten"]
    ended = ~np.isnat(t["einde"])
    assert (t["einde"][ended] > t["start"][ended]).all()
    assert (~ended).any()                                             # some still running at delivery
    m = sim["uitkeringen"]["maand"].astype("datetime64[D]")
    assert (m.astype("datetime64[M]").astype("datetime64[D]") == m).all()   # first of the month


def test_schools_have_enough_pupils(sim):
    tr = sim["truth"]
    keys, counts = np.unique(np.char.add(tr["school"].astype(str), tr["schooljaar"].astype(str)), return_counts=True)
    assert (counts >= 15).mean() > 0.9


def test_planted_effect_and_confounding_in_truth(sim):
    tr = sim["truth"]
    nxt = ~np.isnan(tr["verzuim_pct_volgend"])
    treated, control = nxt & tr["traject"], nxt & ~tr["traject"]
    assert treated.sum() > 30
    diff = tr["verzuim_pct_volgend"] - tr["verzuim_pct_volgend_zonder_traject"]
    assert np.allclose(diff[treated], PLANTED_EFFECT_PP, atol=0.15)   # whole hours: rounding only
    assert np.allclose(diff[control], 0)
    # confounding: the treated are worse off in year t ...
    assert tr["bijstand"][treated].mean() > tr["bijstand"][control].mean() + 0.1
    assert tr["verzuim_pct"][treated].mean() > tr["verzuim_pct"][control].mean() + 1
    fin = tr["zrm_financien"]
    assert ((fin[treated] >= 1) & (fin[treated] <= 2)).mean() > ((fin[control] >= 1) & (fin[control] <= 2)).mean()
    # ... so the naive difference is positive, while adjusting for the confounders recovers the effect
    naive = tr["verzuim_pct_volgend"][treated].mean() - tr["verzuim_pct_volgend"][control].mean()
    assert naive > 0
    X = np.column_stack([np.ones(nxt.sum()), tr["bijstand"][nxt], tr["verzuim_pct"][nxt],
                         tr["schoolsoort"][nxt] == "voortgezet onderwijs",
                         *[fin[nxt] == c for c in (0, 1, 2, 3, 5)], tr["traject"][nxt]]).astype(float)
    beta = np.linalg.lstsq(X, tr["verzuim_pct_volgend"][nxt], rcond=None)[0]
    assert abs(beta[-1] - PLANTED_EFFECT_PP) < 0.4


def test_manifest_states_the_design(ddd_ws):
    m = json.loads((ddd_ws.parent / "ws-bronhouders" / "ddd" / "ruw" / "manifest.json").read_text())
    assert m["simulated"] is True and m["planted_effect_pp"] == PLANTED_EFFECT_PP
    assert m["seed"] == 7 and m["scale"] == 0.05
    assert "bijstand" in m["confounding"] and len(m["confounders"]) == 4
    assert m["naive_difference_pp"] > 0 and m["treated_pupil_years"] > 0
    public = json.loads((ddd_ws / "data" / "ddd" / "manifest.json").read_text())
    assert public["planted_effect_pp"] == PLANTED_EFFECT_PP and public["project_id"] == "ddd"
