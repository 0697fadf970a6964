"""API of the Overleg: the briefing pack as JSON, and the actions log (read; add with a CSRF token)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stadslab.web import security
from stadslab.web.api.incidents import filters_dep
from stadslab.web.api.render import csv_response, json_response
from stadslab.web.data import actions as action_log
from stadslab.web.data import areas as area_data
from stadslab.web.data import briefing
from stadslab.web.data.incident_layers import buurt_rows
from stadslab.web.data.incidents import Filters, get_source
from stadslab.web.pages.overleg import require_login

router = APIRouter(tags=["overleg"])


class NewAction(BaseModel):
    gebied: str = Field(..., description="buurt-, wijk- of gemeentecode", examples=["BU00140000"])
    actie: str = Field(..., max_length=500, examples=["Extra surveillance bij de fietsenstalling"])
    team: str = Field(..., max_length=80, examples=["flexteam"])
    datum: date = Field(..., description="datum waarop de actie is besloten of ingaat")


@router.get("/overleg/{dataset}/briefing", summary="De briefing: top-buurten, hotspots, acties en hun effect")
def briefing_json(request: Request, dataset: str, f: Filters = Depends(filters_dep)):
    require_login(request)
    src = get_source(request, dataset)
    result = briefing.analyse(request, src, f)
    rows = buurt_rows(result)
    return json_response({"periode": result["periode"], "totaal": result["totaal"],
                          "top": [r for r in rows if r["aantal"] > 0][:briefing.TOP_N],
                          "hotspots": [r for r in rows if r["hotspot"] == "hotspot"],
                          "acties": briefing.action_effects(request, src, f), "bron": result["bron"]})


@router.get("/overleg/{dataset}/acties", summary="Het actielog met de verandering sinds elke actie")
def list_actions(request: Request, dataset: str, f: Filters = Depends(filters_dep),
                 format: Literal["json", "csv"] = "json"):
    require_login(request)
    src = get_source(request, dataset)
    items = briefing.action_effects(request, src, f)
    if format == "csv":
        return csv_response(items, None, filename=f"acties_{src.id}.csv")
    return json_response({"dataset": src.id, "acties": items})


@router.post("/overleg/{dataset}/acties", status_code=201, dependencies=[Depends(security.verify_csrf)],
             summary="Een actie vastleggen (header X-CSRF-Token van de sessie is verplicht)")
def create_action(request: Request, dataset: str, body: NewAction):
    require_login(request)
    src = get_source(request, dataset)
    state = request.app.state.stadslab
    area = area_data.area(state, src.year, body.gebied)
    entry = action_log.add(state.workspace.root, dataset=src.id, area_code=area.code, area_name=area.name,
                           action=body.actie, team=body.team, on=body.datum, user=security.current_user(request).id)
    return json_response(entry, status_code=201)
