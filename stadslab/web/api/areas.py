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
