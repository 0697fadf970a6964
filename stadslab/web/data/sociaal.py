"""View data of the Dynamisch Data Dashboard (/sociaal and /api/sociaal/*): who may look, the profile
figures per wijk / buurt / school and school year, the effect panel and "wat mag u zien".

Every figure comes from the analyses (``stadslab.analyses.sociaal.profiles.profile_view`` and
``effect.estimate_effect``), which release through ``privacy/release.py::release_aggregate``: the gate
(≥ 15, secondary suppression), the audit entry and a partner's scope (``User.scope``) are applied there,
not here. This module only chooses what to ask, says who may ask (role and werkdoel of the DDD catalog
entries, refusals audited) and shapes the answers; a suppressed cell stays ``None`` with
``onderdrukt`` — never 0. No pseudonym or individual row is ever part of an answer.
"""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd
from fastapi import Request

from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied, StadslabError
from stadslab.privacy.access import ANONYMOUS, User
from stadslab.privacy.audit import AuditEntry
from stadslab.web import security
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.provenance import bron

PREFIX = "ddd_"
PRIMARY = "ddd_verzuim"          # the pupils: the dataset whose access decides who opens the dashboard
LEVELS = {"wijk_code": "wijk", "buurt_code": "buurt", "school": "school"}
SUPPRESSED = "onderdrukt"
# The effect the panel shows (contract, docs/dev/DDD-CONTRACT.md): a trajectory starting in year t on the
# pupil's absence in t+1, adjusted for what drives both (benefits, ZRM financiën, absence in year t).
EFFECT = {"outcome": "verzuim_pct_volgend", "treatment": "traject",
          "confounders": ["bijstand", "zrm_financien", "verzuim_pct"]}
SCOPE_WORDS = {"school": "school", "wijk_code": "wijk", "buurt_code": "buurt"}


def analysis(name: str):
    """``stadslab.analyses.sociaal.<name>``, or None while it is not installed (the page then says so)."""
    try:
        return importlib.import_module(f"stadslab.analyses.sociaal.{name}")
    except ImportError:
        return None


def ddd_datasets(state) -> list[Dataset]:
    return [d for d in state.catalog if d.id.startswith(PREFIX)]


def dashboard_roles(state) -> set[str]:
    return {r for d in ddd_datasets(state) for r in d.access.roles}


def guard(request: Request) -> tuple[User, str | None, Dataset | None]:
    """The user and werkdoel for a dashboard read, or AccessDenied (401 for the public, 403 otherwise).

    A wrong role or a werkdoel the DDD entries do not serve is refused *and audited* (security.require_read
    writes the refusal for the pupils' dataset)."""
    state = request.app.state.stadslab
    user = security.current_user(request)
    if user.id == ANONYMOUS.id:
        raise AccessDenied("het dashboard sociaal domein is alleen voor ingelogde gebruikers",
                           hint="log in met uw account")
    ds = state.catalog.get(PRIMARY) if PRIMARY in state.catalog else None
    if ds is None:
        return user, None, None
    _, purpose = security.require_read(request, ds)
    return user, purpose, ds


def audit_refusal(request: Request, user: User, purpose: str | None, reason: str, what: dict[str, Any]) -> None:
    state = request.app.state.stadslab
    version = state.warehouse().current_version(PRIMARY) if PRIMARY in state.catalog else None
    state.audit.append(AuditEntry(user.id, ",".join(user.roles), purpose, PRIMARY, version,
                                  f"web:{request.url.path}"[:300], {k: str(v)[:100] for k, v in what.items()}, None,
                                  allowed=False, reason=reason[:500]))


def check_asked_area(request: Request, user: User, purpose: str | None, key: str, value: str | None) -> None:
    """A partner asking by name for another school / wijk than its own: refused and audited here, before
    anything is computed (release_aggregate would refuse it as well; this says it in the user's words)."""
    if key == "buurt_code" and value and "wijk_code" in user.scope and value.startswith("BU"):
        key, value = "wijk_code", "WK" + value[2:8]     # a buurt lies in the wijk its code starts with
    if not value or key not in user.scope or user.scope[key] == value:
        return
    word = SCOPE_WORDS.get(key, key)
    reason = f"u vraagt cijfers van {word} {value}; uw rol ziet alleen {word} {user.scope[key]}"
    audit_refusal(request, user, purpose, "geweigerd: " + reason, {key: value})
    raise AccessDenied(reason, hint=f"kies {word} {user.scope[key]}")


def remembered(request: Request, user: User, purpose: str | None, key: tuple, compute, *, dataset: str,
               version: int | None, route: str, what: dict[str, Any], rows) -> Any:
    """``compute()`` once per user, werkdoel and question while the data (``generation``) and the profile
    version stay the same; a repeat is answered from the server's cache — and audited all the same, so every
    use is in the log the privacy officer reads. A refusal is never cached (compute raises, nothing is stored)."""
    state = request.app.state.stadslab
    fresh: list[bool] = []

    def run():
        fresh.append(True)
        return compute()
    value = state.cache.get_or_compute(("sociaal", state.generation, user.id, purpose, *key), run)
    if not fresh:
        state.audit.append(AuditEntry(user.id, ",".join(user.roles), purpose, dataset, version,
                                      f"{route} (uit cache)"[:300], {k: str(v)[:100] for k, v in what.items()},
                                      rows(value), allowed=True,
                                      reason="dezelfde vraag als eerder; antwoord uit de cache van de server"))
    return value


# ---- profiles ------------------------------------------------------------------------------------------

def levels(state) -> dict[str, str]:
    """The levels this workspace publishes: buurt only where ``profielen/.instellingen.yaml`` allows it."""
    mod = analysis("profiles")
    if mod is None or mod.buurt_level(state.workspace.root):
        return dict(LEVELS)
    return {k: v for k, v in LEVELS.items() if k != "buurt_code"}


def profile_list(state) -> list[dict[str, Any]] | None:
    """Declared profiles (id, name, version, description, conditions as text); None: module not there."""
    mod = analysis("profiles")
    if mod is None:
        return None
    out = []
    for p in mod.load_profiles(state.workspace.root):
        out.append({"id": str(_attr(p, "id")), "naam": str(_attr(p, "titel", "name", "naam", "title", "id")),
                    "versie": _attr(p, "versie", "version"), "omschrijving": _attr(p, "omschrijving", "description"),
                    "voorwaarden": p.text() if callable(getattr(p, "text", None)) else
                    _text(_attr(p, "conditions", "voorwaarden", "where"))})
    return out


def _attr(obj: Any, *names: str) -> Any:
    for n in names:
        v = obj.get(n) if isinstance(obj, dict) else getattr(obj, n, None)
        if v not in (None, ""):
            return v
    return None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return " en ".join(_text(x) or "" for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return str(v)


def area_names(state, level: str) -> dict[str, str]:
    if level not in ("wijk_code", "buurt_code"):
        return {}
    from stadslab.web.data import areas as area_data

    gm = municipality(state)
    try:
        return {a.code: a.name for a in area_data.level_areas(state, gm["indeling"], LEVELS[level], gm["gemeente_code"])}
    except StadslabError:
        return {}


def profile_figures(request: Request, user: User, purpose: str | None, profiel: str, niveau: str,
                    schooljaar: str | None, gebied: str | None = None) -> dict[str, Any]:
    """Counts and shares of one profile per area in one school year, and its trend over the school years,
    as ``profile_view`` released them (gated, audited, sliced to the user's scope)."""
    state = request.app.state.stadslab
    mod = analysis("profiles")
    check_asked_area(request, user, purpose, niveau, gebied)
    route = "web:/sociaal"          # profile_view adds "profiel=<id>@v<versie>" (the privacy officer's view reads it)
    declared = profile_list(state) or []
    version = next((p["versie"] for p in declared if p["id"] == profiel), None)
    # the whole family and the published levels shape the protected table: both belong in the cache key
    family = tuple(sorted((p["id"], p["versie"]) for p in declared))
    with_years = remembered(
        request, user, purpose, ("profiel", profiel, version, niveau, family, tuple(levels(state))),
        lambda: mod.profile_view(state.warehouse(), state.catalog, state.workspace.root, user=user, purpose=purpose,
                                 audit=state.audit, profile_id=profiel, level=niveau, schooljaar=None, route=route),
        dataset="ddd_profielen", version=version, route=f"{route} profiel={profiel}@v{version}",
        what={"profiel": profiel, "niveau": niveau}, rows=lambda rel: len(rel.frame))
    frame = with_years.frame.copy()
    years = sorted({str(y) for y in frame["schooljaar"].dropna()} - {"Totaal"}) if "schooljaar" in frame else []
    year = schooljaar if schooljaar in years else (years[-1] if years else None)
    names = area_names(state, niveau)
    rows = _records(frame)
    table = [r for r in rows if year is None or str(r.get("schooljaar")) == year]
    if gebied:
        table = [r for r in table if str(r.get(niveau)) == gebied]
    for r in table:
        r["naam"] = names.get(str(r.get(niveau)), str(r.get(niveau)))
    # the trend: the total over all areas the user may see, per school year (else every area's line)
    trend = [r for r in rows if str(r.get(niveau)) == "Totaal"] or rows
    prov = dict(with_years.provenance or {})
    sources = [(d, v) for d, v in (prov.get("bronnen") or prov.get("sources") or {}).items()] \
        if isinstance(prov.get("bronnen") or prov.get("sources"), dict) else []
    sources = sources or [(d.id, None) for d in ddd_datasets(state)]
    notes = [f"profielversie: {prov.get('profile_version') or prov.get('profielversie') or '–'}",
             "GESIMULEERDE gegevens", f"publicatiepoort: minimaal {prov.get('min_cell', 15)} personen per cel, "
             "secundaire onderdrukking; onderdrukte cellen zijn leeg, nooit 0"]
    if user.scope:
        notes.append("alleen uw eigen " + ", ".join(f"{SCOPE_WORDS.get(k, k)} {v}" for k, v in user.scope.items()))
    block = bron(state, sources, method=f"profiel '{profiel}' per {LEVELS.get(niveau, niveau)} en schooljaar: aantal "
                                        "unieke leerlingen dat aan het profiel voldoet en hun aandeel "
                                        "(profile_view, via release_aggregate)",
                 filters={"profiel": profiel, "niveau": niveau, "schooljaar": year, "gebied": gebied}, notes=notes)
    return {"profiel": profiel, "niveau": niveau, "schooljaar": year, "schooljaren": years, "rijen": table,
            "trend": trend, "kolommen": _measure_columns(frame, niveau), "bron": block, "gesimuleerd": True,
            "poort": with_years.gated, "versie": prov.get("profile_version") or prov.get("profielversie")}


def _measure_columns(frame: pd.DataFrame, niveau: str) -> list[str]:
    skip = {niveau, "schooljaar", "suppressed", "naam", "wijk_code", "buurt_code", "gemeente_code", "school"}
    return [c for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])] or ["aantal"]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for page and API: a suppressed cell is None with ``onderdrukt``, never 0; codes as text."""
    df = frame.astype(object).where(frame.notna(), None)
    out = []
    for r in df.to_dict(orient="records"):
        # the gate left a suppressed figure NULL; say so by name (a published figure next to it stays)
        r["suppressed"] = SUPPRESSED if str(r.get("suppressed") or "") else ""
        out.append({k: (str(v) if k in LEVELS or k == "schooljaar" else v) for k, v in r.items()})
    return out


# ---- effect -----------------------------------------------------------------------------------------------

def effect_panel(request: Request, user: User, purpose: str | None) -> dict[str, Any]:
    """The effect estimate with interval, counts, balance, the naive difference and its caveat. A partner's
    estimate is over its own scope only (estimate_effect applies ``User.scope``), or refused."""
    state = request.app.state.stadslab
    mod = analysis("effect")
    if mod is None:
        return {"beschikbaar": False, "melding": "nog geen effectschatting beschikbaar"}
    try:
        res = remembered(
            request, user, purpose, ("effect",),
            lambda: mod.estimate_effect(state.warehouse(), state.catalog, user=user, purpose=purpose, audit=state.audit,
                                        outcome=EFFECT["outcome"], treatment=EFFECT["treatment"],
                                        confounders=list(EFFECT["confounders"]), route="web:/sociaal effect"),
            dataset=PRIMARY, version=state.warehouse().current_version(PRIMARY), route="web:/sociaal effect",
            what=dict(EFFECT), rows=lambda r: 1 + len(getattr(r, "groups", []) or []))
    except AccessDenied:
        raise
    except StadslabError as exc:
        return {"beschikbaar": False, "melding": exc.message, "hint": exc.hint}
    except ImportError:      # the linked frame (helper module) not installed yet
        return {"beschikbaar": False, "melding": "nog geen effectschatting beschikbaar"}
    d = res.to_dict() if hasattr(res, "to_dict") else dict(res)
    d = {k: v for k, v in d.items() if k not in ("rows", "records", "units")}   # nothing per person, ever
    prov = d.get("provenance") or {}
    sources = prov.get("bronnen") or prov.get("datasets") or {}
    pairs = list(sources.items()) if isinstance(sources, dict) else [(s, None) for s in sources]
    notes = ["GESIMULEERDE gegevens", "aantallen via de publicatiepoort; een groep onder de drempel wordt "
             "geweigerd, niet afgerond", str(d.get("estimand") or "")]
    if user.scope:
        notes.append("alleen uw eigen " + ", ".join(f"{SCOPE_WORDS.get(k, k)} {v}" for k, v in user.scope.items()))
    d["bron"] = bron(state, pairs or [(x.id, None) for x in ddd_datasets(state)],
                     method=str(d.get("method") or "effectschatting"),
                     filters={"uitkomst": EFFECT["outcome"], "behandeling": EFFECT["treatment"],
                              "confounders": EFFECT["confounders"]}, notes=[n for n in notes if n])
    d["beschikbaar"] = d.get("estimate") is not None and bool(d.get("ci"))
    if not d["beschikbaar"]:
        d["melding"] = d.get("tekst") or f"Geen schatting: {d.get('status')}"
    caveat = str(d.get("caveat") or "")
    d["zwak"] = _weak_design(d)
    d["voorbehoud_kop"] = d["zwak"] and "samenhang, geen bewijs van oorzaak" not in caveat.lower()[:60]
    return d


def _weak_design(d: dict[str, Any]) -> bool:
    """An observational estimate is association unless balance and overlap hold (and even then: unmeasured
    confounding). 'Weak' = imbalance after weighting, poor overlap, or no balance figures at all."""
    bal = [b for b in d.get("balance") or [] if isinstance(b, dict)]
    imbalanced = any(b.get("onbalans") for b in bal)
    return imbalanced or bool((d.get("overlap") or {}).get("zwak")) or not bal or \
        str(d.get("caveat") or "").lower().startswith("samenhang")


# ---- what a role may see ------------------------------------------------------------------------------------

def rights(state, user: User) -> list[str]:
    """'Wat mag u zien' for this user, from the catalog's roles and the user's scope."""
    lines = []
    for key, value in user.scope.items():
        lines.append(f"Alleen cijfers van uw eigen {SCOPE_WORDS.get(key, key)} ({value}); een andere "
                     f"{SCOPE_WORDS.get(key, key)} vragen wordt geweigerd en vastgelegd in het auditlog.")
    if not user.scope and set(user.roles) & dashboard_roles(state):
        lines.append("Alle wijken, buurten en scholen van de gemeente — als beveiligd aggregaat.")
    lines += ["Alleen aantallen en aandelen van minstens 15 personen; kleinere cellen (en cellen die ze zouden "
              "verraden) staan er als 'onderdrukt', nooit als 0.",
              "Nooit pseudoniemen, namen of rijen van personen: niet op de pagina, niet in de API, niet in een download.",
              "Alleen voor uw werkdoel 'sociaal_domein'; elke opvraging staat in het auditlog dat de "
              "privacyfunctionaris inziet."]
    return lines


def role_table(state) -> list[dict[str, Any]]:
    """Per DDD dataset: which roles and purposes may read it (the catalog's words)."""
    return [{"dataset": d.id, "titel": d.title, "rollen": list(d.access.roles),
             "doelen": list(d.access.purposes or d.purposes)} for d in ddd_datasets(state)]
