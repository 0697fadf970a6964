"""Areas for maps and tables: the area registry (``stadslab.areas``) in WGS84, names and hierarchy.

Geometry stays in RD New in the warehouse; it is transformed to WGS84 (EPSG:4326, x = lon) only here,
at the edge, for drawing: simplified with a 1 m tolerance (invisible at city and wijk zoom, halves the
GeoJSON; analyses use the exact polygons in the warehouse), rounded to 6 decimals (≈ 0.1 m), and cached
per division year.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stadslab.errors import GeographyError
from stadslab.web.state import AppState

LEVELS = ("gemeente", "wijk", "buurt")
CHILD = {"gemeente": "wijk", "wijk": "buurt", "buurt": None}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str
    parent_code: str | None
    gemeente_code: str | None
    land_area_ha: float | None


def level_of(code: str) -> str:
    if code.startswith("GM"):
        return "gemeente"
    if code.startswith("WK"):
        return "wijk"
    if code.startswith("BU"):
        return "buurt"
    raise GeographyError(f"'{code}' is geen gebiedscode (verwacht GMxxxx, WKxxxxxx of BUxxxxxxxx)")


def _division(state: AppState, year: int) -> dict[str, Any]:
    """All areas of one division year with geometry (GeoJSON dicts), cached."""
    def compute() -> dict[str, Any]:
        con = state.warehouse().con
        rows = con.execute(
            """SELECT code, name, level, parent_code, gemeente_code, land_area_ha,
                      ST_AsGeoJSON(ST_ReducePrecision(ST_Transform(ST_SimplifyPreserveTopology(geom, 1.0),
                                                      'EPSG:28992', 'EPSG:4326', always_xy := true), 0.000001)),
                      dataset, dataset_version
               FROM stadslab.areas WHERE year = ? AND geom IS NOT NULL ORDER BY level, code""", [year]).fetchall()
        areas, geoms, sources = {}, {}, set()
        for code, name, level, parent, gm, ha, gj, ds, dv in rows:
            areas[code] = Area(code, name or code, level, parent, gm, ha)
            geoms[code] = json.loads(gj) if gj else None
            sources.add((ds, dv))
        return {"areas": areas, "geoms": geoms, "sources": sorted(sources)}

    return state.cache.get_or_compute(("division", state.generation, year), compute)


def division_years(state: AppState) -> list[int]:
    def compute() -> list[int]:
        return [r[0] for r in state.warehouse().con.execute(
            "SELECT DISTINCT year FROM stadslab.areas ORDER BY year").fetchall()]
    return state.cache.get_or_compute(("division_years", state.generation), compute)


def areas(state: AppState, year: int) -> dict[str, Area]:
    return _division(state, year)["areas"]


def area(state: AppState, year: int, code: str) -> Area:
    found = areas(state, year).get(code)
    if found is None:
        raise GeographyError(f"gebied '{code}' bestaat niet in de indeling van {year}",
                             hint="kies een gebied op de kaart of in de tabel")
    return found


def sources(state: AppState, year: int) -> list[tuple[str, int]]:
    """The area datasets (and versions) the geometry of ``year`` comes from, for provenance."""
    return _division(state, year)["sources"]


def children(state: AppState, year: int, code: str) -> list[Area]:
    parent = area(state, year, code)
    child = CHILD[parent.level]
    if child is None:
        return []
    kids = [a for a in areas(state, year).values() if a.level == child and
            (a.parent_code == code if child == "buurt" else a.gemeente_code == code)]
    return sorted(kids, key=lambda a: a.code)


def level_areas(state: AppState, year: int, level: str, gemeente_code: str,
                wijk_code: str | None = None) -> list[Area]:
    out = [a for a in areas(state, year).values() if a.level == level and a.gemeente_code == gemeente_code
           and (wijk_code is None or a.parent_code == wijk_code or a.code == wijk_code)]
    return sorted(out, key=lambda a: a.code)


def trail(state: AppState, year: int, code: str) -> list[Area]:
    """gemeente → wijk → buurt path down to ``code`` (for the breadcrumb)."""
    path, cur = [], area(state, year, code)
    while cur is not None:
        path.append(cur)
        parent = cur.parent_code if cur.level != "gemeente" else None
        cur = areas(state, year).get(parent) if parent else None
    return list(reversed(path))


def geometry(state: AppState, year: int, code: str) -> dict[str, Any] | None:
    return _division(state, year)["geoms"].get(code)


def feature_collection(state: AppState, year: int, items: list[tuple[Area, dict[str, Any]]],
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """GeoJSON FeatureCollection of ``items`` = [(area, properties)], with foreign members in ``extra``."""
    feats = [{"type": "Feature", "id": a.code, "geometry": geometry(state, year, a.code),
              "properties": {"code": a.code, "naam": a.name, "niveau": a.level, **props}} for a, props in items]
    return {"type": "FeatureCollection", "features": feats, **(extra or {})}


def bbox(state: AppState, year: int, code: str) -> list[float] | None:
    """[west, south, east, north] of an area, to fit the map."""
    return state.cache.get_or_compute(("bbox", state.generation, year, code), lambda: _bbox(state, year, code))


def _bbox(state: AppState, year: int, code: str) -> list[float] | None:
    g = geometry(state, year, code)
    if not g:
        return None
    xs, ys = [], []

    def walk(c):
        if isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for part in c:
                walk(part)
    walk(g["coordinates"])
    return [min(xs), min(ys), max(xs), max(ys)]


def context_areas(state: AppState, view: list[float], levels: tuple[str, ...] = ("wijk", "buurt"),
                  limit: int = 600) -> list[tuple[int, Area]]:
    """(division year, area) of every wijk/buurt whose box meets ``view`` [w, s, e, n] — for each municipality
    from its newest division year — so any page's map can draw named outlines around its own layers."""
    def compute() -> list[tuple[int, Area]]:
        newest: dict[str, int] = {}
        hits: dict[str, list[tuple[int, Area]]] = {}
        for year in division_years(state):
            for a in areas(state, year).values():
                if a.level not in levels or not a.gemeente_code:
                    continue
                b = bbox(state, year, a.code)
                if not b or b[0] > view[2] or b[2] < view[0] or b[1] > view[3] or b[3] < view[1]:
                    continue
                newest[a.gemeente_code] = max(newest.get(a.gemeente_code, 0), year)
                hits.setdefault(a.gemeente_code, []).append((year, a))
        out = [(y, a) for gm, items in hits.items() for y, a in items if y == newest[gm]]
        return sorted(out, key=lambda t: (LEVELS.index(t[1].level), t[1].code))[:limit]
    key = ("context_areas", state.generation, tuple(round(v, 3) for v in view), levels)
    return state.cache.get_or_compute(key, compute)


def label_point(state: AppState, year: int, code: str) -> list[float] | None:
    """A point inside the area to write its name at (shapely's representative point: always inside)."""
    def compute() -> list[float] | None:
        from shapely.geometry import shape

        g = geometry(state, year, code)
        if not g:
            return None
        p = shape(g).representative_point()
        return [round(p.x, 6), round(p.y, 6)]
    return state.cache.get_or_compute(("label_point", state.generation, year, code), compute)
