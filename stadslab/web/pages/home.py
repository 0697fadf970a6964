"""Start page: the municipality, its datasets (owner, purpose, classification, freshness) and the pilots."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from stadslab.web.data import alerts
from stadslab.web.data.catalog_view import municipality, pilots, visible_datasets
from stadslab.web.data.compare import monitor_themes
from stadslab.web.security import current_user
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def start(request: Request):
    state = request.app.state.stadslab
    datasets, hidden = visible_datasets(state, current_user(request))
    routes = {getattr(r, "path", "") for r in request.app.routes}
    gm = municipality(state)
    user = current_user(request)
    return render(request, "home.html", {"datasets": datasets, "verborgen": hidden,
                                         "pilots": pilots(state, routes), "gemeente": gm,
                                         "monitor_themas": monitor_themes(state, gm["gemeente_code"]),
                                         "meldingen": alerts.check(request) if user.id != "anoniem" else []})


@router.get("/favicon.ico")
def favicon():
    return Response(status_code=204)
