"""Map search and map settings shared by every page's map: the base layer (PDOK BRT-Achtergrondkaart by
default, configurable under ``web.basemap`` in stadslab.yaml), named area outlines around the view, and a
search over wijk and buurt names and the street names of open incident datasets.

Streets come from the catalog: a field with ``role: address`` (e.g. ``straat``) of an *open* point dataset.
Per street the count and the box of its incidents are computed in the warehouse (one GROUP BY), never per
row in Python. The catalog's field-level publication rules (``privacy.publish``, portal/field_rules.py)
are obeyed: a street field the rules leave out is searchable only for logged-in users (staff who may read
the dataset anyway), never for the public API.
"""

from __future__ import annotations

from typing import Any

from stadslab.web.data import areas as area_data
from stadslab.web.state import AppState

PDOK_BRT = {
    "naam": "PDOK BRT-Achtergrondkaart",
    "tiles": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png",
    "attributie": "Achtergrondkaart © Kadaster / PDOK (BRT-Achtergrondkaart, CC BY 4.0)",
    "maxzoom": 19,
}


def basemap(state: AppState) -> dict[str, Any] | None:
    """The configured base layer, or None when switched off (``web: {basemap: false}``).

    ``web.basemap`` may be ``pdok`` (the default), ``false``, or a mapping with ``tiles`` (an XYZ URL),
    ``attributie`` and optionally ``naam``/``maxzoom``. The browser only uses it when a first tile loads;
    offline the map falls back to area outlines with names (tests and air-gapped installs)."""
    web = state.workspace.config.get("web") or {}
    conf = web.get("basemap", "pdok")
    if conf in (False, None, "geen", "uit", "off"):
        return None
    if conf == "pdok" or conf is True:
        return dict(PDOK_BRT)
    if isinstance(conf, dict) and conf.get("tiles"):
        return {**PDOK_BRT, "naam": conf.get("naam", "achtergrondkaart"), **conf}
    return None


def outlines(state: AppState, view: list[float]) -> dict[str, Any]:
    """Wijk and buurt outlines (with a label point and the name) around ``view``."""
    feats = []
    for year, a in area_data.context_areas(state, view):
        feats.append({"type": "Feature", "id": a.code, "geometry": area_data.geometry(state, year, a.code),
                      "properties": {"code": a.code, "naam": a.name, "niveau": a.level, "jaar": year,
                                     "label": area_data.label_point(state, year, a.code)}})
    return {"type": "FeatureCollection", "features": feats}


def street_index(state: AppState, known_user: bool = False) -> list[dict[str, Any]]:
    """Every street of every open point dataset with an address field: name, count, box, municipality."""
    from stadslab.portal.field_rules import rules_of

    def compute() -> list[dict[str, Any]]:
        wh = state.warehouse()
        out: dict[str, dict[str, Any]] = {}
        for ds in state.catalog:
            f = ds.field_with_role("address")
            if f is None or not ds.is_point or ds.classification != "open" or wh.current_version(ds.id) is None:
                continue
            if not known_user and rules_of(ds).rule(f.name) != "publish":
                continue   # the catalog does not publish this field: not for the public
            t = wh.table(ds.id)
            t = t.filter(t[f.name].notnull() & t["lon"].notnull())
            g = (t.group_by(straat=t[f.name])
                 .aggregate(n=t.count(), w=t["lon"].min(), s=t["lat"].min(), e=t["lon"].max(), nn=t["lat"].max(),
                            gm=t["gemeente_code"].mode()))
            for r in g.to_pandas().itertuples(index=False):
                key = f"{r.straat}|{r.gm}"
                item = out.setdefault(key, {"naam": str(r.straat), "gemeente_code": r.gm, "aantal": 0,
                                            "bbox": [r.w, r.s, r.e, r.nn], "datasets": []})
                item["aantal"] += int(r.n)
                b = item["bbox"]
                item["bbox"] = [min(b[0], r.w), min(b[1], r.s), max(b[2], r.e), max(b[3], r.nn)]
                item["datasets"].append(ds.id)
        return list(out.values())
    return state.cache.get_or_compute(("street_index", state.generation, known_user), compute)


def search(state: AppState, q: str, view: list[float] | None, limit: int = 12,
           known_user: bool = False) -> list[dict[str, Any]]:
    """Areas (wijk, buurt) and streets whose name contains ``q``; those in or near the view first."""
    q = q.strip().lower()
    if len(q) < 2:
        return []
    hits = []
    years = area_data.division_years(state)
    seen = set()
    for year in reversed(years):  # newest division first: a renamed buurt is found under its current name
        for a in area_data.areas(state, year).values():
            if a.level not in ("wijk", "buurt") or q not in a.name.lower() or (a.code, a.name) in seen:
                continue
            seen.add((a.code, a.name))
            b = area_data.bbox(state, year, a.code)
            hits.append({"soort": a.level, "naam": a.name, "code": a.code, "jaar": year, "bbox": b,
                         "gemeente_code": a.gemeente_code, "_near": _near(b, view),
                         "_start": a.name.lower().startswith(q)})
    for s in street_index(state, known_user):
        if q in s["naam"].lower():
            hits.append({"soort": "straat", "naam": s["naam"], "bbox": s["bbox"], "aantal": s["aantal"],
                         "gemeente_code": s["gemeente_code"], "_near": _near(s["bbox"], view),
                         "_start": s["naam"].lower().startswith(q)})
    hits.sort(key=lambda h: (not h["_near"], not h["_start"], h["soort"] != "wijk", h["naam"]))
    return [{k: v for k, v in h.items() if not k.startswith("_")} for h in hits[:limit]]


def _near(b: list[float] | None, view: list[float] | None) -> bool:
    if not b or not view:
        return False
    return not (b[0] > view[2] or b[2] < view[0] or b[1] > view[3] or b[3] < view[1])
