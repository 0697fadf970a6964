"""The generator is tied to the real figures it names; the yield model learns without looking ahead."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.weesfietsen import yield_model as ym
from stadslab.analyses.weesfietsen.backtest import backtest
from stadslab.analyses.weesfietsen.plan import window
from stadslab.demo import weesfietsen_sim as sim
from tests.conftest import REPO

DATA = REPO / "data" / "demo"


@pytest.fixture(scope="module")
def world():
    return sim.demo_world(DATA)


def test_generator_is_tied_to_utrecht_2023(world):
    assert len(world.locs) == 2000
    assert world.locs.rate.sum() * 52 == pytest.approx(11_040, rel=1e-9)
    assert sim.RETURNED_2023 / sim.ORPHANS_2023 == pytest.approx(0.0184, abs=1e-4)
    assert all(b.startswith("BU0344") for b in world.locs.buurt)            # inside Utrecht's real buurten
    again = sim.demo_world(DATA)
    assert np.array_equal(again.locs.rate, world.locs.rate)                  # deterministic per seed


def test_documentation_states_every_parameter():
    text = (REPO / "docs" / "weesfietsen.md").read_text(encoding="utf-8")
    for f in dataclasses.fields(sim.WorldParams):
        assert f"`{f.name}`" in text or f.name in text, f.name
    for figure in ("30,656", "11,040", "203", "63,710", "GESIMULEERD"):
        assert figure in text


def test_recheck_window_moves_out_of_the_weekend():
    first, last = window(date(2024, 1, 3))           # a Wednesday: day 28 = Wed 31 Jan, day 35 = Wed 7 Feb
    assert (first, last) == (date(2024, 1, 31), date(2024, 2, 7))
    first, last = window(date(2024, 1, 1))           # day 35 = Mon 5 Feb
    assert last.weekday() < 5 and first.weekday() < 5
    first, last = window(date(2024, 1, 6))           # Saturday label: day 28 Saturday → Monday; day 35 Sat → Fri
    assert first == date(2024, 2, 5) and last == date(2024, 2, 9)


def _frames():
    w = sim.demo_world(DATA)
    rec = sim.run_old_policy(w, sim.HISTORY_START, 30, sim.HISTORY_PER_WEEK)
    a = pd.DataFrame(rec["acties"], columns=["loc", "datum_gelabeld", "aantal_gelabeld", "datum_gecontroleerd",
                                             "aantal_verwijderd", "ploeg"])
    a["locatie"] = w.locs.cell[a["loc"].astype(int)]
    m = pd.DataFrame(rec["meldingen"], columns=["id", "tijd", "mor", "cat", "x", "y", "loc"])
    m["locatie"] = w.locs.cell[m["loc"].astype(int)]
    o = pd.DataFrame(rec["waarnemingen"], columns=["id", "tijd", "aantal_weesfietsen", "x", "y", "loc"])
    o["locatie"] = w.locs.cell[o["loc"].astype(int)]
    return a, m, o


def test_no_look_ahead_and_accumulation():
    a, m, o = _frames()
    before = pd.Timestamp("2023-06-05")
    model = ym.fit(a, m, o, before=before)
    known = (pd.to_datetime(a["datum_gecontroleerd"]) < before) & a["aantal_verwijderd"].notna()
    assert model.n_train == int(known.sum())
    # changing removals that were re-checked after `before` does not change the model
    b = a.copy()
    later = pd.to_datetime(b["datum_gecontroleerd"]) >= before
    b.loc[later, "aantal_verwijderd"] = 99
    cells = pd.Series(sorted(a["locatie"].unique())[:200])
    p1 = ym.predict_at(model, cells, before, a, m, o)["verwacht"].to_numpy()
    p2 = ym.predict_at(ym.fit(b, m, o, before=before), cells, before, b, m, o)["verwacht"].to_numpy()
    assert np.allclose(p1, p2)
    # twice as long since the last labelling → about twice the expected yield (the offset)
    f = ym.predict_at(model, cells, before, a, m, o)
    g = f.assign(log_base=np.log(f["tempo"] * f["weken_sinds"] * 2 + 0.01))
    ratio = model.predict(g) / model.predict(f)
    assert np.median(ratio[f["weken_sinds"] > 2]) == pytest.approx(2.0, rel=0.05)
    assert "weken niet gelabeld" in ym.reason(f.iloc[0]) or "nooit gelabeld" in ym.reason(f.iloc[0])


def test_backtest_model_against_naive_choices(world):
    res = backtest(world, weeks=3)
    assert set(res["per_ploeguur"]) == {"model", "verwijderd_vorige_maand", "meldingen", "wijkrotatie"}
    assert res["gesimuleerd"] and res["oordeel"]
    best_naive = max(v for k, v in res["per_ploeguur"].items() if k != "model")
    assert res["ratio"] == pytest.approx(res["per_ploeguur"]["model"] / best_naive, rel=0.01)
    # the verdict follows the figures
    assert ("niet duidelijk beter" in res["oordeel"]) == (res["ratio"] < 1.05 or res["weken_gewonnen"] <= 1)


def test_evaluation_runs_both_policies_on_the_same_world():
    from stadslab.analyses.weesfietsen.evaluate import demo_evaluation
    from stadslab.analyses.weesfietsen.plan import TeamSettings

    res = demo_evaluation(DATA, weeks=1, settings=TeamSettings(seconds_per_day=0.3))
    base, planned = res["beleid"]
    assert base["beleid"] == "wijkrotatie" and planned["beleid"] == "gepland" and res["gesimuleerd"]
    assert base["gelabeld"] == sim.HISTORY_PER_WEEK and planned["gelabeld"] < base["gelabeld"]
    assert planned["hercontroles_op_tijd"] == 1.0 and base["hercontroles_op_tijd"] == 1.0
    assert res["winst"] == pytest.approx(planned["verwijderd_per_ploeguur"] / base["verwijderd_per_ploeguur"], rel=0.01)
    assert base["terug_bij_eigenaar"] == pytest.approx(base["verwijderd"] * sim.RETURN_SHARE, abs=0.1)
