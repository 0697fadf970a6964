"""The simulator (offline API) and the fill forecast against known values."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.containers.forecast import backtest, forecast_fill
from stadslab.demo.container_sim import DAYS_NL, SensorSimulator, fixed_schedule, load_containers
from stadslab.ingest import stream as st
from stadslab.warehouse.store import Warehouse
from stadslab.workspace import Workspace

START = datetime(2026, 1, 5, tzinfo=timezone.utc)   # a Monday


def test_simulator_is_the_same_in_small_live_steps_and_one_offline_step():
    c = load_containers().head(40)
    events = fixed_schedule(c, START, START + timedelta(days=3))
    one = SensorSimulator(c, seed=7, start=START).step(START + timedelta(days=3), events)
    live = SensorSimulator(c, seed=7, start=START)
    parts, t = [live.step(START, events)], START
    while t < START + timedelta(days=3):
        t += timedelta(minutes=23)
        parts.append(live.step(min(t, START + timedelta(days=3))))
    pd.testing.assert_frame_equal(one, pd.concat(parts, ignore_index=True))
    assert one["tijd"].max() <= pd.Timestamp(START + timedelta(days=3))
    assert one["vulgraad"].between(0, 100).all()


def test_emptying_resets_the_level_and_is_recorded():
    c = load_containers().head(5)
    sim = SensorSimulator(c, seed=1, start=START, initial_level=np.full(5, 70.0))
    sim.step(START + timedelta(hours=10))
    before = sim.level[2]
    sim.step(START + timedelta(hours=20), [(c["container_id"][2], START + timedelta(hours=15))])
    e = sim.emptyings
    assert list(e["container_id"]) == [c["container_id"][2]] and e["vulgraad_voor"][0] >= before - 0.1
    assert e["kg"][0] > 0
    assert sim.level[2] < sim.level[[0, 1, 3, 4]].min()       # reset, the others kept filling


def test_fixed_schedule_uses_the_collection_days():
    c = load_containers().head(30)
    days = dict(zip(c["container_id"], c["inzameldagen"]))
    for cid, t in fixed_schedule(c, START, START + timedelta(days=7)):
        assert DAYS_NL[t.weekday()] in days[cid].split(",")


def test_forecast_recovers_a_known_constant_fill_rate(stream_ws):
    """Ten containers filling exactly 1,2 %/h (flat pattern): time to 80 % = (80 − level) / 1,2 h."""
    ws = Workspace(stream_ws)
    ds = ws.catalog().get("denhaag_containervulling")
    now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    ids = [f"DH-{i:05d}" for i in range(1, 11)]
    rows = []
    for k, cid in enumerate(ids):
        for h in range(96, 0, -1):
            rows.append({"sensor_id": cid, "tijd": (now - timedelta(hours=h)).isoformat(),
                         "vulgraad": round((5 * k + 1.2 * (96 - h)) % 90, 3)})
    with _open(ws) as wh:
        st.ingest_batch(wh, ds, rows, source="test", transport="test", now=now)
        fc = forecast_fill(wh, ds.id, now + timedelta(hours=10), now=now).set_index("container_id").loc[ids]
        level = fc["level_now"].to_numpy()
        expected = np.ceil((80 - level) / 1.2)
        ok = level < 80
        np.testing.assert_allclose(fc["rate"].to_numpy(), 1.2, rtol=0.02)
        np.testing.assert_allclose(fc["hours_to_threshold"].to_numpy()[ok], expected[ok], atol=1)
        np.testing.assert_allclose(fc["level_at"].to_numpy(), np.minimum(level + 12, 100), atol=0.5)
        assert (fc["hours_lo"] <= fc["hours_to_threshold"]).all() and (fc["hours_to_threshold"] <= fc["hours_hi"]).all()
        assert fc["vulsnelheid"].round(1).eq(28.8).all()                          # 1,2 %/h × 24


def _open(ws):
    from contextlib import contextmanager

    @contextmanager
    def cm():
        wh = Warehouse.open(ws.warehouse_path)
        try:
            yield wh
        finally:
            wh.close()
    return cm()


def test_backtest_scores_model_and_naive_on_simulated_data(stream_ws):
    ws = Workspace(stream_ws)
    ds = ws.catalog().get("denhaag_containervulling")
    c = load_containers().head(50)
    now = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)
    sim = SensorSimulator(c, seed=3, start=now - timedelta(days=9))
    r = sim.step(now, fixed_schedule(c, now - timedelta(days=9), now))
    from stadslab.demo.container_sim import to_json_readings

    with _open(ws) as wh:
        st.ingest_batch(wh, ds, to_json_readings(r), source="simulator", transport="test", now=now)
        res = backtest(wh, ds.id, now=now, origins=2)
    assert res["n"] > 10
    assert res["mae_model_uur"] > 0 and res["mae_naief_uur"] > 0
    assert 0 <= res["dekking_interval"] <= 1 and res["oordeel"]
