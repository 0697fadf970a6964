"""Travel distances and times between the points of a routing problem.

Default: straight-line distance between RD coordinates (EPSG:28992, metres) times an urban
*circuity factor*, driven at an average speed.

- Circuity 1.3 (default). Newell (1980, "Traffic flow on transportation networks", MIT Press) finds
  network distance between random points in a city about 1.2 × the Euclidean distance; O'Sullivan &
  Morrall (1996) measured 1.21–1.23 around stations; Giacomin & Levinson (2015, "Road network
  circuity in metropolitan areas", Environment and Planning B 42(6)) report 1.2–1.4 for metropolitan
  networks, higher for short trips. Stops on a refuse or handhaving round are a few hundred metres
  apart in streets with one-way traffic and canals, so we take the upper middle of that range.
  Assumption, to be replaced by the municipality's own matrix where it has one.
- Speed 20 km/h (default): an average door-to-door speed of a heavy vehicle in Dutch city streets
  (30 km/h zones, junctions, parking manoeuvres). Assumption; the service time at a stop is separate.

Alternative: a CSV the municipality exports from its own routing engine (OSRM, Valhalla, ArcGIS
Network Analyst...), long format with columns ``van``, ``naar``, ``afstand_m``, ``reistijd_s``
(English ``from``, ``to``, ``distance_m``, ``duration_s`` also accepted), one row per ordered pair.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stadslab.errors import ReaderError

from .model import RoutingProblem, TravelMatrix

DEFAULT_CIRCUITY = 1.3
DEFAULT_SPEED_KMH = 20.0
_COLUMNS = {"van": "from", "naar": "to", "afstand_m": "distance_m", "reistijd_s": "duration_s"}


def straight_line_matrix(xy: np.ndarray, *, circuity: float = DEFAULT_CIRCUITY,
                         speed_kmh: float = DEFAULT_SPEED_KMH) -> TravelMatrix:
    """Matrices for points ``xy`` (n × 2, RD metres): ``round(|p - q| × circuity)`` metres and the
    time to drive that at ``speed_kmh``, whole seconds."""
    xy = np.asarray(xy, dtype=float)
    diff = xy[:, None, :] - xy[None, :, :]
    metres = np.sqrt((diff ** 2).sum(axis=-1)) * circuity
    seconds = metres / (speed_kmh / 3.6)
    return TravelMatrix(np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64),
                        source=f"hemelsbreed × {circuity:g} (omrijfactor) bij {speed_kmh:g} km/u")


def matrix_for(problem: RoutingProblem) -> TravelMatrix:
    """The problem's own matrix, or the straight-line one from its coordinates."""
    if problem.travel is not None:
        n = len(problem.sites) + len(problem.stops)
        for name, m in (("afstanden", problem.travel.distance_m), ("reistijden", problem.travel.duration_s)):
            if m.shape != (n, n):
                raise ValueError(f"matrix met {name} is {m.shape}, verwacht {n} × {n}")
        return problem.travel
    xy = np.array([(x, y) for _, x, y in problem.points()], dtype=float)
    return straight_line_matrix(xy, circuity=problem.circuity, speed_kmh=problem.speed_kmh)


def read_matrix_csv(path: str | Path, point_ids: list[str]) -> TravelMatrix:
    """Read a long-format travel-time CSV for the points ``point_ids`` (matrix order).

    Every ordered pair of distinct points must be present once; the diagonal is 0 and may be left
    out. Errors name the file, the row (as the user sees it, header = row 1) and the column.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReaderError(f"kan het bestand niet lezen ({exc})", file=str(path)) from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    df = df.rename(columns=_COLUMNS)
    missing = [c for c in ("from", "to", "distance_m", "duration_s") if c not in df.columns]
    if missing:
        dutch = {v: k for k, v in _COLUMNS.items()}
        raise ReaderError("kolom ontbreekt", file=str(path), column=", ".join(dutch[m] for m in missing),
                          expected="kolommen van, naar, afstand_m, reistijd_s")
    rows = np.arange(len(df)) + 2
    index = {pid: i for i, pid in enumerate(point_ids)}
    src = df["from"].str.strip().map(index)
    dst = df["to"].str.strip().map(index)
    for col, mapped, dutch in (("from", src, "van"), ("to", dst, "naar")):
        bad = mapped.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ReaderError(f"onbekend punt '{df[col].iloc[i]}' ({int(bad.sum())} rijen met onbekende punten)",
                              file=str(path), row=int(rows[i]), column=dutch,
                              expected="een id van een depot, stortplaats of stop in dit plan")
    values = {}
    for col, dutch in (("distance_m", "afstand_m"), ("duration_s", "reistijd_s")):
        num = pd.to_numeric(df[col].str.strip().str.replace(",", ".", regex=False), errors="coerce").to_numpy()
        bad = ~np.isfinite(num) | (num < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ReaderError(f"waarde '{df[col].iloc[i]}' is geen getal ≥ 0", file=str(path),
                              row=int(rows[i]), column=dutch, expected="een niet-negatief getal")
        values[col] = np.rint(num).astype(np.int64)
    i_from, i_to = src.to_numpy(dtype=np.int64), dst.to_numpy(dtype=np.int64)
    n = len(point_ids)
    key = i_from * n + i_to
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        k = int(uniq[counts > 1][0])
        dup_rows = rows[key == k]
        raise ReaderError(f"paar {point_ids[k // n]} → {point_ids[k % n]} staat er meer dan eens in "
                          f"(rijen {', '.join(map(str, dup_rows[:5]))})", file=str(path), row=int(dup_rows[1]),
                          expected="één rij per paar van, naar")
    dist = np.full((n, n), -1, dtype=np.int64)
    dur = np.full((n, n), -1, dtype=np.int64)
    dist[i_from, i_to] = values["distance_m"]
    dur[i_from, i_to] = values["duration_s"]
    np.fill_diagonal(dist, 0)
    np.fill_diagonal(dur, 0)
    holes = np.argwhere(dist < 0)
    if len(holes):
        a, b = holes[0]
        raise ReaderError(f"{len(holes)} paren ontbreken, bijvoorbeeld {point_ids[a]} → {point_ids[b]}",
                          file=str(path), expected=f"alle {n * (n - 1)} paren van {n} punten")
    return TravelMatrix(dist, dur, source=f"reistijdenmatrix {path.name}")
