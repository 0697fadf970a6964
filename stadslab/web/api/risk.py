"""API of the Risicokaart: backtest scores and verdict, the top cells of the model or a baseline (GeoJSON,
CSV) and the generated Algoritmeregister entry — all from the results stored in the warehouse."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from stadslab.analyses.risk.register import register_entry, to_json, to_markdown
from stadslab.web.api.render import bytes_response, cached_json, csv_response
from stadslab.web.data import risk
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.incidents import get_source, visible_sources

router = APIRouter(tags=["risico"])
Score = Literal["model", "last_period", "last_365d", "kde"]
SCORE_HELP = ("model = het voorspellende model; last_period = vorige periode; last_365d = afgelopen jaar; "
              "kde = kerndichtheid. Standaard: wat de toets kiest (het model alleen als het de beste "
              "eenvoudige kaart verslaat).")


def _key(state, dataset: str, *parts) -> tuple:
    bt, pred = risk.stored_backtest(state, dataset), risk.stored_prediction(state, dataset)
    return ("risico", state.generation, dataset, bt.version if bt else None, pred.version if pred else None, *parts)


@router.get("/risico", summary="Incidentendatasets met (of zonder) opgeslagen toets en risicokaart")
def risk_datasets(request: Request):
    state = request.app.state.stadslab
    out = []
    for s in visible_sources(request):
        bt, pred = risk.stored_backtest(state, s.id), risk.stored_prediction(state, s.id)
        out.append({"id": s.id, "titel": s.dataset.title, "classificatie": s.dataset.classification,
                    "toets": bt is not None, "risicokaart": pred is not None,
                    "model_wint": risk.verdict(bt.params)["model_wint"] if bt else None,
                    "oordeel": risk.verdict(bt.params if bt else None)["oordeel"]})
    return bytes_response(cached_json(state, ("risico_lijst", state.generation, tuple(o["id"] for o in out)),
                                      lambda: {"datasets": out}))


@router.get("/risico/{dataset}",
            summary="Toetsscores (trefkans, PAI) van model en eenvoudige kaarten, het oordeel, en de top-20 cellen")
def risk_summary(request: Request, dataset: str, score: Score | None = Query(None, description=SCORE_HELP)):
    src = get_source(request, dataset)
    state = request.app.state.stadslab

    def build():
        v = risk.overview(state, src.id, src.year, score)
        pred = v["voorspelling"]
        out = {k: v[k] for k in ("dataset", "backtest", "oordeel", "standaard", "score", "opdrachten", "scores")}
        out["titel"] = src.dataset.title
        if pred:
            out["voorspelling"] = {k: pred[k] for k in pred if k not in ("cellen", "polygons")}
            out["top_cellen"] = risk.rows(pred, risk.TOP_ROWS)
        else:
            out["voorspelling"], out["top_cellen"] = None, []
        return out
    return bytes_response(cached_json(state, _key(state, src.id, "samenvatting", score), build))


@router.get("/risico/{dataset}/cellen.geojson",
            summary="De aangewezen 125 m-cellen (top van het oppervlak) van de gekozen kaart, met toelichting")
def risk_cells_geojson(request: Request, dataset: str, score: Score | None = Query(None, description=SCORE_HELP)):
    src = get_source(request, dataset)
    state = request.app.state.stadslab

    def build():
        chosen = score or risk.overview(state, src.id, src.year)["standaard"]
        view = risk.require_prediction(risk.prediction_view(state, src.id, src.year, chosen), src.id)
        return risk.geojson(view)
    return bytes_response(cached_json(state, _key(state, src.id, "geojson", score), build), "application/geo+json")


@router.get("/risico/{dataset}/cellen.csv", summary="De cellen van de gekozen kaart als CSV (puntkomma, decimale komma)")
def risk_cells_csv(request: Request, dataset: str, score: Score | None = Query(None, description=SCORE_HELP),
                   alle: bool = Query(False, description="alle kandidaatcellen in plaats van alleen de aangewezen")):
    src = get_source(request, dataset)
    state = request.app.state.stadslab
    chosen = score or risk.overview(state, src.id, src.year)["standaard"]
    view = risk.require_prediction(risk.prediction_view(state, src.id, src.year, chosen), src.id)
    if alle:
        t = risk.all_cells(state, risk.stored_prediction(state, src.id))
        r = risk.ranked(t, chosen, len(t))
        frame = pd.DataFrame({"rang": r["rang"], "cel": r["cell_id"], "buurt_code": r["buurt_code"].astype(object),
                              "score": r["score"], "aangewezen": np.where(r["rang"] <= view["aangewezen"], "ja", "nee"),
                              "verwacht_model": r["expected"], "aangewezen_door_model": np.where(r["flagged"], "ja", "nee"),
                              "score_last_period": r["score_last_period"], "score_last_365d": r["score_last_365d"],
                              "score_kde": r["score_kde"], "x_rd": r["x_rd"], "y_rd": r["y_rd"]})
        rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    else:
        rows = [{k: r[k] for k in ("rang", "cel", "buurt_code", "buurt", "score", "verwacht", "toelichting",
                                   "x_rd", "y_rd", "lon", "lat")} for r in risk.rows(view)]
    return csv_response(rows, view["bron"], filename=f"risico_{src.id}_{chosen}_{view['van']}.csv")


def _entry(request: Request, dataset: str) -> dict:
    src = get_source(request, dataset)
    state = request.app.state.stadslab
    bt, pred = risk.stored_backtest(state, src.id), risk.stored_prediction(state, src.id)
    params = bt.params if bt else None
    version = (params or {}).get("version") or (bt.inputs[0][1] if bt and bt.inputs else None)
    label = src.dataset.keywords[0] if src.dataset.keywords else "incidenten"
    return register_entry(params, organisatie=f"Gemeente {municipality(state)['naam']}", dataset=src.id,
                          dataset_version=version, incident_label=label,
                          period_days=int((params or {}).get("period_days") or 14),
                          top=float(pred.params.get("top", 0.03)) if pred else 0.03)


@router.get("/risico/{dataset}/algoritmeregister.md", summary="Tekst voor het Algoritmeregister (Markdown)")
def register_markdown(request: Request, dataset: str):
    text = to_markdown(_entry(request, dataset))
    return Response(text.encode("utf-8"), media_type="text/markdown; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="algoritmeregister_{dataset}.md"'})


@router.get("/risico/{dataset}/algoritmeregister.json", summary="Tekst voor het Algoritmeregister (JSON)")
def register_json(request: Request, dataset: str):
    text = to_json(_entry(request, dataset))
    return Response(text.encode("utf-8"), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="algoritmeregister_{dataset}.json"'})
