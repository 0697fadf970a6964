"""The daily container plan against the warehouse: read the sensor stream and the field reports, plan,
store the plan as a result (``containerplan``), and read the newest plan back for the pages.

The container register comes from the warehouse table ``denhaag_containerregister`` when it is
loaded there, otherwise from the vendored register (stadslab.demo.container_sim.load_containers).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.routing import events as route_events
from stadslab.errors import AnalysisError

from .evaluate import estimate_state
from .plan import TZ, DayPlan, Fleet, PlanSettings, plan_day

PLAN_RESULT = "containerplan"
EVAL_RESULT = "containerplan_evaluatie"
EVAL_DAILY = "containerplan_evaluatie_dag"
REGISTER_DATASET = "denhaag_containerregister"
METHOD = ("Prijs-verzamelend VRP met stortritten (PyVRP), verplicht bij P(overloop vóór volgende ronde) ≥ 0,5, "
          "anders optioneel met prijs = overloopkosten × P (naar Wouda, Aerts-Veenstra & van Foreest 2024, "
          "arXiv:2409.13386)")
_REG_COLS = ["container_id", "afvalfractie", "buurt", "lon", "lat", "volume_m3"]


def register_frame(wh) -> pd.DataFrame:
    try:
        df = wh.table(REGISTER_DATASET).execute()
        if set(_REG_COLS) <= set(df.columns):
            return df[_REG_COLS + [c for c in ("inzameldagen",) if c in df.columns]].assign(
                container_id=lambda d: d["container_id"].astype(str))
    except Exception:  # not loaded in this workspace: use the vendored register
        pass
    from stadslab.demo.container_sim import load_containers

    return load_containers()


def readings_frame(wh, dataset: str, since: datetime) -> pd.DataFrame:
    """Sensor readings (sensor_id, tijd, vulgraad) since ``since`` from the stream table."""
    row = wh.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stream' "
                         "AND table_name = ?", [dataset]).fetchone()
    if not row or not row[0]:
        raise AnalysisError(f"geen metingen van '{dataset}' in het warenhuis",
                            hint="start de sensorstroom (stadslab stream …) of de demo-simulator")
    df = wh.con.execute(f'SELECT sensor_id, tijd, vulgraad FROM stream."{dataset}" WHERE tijd > ? ORDER BY tijd',
                        [since]).df()
    df["tijd"] = pd.to_datetime(df["tijd"], utc=True)
    return df


def current_state(wh, dataset: str, register: pd.DataFrame, day: date, fraction: str) -> pd.DataFrame:
    from stadslab.demo.container_sim import FRACTIONS

    now = datetime.combine(day, datetime.min.time(), tzinfo=TZ).replace(hour=6).astimezone(timezone.utc)
    latest = wh.con.execute(f'SELECT max(tijd) FROM stream."{dataset}"').fetchone()[0] \
        if _has_stream(wh, dataset) else None
    anchor = min(now, pd.Timestamp(latest).to_pydatetime()) if latest is not None else now
    readings = readings_frame(wh, dataset, anchor - timedelta(hours=72))
    reg = register[register["afvalfractie"] == fraction]
    prior = pd.Series(FRACTIONS.get(fraction, FRACTIONS["Rest"]).fill_per_day, index=reg["container_id"].to_numpy())
    done = route_events.last_done(wh, "geleegd")
    last = pd.Series(pd.NaT, index=prior.index, dtype="datetime64[ns, UTC]")
    common = prior.index.intersection(done.index)
    last.loc[common] = done.loc[common].to_numpy()
    state = None
    if _has_table(wh, REGISTER_DATASET):
        # The container monitor's forecast (forecast.py): fraction × weekday × hour pattern, robust rates.
        from .forecast import forecast_fill

        fc = forecast_fill(wh, dataset, anchor + timedelta(days=1), registry=REGISTER_DATASET, now=anchor)
        if len(fc):
            state = fc[["container_id", "vulgraad", "vulsnelheid", "sd_vulgraad", "sd_vulsnelheid", "tijd", "metingen"]]
            state = apply_field_reports(state.assign(container_id=state["container_id"].astype(str)), done, anchor)
            state.attrs["schatter"] = "vulgraadvoorspelling (analyses/containers/forecast.py)"
    if state is None:
        state = estimate_state(readings, anchor, last, prior)
        state.attrs["schatter"] = "eenvoudige schatter (helling sinds laatste lediging, evaluate.estimate_state)"
    return state


def apply_field_reports(state: pd.DataFrame, done: pd.Series, now: datetime) -> pd.DataFrame:
    """A container reported 'geleegd' after its last reading starts again from empty: level = rate ×
    time since the report."""
    t_state = pd.to_datetime(state["tijd"], utc=True)
    emptied = pd.to_datetime(state["container_id"].map(done), utc=True)
    newer = (emptied > t_state).fillna(False).to_numpy()
    if not newer.any():
        return state
    days = ((pd.Timestamp(now) - emptied).dt.total_seconds() / 86400).clip(lower=0).to_numpy()
    level = np.where(newer, np.clip(state["vulsnelheid"].to_numpy(float) * np.nan_to_num(days), 0, 100),
                     state["vulgraad"].to_numpy(float))
    return state.assign(vulgraad=level, tijd=np.where(newer, pd.Timestamp(now), t_state))


def _has_table(wh, name: str) -> bool:
    try:
        wh.table(name)
        return True
    except Exception:
        return False


def _has_stream(wh, dataset: str) -> bool:
    row = wh.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stream' "
                         "AND table_name = ?", [dataset]).fetchone()
    return bool(row and row[0])


def make_plan(wh, dataset: str, day: date, *, fleet: Fleet = Fleet(), settings: PlanSettings = PlanSettings(),
              seconds: float = 30.0, progress=None) -> DayPlan:
    register = register_frame(wh)
    state = current_state(wh, dataset, register, day, settings.fraction)
    dp = plan_day(register, state, day, fleet=fleet, settings=settings, seconds=seconds, progress=progress)
    dp.estimator = state.attrs.get("schatter", "")
    return dp


def save_plan(wh, dp: DayPlan, dataset: str) -> int:
    n = wh.con.execute("SELECT count(*) FROM stream.batches WHERE dataset = ?", [dataset]).fetchone()[0] \
        if _has_stream(wh, dataset) else 0
    table = dp.stops_table()
    summary = dp.summary()
    return wh.save_result(PLAN_RESULT, table, kind="routeplan", inputs=[(dataset, int(n))],
                          params={**summary, "fleet": dp.fleet.__dict__, "settings": dp.settings.__dict__,
                                  "niet_ingepland": [{"container": u.stop, "reden": u.reason, "verplicht": u.required}
                                                     for u in dp.plan.unserved if u.required]},
                          method=METHOD)


def latest_plan(wh) -> tuple[dict[str, Any] | None, pd.DataFrame]:
    """(metadata of the newest stored plan, its stops table), or (None, empty)."""
    try:
        metas = wh.results(PLAN_RESULT)
    except Exception:
        return None, pd.DataFrame()
    if not metas:
        return None, pd.DataFrame()
    meta = metas[-1]
    df = wh.con.execute(f'SELECT * FROM results."{meta["table_name"]}" ORDER BY truck, volgorde').df()
    return meta, df


def latest_evaluation(wh) -> tuple[dict[str, Any] | None, pd.DataFrame, pd.DataFrame]:
    try:
        metas = wh.results(EVAL_RESULT)
    except Exception:
        return None, pd.DataFrame(), pd.DataFrame()
    if not metas:
        return None, pd.DataFrame(), pd.DataFrame()
    summary = wh.con.execute(f'SELECT * FROM results."{EVAL_RESULT}"').df()
    try:
        daily = wh.con.execute(f'SELECT * FROM results."{EVAL_DAILY}" ORDER BY beleid, datum').df()
    except Exception:
        daily = pd.DataFrame()
    return metas[-1], summary, daily


def save_evaluation(wh, results, params: dict[str, Any]) -> int:
    from .evaluate import daily_table, results_table

    method = ("Simulatie (gesimuleerde sensoren, stadslab.demo.container_sim) van het sensorgestuurde dagplan "
              "tegen het vaste weekschema; beide met dezelfde routeplanner gemeten")
    wh.save_result(EVAL_DAILY, daily_table(results), kind="evaluatie", inputs=[], params=params, method=method)
    return wh.save_result(EVAL_RESULT, results_table(results), kind="evaluatie", inputs=[], params=params,
                          method=method)
