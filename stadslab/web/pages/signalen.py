"""Signalen: define alerts (a buurt becomes a hotspot, a figure crosses a threshold), see which fire now, and
follow them in a feed reader through the Atom feed /alerts.atom (RFC 4287). Rules cover open data only
(web/data/alerts.py), so the feed needs no login."""

from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stadslab.web import security
from stadslab.web.data import alerts
from stadslab.web.data import monitor as mon
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.incidents import visible_sources
from stadslab.web.pages.overleg import require_login
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/signalen", response_class=HTMLResponse)
def alerts_page(request: Request):
    require_login(request)
    state = request.app.state.stadslab
    gm = municipality(state)
    from stadslab.web.data import areas as area_data

    areas = [a for lvl in ("gemeente", "wijk", "buurt")
             for a in area_data.level_areas(state, gm["indeling"], lvl, gm["gemeente_code"])] if gm["indeling"] else []
    return render(request, "signalen.html", {
        "regels": alerts.rules(state), "actief": alerts.check(request),
        "bronnen": [s for s in visible_sources(request) if s.dataset.classification == "open"],
        "indicatoren": mon.INDICATORS, "gebieden": areas})


@router.post("/signalen", dependencies=[Depends(security.verify_csrf)])
def add_alert(request: Request, soort: str = Form(...), dataset: str = Form(""), buurt: str = Form(""),
              gebied: str = Form(""), indicator: str = Form(""), richting: str = Form("boven"), waarde: str = Form("")):
    require_login(request)
    alerts.add_rule(request.app.state.stadslab, security.current_user(request),
                    {"soort": soort, "dataset": dataset, "buurt": buurt.strip() or None, "gebied": gebied,
                     "indicator": indicator, "richting": richting, "waarde": waarde})
    return RedirectResponse("/signalen", status_code=303)


@router.post("/signalen/{rule_id}/verwijderen", dependencies=[Depends(security.verify_csrf)])
def remove_alert(request: Request, rule_id: str):
    require_login(request)
    alerts.remove_rule(request.app.state.stadslab, rule_id)
    return RedirectResponse("/signalen", status_code=303)


@router.get("/alerts.atom")
def alerts_feed(request: Request):
    """Atom 1.0: one entry per firing signal; the entry id changes with the period or year it is about."""
    state = request.app.state.stadslab
    gm = municipality(state)
    base = str(request.base_url).rstrip("/")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    entries = []
    for a in alerts.check(request):
        updated = f"{a['datum']}T00:00:00Z" if a.get("datum") else now
        entries.append(
            "<entry>"
            f"<id>urn:stadslab:signaal:{escape(a['sleutel'])}</id>"
            f"<title>{escape(a['titel'])}</title>"
            f"<updated>{updated}</updated>"
            f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(base + a['link'])}\"/>"
            f"<summary type=\"text\">{escape(a['tekst'])}</summary>"
            "</entry>")
    xml = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
           "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"nl\">"
           f"<id>urn:stadslab:signalen:{escape(gm['gemeente_code'] or 'werkruimte')}</id>"
           f"<title>Signalen Stadslab {escape(gm['naam'])}</title>"
           f"<updated>{now}</updated>"
           "<author><name>Stadslab</name></author>"
           f"<link rel=\"self\" type=\"application/atom+xml\" href=\"{escape(base)}/alerts.atom\"/>"
           f"<link rel=\"alternate\" type=\"text/html\" href=\"{escape(base)}/signalen\"/>"
           + "".join(entries) + "</feed>")
    return Response(xml, media_type="application/atom+xml; charset=utf-8")
