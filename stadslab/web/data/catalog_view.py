"""The start page's data: the municipality, its datasets (owner, purpose, classification, freshness), pilots."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from stadslab.catalog.model import Dataset
from stadslab.privacy.access import User
from stadslab.web.security import can_list
from stadslab.web.state import AppState

# How old a load may be before the data counts as stale, per catalog update_frequency.
FREQUENCY_DAYS = {"dagelijks": 2, "wekelijks": 8, "maandelijks": 35, "per kwartaal": 100, "kwartaal": 100,
                  "jaarlijks": 400, "eenmalig": None}

CLASSIFICATION_LABEL = {"open": "Open", "intern": "Intern", "vertrouwelijk": "Vertrouwelijk",
                        "persoonsgegevens": "Persoonsgegevens"}

# The pilots of Utrecht's programme (BRIEF.md); a workspace may list its own under web.pilots.
# ``link`` is the pilot's own page; ``vereist`` words one loaded dataset's id or keywords must contain. A tile
# links only when its page exists and its data are there; otherwise it says the pilot is not there yet.
DEFAULT_PILOTS: tuple[dict[str, Any], ...] = (
    {"titel": "Hotspotaanpak en het tweewekelijks overleg", "thema": "veiligheid",
     "tekst": "Incidenten per buurt en per 125 m-vak, hotspots (Getis-Ord Gi*) en verandering; "
              "de briefing voor het handhavingsoverleg en de inzet van het flexteam.",
     "link": "/incidenten", "link2": "/overleg"},
    {"titel": "Gebiedsmonitor wijken en buurten", "thema": "monitoring",
     "tekst": "CBS Kerncijfers per gemeente, wijk en buurt, vergeleken met het stadsgemiddelde en het jaar ervoor.",
     "link": "/monitor"},
    {"titel": "Zelfredzaamheid – Dynamisch Data Dashboard", "thema": "sociaal domein",
     "tekst": "Gepseudonimiseerde gegevens uit het sociaal domein, alleen als aggregaat van minstens vijftien "
              "personen en alleen voor wie er met het juiste doel naar mag kijken.",
     "link": "/dashboard", "elders": ("/#datasets", "de datasets van het sociaal domein")},
    {"titel": "Weesfietsen (THOR)", "thema": "openbare ruimte",
     "tekst": "Labelen waar fietsen echt blijven staan: meldingen, eerdere acties en routes.",
     "link": "/weesfietsen", "vereist": ("weesfiets",)},
    {"titel": "Open data", "thema": "hergebruik",
     "tekst": "Datasets van de stad, met beschrijving en licentie, om te hergebruiken.", "link": "/open"},
)


def municipality(state: AppState) -> dict[str, Any]:
    m = state.workspace.config.get("municipality") or {}
    return {"naam": m.get("name") or "Gemeente", "gemeente_code": m.get("gemeente_code") or "",
            "indeling": int(m.get("division_year") or 0),
            "omschrijving": state.workspace.config.get("description", "")}


def data_municipality(state: AppState, gemeente_code: str | None, year: int | None = None) -> dict[str, Any]:
    """The municipality of the data a page shows (from the area registry), for its header and title; the
    workspace's own municipality when the data are its own or the code is unknown."""
    base = municipality(state)
    if not gemeente_code or gemeente_code == base["gemeente_code"]:
        return base
    from stadslab.web.data import areas as area_data

    name = None
    for y in ([year] if year else []) + list(reversed(area_data.division_years(state))):
        a = area_data.areas(state, y).get(gemeente_code) if y in area_data.division_years(state) else None
        if a is not None and a.name and a.name != gemeente_code:
            name = a.name
            break
    return {**base, "naam": name or gemeente_code, "gemeente_code": gemeente_code, "werkruimte": base["naam"]}


def pilots(state: AppState, routes: set[str] | None = None) -> list[dict[str, Any]]:
    """The pilots with ``beschikbaar``: a tile links to its own page only when that page exists (``routes``)
    and the data it needs are loaded; otherwise ``nog_niet`` says why (issue 10, item 7)."""
    web = state.workspace.config.get("web") or {}
    loaded = loaded_versions(state)
    words = {ds.id: " ".join([ds.id, ds.title, *ds.keywords]).lower() for ds in state.catalog if ds.id in loaded}
    out = []
    for p in web.get("pilots") or DEFAULT_PILOTS:
        p = dict(p)
        path = str(p.get("link", "")).split("?")[0].split("#")[0]
        page_ok = routes is None or not path or path == "/" or path in routes
        need = p.get("vereist") or ()
        data_ok = all(any(w in text for text in words.values()) for w in need)
        p["beschikbaar"] = page_ok and data_ok
        if not p["beschikbaar"]:
            p["nog_niet"] = ("Nog niet beschikbaar: " + ("de gegevens (" + ", ".join(need) + ") zijn nog niet geladen"
                             if not data_ok else "deze pilot heeft nog geen eigen pagina") + ".")
        out.append(p)
    return out


def freshness(ds: Dataset, loaded_at: datetime | None, now: datetime | None = None) -> dict[str, Any]:
    """Is the current version recent enough for the dataset's update frequency?"""
    now = now or datetime.now(timezone.utc)
    until = ds.temporal_coverage.get("end")
    out: dict[str, Any] = {"geladen_op": loaded_at.isoformat(timespec="seconds") if loaded_at else None,
                           "gegevens_tot": str(until) if until else None,
                           "frequentie": ds.update_frequency}
    if loaded_at is None:
        return {**out, "status": "niet geladen", "label": "nog niet geladen"}
    days = FREQUENCY_DAYS.get((ds.update_frequency or "").lower(), None)
    age = (now - loaded_at).total_seconds() / 86400
    if days is None:
        status, label = "vast", "vaste versie" if (ds.update_frequency or "").lower() == "eenmalig" else "geladen"
    elif age <= days:
        status, label = "actueel", "actueel"
    else:
        status, label = "verouderd", f"verouderd (ouder dan {days} dagen)"
    return {**out, "status": status, "label": label, "leeftijd_dagen": round(age, 1)}


def loaded_versions(state: AppState) -> dict[str, dict[str, Any]]:
    def compute() -> dict[str, dict[str, Any]]:
        rows = state.warehouse().current_versions()     # open/intern and restricted files
        return {d: {"versie": v, "geladen_op": t, "rijen": n} for d, v, t, n in rows}
    return state.cache.get_or_compute(("loaded_versions", state.generation), compute)


def dataset_summary(state: AppState, ds: Dataset) -> dict[str, Any]:
    loaded = loaded_versions(state).get(ds.id, {})
    return {
        "id": ds.id, "titel": ds.title, "eigenaar": ds.owner, "doelen": list(ds.purposes),
        "classificatie": ds.classification, "classificatie_label": CLASSIFICATION_LABEL.get(ds.classification,
                                                                                            ds.classification),
        "omschrijving": ds.description, "thema": ds.theme, "licentie": ds.licence,
        "gesimuleerd": ds.simulated, "versie": loaded.get("versie"), "rijen": loaded.get("rijen"),
        "geografie": ds.geography.level, "versheid": freshness(ds, loaded.get("geladen_op")),
    }


def visible_datasets(state: AppState, user: User) -> tuple[list[dict[str, Any]], int]:
    """Datasets this user may see, and how many others exist that need other rights."""
    shown, hidden = [], 0
    for ds in state.catalog:
        if can_list(ds, user):
            shown.append(dataset_summary(state, ds))
        else:
            hidden += 1
    shown.sort(key=lambda d: (d["thema"] or "", d["titel"]))
    return shown, hidden


def fmt_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%d-%m-%Y %H:%M")
        return value.astimezone().strftime("%d-%m-%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return "" if value is None else str(value)
