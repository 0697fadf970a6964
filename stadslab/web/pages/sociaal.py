"""Dynamisch Data Dashboard sociaal domein (/sociaal) and its governance view (/sociaal/governance).

/sociaal: for the roles the DDD catalog entries name (sociaal_analist, school, buurtteam) with werkdoel
sociaal_domein. Choose a profile, school year and level (wijk / buurt / school); the profile's counts and
shares per area on the shared map and in a table (suppressed cells read "onderdrukt", never 0), the trend per
school year, the effect panel (estimate, 95 % interval, treated/controls, balance, the naive difference and
the caveat in plain words) and "wat mag u zien". A school sees only its own school, a buurtteam only its own
wijk: the scope is enforced in release_aggregate, this page only says so. Everything is GESIMULEERD.

/sociaal/governance: convenant and bewaartermijn per source, DPIA/IAMA answers, retention removals; the
privacy officer (privacyfunctionaris, werkdoel toezicht) also sees who used which profile or effect, for what
and when — usage from the verified audit log, never personal data.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stadslab.errors import AccessDenied, PrivacyError, StadslabError
from stadslab.web import security
from stadslab.web.data import sociaal as ddd
from stadslab.web.data import sociaal_governance as gov
from stadslab.web.data.catalog_view import municipality
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)
Level = Literal["wijk_code", "buurt_code", "school"]


def default_level(user, published: dict[str, str] | None = None) -> str:
    """A school opens on its school, a buurtteam on the buurten of its wijk (its own wijk where the workspace
    publishes no buurt level), everyone else on the wijken."""
    if "school" in user.scope:
        return "school"
    if "wijk_code" in user.scope:
        return "buurt_code" if published is None or "buurt_code" in published else "wijk_code"
    return "wijk_code"


def dashboard(request: Request, profiel: str | None, schooljaar: str | None, niveau: str | None,
              gebied: str | None) -> dict:
    """Everything the page shows; a section that is refused or not yet available says why in its place."""
    state = request.app.state.stadslab
    user, purpose, primary = ddd.guard(request)
    published = ddd.levels(state)
    niveau = niveau or default_level(user, published)
    ctx = {"rechten": ddd.rights(state, user), "rollen": ddd.role_table(state), "scope": user.scope,
           "niveaus": {**published, niveau: ddd.LEVELS.get(niveau, niveau)}, "niveau": niveau, "doel": purpose, "geen_ddd": primary is None,
           "profielen": None, "cijfers": None, "cijfers_melding": None, "effect": None, "gekozen": None}
    if primary is None:
        return ctx
    ctx["profielen"] = ddd.profile_list(state)
    if ctx["profielen"]:
        ids = [p["id"] for p in ctx["profielen"]]
        chosen = profiel if profiel in ids else ids[0]
        ctx["gekozen"] = next(p for p in ctx["profielen"] if p["id"] == chosen)
        try:
            ctx["cijfers"] = ddd.profile_figures(request, user, purpose, chosen, niveau, schooljaar, gebied)
        except AccessDenied:
            raise
        except PrivacyError as exc:       # e.g. a level outside a partner's scope: refused (and audited)
            ctx["cijfers_melding"] = scope_refusal(user, niveau, exc)
        except StadslabError as exc:
            ctx["cijfers_melding"] = {"bericht": exc.message, "hint": exc.hint}
    ctx["effect"] = ddd.effect_panel(request, user, purpose)
    return ctx


def scope_refusal(user, niveau: str, exc: PrivacyError) -> dict:
    """A partner's refusal in plain words (the gate's own message stays as the detail)."""
    if not user.scope:
        return {"bericht": exc.message, "hint": exc.hint}
    own = "; ".join(f"uw eigen {ddd.SCOPE_WORDS.get(k, k)} ({v})" for k, v in user.scope.items())
    return {"bericht": f"uw rol ziet alleen cijfers van {own}; een indeling per {ddd.LEVELS.get(niveau, niveau)} "
                       "is daarbinnen niet vastgelegd", "hint": f"kies niveau {ddd.LEVELS[default_level(user)]}",
            "detail": exc.message}


@router.get("/sociaal", response_class=HTMLResponse)
def sociaal_page(request: Request, profiel: str | None = Query(None, max_length=80),
                 schooljaar: str | None = Query(None, max_length=10), niveau: Level | None = None,
                 gebied: str | None = Query(None, max_length=20)):
    if (r := security.login_redirect(request)):
        return r
    user = security.current_user(request)
    if gov.OFFICER_ROLE in user.roles and not set(user.roles) & ddd.dashboard_roles(request.app.state.stadslab):
        return RedirectResponse("/sociaal/governance#gebruik", 303)   # the privacy officer sees usage, not figures
    ctx = dashboard(request, profiel, schooljaar, niveau, gebied)
    gm = municipality(request.app.state.stadslab)
    kaart = None
    if ctx.get("cijfers") and ctx["niveau"] in ("wijk_code", "buurt_code"):
        kaart = {"niveau": "wijk" if ctx["niveau"] == "wijk_code" else "buurt", "jaar": gm["indeling"],
                 "wijk": ctx["scope"].get("wijk_code"), "kolom": ctx["niveau"],
                 "rijen": [{"code": r.get(ctx["niveau"]), "n": r.get("aantal", r.get("n")), "aandeel": r.get("aandeel"),
                            "onderdrukt": r.get("suppressed") == ddd.SUPPRESSED, "naam": r.get("naam")}
                           for r in ctx["cijfers"]["rijen"]]}
    return render(request, "sociaal.html", {**ctx, "kaart": kaart})


@router.get("/sociaal/governance", response_class=HTMLResponse)
def governance_page(request: Request):
    if (r := security.login_redirect(request)):
        return r
    state = request.app.state.stadslab
    user, purpose = governance_guard(request)
    return render(request, "sociaal_governance.html", {
        "bronnen": gov.sources(state), "toetsen": gov.assessments(state), "functionaris": gov.is_officer(user, purpose),
        "gebruik": gov.usage(state) if gov.is_officer(user, purpose) else None,
        "rol_functionaris": gov.OFFICER_ROLE in user.roles, "doel": purpose})


def governance_guard(request: Request):
    """Governance records: the dashboard's roles and the privacy officer; others are refused (and audited)."""
    state = request.app.state.stadslab
    user = security.current_user(request)
    if user.id == "anoniem":
        raise AccessDenied("alleen voor ingelogde gebruikers", hint="log in met uw account")
    purpose = request.state.session.get("d") or (user.purposes[0] if len(user.purposes) == 1 else None)
    if gov.OFFICER_ROLE in user.roles or set(user.roles) & ddd.dashboard_roles(state):
        return user, purpose
    ddd.audit_refusal(request, user, purpose, "geweigerd: governance sociaal domein zonder rol", {})
    raise AccessDenied("u mag de governance van het dashboard sociaal domein niet inzien",
                       hint="vraag de rol 'sociaal_analist' of 'privacyfunctionaris' aan bij de beheerder")
