"""Container plan pages: the day plan and its evaluation (/containers/plan), the driver's phone page per
truck (/containers/route/<n>) with "geleegd" / "niet bereikbaar" per stop, and a printable route sheet
(/containers/route/<n>/blad).

A driver's mark is a POST (CSRF-checked, logged-in, role ``chauffeur``, ``professional`` or ``analist``)
that the server — the warehouse's one writer — appends to ``route.stop_events``; the next plan's
forecast starts that container from empty. The sensor feed in the demo is gesimuleerd; every page says so.
"""

from __future__ import annotations

import re

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from stadslab.analyses.containers import plan_store
from stadslab.analyses.routing import events as route_events
from stadslab.errors import AccessDenied, AnalysisError
from stadslab.web import security
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)
MARK_ROLES = ("chauffeur", "professional", "analist")
STATUS_NL = {"geleegd": "geleegd", "niet_bereikbaar": "niet bereikbaar"}
POLICY_NL = {"vast": "Vast weekschema", "sensor": "Sensorgestuurd", "sensor_zuinig": "Sensorgestuurd, zuinig"}


def _hm(s) -> str:
    if s is None or pd.isna(s):
        return "–"
    s = int(s)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def _truck_key(name: str) -> tuple[int, str]:
    m = re.search(r"(\d+)$", name)
    return (int(m.group(1)) if m else 0, name)


def _plan(request: Request) -> tuple[dict | None, pd.DataFrame, list[str]]:
    wh = request.app.state.stadslab.warehouse()
    meta, df = plan_store.latest_plan(wh)
    trucks = sorted(df["truck"].unique().tolist(), key=_truck_key) if len(df) else []
    return meta, df, trucks


def _statuses(request: Request, meta: dict) -> dict[str, dict]:
    ev = route_events.events(request.app.state.stadslab.warehouse(), plan_store.PLAN_RESULT, int(meta["version"]))
    out: dict[str, dict] = {}
    for r in ev.itertuples():
        out[str(r.stop_id)] = {"status": r.status, "tijd": pd.Timestamp(r.tijd).tz_convert("Europe/Amsterdam").strftime("%H:%M"),
                               "door": r.gebruiker}
    return out


def _truck(request: Request, n: int) -> tuple[dict, pd.DataFrame, str]:
    meta, df, trucks = _plan(request)
    if meta is None:
        raise AnalysisError("er is nog geen dagplan", hint="maak er een met: stadslab route plan denhaag_containervulling")
    if not 1 <= n <= len(trucks):
        raise AnalysisError(f"wagen {n} rijdt niet in het plan van {meta['params'].get('datum')}",
                            hint=f"kies 1 t/m {len(trucks)}")
    name = trucks[n - 1]
    return meta, df[df["truck"] == name].sort_values("volgorde"), name


def _stops(df: pd.DataFrame, statuses: dict[str, dict]) -> list[dict]:
    rows = []
    k = 0
    for r in df.itertuples():
        is_stop = r.soort == "stop"
        k += is_stop
        rows.append({"soort": r.soort, "nr": k if is_stop else None, "ref": r.ref, "naam": r.naam or r.ref,
                     "via": r.via, "aankomst": _hm(r.aankomst_s), "vertrek": _hm(r.vertrek_s),
                     "lading": int(r.lading_kg), "buurt": r.buurt, "lon": r.lon, "lat": r.lat,
                     "vulgraad": None if pd.isna(r.vulgraad) else round(float(r.vulgraad)),
                     "verplicht": bool(r.verplicht) if is_stop and not pd.isna(r.verplicht) else None,
                     "status": statuses.get(r.ref) if is_stop else None})
    return rows


@router.get("/containers/plan", response_class=HTMLResponse)
def plan_page(request: Request):
    meta, df, trucks = _plan(request)
    wh = request.app.state.stadslab.warehouse()
    emeta, summary, daily = plan_store.latest_evaluation(wh)
    per_truck = []
    if meta is not None:
        for i, t in enumerate(trucks, start=1):
            d = df[df["truck"] == t]
            per_truck.append({"nr": i, "naam": t, "stops": int((d["soort"] == "stop").sum()),
                              "stortritten": int((d["soort"] == "reload").sum()) + 1,
                              "km": d["rit_m"].sum() / 1000, "start": _hm(d["vertrek_s"].min()),
                              "einde": _hm(d["aankomst_s"].max())})
    evaluation = []
    for r in summary.itertuples() if len(summary) else []:
        evaluation.append({"naam": POLICY_NL.get(r.policy, r.policy), "km": r.km, "uren": r.truck_hours,
                           "ledigingen": r.emptyings, "overloop": r.overflow_days,
                           "vulgraad": r.mean_fill_at_emptying})
    return render(request, "containers_plan.html", {
        "meta": meta, "params": (meta or {}).get("params", {}), "trucks": per_truck,
        "evaluatie": evaluation, "emeta": emeta, "eparams": (emeta or {}).get("params", {})})


@router.get("/containers/route/{n}.json")
def driver_json(request: Request, n: int):
    if security.current_user(request).id == "anoniem":
        raise AccessDenied("alleen voor ingelogde gebruikers", hint="log in")
    meta, df, name = _truck(request, n)
    return JSONResponse({"wagen": name, "datum": meta["params"].get("datum"), "plan_versie": int(meta["version"]),
                         "gesimuleerd": True, "stops": _stops(df, _statuses(request, meta))})


@router.get("/containers/route/{n}", response_class=HTMLResponse)
def driver_page(request: Request, n: int):
    redirect = security.login_redirect(request)
    if redirect:
        return redirect
    meta, df, name = _truck(request, n)
    stops = _stops(df, _statuses(request, meta))
    user = security.current_user(request)
    return render(request, "containers_route.html", {
        "meta": meta, "params": meta.get("params", {}), "wagen": name, "n": n, "stops": stops,
        "mag_melden": any(r in MARK_ROLES for r in user.roles),
        "gedaan": sum(1 for s in stops if s["status"]), "aantal": sum(1 for s in stops if s["soort"] == "stop")})


@router.get("/containers/route/{n}/blad", response_class=HTMLResponse)
def route_sheet(request: Request, n: int):
    redirect = security.login_redirect(request)
    if redirect:
        return redirect
    meta, df, name = _truck(request, n)
    return render(request, "containers_blad.html", {"meta": meta, "params": meta.get("params", {}), "wagen": name,
                                                    "n": n, "stops": _stops(df, {})})


@router.post("/containers/route/{n}/stop", dependencies=[Depends(security.verify_csrf)])
def mark_stop(request: Request, n: int, stop: str = Form(...), status: str = Form(...), versie: int = Form(...)):
    user = security.require_role(request, MARK_ROLES, action="stops afmelden", role_name="chauffeur")
    if status not in STATUS_NL:
        raise AnalysisError(f"onbekende status '{status}'", hint="geleegd of niet_bereikbaar")
    meta, df, name = _truck(request, n)
    if int(meta["version"]) != versie:
        raise AnalysisError("er is intussen een nieuwer plan", hint="laad de pagina opnieuw")
    if stop not in set(df.loc[df["soort"] == "stop", "ref"]):
        raise AnalysisError(f"container {stop} staat niet op de route van {name}", hint="laad de pagina opnieuw")
    with request.app.state.stadslab.writer() as wh:
        rec = route_events.record(wh, plan=plan_store.PLAN_RESULT, plan_version=versie, vehicle=name, stop_id=stop,
                                  status=status, user=user.id,
                                  simulated=bool(meta["params"].get("gesimuleerd", True)))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **rec})
    return RedirectResponse(f"/containers/route/{n}#stop-{stop}", 303)
