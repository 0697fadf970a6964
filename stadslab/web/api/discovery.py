"""API of Ontdekken: the leads of a discovery run (JSON) and one pair's values per area (GeoJSON) for the
scatter plot and the two maps."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request

from stadslab.analyses.discovery import CAVEAT, METHOD
from stadslab.errors import AnalysisError
from stadslab.web.api.render import bytes_response, dumps
from stadslab.web.data import areas as area_data
from stadslab.web.pages.ontdekken import _leads, discovery, lead_sources, years

router = APIRouter(tags=["ontdekken"])

NiveauQ = Query("buurt", description="Gebiedsniveau: buurt of wijk")
JaarQ = Query(None, ge=1900, le=2100, description="Jaar; standaard het jaar met de meeste gebiedsdatasets",
              examples=[2023])


def _year(request: Request, jaar: int | None) -> int:
    ys = years(request.app.state.stadslab)
    if not ys:
        raise AnalysisError("er zijn geen gebiedsdatasets geladen")
    return jaar or ys[0]


@router.get("/ontdekken", summary="Aanwijzingen: paren die Benjamini-Hochberg overleven, met oordeel na correctie")
def leads_api(request: Request, niveau: str = NiveauQ, jaar: int | None = JaarQ,
              binnen: bool = Query(False, description="Ook paren binnen één dataset"),
              limiet: int = Query(100, ge=1, le=50_000)):
    run = discovery(request, niveau, _year(request, jaar))
    leads = _leads(run, binnen, None)
    body = {"niveau": niveau, "jaar": run.data.year, "indeling": run.data.division_year,
            "gebieden": len(run.data.codes), "getest": int(run.pairs["rho"].notna().sum()), "aantal": len(leads),
            "verdachten": run.suspects, "kanttekening": CAVEAT, "methode": METHOD, "overgeslagen": run.data.skipped,
            "opmerkingen": run.data.notes, "paren": leads[:limiet]}
    return bytes_response(dumps(body))


def outliers(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Areas far from the rest: robust z (median, MAD) beyond 3 on either variable, or a residual beyond 2.5
    standard deviations from the straight line through the points."""
    def robust_z(v: np.ndarray) -> np.ndarray:
        med = np.nanmedian(v)
        mad = np.nanmedian(np.abs(v - med)) * 1.4826
        return np.abs(v - med) / mad if mad > 0 else np.zeros_like(v)
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(x.size, dtype=bool)
    if ok.sum() < 4:
        return out
    out[ok] = (robust_z(x[ok]) > 3) | (robust_z(y[ok]) > 3)
    slope, icept = np.polyfit(x[ok], y[ok], 1)
    res = y[ok] - (slope * x[ok] + icept)
    sd = res.std(ddof=2)
    if sd > 0:
        out[np.flatnonzero(ok)] |= np.abs(res) > 2.5 * sd
    return out


@router.get("/ontdekken/paar.geojson", summary="Eén paar: waarde van beide variabelen per gebied, met uitschieters")
def pair_api(request: Request, x: str = Query(..., description="Variabele DATASET.VELD"),
             y: str = Query(..., description="Variabele DATASET.VELD"), niveau: str = NiveauQ,
             jaar: int | None = JaarQ):
    state = request.app.state.stadslab
    run = discovery(request, niveau, _year(request, jaar))
    names = [v.name for v in run.data.variables]
    for n in (x, y):
        if n not in names:
            raise AnalysisError(f"variabele '{n}' bestaat niet op niveau {niveau} in {run.data.year}")
    X = run.data.X
    vx, vy = X[:, names.index(x)], X[:, names.index(y)]
    flag = outliers(vx, vy)
    items: list[tuple[Any, dict[str, Any]]] = []
    for k, code in enumerate(run.data.codes):
        a = area_data.area(state, run.data.division_year, code)
        items.append((a, {"x": _num(vx[k]), "y": _num(vy[k]), "uitschieter": bool(flag[k]),
                          "inwoners": _num(run.data.population[k])}))
    block = lead_sources(state, run, x, y)
    body = area_data.feature_collection(state, run.data.division_year, items, {
        "x": run.variable(x).__dict__, "y": run.variable(y).__dict__, "bron": block,
        "bbox": _bbox(state, run)})
    return bytes_response(dumps(body), "application/geo+json")


def _bbox(state, run) -> list[float] | None:
    boxes = [b for b in (area_data.bbox(state, run.data.division_year, c) for c in run.data.codes) if b]
    if not boxes:
        return None
    arr = np.array(boxes)
    return [float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max())]


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)
