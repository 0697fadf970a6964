"""Weesfietsen: the pilot page (/weesfietsen) and the handhaver's phone page (/weesfietsen/veld).

The pilot page shows the map of expected yield and of past removals, the week plan per day and crew with the
reason for every stop, the re-check calendar, the backtest and the simulated evaluation against wijk rotation,
and the public-value figures (removals per crew-hour, bicycles returned to owners). Everything is GESIMULEERD in
the demo and says so.

The field page lists today's stops of one crew in order on a map; per stop the crew reports "gelabeld: n",
"verwijderd: n" or "niets aangetroffen" with a note. Reports are queued in the browser when the connection is
bad and sent when it is back (static/js/weesfietsen_veld.js); each is a POST (CSRF, logged in, role handhaver,
professional or analist) that the server — the warehouse's one writer — appends to ``route.stop_events``, where
next week's plan reads it. There are no personal data here: bicycles, not owners.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from stadslab.analyses.routing import events as route_events
from stadslab.analyses.weesfietsen.data import DATASETS, FIELD_PLAN, PLAN, YIELD
from stadslab.errors import AnalysisError
from stadslab.web import security
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)
FIELD_ROLES = ("handhaver", "professional", "analist")
REPORTS = {"gelabeld": "gelabeld", "verwijderd": "verwijderd", "niets": "niets aangetroffen"}


def _latest(wh, name: str) -> tuple[dict | None, pd.DataFrame]:
    rows = wh.results(name)
    if not rows:
        return None, pd.DataFrame()
    meta = rows[-1]
    return meta, wh.con.execute(f'SELECT * FROM results."{meta["table_name"]}"').df()


@router.get("/weesfietsen", response_class=HTMLResponse)
def pilot(request: Request):
    if (r := security.login_redirect(request)):
        return r
    wh = request.app.state.stadslab.warehouse()
    meta, plan = _latest(wh, PLAN)
    _, opbrengst = _latest(wh, YIELD)
    eval_meta, _ = _latest(wh, "evaluatie_weesfietsen")
    bt_meta, _ = _latest(wh, "backtest_weesfietsen")
    days = []
    if len(plan):
        plan["day"] = plan["day"].astype(str)
        for day, g in plan.groupby("day"):
            crews = [{"ploeg": c, "stops": gg.sort_values("order").to_dict(orient="records")}
                     for c, gg in g.groupby("crew")]
            days.append({"dag": day, "ploegen": crews, "hercontroles": int((g["kind"] == "hercontrole").sum()),
                         "labelen": int((g["kind"] == "labelen").sum())})
    removed = _removed_per_location(wh)
    return render(request, "weesfietsen.html", {
        "meta": meta, "params": (meta or {}).get("params", {}), "dagen": days,
        "opbrengst": opbrengst.sort_values("verwacht", ascending=False).head(15).to_dict(orient="records")
        if len(opbrengst) else [],
        "evaluatie": (eval_meta or {}).get("params"), "backtest": (bt_meta or {}).get("params"),
        "kaartdata": {"opbrengst": opbrengst[["lon", "lat", "verwacht", "locatie"]].to_dict(orient="records")
                      if len(opbrengst) else [], "verwijderd": removed},
        "bronnen": [wh.provenance(d) for d in DATASETS.values() if wh.current_version(d) is not None]})


def _removed_per_location(wh) -> list[dict]:
    if wh.current_version(DATASETS["acties"]) is None:
        return []
    t = wh.table(DATASETS["acties"])
    agg = t.filter(t.aantal_verwijderd > 0).group_by(t.locatie).aggregate(
        verwijderd=t.aantal_verwijderd.sum(), lon=t.lon.mean(), lat=t.lat.mean())
    return agg.to_pandas().to_dict(orient="records")


def _field_day(request: Request, ploeg: str | None, dag: str | None) -> dict:
    wh = request.app.state.stadslab.warehouse()
    meta, plan = _latest(wh, PLAN)
    if meta is None or plan.empty:
        return {"meta": meta, "dagen": [], "ploegen": [], "stops": [], "dag": None, "ploeg": None}
    plan["day"] = plan["day"].astype(str)
    days = sorted(plan["day"].unique())
    today = date.today().isoformat()
    dag = dag if dag in days else (today if today in days else days[0])
    crews = sorted(plan.loc[plan["day"] == dag, "crew"].unique())
    ploeg = ploeg if ploeg in crews else (crews[0] if crews else None)
    mine = plan[(plan["day"] == dag) & (plan["crew"] == ploeg)].sort_values("order")
    reported = route_events.events(wh, FIELD_PLAN, int(meta["version"]))
    last = reported.sort_values("received_at").groupby("stop_id").tail(1).set_index("stop_id") if len(reported) else None
    from stadslab.analyses.hotspots.lattice import rd_to_wgs84

    stops = []
    for r in mine.to_dict(orient="records"):
        ref = (f"check:{r['locatie']}:{pd.Timestamp(r['label_date']).date().isoformat()}" if r["kind"] == "hercontrole"
               else f"label:{r['locatie']}")
        lon, lat = rd_to_wgs84([r["x"]], [r["y"]])
        rep = last.loc[ref] if last is not None and ref in last.index else None
        stops.append({**r, "ref": ref, "lon": float(lon[0]), "lat": float(lat[0]),
                      "gemeld": None if rep is None else {"status": REPORTS.get(rep["status"], rep["status"]),
                                                          "aantal": None if pd.isna(rep["count"]) else int(rep["count"])}})
    return {"meta": meta, "dagen": days, "ploegen": crews, "stops": stops, "dag": dag, "ploeg": ploeg}


@router.get("/weesfietsen/veld", response_class=HTMLResponse)
def field_page(request: Request, ploeg: str | None = Query(None, max_length=40),
               dag: str | None = Query(None, max_length=10)):
    if (r := security.login_redirect(request)):
        return r
    ctx = _field_day(request, ploeg, dag)
    user = security.current_user(request)
    return render(request, "weesfietsen_veld.html", {**ctx, "mag_melden": any(r in FIELD_ROLES for r in user.roles)})


@router.post("/weesfietsen/veld/melding", dependencies=[Depends(security.verify_csrf)])
def report(request: Request, stop: str = Form(..., max_length=80), status: str = Form(..., max_length=20),
           versie: int = Form(...), ploeg: str = Form(..., max_length=40), aantal: int | None = Form(None, ge=0, le=500),
           notitie: str = Form("", max_length=500), gemeld_om: str | None = Form(None, max_length=40),
           dag: str = Form(..., max_length=10)):
    user = security.require_role(request, FIELD_ROLES, action="stops afmelden", role_name="handhaver")
    if status not in REPORTS:
        raise AnalysisError(f"onbekende melding '{status}'", hint="gelabeld, verwijderd of niets")
    kind = stop.split(":")[0]
    if (kind == "label" and status == "verwijderd") or (kind == "check" and status == "gelabeld"):
        raise AnalysisError("deze melding past niet bij deze stop", hint="labelen: gelabeld of niets; "
                                                                          "hercontrole: verwijderd of niets")
    if status != "niets" and aantal is None:
        raise AnalysisError("vul het aantal fietsen in")
    wh = request.app.state.stadslab.warehouse()
    meta, plan = _latest(wh, PLAN)
    if meta is None or int(meta["version"]) != versie:
        raise AnalysisError("er is intussen een nieuwer weekplan", hint="laad de pagina opnieuw; uw melding is niet verstuurd")
    try:
        plan_day = date.fromisoformat(dag)
        entered = pd.Timestamp(gemeld_om) if gemeld_om else pd.Timestamp.now(tz="Europe/Amsterdam")
    except ValueError:
        raise AnalysisError("ongeldige dag of tijdstip van de melding") from None
    if entered.tzinfo is None:
        entered = entered.tz_localize("Europe/Amsterdam")
    entered = entered.tz_convert("Europe/Amsterdam")
    # the report belongs to the plan's day (a queued report sent later, or the demo's past week)
    when = entered.replace(year=plan_day.year, month=plan_day.month, day=plan_day.day).to_pydatetime()
    planned = plan[plan["day"].astype(str) == dag]
    refs = {(f"check:{r['locatie']}:{pd.Timestamp(r['label_date']).date().isoformat()}" if r["kind"] == "hercontrole"
             else f"label:{r['locatie']}") for r in planned.to_dict(orient="records")}
    if stop not in refs:
        raise AnalysisError(f"stop {stop} staat niet in het plan van {dag}", hint="laad de pagina opnieuw")
    with request.app.state.stadslab.writer() as w:
        rec = route_events.record(w, plan=FIELD_PLAN, plan_version=versie, vehicle=ploeg, stop_id=stop, status=status,
                                  user=user.id, count=aantal, note=notitie, when=when, simulated=True)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **rec})
    return RedirectResponse("/weesfietsen/veld?" + urlencode({"ploeg": ploeg}), 303)
