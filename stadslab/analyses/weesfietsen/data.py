"""The pilot's inputs from the warehouse (Ibis), field reports folded in, and the stored weekly plan.

Datasets (catalog ids, overridable): ``weesfietsen_acties`` (labelling and removal records), ``weesfietsen_meldingen``
(MOR meldingen), ``weesfietsen_waarnemingen`` (inspectors' counts). Locations are 125 m RD cells: ``locatie`` in the
records, ``grid_125m`` assigned at ingest for meldingen and observations.

Field reports from the phone page live in ``route.stop_events`` (plan ``weesfietsen``): "gelabeld: n" at a
``label:<cell>`` stop is a new labelling record; "verwijderd: n" or "niets" at a ``check:<cell>:<date>`` stop
completes that labelling's re-check. Next week's plan reads records and reports together, so what the crew
enters on Tuesday changes the plan of the week after.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.routing import Site
from stadslab.analyses.routing import events as field_events
from stadslab.analyses.weesfietsen import yield_model as ym
from stadslab.analyses.weesfietsen.plan import TeamSettings, WeekPlan, plan_week
from stadslab.errors import AnalysisError

DATASETS = {"acties": "weesfietsen_acties", "meldingen": "weesfietsen_meldingen",
            "waarnemingen": "weesfietsen_waarnemingen"}
PLAN = "weesfietsen_plan"
YIELD = "weesfietsen_opbrengst"
FIELD_PLAN = "weesfietsen"


def _require(wh: Any, dataset: str) -> int:
    version = wh.current_version(dataset)
    if version is None:
        raise AnalysisError(f"dataset '{dataset}' is niet ingelezen",
                            hint="draai 'stadslab refresh'; in de demo maakt 'stadslab init --demo' de gesimuleerde bestanden")
    return int(version)


def load(wh: Any) -> dict[str, Any]:
    """Records as frames, field reports folded in, and the (dataset, version) inputs for provenance."""
    inputs = [(d, _require(wh, d)) for d in DATASETS.values()]
    t = wh.table(DATASETS["acties"])
    acties = t.select("locatie", "x", "y", "datum_gelabeld", "aantal_gelabeld", "datum_gecontroleerd",
                      "aantal_verwijderd").to_pandas()
    m = wh.table(DATASETS["meldingen"])
    meldingen = m.select(locatie=m.grid_125m, tijd=m.tijd).filter(m.grid_125m.notnull()).to_pandas()
    w = wh.table(DATASETS["waarnemingen"])
    waarnemingen = w.select(locatie=w.grid_125m, tijd=w.tijd, aantal_weesfietsen=w.aantal_weesfietsen) \
        .filter(w.grid_125m.notnull()).to_pandas()
    acties = fold_field_reports(acties, field_events.events(wh, FIELD_PLAN))
    return {"acties": acties, "meldingen": meldingen, "waarnemingen": waarnemingen, "inputs": inputs}


def fold_field_reports(acties: pd.DataFrame, ev: pd.DataFrame) -> pd.DataFrame:
    """Apply the crews' reports (latest report per stop wins) to the labelling records."""
    if ev.empty:
        return acties
    ev = ev.sort_values("received_at").groupby("stop_id").tail(1)
    day = pd.to_datetime(ev["tijd"], utc=True).dt.tz_convert("Europe/Amsterdam").dt.date
    out = acties.copy()
    out["datum_gelabeld"] = pd.to_datetime(out["datum_gelabeld"]).dt.date
    out["datum_gecontroleerd"] = pd.to_datetime(out["datum_gecontroleerd"]).dt.date
    xy = out.groupby("locatie")[["x", "y"]].first()
    new = []
    for (stop, status, count, d) in zip(ev["stop_id"], ev["status"], ev["count"], day):   # tens of reports a day
        parts = stop.split(":")
        if parts[0] == "label" and status == "gelabeld":
            loc = parts[1]
            x, y = (xy.loc[loc].tolist() if loc in xy.index else (_cell_centre(loc)))
            new.append({"locatie": loc, "x": x, "y": y, "datum_gelabeld": d, "aantal_gelabeld": int(count or 0),
                        "datum_gecontroleerd": None, "aantal_verwijderd": np.nan})
        elif parts[0] == "check" and status in ("verwijderd", "niets"):
            hit = (out["locatie"] == parts[1]) & (out["datum_gelabeld"] == date.fromisoformat(parts[2]))
            out.loc[hit, "datum_gecontroleerd"] = d
            out.loc[hit, "aantal_verwijderd"] = int(count or 0) if status == "verwijderd" else 0
    if new:
        out = pd.concat([out, pd.DataFrame(new)], ignore_index=True)
    return out


def _cell_centre(cell: str) -> tuple[float, float]:
    e, n = cell[1:].split("N")
    return (int(e) + 0.5) * 125.0, (int(n) + 0.5) * 125.0


def predictions(frames: dict[str, Any], when: pd.Timestamp) -> pd.DataFrame:
    a, m, w = frames["acties"], frames["meldingen"], frames["waarnemingen"]
    model = ym.fit(a, m, w, before=when)
    locs = a.groupby("locatie")[["x", "y"]].first().reset_index()
    feats = ym.predict_at(model, locs["locatie"], when, a, m, w).merge(locs, on="locatie")
    feats["reden"] = [ym.reason(r) for _, r in feats.iterrows()]   # text per candidate (a few thousand)
    return feats


def depot_site() -> Site:
    from stadslab.demo.weesfietsen_sim import DEPOT, _rd

    x, y = _rd(DEPOT[1:])
    return Site("fietsdepot", DEPOT[0], x, y)


def make_plan(wh: Any, monday: date, settings: TeamSettings = TeamSettings(), progress=None) -> tuple[WeekPlan, int]:
    """Plan the week from the warehouse and store it (``results.weesfietsen_plan``); returns (plan, version)."""
    if monday.weekday() != 0:
        raise AnalysisError(f"{monday} is geen maandag", hint="een weekplan begint op maandag")
    frames = load(wh)
    when = pd.Timestamp(monday)
    preds = predictions(frames, when)
    a = frames["acties"]
    pending = a[pd.isna(a["datum_gecontroleerd"]) & (pd.to_datetime(a["datum_gelabeld"]) < when)]
    done = a.dropna(subset=["aantal_verwijderd"])
    share = float(done["aantal_verwijderd"].sum() / max(done["aantal_gelabeld"].sum(), 1))
    settings = TeamSettings(**{**asdict(settings), "removed_share": share or settings.removed_share})
    plan = plan_week(monday, preds, pending, depot_site(), settings, progress=progress)
    frame = plan.frame()
    if frame.empty:
        frame = pd.DataFrame(columns=["day", "crew", "order", "kind", "locatie", "x", "y", "aankomst", "verwacht",
                                      "reden", "label_date", "trip"])
    from stadslab.analyses.hotspots.lattice import rd_to_wgs84

    lon, lat = rd_to_wgs84(preds["x"].to_numpy(), preds["y"].to_numpy())
    yield_table = preds[["locatie", "x", "y", "verwacht", "weken_sinds", "tempo", "n_meld_8w", "reden"]].assign(lon=lon, lat=lat)
    wh.save_result(YIELD, yield_table, kind="weesfietsen_opbrengst", inputs=frames["inputs"],
                   params={"week": monday.isoformat(), "gesimuleerd": True}, method=ym.METHOD)
    version = wh.save_result(PLAN, frame, kind="weesfietsen_plan", inputs=frames["inputs"],
                             params={"week": monday.isoformat(), "instellingen": asdict(settings),
                                     "routes": plan.routes, "niet_gepland": plan.not_scheduled,
                                     "kalender": plan.calendar, "runtime_s": round(plan.runtime_s, 1),
                                     "gesimuleerd": True},
                             method="prijsverzamelende routeplanning met hercontroles (PyVRP, herladen bij het "
                                    "fietsdepot); " + ym.METHOD)
    return plan, version
