"""The week plan: re-checks inside their window or explained; labels create the re-checks four weeks later."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from stadslab.analyses.routing import Site
from stadslab.analyses.weesfietsen.plan import TeamSettings, plan_week, window


def _candidates(n: int, rng) -> pd.DataFrame:
    x = 136000 + rng.uniform(-2500, 2500, n)
    y = 456000 + rng.uniform(-2500, 2500, n)
    return pd.DataFrame({"locatie": [f"E{int(a // 125)}N{int(b // 125)}_{i}" for i, (a, b) in enumerate(zip(x, y))],
                         "x": x, "y": y, "verwacht": rng.gamma(1.0, 1.0, n), "reden": "test"})


DEPOT = Site("depot", "Fietsdepot", 136000.0, 456000.0)


def test_every_recheck_in_its_window_or_explained():
    rng = np.random.default_rng(1)
    cand = _candidates(400, rng)
    monday = date(2024, 3, 4)
    labelled = [monday - timedelta(days=int(d)) for d in rng.integers(22, 36, 80)]
    pending = cand.head(80).assign(datum_gelabeld=labelled, aantal_gelabeld=rng.integers(1, 8, 80))
    plan = plan_week(monday, cand, pending, DEPOT, TeamSettings(crews=2, seconds_per_day=0.5))
    df = plan.frame()
    checks = df[df["kind"] == "hercontrole"]
    for r in checks.itertuples():
        first, last = window(r.label_date)
        assert first <= r.day <= last
    planned = set(zip(checks["locatie"], checks["label_date"]))
    explained = {(n["locatie"], date.fromisoformat(n["gelabeld"])) for n in plan.not_scheduled}
    for r in pending.itertuples():
        first, last = window(r.datum_gelabeld)
        if first <= monday + timedelta(days=4):     # due this week
            assert (r.locatie, r.datum_gelabeld) in planned | explained or last > monday + timedelta(days=4)
    labels = df[df["kind"] == "labelen"]
    assert labels["locatie"].is_unique                                  # never labelled twice in a week
    assert not set(labels["locatie"]) & set(pending["locatie"])         # not where a label is pending
    cal = {c["locatie"]: c for c in plan.calendar}
    for r in labels.itertuples():
        assert cal[r.locatie]["vanaf"] == window(r.day)[0].isoformat()
    for (day, crew), g in df.groupby(["day", "crew"]):
        assert list(g["order"]) == sorted(g["order"]) and list(g["aankomst"]) == sorted(g["aankomst"])
    assert all("labels van" in s for s in checks["reden"]) and all(s.startswith("labelen") for s in labels["reden"])


def test_an_overfull_day_says_what_could_not_be_scheduled():
    rng = np.random.default_rng(2)
    cand = _candidates(250, rng).assign(x=lambda d: 136000 + rng.uniform(-15000, 15000, len(d)),
                                        y=lambda d: 456000 + rng.uniform(-15000, 15000, len(d)))
    friday_window = date(2024, 3, 8) - timedelta(days=35)       # window closes on Friday 8 March
    pending = cand.assign(datum_gelabeld=friday_window, aantal_gelabeld=10)
    plan = plan_week(date(2024, 3, 4), cand.head(0), pending, DEPOT,
                     TeamSettings(crews=1, seconds_per_day=0.5, shift_end_s=10 * 3600))
    done = (plan.frame()["kind"] == "hercontrole").sum() if len(plan.stops) else 0
    assert done < len(pending)
    assert len(plan.not_scheduled) == len(pending) - done
    assert all(n["reden"] for n in plan.not_scheduled)
