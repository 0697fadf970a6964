"""Risicokaart: the stored risk map per 125 m cell next to its backtest against naive baselines.

The backtest scores come first; when the model does not beat the best baseline the page says so and shows
that baseline's map by default (issue 5, "Honesty in the product"). When nothing is stored yet, the page
names the commands; an analist may make the risk map from here (the backtest takes too long for a button).
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stadslab.errors import AccessDenied, AnalysisError, StadslabError
from stadslab.web import security
from stadslab.web.data import risk
from stadslab.web.data.incidents import IncidentSource, get_source, visible_sources
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)
ROLE = "analist"
_running = threading.Lock()   # one risk computation per server process at a time


def default_source(request: Request, dataset: str | None) -> IncidentSource:
    """The chosen dataset, else the first visible one with stored results, else the first visible one."""
    if dataset is None:
        state = request.app.state.stadslab
        with_results = [s for s in visible_sources(request) if risk.has_results(state, s.id)]
        if with_results:
            dataset = with_results[0].id
    return get_source(request, dataset)


def may_run(request: Request) -> bool:
    return ROLE in security.current_user(request).roles


@router.get("/risico", response_class=HTMLResponse)
def risk_page(request: Request, dataset: str | None = None, score: str | None = None, gemaakt: int | None = None):
    sources = visible_sources(request)
    if not sources and dataset is None:
        return render(request, "risico.html", {"leeg": True})
    src = default_source(request, dataset)
    state = request.app.state.stadslab
    view = risk.overview(state, src.id, src.year, score)
    pred = view["voorspelling"]
    return render(request, "risico.html", {
        "leeg": False, "bronnen": sources, "src": src, "ds": src.dataset, "v": view, "bt": view["backtest"],
        "pred": pred, "top": risk.rows(pred, risk.TOP_ROWS) if pred else [], "namen": risk.NAMES,
        "lange_namen": risk.LONG_NAMES, "uitleg": risk.EXPLAIN, "pct": risk.pct, "mag_maken": may_run(request),
        "bezig": _running.locked(), "gemaakt": gemaakt,
        "boot": {"dataset": src.id, "score": view["score"], "standaard": view["standaard"], "jaar": src.year,
                 "gemeente": pred["gemeente"] if pred else None, "bbox": pred["bbox"] if pred else None,
                 "heeft_kaart": pred is not None, "namen": risk.NAMES,
                 "beste": view["backtest"]["beste_baseline"] if view["backtest"] else None,
                 "per_periode": view["backtest"]["per_periode"] if view["backtest"] else []}})


@router.post("/risico/maken", dependencies=[Depends(security.verify_csrf)])
def make_risk_map(request: Request, dataset: str = Form(...)):
    """Make and store the risk map for the next period in this server process (analist only)."""
    user = security.current_user(request)
    if user.id == "anoniem":
        raise AccessDenied("een risicokaart maken kan alleen na inloggen", hint="log in als analist")
    if ROLE not in user.roles:
        raise AccessDenied("alleen een analist kan hier een risicokaart maken",
                           hint=f"vraag een analist, of draai: {risk.commands(dataset)['risk']}")
    src = get_source(request, dataset)
    if not _running.acquire(blocking=False):
        raise AnalysisError("er wordt al een risicokaart gemaakt; probeer het over een minuut opnieuw")
    try:
        n = run_prediction(request, src, user.id)
    finally:
        _running.release()
    return RedirectResponse("/risico?" + urlencode({"dataset": src.id, "gemaakt": n}), status_code=303)


def run_prediction(request: Request, src: IncidentSource, user_id: str, *, period_days: int = 14,
                   top: float = 0.03) -> int:
    """``predict_risk`` for the day after the last incident, stored as ``stadslab predict risk`` stores it.

    Computed on this thread's read cursor; only the save takes the process's writer (``state.writer()``),
    so the rest of the app keeps answering during the ~20 s of features and model fitting."""
    from stadslab.analyses.risk.models import predict_risk

    state = request.app.state.stadslab
    wh = state.warehouse()
    version = wh.current_version(src.id)
    t = wh.table(src.id, version)
    notes: list[str] = []
    study = _study_area(wh, t, src.year, notes)
    last = t.aggregate(m=t[src.time_field].max()).to_pandas().m.iloc[0]
    if pd.isna(last):
        raise AnalysisError(f"dataset '{src.id}' heeft geen incidenten met een tijdstip")
    at = pd.Timestamp(last).floor("D") + pd.Timedelta(days=1)
    pred = predict_risk(t, at, period_days=period_days, top=top, study=study, time_col=src.time_field)
    params = {**pred.params, "dataset": src.id, "version": version, "notes": notes,
              "gemaakt_via": "webapp /risico", "aangevraagd_door": user_id}
    with state.writer() as w:
        return w.save_result(f"risico_{src.id}", pred.table, kind="risk_prediction",
                             inputs=[(src.id, int(version))], params=params, method=risk.METHOD)


def _study_area(wh, t, year: int | None, notes: list[str]):
    """The municipality's cells from the area registry (as the CLI does); the documented fallback otherwise."""
    from stadslab.analyses.risk.features import StudyArea, study_area_from_registry

    gemeente = None
    if "gemeente_code" in t.columns:
        known = t.filter(t.gemeente_code.notnull())
        g = known.group_by("gemeente_code").aggregate(n=known.count())
        first = g.order_by([g.n.desc(), g.gemeente_code]).limit(1).to_pandas()
        gemeente = None if first.empty else str(first.gemeente_code.iloc[0])
    if gemeente is None or not year:
        notes.append("geen gemeente of indelingsjaar bekend: kandidaatcellen = cellen met incidenten + buren")
        return StudyArea()
    try:
        return study_area_from_registry(wh.ibis.table("areas", database="stadslab"), year=year,
                                        gemeente_code=gemeente)
    except StadslabError as exc:
        notes.append(f"gebiedsregister niet bruikbaar ({exc.message}); terugval op cellen met incidenten + buren")
    return StudyArea()
