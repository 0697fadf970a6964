"""The Incidentenkaart's computed layers for one dataset and one set of filters, cached.

Per buurt: incidents now and in the previous period, the change and its exact test
(``change_test``), inhabitants and the rate per 1,000 (missing without a population source), and
Getis-Ord Gi* with Benjamini–Hochberg FDR over the buurten (``area_hotspots``). Per 125 m cell:
Gi* + FDR over the municipality's cells (``grid_layer``, built from the analysis module's functions).
The statistics live in ``stadslab.analyses.hotspots``; this module only feeds them the filtered counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request

from stadslab.analyses.hotspots import area_hotspots, area_weights, change_test, rate_per_1000
from stadslab.analyses.hotspots.change import METHOD_CHANGE
from stadslab.portal import field_rules
from stadslab.web.data import areas as area_data
from stadslab.web.data.grid_layer import hotspot_cells, study_size
from stadslab.web.data.incidents import (DAYPARTS, WEEKDAYS, Filters, IncidentSource, frame, gemeente_of, mask,
                                         window)
from stadslab.web.data.population import missing_note, population
from stadslab.web.data.provenance import bron
from stadslab.web.security import current_user

ALPHA = 0.05
INCOMPLETE = "vorige periode onvolledig"
MAX_POINTS = 25_000
SPARSE = 0.1  # incidents per study cell below which the 125 m Gi* map is flagged as indicative


def grid_density(n_points: int, n_cells: int) -> float:
    return n_points / max(n_cells or 1, 1)


def reliable_grid(density: float) -> bool:
    """The one rule for the 125 m layer: the page warns below it, and the default view is chosen by it."""
    return density >= SPARSE


DEFAULT_PERIODS = ("28d", "kwartaal", "jaar")


def default_view(request: Request, src: IncidentSource) -> dict[str, Any]:
    """The shortest period (28 days, a quarter, a year) whose 125 m hotspot layer the page itself calls
    reliable (``reliable_grid``, no other filters); when even a year is too sparse: a year, with the 125 m
    layer off by default (the buurt hotspots stay)."""
    state = request.app.state.stadslab
    df, version = frame(request, src)

    def compute() -> dict[str, Any]:
        gm = gemeente_of(request, src)
        if not len(df):
            return {"periode": "28d", "raster": True, "dichtheid": None}
        n_cells = study_size(state, src.year, gm)
        density = None
        for p in DEFAULT_PERIODS:
            f = Filters(periode=p)
            w = window(df, f)
            m = mask(df, f, w.start, w.end) & df["grid_125m"].notna().to_numpy()
            density = grid_density(int(df.loc[m, "n"].sum()), n_cells)
            if reliable_grid(density):
                return {"periode": p, "raster": True, "dichtheid": density}
        return {"periode": DEFAULT_PERIODS[-1], "raster": False, "dichtheid": density}
    return state.cache.get_or_compute(("incident_default", state.generation, src.id, version), compute)


def analyse(request: Request, src: IncidentSource, f: Filters) -> dict[str, Any]:
    state = request.app.state.stadslab
    df, version = frame(request, src)
    user_key = None if src.dataset.classification == "open" else current_user(request).id
    key = ("incident_analysis", state.generation, src.id, version, f.key(), user_key)
    return state.cache.get_or_compute(key, lambda: _analyse(request, src, f, df, version))


def _analyse(request: Request, src: IncidentSource, f: Filters, df: pd.DataFrame, version: int) -> dict[str, Any]:
    state = request.app.state.stadslab
    w = window(df, f)
    cur = mask(df, f, w.start, w.end)
    prev = mask(df, f, w.prev_start, w.start)
    gm = gemeente_of(request, src)
    notes = list(w.notes)
    buurten = area_data.level_areas(state, src.year, "buurt", gm, f.wijk) if gm else []
    codes = [a.code for a in buurten]
    n_cur = df.loc[cur].groupby("buurt_code")["n"].sum().reindex(codes, fill_value=0)
    n_prev = df.loc[prev].groupby("buurt_code")["n"].sum().reindex(codes, fill_value=0)
    table = pd.DataFrame({"code": codes, "naam": [a.name for a in buurten],
                          "wijk_code": [a.parent_code for a in buurten],
                          "aantal": n_cur.to_numpy(np.int64), "vorige_periode": n_prev.to_numpy(np.int64)})
    wijken = area_data.areas(state, src.year)
    table["wijk"] = table["wijk_code"].map(lambda c: wijken[c].name if c in wijken else c)
    pop = population(state, src.year, gm)
    sources = [(src.id, version)] + area_data.sources(state, src.year)
    if pop is not None:
        table["inwoners"] = pop.per_buurt.reindex(codes).to_numpy(float)
        table["per_1000"] = rate_per_1000(table["aantal"].to_numpy(), table["inwoners"].to_numpy())
        notes.append(pop.note)
        sources.append((pop.dataset, pop.version))
    else:
        table["inwoners"] = np.nan
        table["per_1000"] = np.nan
        notes.append(missing_note(src.year))
    ch = change_test(table["aantal"].to_numpy(), table["vorige_periode"].to_numpy(), alpha=ALPHA)
    table["verandering"] = ch["change"].to_numpy()
    table["p_verandering"] = ch["p"].to_numpy()
    table["verandering_label"] = ch["label"].to_numpy()
    if w.incomplete:  # a comparison with a period the data do not cover would report a fake increase
        table["verandering"], table["p_verandering"], table["verandering_label"] = np.nan, np.nan, INCOMPLETE
    table["gi_z"], table["q"], table["hotspot"] = np.nan, np.nan, ""
    if codes:
        weights = _weights(state, src.year, gm)
        keep = np.isin(weights.codes, codes)
        sub = (weights.codes[keep], weights.W[keep][:, keep])
        hs = area_hotspots(table[["code"]].assign(count=table["aantal"]), sub, alpha=ALPHA).set_index("code")
        table["gi_z"] = hs["gi_z"].reindex(codes).to_numpy()
        table["q"] = hs["q"].reindex(codes).to_numpy()
        table["hotspot"] = np.where(hs["hot"].reindex(codes).fillna(False), "hotspot",
                                    np.where(hs["cold"].reindex(codes).fillna(False), "coldspot", ""))
    total = change_test(int(df.loc[cur, "n"].sum()), int(df.loc[prev, "n"].sum()), alpha=ALPHA).iloc[0].to_dict()
    if w.incomplete:
        total.update(change=None, p=None, label=INCOMPLETE)
    outside = int(df.loc[cur & df["buurt_code"].isna().to_numpy(), "n"].sum())
    if outside:
        notes.append(f"{outside} incident(en) in deze periode liggen buiten alle buurten en tellen alleen in het totaal mee.")
    # with a wijk filter the municipality is not the study area: the incidents' hull is (grid_hotspots default)
    grid = hotspot_cells(state, src.year, None if f.wijk else gm, df.loc[cur, ["grid_125m", "n"]], alpha=ALPHA)
    density = grid_density(grid.attrs.get("n_points", 0), grid.attrs.get("n_cells", 0))
    if len(grid) and not reliable_grid(density):
        notes.append(f"Weinig incidenten per vak van 125 m (gemiddeld {density:.3f}".replace(".", ",") + "): "
                     "dan maken een paar incidenten dicht bij elkaar al een hotspot-vak. Kies een langere periode "
                     "(kwartaal of jaar) voor een betrouwbaarder beeld; de hotspots per buurt zijn robuuster.")
    method = (f"Aantal incidenten per buurt in de periode en in de even lange periode ervoor; verandering getoetst met "
              f"een {METHOD_CHANGE} (α = {ALPHA}). Hotspots per buurt en per 125 m-vak: "
              f"{grid.attrs.get('uitleg', 'Getis-Ord Gi* met Benjamini-Hochberg-correctie')} Per buurt: Gi* op aantallen, "
              f"buren = aangrenzende buurten plus de buurt zelf.")
    block = bron(state, sources, method=method, filters={**f.describe(), **w.describe()}, notes=notes)
    return {"dataset": src.id, "versie": version, "periode": w.describe(), "filters": f.describe(),
            "totaal": {"aantal": int(total["current"]), "vorige_periode": int(total["previous"]),
                       "verandering": None if total["change"] is None else int(total["change"]),
                       "p": None if total["p"] is None else float(total["p"]), "label": total["label"]},
            "buurten": table.sort_values(["aantal", "code"], ascending=[False, True]).reset_index(drop=True),
            "raster": grid, "cur_mask": cur, "notes": notes, "bron": block, "gemeente": gm,
            "heeft_inwoners": pop is not None, "per_soort": _counts(df.loc[cur], "soort"),
            "per_dagdeel": _dayparts(df.loc[cur]), "per_dag": _weekdays(df.loc[cur])}


def _weights(state, year: int, gm: str):
    return state.cache.get_or_compute(("area_weights", state.generation, year, gm),
                                      lambda: area_weights(state.warehouse(), year, "buurt", gm))


def _counts(df: pd.DataFrame, col: str) -> list[dict[str, Any]]:
    s = df.groupby(col)["n"].sum().sort_values(ascending=False)
    return [{"waarde": str(k), "aantal": int(v)} for k, v in s.items()]


def _dayparts(df: pd.DataFrame) -> list[dict[str, Any]]:
    hour = df["_hour"].to_numpy()
    return [{"waarde": name, "aantal": int(df["n"].to_numpy()[(hour >= lo) & (hour < hi)].sum())}
            for name, (lo, hi) in DAYPARTS.items()]


def _weekdays(df: pd.DataFrame) -> list[dict[str, Any]]:
    s = df.groupby("_dow")["n"].sum()
    return [{"waarde": WEEKDAYS[d], "aantal": int(s.get(d, 0))} for d in WEEKDAYS]


# ---- renderings ---------------------------------------------------------------------------------

def buurt_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    t = result["buurten"]
    return t.astype(object).where(t.notna(), None).to_dict(orient="records")


def buurten_geojson(request: Request, src: IncidentSource, result: dict[str, Any]) -> dict[str, Any]:
    state = request.app.state.stadslab
    rows = buurt_rows(result)
    items = [(area_data.area(state, src.year, r["code"]), {k: v for k, v in r.items() if k not in ("code", "naam")})
             for r in rows]
    bbox = area_data.bbox(state, src.year, result["filters"]["wijk"] or result["gemeente"]) if result["gemeente"] else None
    return area_data.feature_collection(state, src.year, items, {
        "periode": result["periode"], "totaal": result["totaal"], "bbox": bbox, "bron": result["bron"]})


def raster_geojson(result: dict[str, Any]) -> dict[str, Any]:
    g = result["raster"]
    show = g  # hotspot_cells returns only the cells worth drawing
    feats = [{"type": "Feature", "id": c, "geometry": {"type": "Polygon", "coordinates": poly},
              "properties": {"cel": c, "aantal": int(n), "gi_z": _f(z), "q": _f(q),
                             "hotspot": "hotspot" if h else ("coldspot" if cold else "")}}
             for c, n, z, q, h, cold, poly in zip(show["grid_125m"], show["count"], show["gi_z"], show["q"],
                                                 show["hot"], show["cold"], show["polygon"])]
    return {"type": "FeatureCollection", "features": feats, "periode": result["periode"],
            "hotspots": int(g["hot"].sum()) if len(g) else 0, "coldspots": int(g["cold"].sum()) if len(g) else 0,
            "uitleg": g.attrs.get("uitleg"), "bron": result["bron"],
            "let_op": next((n for n in result["notes"] if n.startswith("Weinig incidenten")), None)}


def points_geojson(request: Request, src: IncidentSource, result: dict[str, Any]) -> dict[str, Any]:
    df, _ = frame(request, src)
    sel = df.loc[result["cur_mask"] & df["lon"].notna().to_numpy()]
    truncated = len(sel) > MAX_POINTS
    sel = sel.head(MAX_POINTS)
    lon, lat = sel["lon"].round(6).to_numpy(), sel["lat"].round(6).to_numpy()
    # the catalog's field rules (portal/field_rules.py): cell centres, or no single points at all
    shown = field_rules.published_points(src.dataset, lon, lat, sel["grid_125m"].to_numpy())
    lon, lat = shown if shown is not None else (lon[:0], lat[:0])
    soort, tijd = sel["soort"].astype(str).to_numpy(), sel["t"].dt.strftime("%Y-%m-%d %H:%M").to_numpy()
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
              "properties": {"soort": s, "tijd": t}} for x, y, s, t in zip(lon, lat, soort, tijd)]
    note = None
    if src.dataset.classification != "open":
        note = "Losse punten worden alleen voor open data getoond; deze dataset toont aantallen per buurt en vak."
    return {"type": "FeatureCollection", "features": feats, "afgekapt": truncated, "let_op": note,
            "periode": result["periode"], "bron": result["bron"]}


def summary(result: dict[str, Any]) -> dict[str, Any]:
    top = buurt_rows(result)[:10]
    return {"dataset": result["dataset"], "versie": result["versie"], "periode": result["periode"],
            "filters": result["filters"], "totaal": result["totaal"], "top_buurten": top,
            "hotspots_buurt": int((result["buurten"]["hotspot"] == "hotspot").sum()),
            "hotspots_raster": int(result["raster"]["hot"].sum()) if len(result["raster"]) else 0,
            "per_soort": result["per_soort"], "per_dagdeel": result["per_dagdeel"], "per_dag": result["per_dag"],
            "heeft_inwoners": result["heeft_inwoners"], "opmerkingen": result["notes"], "bron": result["bron"]}


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else round(x, 4)
