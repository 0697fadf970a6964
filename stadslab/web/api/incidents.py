"""API of the Incidentenkaart: incident datasets, points, buurt choropleth, 125 m hotspot raster, the table
(JSON/CSV) and a summary — all with the same filters, all cached per dataset version and filter set."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from stadslab.web.api.render import bytes_response, csv_response, dumps, json_response
from stadslab.web.data import incident_layers as layers
from stadslab.web.data.incidents import Filters, get_source, options, parse_filters, visible_sources

router = APIRouter(tags=["incidenten"])


def filters_dep(soort: list[str] = Query([], description="soort incident (meerdere mogelijk)"),
                periode: str = Query("28d", description="14d, 28d, kwartaal, jaar, aangepast of alles"),
                van: str | None = Query(None, description="begin bij periode=aangepast (JJJJ-MM-DD)"),
                tot: str | None = Query(None, description="einde (t/m) bij periode=aangepast (JJJJ-MM-DD)"),
                wijk: str | None = Query(None, description="wijkcode, bv. WK001400"),
                dagdeel: list[str] = Query([], description="nacht (0-6), ochtend (6-12), middag (12-18), avond (18-24)"),
                dag: list[int] = Query([], description="dag van de week, 1 = maandag … 7 = zondag")) -> Filters:
    _bounded(soort=soort, dagdeel=dagdeel, dag=dag, van=van, tot=tot)
    return parse_filters(soort, periode, van, tot, wijk, dagdeel, dag)


def _bounded(*, soort: list[str], dagdeel: list[str], dag: list[int], van: str | None, tot: str | None) -> None:
    """Request bounds before any work: short lists, dates within the years data can have (a custom
    period from year 1 to 9999 once overflowed the date arithmetic)."""
    from stadslab.errors import AnalysisError

    if len(soort) > 50 or len(dagdeel) > 4 or len(dag) > 7:
        raise AnalysisError("te veel waarden voor soort, dagdeel of dag (hoogstens 50, 4 en 7)")
    for name, value in (("van", van), ("tot", tot)):
        if value and not (len(value) == 10 and value[:4].isdigit() and 1900 <= int(value[:4]) <= 2100):
            raise AnalysisError(f"{name} moet een datum JJJJ-MM-DD tussen 1900 en 2100 zijn")


def _cached(request: Request, kind: str, dataset: str, f: Filters, build) -> bytes:
    """Rendered layers are cached as bytes: 20 clients asking the same map cost one computation."""
    state = request.app.state.stadslab
    src = get_source(request, dataset)
    version = state.warehouse().current_version(src.id)
    if src.dataset.classification != "open":
        return dumps(build(src))  # non-open: computed per user (the analysis itself is cached per user)
    return state.cache.get_or_compute(("layer", kind, state.generation, src.id, version, f.key()),
                                      lambda: dumps(build(src)))


@router.get("/incidenten", summary="Incidentendatasets die u mag zien (puntgegevens met een tijdveld)")
def incident_datasets(request: Request):
    return json_response({"datasets": [{"id": s.id, "titel": s.dataset.title, "eigenaar": s.dataset.owner,
                                        "classificatie": s.dataset.classification, "tijdveld": s.time_field,
                                        "soortveld": s.type_field, "indeling": s.year}
                                       for s in visible_sources(request)]})


@router.get("/incidenten/{dataset}/opties", summary="Mogelijke filterwaarden: soorten, looptijd, wijken")
def incident_options(request: Request, dataset: str):
    from stadslab.web.data import areas as area_data

    src = get_source(request, dataset)
    opts = options(request, src)
    state = request.app.state.stadslab
    opts["wijken"] = [{"code": a.code, "naam": a.name} for a in
                      area_data.level_areas(state, src.year, "wijk", opts["gemeente"])] if opts["gemeente"] else []
    return json_response(opts)


@router.get("/incidenten/{dataset}/buurten.geojson",
            summary="Choropleet per buurt: aantal, per 1.000 inwoners, verandering + toets, Gi*-hotspot")
def incident_buurten(request: Request, dataset: str, f: Filters = Depends(filters_dep)):
    body = _cached(request, "buurten", dataset, f,
                   lambda src: layers.buurten_geojson(request, src, layers.analyse(request, src, f)))
    return bytes_response(body, "application/geo+json")


@router.get("/incidenten/{dataset}/raster.geojson",
            summary="125 m-vakken met incidenten of een significante Gi*-hot/coldspot (na FDR)")
def incident_raster(request: Request, dataset: str, f: Filters = Depends(filters_dep)):
    body = _cached(request, "raster", dataset, f, lambda src: layers.raster_geojson(layers.analyse(request, src, f)))
    return bytes_response(body, "application/geo+json")


@router.get("/incidenten/{dataset}/punten.geojson", summary="De incidenten als punten (alleen open data)")
def incident_points(request: Request, dataset: str, f: Filters = Depends(filters_dep)):
    body = _cached(request, "punten", dataset, f,
                   lambda src: layers.points_geojson(request, src, layers.analyse(request, src, f)))
    return bytes_response(body, "application/geo+json")


@router.get("/incidenten/{dataset}/tabel", summary="Tabel per buurt (JSON of CSV), meeste incidenten eerst")
def incident_table(request: Request, dataset: str, f: Filters = Depends(filters_dep),
                   format: Literal["json", "csv"] = "json"):
    if format == "json":
        def build(src):
            result = layers.analyse(request, src, f)
            return {"periode": result["periode"], "totaal": result["totaal"], "rijen": layers.buurt_rows(result),
                    "bron": result["bron"]}
        return bytes_response(_cached(request, "tabel", dataset, f, build))
    src = get_source(request, dataset)
    result = layers.analyse(request, src, f)
    return csv_response(layers.buurt_rows(result), result["bron"],
                        filename=f"{src.id}_{result['periode']['van']}_{result['periode']['tot_en_met']}.csv")


@router.get("/incidenten/{dataset}/samenvatting",
            summary="Totaal, verandering en toets, top-buurten, aantallen per soort, dagdeel en weekdag")
def incident_summary(request: Request, dataset: str, f: Filters = Depends(filters_dep)):
    body = _cached(request, "samenvatting", dataset, f, lambda src: layers.summary(layers.analyse(request, src, f)))
    return bytes_response(body)


@router.get("/incidenten/{dataset}/trend",
            summary="Incidenten per week of maand, elk jaar een eigen lijn (zelfde periode in eerdere jaren), en t.o.v. Nederland")
def incident_trend(request: Request, dataset: str, f: Filters = Depends(filters_dep),
                   korrel: Literal["week", "maand"] = Query("maand", description="week (ISO) of maand")):
    from stadslab.web.data import trends

    def build(src):
        result = trends.trend(request, src, f, korrel)
        return {**result, "nederland": trends.national(request, src, f) if korrel == "maand" else None,
                "filters": {**f.describe(), "periode": "hele looptijd"}}
    return bytes_response(_cached(request, f"trend-{korrel}", dataset, f, build))
