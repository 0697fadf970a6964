"""API of the container monitor: live fill levels as GeoJSON, the overview (per fraction, overflow before the
next visit, stale or stuck sensors, dead letters), and the forecast backtest. Simulated streams say so."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request

from stadslab.web.api.render import json_response
from stadslab.web.data import containers as cd
from stadslab.web.data.provenance import bron
from stadslab.web.security import require_read

router = APIRouter(tags=["containers"])
METHOD = ("Laatste meting per sensor uit de realtime stream; voorspelling per container uit de eigen vulsnelheid "
          "(mediaan van de stappen, gecorrigeerd voor het weekdag- en uurpatroon van de fractie) — "
          "stadslab/analyses/containers/forecast.py. Overloop vóór het volgende bezoek: voorspelde tijd tot 100 % "
          "korter dan de tijd tot het volgende bezoek: in de nieuwste dagplanning (stadslab route plan) of anders "
          "op de volgende vaste inzameldag (07:00 UTC).")


def _ds(request: Request, dataset: str | None):
    state = request.app.state.stadslab
    streams = cd.stream_datasets(state)
    if not streams:
        raise HTTPException(404, "er is geen realtime stream in de catalogus")
    ds = next((d for d in streams if d.id == dataset), None) if dataset else streams[0]
    if ds is None:
        raise HTTPException(404, f"'{dataset}' is geen realtime stream")
    require_read(request, ds)
    return state, ds


def block(state, ds, status: dict) -> dict:
    notes = [f"Stream: {status['metingen']:,} metingen in {status['batches']:,} batches, laatste ontvangst "
             f"{status.get('laatste_ontvangst')}; afgekeurd (dead letters): {status['afgekeurd']:,}.".replace(",", ".")]
    if ds.simulated:
        notes.insert(0, "GESIMULEERD: deze metingen komen uit een simulator, niet uit echte sensoren.")
    return bron(state, [(ds.stream.registry_dataset, None)], method=METHOD, notes=notes,
                filters={"stream": ds.id})


def _num(v, d: int = 1):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), d)


@router.get("/containers/kaart.geojson", summary="Containers met laatste vulgraad en voorspelde dagen tot vol")
def containers_map(request: Request, dataset: str | None = None):
    state, ds = _ds(request, dataset)
    live = cd.live(state, ds)
    df = live["df"]
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
              "properties": {"id": r.container_id, "fractie": r.afvalfractie, "buurt": r.buurt,
                             "vulgraad": _num(r.vulgraad), "dagen_tot_vol": _num(r.dagen_tot_vol),
                             "overloop": bool(r.overloop_voor_bezoek), "verouderd": bool(r.verouderd), "vast": bool(r.vast)}}
             for r in df.itertuples()]
    return json_response({"type": "FeatureCollection", "features": feats, "gesimuleerd": ds.simulated,
                          "bron": block(state, ds, live["status"])}, media_type="application/geo+json")


@router.get("/containers", summary="Overzicht: per fractie, overloop vóór het volgende bezoek, storingen, dead letters")
def containers_overview(request: Request, dataset: str | None = None):
    state, ds = _ds(request, dataset)
    live = cd.live(state, ds)
    s = live["status"]

    def rows(df, cols):
        return [{c: (_num(v) if isinstance(v, float) else (v.isoformat() if hasattr(v, "isoformat") else v))
                 for c, v in zip(cols, r)} for r in df[cols].itertuples(index=False)]

    return json_response({
        "dataset": ds.id, "titel": ds.title, "gesimuleerd": ds.simulated, "nu": live["nu"].isoformat(),
        "metingen": s["metingen"], "sensoren": s["sensoren"], "laatste_ontvangst": s.get("laatste_ontvangst"),
        "afgekeurd": s["afgekeurd"], "redenen": s["redenen"], "verouderd": int(live["df"]["verouderd"].sum()),
        "vast": int(live["df"]["vast"].sum()), "voorspelling_klaar": live["voorspelling_klaar"],
        "n_overloop": int(live["df"]["overloop_voor_bezoek"].sum()),
        "per_fractie": rows(live["per_fractie"], ["afvalfractie", "containers", "gem_vulgraad", "boven_80", "overloop", "verouderd"]),
        "overloop": rows(live["overloop"], ["container_id", "afvalfractie", "buurt", "vulgraad", "dagen_tot_vol", "uren_tot_bezoek"]),
        "storingen": rows(live["storingen"], ["container_id", "afvalfractie", "buurt", "tijd", "verouderd", "vast"]),
        "toets": cd.backtest(state, ds), "bron": block(state, ds, s)})
