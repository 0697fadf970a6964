"""Signalen (alerts): rules users define, stored in the workspace (``signalen.json``), checked against the
current data whenever someone looks — at login (the start page), on /signalen and in the Atom feed
``/alerts.atom``.

Two kinds of rule, both over **open** data only (so the feed can be read without logging in and never
carries anything from personal or confidential data):

- ``hotspot``: a buurt (or any buurt) of an open incident dataset is a Getis-Ord Gi* hotspot (FDR 5 %) in
  the Incidentenkaart's default period — the shortest period the page itself calls reliable. It says
  whether the buurt is *new* as a hotspot (not one in the equally long period before) or still one.
- ``drempel``: a Gebiedsmonitor indicator of an area crosses a value (``boven``/``onder``) in the newest
  Kerncijfers year that has a figure for it.

Rules are checked, not stored results: a rule fires as long as its condition holds; an entry's Atom id
includes the period or year, so a feed reader shows a new entry when the situation changes.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import Request

from stadslab.atomic import write_json
from stadslab.errors import AnalysisError
from stadslab.privacy.access import User
from stadslab.web.state import AppState

FILE = "signalen.json"
KINDS = ("hotspot", "drempel")


def _path(state: AppState) -> Path:
    return state.workspace.root / FILE


def rules(state: AppState) -> list[dict[str, Any]]:
    p = _path(state)
    if not p.exists():
        return []
    return json.loads(p.read_text(encoding="utf-8")).get("signalen", [])


def _write(state: AppState, items: list[dict[str, Any]]) -> None:
    write_json(_path(state), {"signalen": items})   # atomic: a reader never sees half a file


def add_rule(state: AppState, user: User, rule: dict[str, Any]) -> dict[str, Any]:
    kind = rule.get("soort")
    if kind not in KINDS:
        raise AnalysisError(f"soort signaal '{kind}' is onbekend", hint="kies hotspot of drempel")
    clean: dict[str, Any] = {"id": secrets.token_hex(4), "soort": kind, "door": user.id,
                             "gemaakt_op": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if kind == "hotspot":
        ds = state.catalog.get(str(rule.get("dataset") or ""))
        if ds.classification != "open":
            raise AnalysisError("signalen kunnen alleen over open data gaan", hint="kies een open incidentendataset")
        clean.update(dataset=ds.id, buurt=(rule.get("buurt") or None))
    else:
        try:
            value = float(str(rule.get("waarde", "")).replace(",", "."))
        except ValueError:
            raise AnalysisError(f"drempel '{rule.get('waarde')}' is geen getal") from None
        if rule.get("richting") not in ("boven", "onder"):
            raise AnalysisError("richting moet 'boven' of 'onder' zijn")
        clean.update(gebied=str(rule.get("gebied") or ""), indicator=str(rule.get("indicator") or ""),
                     richting=rule["richting"], waarde=value)
    with state.write_lock:
        items = rules(state) + [clean]
        _write(state, items)
    return clean


def remove_rule(state: AppState, rule_id: str) -> None:
    with state.write_lock:
        _write(state, [r for r in rules(state) if r.get("id") != rule_id])


# ---- checking ------------------------------------------------------------------------------------

def check(request: Request) -> list[dict[str, Any]]:
    """Every rule that fires now: {regel, titel, tekst, link, sleutel, datum}."""
    state: AppState = request.app.state.stadslab
    out = []
    for rule in rules(state):
        try:
            out += _check_hotspot(request, rule) if rule["soort"] == "hotspot" else _check_threshold(state, rule)
        except Exception as exc:  # a rule on a removed dataset or area says so instead of breaking the page
            out.append({"regel": rule, "titel": "Signaal kan niet worden nagekeken", "tekst": str(exc),
                        "link": "/signalen", "sleutel": f"{rule.get('id')}:fout", "datum": None})
    return out


def _check_hotspot(request: Request, rule: dict[str, Any]) -> list[dict[str, Any]]:
    from dataclasses import replace

    from stadslab.web.data import incident_layers as layers
    from stadslab.web.data.incidents import Filters, get_source

    src = get_source(request, rule["dataset"])
    default = layers.default_view(request, src)
    now = layers.analyse(request, src, Filters(periode=default["periode"]))
    per = now["periode"]
    before = layers.analyse(request, src, replace(Filters(periode="aangepast"),
                                                  van=datetime.fromisoformat(per["vorige_van"]).date(),
                                                  tot=datetime.fromisoformat(per["vorige_tot_en_met"]).date()))
    was = set(before["buurten"].loc[before["buurten"]["hotspot"] == "hotspot", "code"])
    table = now["buurten"]
    hot = table[table["hotspot"] == "hotspot"]
    if rule.get("buurt"):
        hot = hot[hot["code"] == rule["buurt"]]
    out = []
    for r in hot.itertuples(index=False):
        new = r.code not in was
        out.append({"regel": rule, "titel": f"{r.naam} is {'nieuw ' if new else 'nog steeds '}een hotspot",
                    "tekst": f"{src.dataset.title}: {r.aantal} incidenten in {per['label']} "
                             f"({_d(per['van'])} t/m {_d(per['tot_en_met'])}); Gi*, FDR 5 %"
                             + ("; in de periode ervoor geen hotspot." if new else "."),
                    "link": f"/incidenten?dataset={src.id}&periode={default['periode']}",
                    "sleutel": f"{rule['id']}:{r.code}:{per['tot_en_met']}", "datum": per["tot_en_met"],
                    "nieuw": new})
    return out


def _check_threshold(state: AppState, rule: dict[str, Any]) -> list[dict[str, Any]]:
    from stadslab.web.data import areas as area_data
    from stadslab.web.data import monitor as mon
    from stadslab.web.data.catalog_view import municipality

    gm = municipality(state)
    years = mon.kwb_datasets(state, gm["gemeente_code"])
    for year in sorted(years, reverse=True):   # the newest year with a figure for this indicator
        sc = mon.scores(state, years[year], gm["gemeente_code"])
        if rule["indicator"] in sc.columns and rule["gebied"] in sc.index:
            v = sc.at[rule["gebied"], rule["indicator"]]
            if v == v:  # not NaN
                break
    else:
        return []
    hit = v > rule["waarde"] if rule["richting"] == "boven" else v < rule["waarde"]
    if not hit:
        return []
    area = area_data.area(state, gm["indeling"], rule["gebied"])
    label = next((i.label for i in mon.INDICATORS if i.field == rule["indicator"]), rule["indicator"])
    return [{"regel": rule, "titel": f"{area.name}: {label} {rule['richting']} {_n(rule['waarde'])}",
             "tekst": f"{label} is {_n(float(v))} in {year} (drempel: {rule['richting']} {_n(rule['waarde'])}).",
             "link": f"/monitor?gebied={area.code}&jaar={year}&indicator={rule['indicator']}",
             "sleutel": f"{rule['id']}:{area.code}:{year}", "datum": f"{year}-12-31"}]


def _d(iso: str) -> str:
    y, m, d = iso[:10].split("-")
    return f"{d}-{m}-{y}"


def _n(v: float) -> str:
    from stadslab.web.formatting import nl_number

    return nl_number(v, 0 if float(v).is_integer() else 1)
