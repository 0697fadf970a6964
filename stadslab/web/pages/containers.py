"""Containermonitor: live fill levels of underground containers from a realtime sensor stream, forecasts of
when they are full, overflow before the next visit, faulty sensors and dead letters (updates by polling)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stadslab.web.data import containers as cd
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/containers", response_class=HTMLResponse)
def containers_page(request: Request):
    state = request.app.state.stadslab
    streams = cd.stream_datasets(state)
    ds = streams[0] if streams else None
    return render(request, "containers.html", {"leeg": ds is None, "ds": ds})
