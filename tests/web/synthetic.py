"""Synthetic incidents in Utrecht for the web tests (generated at test time, never committed).

Four offence types over 2024, points drawn uniformly inside Utrecht's 2024 buurten, plus two planted
patterns the tests look for: a cluster of bicycle thefts around the station (a hotspot) and a burst of
car break-ins in one buurt in the last 28 days (a significant increase)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from shapely.geometry import Point, shape

TYPES = ("woninginbraak", "autokraak", "fietsdiefstal", "vernieling")
STATION_RD = (135900.0, 455950.0)           # Utrecht Centraal, RD New
BURST_BUURT = "BU03440312"                   # gets 40 extra car break-ins in the last 28 days of 2024
END = datetime(2024, 12, 31, 23, 0)

ENTRY = {
    "id": "utrecht_incidenten_test", "title": "Incidenten Utrecht 2024 (synthetisch, test)",
    "owner": "Politie (test)", "classification": "open", "simulated": True,
    "description": "Synthetische incidenten voor de webtests.", "purposes": ["veiligheid"],
    "update_frequency": "dagelijks",
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "test/incidenten_utrecht.csv", "options": {"delimiter": ";"}},
    "fields": [
        {"name": "incident_id", "type": "string", "nullable": False, "unique": True},
        {"name": "soort", "type": "string", "codes": list(TYPES)},
        {"name": "tijd", "type": "datetime", "role": "time", "format": "%Y-%m-%d %H:%M:%S"},
        {"name": "x", "type": "number", "role": "x", "unit": "m"},
        {"name": "y", "type": "number", "role": "y", "unit": "m"},
    ],
}


def buurt_polygons(geojson_rd: Path) -> dict[str, object]:
    data = json.loads(geojson_rd.read_text(encoding="utf-8"))
    out = {}
    for f in data["features"]:
        props = f["properties"]
        code = next(v for k, v in props.items() if isinstance(v, str) and v.startswith("BU"))
        out[code] = shape(f["geometry"])
    return out


def _inside(rng: np.random.Generator, poly, n: int) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = poly.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        xs = rng.uniform(x0, x1, n * 3)
        ys = rng.uniform(y0, y1, n * 3)
        pts += [(x, y) for x, y in zip(xs, ys) if poly.contains(Point(x, y))][: n - len(pts)]
    return pts


def write_incidents(path: Path, geojson_rd: Path, *, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    polys = buurt_polygons(geojson_rd)
    rows: list[tuple[str, str, str, float, float]] = []
    start = datetime(2024, 1, 1)
    span_h = int((END - start).total_seconds() // 3600)

    def when() -> datetime:
        return start + timedelta(hours=int(rng.integers(0, span_h)))

    codes = sorted(polys)
    for code in codes:                               # background: ~20 per buurt, all types
        for x, y in _inside(rng, polys[code], 20):
            rows.append((TYPES[int(rng.integers(0, len(TYPES)))], when().strftime("%Y-%m-%d %H:%M:%S"), "", x, y))
    for _ in range(300):                             # bicycle thefts within ~250 m of the station
        x = STATION_RD[0] + rng.normal(0, 120)
        y = STATION_RD[1] + rng.normal(0, 120)
        rows.append(("fietsdiefstal", when().strftime("%Y-%m-%d %H:%M:%S"), "", x, y))
    for x, y in _inside(rng, polys[BURST_BUURT], 40):   # the burst: last 28 days only
        t = END - timedelta(hours=int(rng.integers(1, 27 * 24)))
        rows.append(("autokraak", t.strftime("%Y-%m-%d %H:%M:%S"), "", x, y))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["incident_id", "soort", "tijd", "x", "y"])
        for i, (soort, tijd, _, x, y) in enumerate(rows):
            w.writerow([f"T{i:06d}", soort, tijd, f"{x:.1f}", f"{y:.1f}"])
    return len(rows)
