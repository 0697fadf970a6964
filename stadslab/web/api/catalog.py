"""API of the catalog: datasets the caller may see, one dataset's description and provenance, and
counts per area or category through the publication gate."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from stadslab.errors import AnalysisError
from stadslab.web.api.render import csv_response, json_response
from stadslab.web.data.catalog_view import municipality, visible_datasets
from stadslab.web.data.datasets import aggregate, describe
from stadslab.web.data.provenance import bron
from stadslab.web.security import current_user, permission, require_read

router = APIRouter(tags=["catalogus"])
MAX_PER, MAX_FILTERS = 4, 10


@router.get("/datasets", summary="Datasets die u mag zien, met eigenaar, doel, classificatie en versheid")
def list_datasets(request: Request):
    state = request.app.state.stadslab
    shown, hidden = visible_datasets(state, current_user(request))
    return json_response({"gemeente": municipality(state), "datasets": shown, "niet_getoond": hidden})


@router.get("/datasets/{dataset_id}", summary="Beschrijving, velden en versies van één dataset")
def get_dataset(request: Request, dataset_id: str):
    ds = request.app.state.stadslab.catalog.get(dataset_id)
    return json_response(describe(request, ds))


@router.get("/datasets/{dataset_id}/bron", summary="Herkomst van een versie: bestanden, sha256, rijen, laadtijd")
def dataset_provenance(request: Request, dataset_id: str, versie: int | None = Query(None, description="standaard de huidige")):
    state = request.app.state.stadslab
    ds = state.catalog.get(dataset_id)
    require_read(request, ds)
    return json_response(bron(state, [(ds.id, versie)], method="herkomst van de geladen versie"))


@router.get("/datasets/{dataset_id}/aggregaat",
            summary="Aantallen per gebied of categorie, via de publicatiepoort (persoonsgegevens: minimaal 15)")
def dataset_aggregate(request: Request, dataset_id: str,
                      per: list[str] = Query(..., description="kolom(men) om per te tellen, bv. wijk_code"),
                      filter: list[str] = Query([], description="veld:waarde, bv. regeling:IOAW (hele categorie)"),
                      format: Literal["json", "csv"] = "json"):
    ds = request.app.state.stadslab.catalog.get(dataset_id)
    filters = _parsed(request, ds, per, filter)
    rel, block = aggregate(request, ds, per, filters, route=f"api:/api/datasets/{ds.id}/aggregaat")
    rows = rel.records()
    if format == "csv":
        return csv_response(rows, block, filename=f"{ds.id}_per_{'_'.join(per)}.csv")
    return json_response({"dataset": ds.id, "versie": rel.version, "poort": rel.gated, "rijen": rows, "bron": block})


def _parsed(request: Request, ds, per: list[str], filter: list[str]) -> dict[str, list[str]]:
    """Bounded, well-formed ``per`` and ``filter`` — checked after access (a refused caller learns nothing
    from the validation), and within the read's audit context, so a bad request for personal data is
    audited as a failed read."""
    if not permission(request, ds)[0].allowed:
        return {}        # aggregate() refuses and audits the refusal
    if len(per) > MAX_PER or len(filter) > MAX_FILTERS:
        raise AnalysisError(f"hoogstens {MAX_PER} keer 'per' en {MAX_FILTERS} filters")
    if len(set(per)) < len(per):
        raise AnalysisError("elke kolom mag maar één keer in 'per' staan")
    filters: dict[str, list[str]] = {}
    for f in filter:
        key, sep, value = f.partition(":")
        if not sep or not key:
            raise AnalysisError(f"filter '{f[:80]}' heeft niet de vorm veld:waarde")
        if len(value) > 200:
            raise AnalysisError(f"filterwaarde voor '{key[:80]}' is te lang")
        filters.setdefault(key, []).append(value)
    return filters
