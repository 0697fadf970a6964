"""Overleg: the biweekly enforcement meeting — one click makes the briefing pack (HTML to print, or PDF),
and the actions log (area, action, team, date) is kept here. Only for logged-in users."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from stadslab.errors import AccessDenied, AnalysisError
from stadslab.web import security
from stadslab.web.api.incidents import filters_dep
from stadslab.web.data import actions as action_log
from stadslab.web.data import areas as area_data
from stadslab.web.data import briefing
from stadslab.web.data.incidents import PERIODS, Filters, get_source, options, visible_sources
from stadslab.web.data.pdf import html_to_pdf
from stadslab.web.templating import render, templates

router = APIRouter(include_in_schema=False)
PRINT_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "briefing.css"


def require_login(request: Request) -> None:
    if security.current_user(request).id == "anoniem":
        raise AccessDenied("het overleg is alleen voor ingelogde gebruikers",
                           hint="log in met uw account van het datalab")


def _query(dataset: str, f: Filters) -> str:
    params: list[tuple[str, str]] = [("dataset", dataset), ("periode", f.periode)]
    params += [("soort", s) for s in f.soort]
    if f.van:
        params.append(("van", f.van.isoformat()))
    if f.tot:
        params.append(("tot", f.tot.isoformat()))
    if f.wijk:
        params.append(("wijk", f.wijk))
    params += [("dagdeel", d) for d in f.dagdeel] + [("dag", str(d)) for d in f.dagen]
    return urlencode(params)


@router.get("/overleg", response_class=HTMLResponse)
def overleg_page(request: Request, dataset: str | None = None, f: Filters = Depends(filters_dep)):
    redirect = security.login_redirect(request)
    if redirect:
        return redirect
    if not visible_sources(request):
        return render(request, "overleg.html", {"leeg": True})
    f = f if request.query_params.get("periode") else Filters(soort=f.soort, periode="14d", wijk=f.wijk)
    src = get_source(request, dataset)
    opts = options(request, src)
    state = request.app.state.stadslab
    gm = opts["gemeente"]
    wijken = area_data.level_areas(state, src.year, "wijk", gm) if gm else []
    buurten = area_data.level_areas(state, src.year, "buurt", gm) if gm else []
    result = briefing.analyse(request, src, f)
    return render(request, "overleg.html", {
        "leeg": False, "bronnen": visible_sources(request), "bron_id": src.id, "opties": opts, "f": f,
        "perioden": PERIODS, "wijken": wijken, "buurten": buurten, "teams": action_log.TEAMS,
        "acties": briefing.action_effects(request, src, f), "query": _query(src.id, f),
        "periode": result["periode"], "totaal": result["totaal"], "bron": result["bron"]})


def _briefing_html(request: Request, dataset: str | None, f: Filters) -> tuple[str, str]:
    src = get_source(request, dataset)
    pack = briefing.build(request, src, f)
    css = Markup(PRINT_CSS.read_text(encoding="utf-8"))
    html = templates.get_template("briefing.html").render({
        **pack, "css": css, "query": _query(src.id, f), "gemeente": request.app.state.stadslab.workspace.config
        .get("municipality", {}).get("name", ""), "user": security.current_user(request)})
    return html, src.id


@router.get("/overleg/briefing", response_class=HTMLResponse)
def briefing_page(request: Request, dataset: str | None = None, f: Filters = Depends(filters_dep)):
    redirect = security.login_redirect(request)
    if redirect:
        return redirect
    html, _ = _briefing_html(request, dataset, f)
    return HTMLResponse(html)


@router.get("/overleg/briefing.pdf")
def briefing_pdf(request: Request, dataset: str | None = None, f: Filters = Depends(filters_dep)):
    require_login(request)
    html, ds = _briefing_html(request, dataset, f)
    pdf = html_to_pdf(html, title="Briefing handhavingsoverleg")
    name = f"briefing_{ds}_{datetime.now():%Y%m%d}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/overleg/acties", dependencies=[Depends(security.verify_csrf)])
def add_action(request: Request, dataset: str = Form(...), gebied: str = Form(...), actie: str = Form(...),
               team: str = Form(...), datum: str = Form(...), terug: str = Form("/overleg")):
    require_login(request)
    src = get_source(request, dataset)
    state = request.app.state.stadslab
    try:
        on = datetime.strptime(datum, "%Y-%m-%d").date()
    except ValueError:
        raise AnalysisError(f"datum '{datum}' is geen datum (verwacht JJJJ-MM-DD)") from None
    area = area_data.area(state, src.year, gebied)
    action_log.add(state.workspace.root, dataset=src.id, area_code=area.code, area_name=area.name, action=actie,
                   team=team, on=on, user=security.current_user(request).id)
    return RedirectResponse(_back(terug), status_code=303)


@router.post("/overleg/acties/{action_id}/intrekken", dependencies=[Depends(security.verify_csrf)])
def withdraw_action(request: Request, action_id: str, terug: str = Form("/overleg")):
    require_login(request)
    action_log.withdraw(request.app.state.stadslab.workspace.root, action_id, security.current_user(request).id)
    return RedirectResponse(_back(terug), status_code=303)


def _back(url: str) -> str:
    return url if url.startswith("/overleg") and not url.startswith("//") else "/overleg"
