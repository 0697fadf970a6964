"""Incidentenkaart: points, heat layer, choropleth per buurt (absolute and per 1,000), hotspots per buurt and
per 125 m cell, change against the previous period — filtered by type, period, wijk, time of day and day."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from stadslab.web.api.incidents import filters_dep
from stadslab.web.data import areas as area_data
from stadslab.web.data.catalog_view import data_municipality
from stadslab.web.data.incident_layers import default_view
from stadslab.web.data.incidents import DAYPARTS, PERIODS, WEEKDAYS, Filters, get_source, options, visible_sources
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/incidenten", response_class=HTMLResponse)
def incident_page(request: Request, dataset: str | None = None, f: Filters = Depends(filters_dep)):
    sources = visible_sources(request)
    if not sources and dataset is None:
        return render(request, "incidenten.html", {"leeg": True, "bronnen": []})
    src = get_source(request, dataset)
    opts = options(request, src)
    state = request.app.state.stadslab
    default = default_view(request, src)
    if "periode" not in request.query_params:  # a view the page itself calls reliable (issue 10, item 5)
        f = replace(f, periode=default["periode"])
    wijken = area_data.level_areas(state, src.year, "wijk", opts["gemeente"]) if opts["gemeente"] else []
    view = f.wijk or opts["gemeente"]
    bbox = area_data.bbox(state, src.year, view) if view else None
    return render(request, "incidenten.html", {
        "leeg": False, "bronnen": sources, "bron_id": src.id, "opties": opts, "f": f, "wijken": wijken,
        "perioden": PERIODS, "dagdelen": DAYPARTS, "dagen": WEEKDAYS, "ds": src.dataset, "bbox": bbox,
        "standaard": default, "gemeente": data_municipality(state, opts["gemeente"], src.year)})
