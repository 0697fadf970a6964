"""API of the Gebiedsmonitor: profile of an area (JSON), its sub-areas as GeoJSON and as a table (CSV)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from stadslab.web.api.render import bytes_response, cached_json, csv_response
from stadslab.web.data import areas as area_data
from stadslab.web.data import compare
from stadslab.web.data import monitor as mon
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.provenance import bron
from stadslab.web.pages.monitor import METHOD

router = APIRouter(tags=["monitor"])

GebiedQ = Query(None, description="Gebiedscode (GM…, WK…, BU…); standaard de gemeente", examples=["WK034406"])
JaarQ = Query(None, description="Jaar van de Kerncijfers; standaard het meest volledige jaar", examples=[2024])


def _resolve(request: Request, gebied: str | None, jaar: int | None):
    state = request.app.state.stadslab
    gm = municipality(state)
    code = gebied or gm["gemeente_code"]
    year = jaar or compare.default_year(state, gm["gemeente_code"]) or 0  # most complete year
    area_data.area(state, gm["indeling"], code)  # 400 for an unknown code
    data = mon.profile(state, gm["gemeente_code"], code, year)
    sources = [(data["dataset"], None)] + ([(data["vorige_dataset"], None)] if data["vorige_dataset"] else [])
    block = bron(state, sources + area_data.sources(state, gm["indeling"]), method=METHOD,
                 filters={"gebied": code, "jaar": year})
    return state, gm, code, year, data, block


def _key(request: Request, kind: str, gebied: str | None, jaar: int | None, *extra) -> tuple:
    # open data only (see data.monitor): the same answer for every user, cached until the next refresh
    return ("monitor", kind, request.app.state.stadslab.generation, gebied, jaar, *extra)


@router.get("/monitor", summary="Profiel van een gebied: alle indicatoren, score, stad, z-score, verschil")
def monitor_profile(request: Request, gebied: str | None = GebiedQ, jaar: int | None = JaarQ):
    def build():
        state, gm, code, year, data, block = _resolve(request, gebied, jaar)
        a = area_data.area(state, gm["indeling"], code)
        trail = [{"code": p.code, "naam": p.name, "niveau": p.level}
                 for p in area_data.trail(state, gm["indeling"], code)]
        return {"gebied": {"code": a.code, "naam": a.name, "niveau": a.level}, "pad": trail, **data, "bron": block}
    state = request.app.state.stadslab
    return bytes_response(cached_json(state, _key(request, "profiel", gebied, jaar), build))


@router.get("/monitor/kaart.geojson", summary="De deelgebieden (wijken of buurten) met score en z per indicator")
def monitor_map(request: Request, gebied: str | None = GebiedQ, jaar: int | None = JaarQ):
    body = cached_json(request.app.state.stadslab, _key(request, "kaart", gebied, jaar),
                       lambda: _map(request, gebied, jaar))
    return bytes_response(body, "application/geo+json")


def _map(request: Request, gebied: str | None, jaar: int | None) -> dict:
    state, gm, code, year, data, block = _resolve(request, gebied, jaar)
    year_div = gm["indeling"]
    a = area_data.area(state, year_div, code)
    view = code
    if a.level == "buurt":  # a buurt has no children: show it among the buurten of its wijk
        view = a.parent_code
        _, _, _, _, data, _ = _resolve(request, view, jaar)
    items = [(area_data.area(state, year_div, k["code"]),
              {"inwoners": k["inwoners"], **{f"s_{f}": v for f, v in k["score"].items()},
               **{f"z_{f}": v for f, v in k["z"].items()}, "gekozen": k["code"] == code})
             for k in data["kinderen"]]
    return area_data.feature_collection(
        state, year_div, items, {"gebied": code, "bbox": area_data.bbox(state, year_div, view),
                                 "omtrek": area_data.geometry(state, year_div, code), "bron": block})


@router.get("/monitor/tabel", summary="Tabel van de deelgebieden: score per indicator (JSON of CSV)")
def monitor_table(request: Request, gebied: str | None = GebiedQ, jaar: int | None = JaarQ,
                  format: Literal["json", "csv"] = Query("json", description="json of csv")):
    if format == "json":
        return bytes_response(cached_json(request.app.state.stadslab, _key(request, "tabel", gebied, jaar),
                                          lambda: _table(request, gebied, jaar)[0]))
    body, block, name = _table(request, gebied, jaar)
    return csv_response(body["rijen"], block, filename=name)


def _table(request: Request, gebied: str | None, jaar: int | None):
    state, gm, code, year, data, block = _resolve(request, gebied, jaar)
    rows = [{"code": k["code"], "naam": k["naam"], "inwoners": k["inwoners"],
             **{i["veld"]: k["score"][i["veld"]] for i in data["indicatoren"]},
             **{f"z_{i['veld']}": k["z"][i["veld"]] for i in data["indicatoren"]}} for k in data["kinderen"]]
    return ({"gebied": code, "jaar": year, "niveau": data["kind_niveau"], "rijen": rows,
             "indicatoren": data["indicatoren"], "bron": block}, block, f"monitor_{code}_{year}.csv")


@router.get("/monitor/reeks", summary="Elke indicator door alle jaren: het gebied, zijn deelgebieden (of broers) en de stad")
def monitor_series(request: Request, gebied: str | None = GebiedQ):
    def build():
        state = request.app.state.stadslab
        gm = municipality(state)
        code = gebied or gm["gemeente_code"]
        a = area_data.area(state, gm["indeling"], code)
        view = a.parent_code if a.level == "buurt" and a.parent_code else code
        kids = [k.code for k in area_data.children(state, gm["indeling"], view)]
        codes = list(dict.fromkeys([code, gm["gemeente_code"], *kids]))
        rows = compare.series(state, gm["gemeente_code"], codes, gm["indeling"])
        years = list(mon.kwb_datasets(state, gm["gemeente_code"]))
        block = bron(state, [(mon.kwb_datasets(state, gm["gemeente_code"])[y].id, None) for y in years],
                     method="Score per indicator in elk jaar van de CBS Kerncijfers in de werkruimte (zie de "
                            "Gebiedsmonitor); ontbrekende jaren zijn niet gepubliceerd, nooit nul.",
                     filters={"gebied": code})
        return {"gebied": code, "jaren": years, "rijen": rows, "bron": block}
    return bytes_response(cached_json(request.app.state.stadslab, _key(request, "reeks", gebied, None), build))


@router.get("/monitor/vergelijking",
            summary="Het gebied naast de stad, vergelijkbare gebieden en gekozen referentiegebieden, met rang en definitie")
def monitor_comparison(request: Request, gebied: str | None = GebiedQ, jaar: int | None = JaarQ,
                       ref: list[str] = Query([], description="referentiegebieden (codes van hetzelfde niveau, max. 5)")):
    def build():
        state, gm, code, year, data, block = _resolve(request, gebied, jaar)
        for r in ref:
            area_data.area(state, gm["indeling"], r)  # 400 for an unknown code
        out = compare.comparison(state, gm["gemeente_code"], code, year, list(ref))
        return {**out, "bron": block}
    key = _key(request, "vergelijking", gebied, jaar, tuple(ref))
    return bytes_response(cached_json(request.app.state.stadslab, key, build))
