"""The container day plan: overflow probabilities, required/optional choice, the estimator's reset after an
emptying, a small plan checked by the independent checker, and the simulation's bookkeeping."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.containers.evaluate import district, estimate_state, results_table, simulate
from stadslab.analyses.containers.plan import (Fleet, PlanSettings, next_collection_day, overflow_probability,
                                              plan_day, select_candidates)
from stadslab.demo.container_sim import load_containers
from tests.routing.checker import check_plan


@pytest.fixture(scope="module")
def register() -> pd.DataFrame:
    return district(load_containers(), target=60)


def test_overflow_probability_known_values():
    # mean 80 + 10 × 2 = 100 → exactly one half; sd 0 and below 100 → 0; already full → 1.
    p = overflow_probability(np.array([80.0, 50.0, 100.0]), np.array([10.0, 10.0, 0.0]),
                             np.array([5.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), 2.0)
    assert p[0] == pytest.approx(0.5) and p[1] == pytest.approx(0.0) and p[2] == 1.0
    # one sd above: Φ(1) = 0.8413
    q = overflow_probability(np.array([90.0]), np.array([10.0]), np.array([10.0]), np.array([0.0]), 2.0)
    assert q[0] == pytest.approx(0.8413, abs=1e-4)


def test_next_collection_day_skips_sunday():
    assert next_collection_day(date(2026, 1, 10), (0, 1, 2, 3, 4, 5)) == date(2026, 1, 12)   # Saturday → Monday


def _state(register, levels, rate=20.0, n=24):
    return pd.DataFrame({"container_id": register["container_id"], "vulgraad": levels, "vulsnelheid": rate,
                         "sd_vulgraad": 4.0, "sd_vulsnelheid": 5.0,
                         "tijd": pd.Timestamp("2026-01-07T05:00Z"), "metingen": n})


def test_required_and_optional(register):
    levels = np.linspace(5, 99, len(register))
    cand = select_candidates(register, _state(register, levels), date(2026, 1, 7), Fleet(), PlanSettings())
    full = cand[cand["vulgraad"] > 90]
    assert full["verplicht"].all()
    low = cand[cand["vulgraad"] < 40]
    assert not low["verplicht"].any()
    opt = cand[~cand["verplicht"]]
    assert (opt["prijs"] > 0).all() and (opt["p_overloop"] < 0.5).all()


def test_sensorless_containers_follow_the_fixed_schedule(register):
    st = _state(register, np.full(len(register), 95.0), n=0)
    day = date(2026, 1, 7)   # a Wednesday
    cand = select_candidates(register, st, day, Fleet(), PlanSettings())
    on_day = register["inzameldagen"].str.contains("wo")
    assert set(cand["container_id"]) == set(register.loc[on_day, "container_id"])
    assert cand["zonder_sensor"].all() and cand["verplicht"].all()


def test_emptying_resets_the_estimated_level():
    now = pd.Timestamp("2026-01-07T05:00Z")
    times = pd.date_range(now - pd.Timedelta(hours=30), now - pd.Timedelta(hours=6), freq="h")
    readings = pd.DataFrame({"sensor_id": "A", "tijd": times, "vulgraad": np.linspace(60, 90, len(times))})
    prior = pd.Series([20.0], index=["A"])
    none = pd.Series([pd.NaT], index=["A"], dtype="datetime64[ns, UTC]")
    before = estimate_state(readings, now, none, prior)
    assert before["vulgraad"].iloc[0] > 90 and before["metingen"].iloc[0] == len(times)
    emptied = pd.Series([now - pd.Timedelta(hours=3)], index=["A"])
    after = estimate_state(readings, now, emptied, prior)
    assert after["vulgraad"].iloc[0] == pytest.approx(20.0 * 3 / 24, abs=0.01)   # grown from empty at the prior rate
    assert after["metingen"].iloc[0] > 0


def test_small_plan_passes_the_checker(register):
    levels = np.linspace(40, 99, len(register))
    dp = plan_day(register, _state(register, levels), date(2026, 1, 7), fleet=Fleet(trucks=2), seconds=0.5)
    assert check_plan(dp.problem, dp.plan) == []
    assert not dp.plan.unserved_required
    served = set(dp.plan.served)
    assert set(dp.candidates.loc[dp.candidates["verplicht"], "container_id"]) <= served
    table = dp.stops_table()
    assert table["gesimuleerd"].all() and set(table["soort"]) >= {"start", "stop", "end"}
    assert dp.summary()["stortritten"] >= len(dp.plan.routes)


def test_simulation_compares_both_policies(register):
    res = simulate(register, weeks=1, fleet=Fleet(trucks=1), seconds_per_day=0.2, seed=3)
    t = results_table(res).set_index("policy")
    assert set(t.index) == {"vast", "sensor"}
    assert (t["days"] == 7).all() and t["gesimuleerd"].all()
    assert (t["emptyings"] > 0).all() and (t["km"] > 0).all()
    # Every emptying the fixed schedule made was on a container's own weekday.
    daily = pd.DataFrame(res["vast"].daily)
    assert daily.loc[pd.to_datetime(daily["datum"]).dt.weekday == 6, "ledigingen"].sum() == 0
