"""API of the Dynamisch Data Dashboard sociaal domein: the same figures as /sociaal, gated the same way
(login, a role of the DDD catalog entries, werkdoel sociaal_domein, a partner's scope), only as released
aggregates; governance records and — for the privacy officer — usage from the audit log. GESIMULEERD."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from stadslab.errors import AccessDenied, AnalysisError, PrivacyError
from stadslab.web.api.render import csv_response, json_response
from stadslab.web.data import sociaal as ddd
from stadslab.web.data import sociaal_governance as gov
from stadslab.web.pages.sociaal import default_level, governance_guard

router = APIRouter(tags=["sociaal"])


@router.get("/sociaal/profielen", summary="Profielen van het dashboard sociaal domein (naam, versie, voorwaarden)")
def profiles(request: Request):
    ddd.guard(request)
    items = ddd.profile_list(request.app.state.stadslab)
    return json_response({"profielen": items or [], "beschikbaar": items is not None, "gesimuleerd": True})


@router.get("/sociaal/profiel",
            summary="Aantal en aandeel per wijk, buurt of school en schooljaar voor één profiel (publicatiepoort)")
def profile(request: Request, profiel: str = Query(..., max_length=80),
            niveau: Literal["wijk_code", "buurt_code", "school"] | None = None,
            schooljaar: str | None = Query(None, max_length=10),
            gebied: str | None = Query(None, max_length=20, description="één wijk-, buurt- of schoolcode"),
            format: Literal["json", "csv"] = "json"):
    user, purpose, primary = ddd.guard(request)
    state = request.app.state.stadslab
    items = ddd.profile_list(state) if primary is not None else None
    if not items:
        raise AnalysisError("nog geen profielen", hint="profielen staan in de werkruimte onder profielen/*.yaml")
    if profiel not in {p["id"] for p in items}:
        raise AnalysisError(f"onbekend profiel '{profiel[:80]}'", hint="zie /api/sociaal/profielen")
    try:
        data = ddd.profile_figures(request, user, purpose, profiel, niveau or default_level(user), schooljaar, gebied)
    except PrivacyError as exc:
        if user.scope and not isinstance(exc, AccessDenied):   # outside a partner's scope: a refusal (audited)
            raise AccessDenied(exc.message, hint=exc.hint) from None
        raise
    if format == "csv":   # the table as shown: areas, counts, shares, "onderdrukt" — never a person or pseudonym
        rows = [{"gesimuleerd": "ja", **{k: v for k, v in r.items()}} for r in data["rijen"]]
        return csv_response(rows, data["bron"], filename=f"sociaal_{profiel}_{data['niveau']}_"
                                                         f"{(data['schooljaar'] or '').replace('/', '-')}.csv")
    return json_response(data)


@router.get("/sociaal/effect", summary="Effect van buurtteamondersteuning op verzuim het jaar erna (met interval)")
def effect(request: Request):
    user, purpose, primary = ddd.guard(request)
    if primary is None:
        return json_response({"beschikbaar": False, "melding": "geen gegevens van het dashboard geladen"})
    return json_response(ddd.effect_panel(request, user, purpose))


@router.get("/sociaal/governance", summary="Convenant, bewaartermijn, DPIA/IAMA en verwijderingen per bron")
def governance(request: Request):
    governance_guard(request)
    state = request.app.state.stadslab
    return json_response({"bronnen": gov.sources(state), "toetsen": gov.assessments(state)})


@router.get("/sociaal/gebruik", summary="Privacyfunctionaris: wie gebruikte welk profiel of effect, waarvoor en wanneer")
def usage(request: Request):
    user, purpose = governance_guard(request)
    if not gov.is_officer(user, purpose):
        ddd.audit_refusal(request, user, purpose, "geweigerd: gebruiksoverzicht zonder rol privacyfunctionaris "
                                                  "en werkdoel toezicht", {})
        raise AccessDenied("alleen de privacyfunctionaris (werkdoel toezicht) ziet het gebruik",
                           hint="kies werkdoel 'toezicht' als u privacyfunctionaris bent")
    return json_response(gov.usage(request.app.state.stadslab))
