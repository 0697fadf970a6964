"""The GESIMULEERDE live feed inside the server (``stadslab serve --simulate-sensors``).

A daemon thread runs ``stadslab.demo.container_sim.SensorSimulator`` over the containers of the
stream's registry, with the registry's fixed collection days as emptyings, and appends its readings
through the same ``ingest_batch`` as the HTTP endpoint (source ``simulator``, transport ``simulator``).

Restart-safe: the simulation always starts at the first simulated reading already stored (or
``backfill_days`` ago the first time) with the same seed, so replaying it gives the same readings;
only those later than the newest stored one are sent. History first (day by day), then every
``every_seconds`` the readings that are due.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.ingest import stream as st
from stadslab.warehouse.store import Warehouse, qident

log = logging.getLogger("stadslab.stream")
SOURCE = "simulator"


def registry_frame(wh: Warehouse, ds: Dataset) -> pd.DataFrame:
    """The registry rows the simulator needs (id, fraction, buurt, volume, collection days)."""
    spec = ds.stream
    t = wh.table_name(spec.registry_dataset)
    cols = {c[0] for c in wh.con.execute(f"DESCRIBE SELECT * FROM {t}").fetchall()}
    want = [c for c in ("afvalfractie", "buurt", "volume_m3", "inzameldagen") if c in cols]
    df = wh.con.execute(f"SELECT CAST({qident(spec.registry_field)} AS VARCHAR) AS container_id"
                        f"{''.join(', ' + qident(c) for c in want)} FROM {t} ORDER BY 1").df()
    if "afvalfractie" not in df:
        df["afvalfractie"] = "Rest"
    if "inzameldagen" not in df:
        df["inzameldagen"] = "ma,do"
    if "buurt" not in df:
        df["buurt"] = ""
    return df


def _stored_range(wh: Warehouse, ds: Dataset) -> tuple[datetime | None, datetime | None]:
    if not st.has_readings_table(wh, ds.id):
        return None, None
    row = wh.con.execute("SELECT min(first_time), max(last_time) FROM stream.batches WHERE dataset = ? AND source = ?",
                         [ds.id, SOURCE]).fetchone()
    return row[0], row[1]


def run_feed(wh_for_thread: Callable[[], Warehouse], ds: Dataset, *, seed: int = 0, backfill_days: float = 10,
             every_seconds: float = 10, stop: threading.Event | None = None,
             say: Callable[[str], None] | None = None, once: bool = False) -> None:
    """Feed simulated readings until ``stop`` is set (or, with ``once``, until caught up with now)."""
    from stadslab.demo.container_sim import SensorSimulator, fixed_schedule

    wh = wh_for_thread()
    containers = registry_frame(wh, ds)
    first, last = _stored_range(wh, ds)
    now = datetime.now(timezone.utc)
    start = (first or now - timedelta(days=backfill_days)).astimezone(timezone.utc).replace(minute=0, second=0,
                                                                                          microsecond=0)
    sim = SensorSimulator(containers, seed=seed, start=start)
    planned_until = start
    stop = stop or threading.Event()
    while not stop.is_set():
        now = datetime.now(timezone.utc)
        until = min(now, sim.t + timedelta(days=1))     # history in daily chunks, then live
        events = []
        if planned_until < until + timedelta(days=1):
            events = fixed_schedule(containers, planned_until, until + timedelta(days=2))
            planned_until = until + timedelta(days=2)
        readings = sim.step(until, events)
        if last is not None:
            readings = readings[readings["tijd"] > pd.Timestamp(last)]
        if len(readings):
            from stadslab.demo.container_sim import to_json_readings

            for chunk in range(0, len(readings), 50_000):
                part = to_json_readings(readings.iloc[chunk:chunk + 50_000])
                res = st.ingest_batch(wh, ds, part, source=SOURCE, transport="simulator", now=datetime.now(timezone.utc))
                if say:
                    say(f"gesimuleerd t/m {until:%Y-%m-%d %H:%M}: {res.new} nieuw")
            last = readings["tijd"].max().to_pydatetime()
        if until >= now:
            if once:
                return
            stop.wait(every_seconds)


def start_in_server(state, dataset_id: str, *, seed: int = 0, backfill_days: float = 10,
                    every_seconds: float = 10) -> threading.Thread:
    """Run ``run_feed`` in a daemon thread of the server (its own cursor of the server's connection)."""
    ds = state.catalog.get(dataset_id)

    def target() -> None:
        while True:
            try:
                run_feed(state.warehouse, ds, seed=seed, backfill_days=backfill_days, every_seconds=every_seconds)
            except Exception as exc:  # keep the demo feed alive; the reason goes to the server log
                log.error("gesimuleerde sensorfeed gestopt: %s; opnieuw over 30 s", exc)
                time.sleep(30)

    thread = threading.Thread(target=target, name=f"stadslab-sim-{dataset_id}", daemon=True)
    thread.start()
    return thread
