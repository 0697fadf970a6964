"""API of the area registry: gemeenten, wijken and buurten of a division year as GeoJSON (WGS84)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from stadslab.web.api.render import json_response
from stadslab.web.data import areas as area_data
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.provenance import bron

router = APIRouter(tags=["gebieden"])


@router.get("/gebieden.geojson", summary="Gebieden van één indeling en niveau als GeoJSON (WGS84)")
def areas_geojson(request: Request, jaar: int | None = Query(None, description="indelingsjaar; standaard dat van de gemeente"),
                  niveau: Literal["gemeente", "wijk", "buurt"] = "wijk",
                  gemeente: str | None = Query(None, description="CBS-gemeentecode, bv. GM0344"),
                  wijk: str | None = Query(None, description="alleen de buurten van deze wijk")):
    state = request.app.state.stadslab
    gm = municipality(state)
    year = jaar or gm["indeling"]
    code = gemeente or gm["gemeente_code"]
    items = [(a, {"ouder": a.parent_code, "land_ha": a.land_area_ha})
             for a in area_data.level_areas(state, year, niveau, code, wijk)]
    block = bron(state, area_data.sources(state, year), method="gebiedsregister (stadslab.areas), RD → WGS84",
                 filters={"jaar": year, "niveau": niveau, "gemeente": code, "wijk": wijk})
    return json_response(area_data.feature_collection(state, year, items, {"bron": block}),
                         media_type="application/geo+json")


@router.get("/gebieden/jaren", summary="Indelingsjaren in het gebiedsregister")
def division_years(request: Request):
    return json_response({"jaren": area_data.division_years(request.app.state.stadslab)})


def _view(bbox: str | None) -> list[float] | None:
    if not bbox:
        return None
    try:
        v = [float(x) for x in bbox.split(",")]
    except ValueError:
        v = []
    if len(v) != 4 or not (-180 <= v[0] <= v[2] <= 180 and -90 <= v[1] <= v[3] <= 90):
        from stadslab.errors import GeographyError

        raise GeographyError(f"bbox '{bbox}' is ongeldig", hint="verwacht west,zuid,oost,noord in graden (WGS84)")
    return v


@router.get("/kaart/instellingen", summary="Achtergrondkaart van de kaarten (PDOK BRT of eigen tegels; null = uit)")
def map_settings(request: Request):
    from stadslab.web.data.mapsearch import basemap

    return json_response({"achtergrond": basemap(request.app.state.stadslab)})


@router.get("/kaart/omtrek.geojson", summary="Wijk- en buurtgrenzen met namen rond een kaartbeeld (offline achtergrond)")
def map_outlines(request: Request, bbox: str = Query(..., description="west,zuid,oost,noord (WGS84)",
                                                      examples=["6.5,53.18,6.62,53.25"])):
    from stadslab.web.api.render import bytes_response, cached_json
    from stadslab.web.data.mapsearch import outlines

    state = request.app.state.stadslab
    view = _view(bbox)
    if view is None:   # an empty bbox (issue 9: every parameter validated, a 4xx instead of a 500)
        from stadslab.errors import GeographyError

        raise GeographyError("bbox ontbreekt", hint="verwacht west,zuid,oost,noord in graden (WGS84)")
    body = cached_json(state, ("kaart_omtrek", state.generation, tuple(round(x, 3) for x in view)),
                       lambda: outlines(state, view))
    return bytes_response(body, "application/geo+json")


@router.get("/kaart/zoek", summary="Zoek een wijk, buurt of straat (straten uit open incidentdatasets)")
def map_search(request: Request, q: str = Query(..., min_length=2, max_length=80, description="(deel van) een naam"),
               bbox: str | None = Query(None, description="huidig kaartbeeld: treffers daarin eerst")):
    from stadslab.web.data.mapsearch import search
    from stadslab.web.security import current_user

    known = current_user(request).id != "anoniem"   # streets the catalog does not publish: staff only
    return json_response({"treffers": search(request.app.state.stadslab, q, _view(bbox), known_user=known)})
