"""GESIMULEERDE weesfietsen (orphan bicycles) in Utrecht: a documented world tied to real figures.

No open bicycle-level removal data exist, so the pilot runs on a simulated world. Every parameter below says
which real figure or which assumption it rests on; everything it produces is marked ``gesimuleerd``.

The world (per 125 m RD cell inside Utrecht's real 2024 buurten, ``data/demo/utrecht/boundaries_2024``):

- **Arrivals of orphan bicycles** per cell and week ~ Poisson(λ_i). The city total is tied to Utrecht 2023:
  30,656 bicycles removed, of which **11,040 parked longer than 28 days** (the weesfietsen) → λ sums to
  11,040 / 52 per week over the candidate cells. λ_i is proportional to an attraction weight: near railway
  stations and shopping centres (approximate public locations below, an assumption), scaled by the buurt's
  population density from CBS Kerncijfers 2024 (real, bundled), times a Gamma(1.5) heterogeneity so some
  streets are much worse than their surroundings (assumption).
- **Decay**: an orphan bicycle disappears by itself (stolen, scrapped) with probability 2 % per week (assumption).
- **Active bicycles** present when a crew labels: Poisson(3 × the cell's weekly λ × 4) (assumption: owners move
  them within 28 days, so their labels come off and they are not removed).
- **Meldingen** about abandoned bicycles per cell and week ~ Poisson(κ × stock) with κ = 0.04 (assumption), in
  the VNG MOR categories "Parkeren - Parkeren Fietsen - Fietswrak" (80 %) and "Afval - Overig afval / lozingen -
  Fietswrak" (20 %) from the bundled VNG reference table.
- **Inspector observations**: each week 3 % of the cells are passed by a handhaver, who counts each orphan with
  probability 0.8 (assumption).
- **Labelling and re-check**: a crew labels every bicycle at a location; from day 28 to day 35 it re-checks and
  removes the labelled orphans still there (issue text; Utrecht's practice). Only **203 of 11,040** removed
  weesfietsen were collected by their owners from the depot in 2023 (1.8 %): the returned-to-owner figure.

``World`` is pure numpy and deterministic per seed, so two policies can be compared on the same arrivals
(common random numbers). ``write_history`` runs the old policy (a whole wijk labelled in rotation) for a year and
writes the three source files the catalog describes.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from pyproj import Transformer

REMOVED_2023 = 30_656          # Utrecht, bicycles removed in 2023
ORPHANS_2023 = 11_040          # of which parked longer than 28 days (weesfietsen)
RETURNED_2023 = 203            # of those, collected by their owners from the depot
RETURN_SHARE = RETURNED_2023 / ORPHANS_2023
CELL_M = 125
LABEL_DAYS = 28
RECHECK_WINDOW_DAYS = 7        # re-check from day 28 up to and including day 35

_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
# Approximate public locations (lat, lon) — an assumption, not a municipal source.
STATIONS = {"Utrecht Centraal": (52.0894, 5.1101), "Utrecht Overvecht": (52.1104, 5.1102),
            "Utrecht Zuilen": (52.1037, 5.0911), "Utrecht Terwijde": (52.1041, 5.0464),
            "Utrecht Leidsche Rijn": (52.0895, 5.0694), "Utrecht Vaartsche Rijn": (52.0795, 5.1251),
            "Utrecht Lunetten": (52.0630, 5.1370), "Vleuten": (52.1007, 5.0155)}
SHOPPING = {"Binnenstad / Hoog Catharijne": (52.0917, 5.1190), "Kanaleneiland Centrum": (52.0717, 5.0975),
            "Winkelcentrum Overvecht": (52.1145, 5.1100), "Leidsche Rijn Centrum": (52.0895, 5.0680),
            "Winkelcentrum Lunetten": (52.0670, 5.1375)}
DEPOT = ("Fietsdepot (aanname: centraal bedrijventerrein)", 52.0830, 5.0960)
MOR_CATEGORIES = (("150", "Parkeren - Parkeren Fietsen - Fietswrak", 0.8),
                  ("182", "Afval - Overig afval / lozingen - Fietswrak", 0.2))


@dataclass(frozen=True)
class WorldParams:
    orphans_per_year: float = ORPHANS_2023
    decay_per_week: float = 0.02
    active_factor: float = 3.0
    melding_rate: float = 0.04
    observe_share: float = 0.03
    observe_detect: float = 0.8
    heterogeneity_shape: float = 1.5
    station_m: float = 350.0
    shopping_m: float = 300.0
    candidates: int = 2000


def _rd(latlon: tuple[float, float]) -> tuple[float, float]:
    return _TO_RD.transform(latlon[1], latlon[0])


@dataclass
class Locations:
    """Candidate locations: 125 m cells with their centre (RD), buurt and wijk code, weekly arrival rate."""

    cell: np.ndarray
    x: np.ndarray
    y: np.ndarray
    buurt: np.ndarray
    wijk: np.ndarray
    rate: np.ndarray      # orphan arrivals per week (the hidden truth)

    def __len__(self) -> int:
        return len(self.cell)


def utrecht_locations(buurten_geojson: Path, kwb_density: dict[str, float] | None, params: WorldParams,
                      rng: np.random.Generator) -> Locations:
    """Cells inside Utrecht's buurten, weighted by stations, shopping and density; the top ``candidates``."""
    from shapely import contains_xy
    from shapely.geometry import shape

    data = json.loads(Path(buurten_geojson).read_text(encoding="utf-8"))
    cells, xs, ys, bu, wk = [], [], [], [], []
    for feat in data["features"]:
        props = feat["properties"]
        code = next(v for v in props.values() if isinstance(v, str) and v.startswith("BU"))
        wijk = next((v for v in props.values() if isinstance(v, str) and v.startswith("WK")), "WK" + code[2:8])
        geom = shape(feat["geometry"])
        x0, y0, x1, y1 = geom.bounds
        ix = np.arange(int(x0 // CELL_M), int(x1 // CELL_M) + 1)
        iy = np.arange(int(y0 // CELL_M), int(y1 // CELL_M) + 1)
        gx, gy = np.meshgrid(ix, iy)
        cx, cy = (gx.ravel() + 0.5) * CELL_M, (gy.ravel() + 0.5) * CELL_M
        inside = contains_xy(geom, cx, cy)
        for a, b, px, py in zip(gx.ravel()[inside], gy.ravel()[inside], cx[inside], cy[inside]):
            cells.append(f"E{a}N{b}")
            xs.append(px), ys.append(py), bu.append(code), wk.append(wijk)
    x, y = np.array(xs), np.array(ys)
    st = np.array([_rd(v) for v in STATIONS.values()])
    sh = np.array([_rd(v) for v in SHOPPING.values()])
    d_st = np.min(np.hypot(x[:, None] - st[:, 0], y[:, None] - st[:, 1]), axis=1)
    d_sh = np.min(np.hypot(x[:, None] - sh[:, 0], y[:, None] - sh[:, 1]), axis=1)
    dens = np.array([(kwb_density or {}).get(b, np.nan) for b in bu], dtype=float)
    med = np.nanmedian(dens) if np.isfinite(dens).any() else 1.0
    dens = np.where(np.isfinite(dens) & (dens > 0), dens, med) / med
    weight = (0.3 + 8.0 * np.exp(-d_st / params.station_m) + 3.0 * np.exp(-d_sh / params.shopping_m)) * np.sqrt(dens)
    weight *= rng.gamma(params.heterogeneity_shape, 1.0 / params.heterogeneity_shape, size=len(weight))
    keep = np.argsort(-weight)[: params.candidates]
    keep.sort()
    w = weight[keep]
    rate = w / w.sum() * params.orphans_per_year / 52.0
    return Locations(np.array(cells)[keep], x[keep], y[keep], np.array(bu)[keep], np.array(wk)[keep], rate)


@dataclass
class Label:
    """Labels placed at one location on one day: the orphans among them are removed at re-check."""

    loc: int
    day: date
    labelled: int
    orphans: int


@dataclass
class World:
    """The hidden state: orphan stock per location, and labels waiting for their re-check."""

    locs: Locations
    params: WorldParams
    seed: int
    stock: np.ndarray = field(init=False)
    pending: list[Label] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stock = np.zeros(len(self.locs), dtype=np.int64)

    def rng_for(self, week: int, stream: int) -> np.random.Generator:
        """Independent, reproducible random stream per week and purpose (common random numbers)."""
        return np.random.default_rng([self.seed, week, stream])

    def advance_week(self, week: int) -> dict[str, np.ndarray]:
        """One week passes: decay, arrivals, meldingen, observations. Returns what the city could see."""
        rng = self.rng_for(week, 1)
        survivors = rng.binomial(self.stock, 1.0 - self.params.decay_per_week)
        for lab in self.pending:                  # labelled orphans decay too
            lab.orphans = int(rng.binomial(lab.orphans, 1.0 - self.params.decay_per_week))
        self.stock = survivors + rng.poisson(self.locs.rate)
        meldingen = rng.poisson(self.params.melding_rate * self.stock)
        observed_mask = rng.random(len(self.stock)) < self.params.observe_share
        observed = np.where(observed_mask, rng.binomial(self.stock, self.params.observe_detect), -1)
        return {"meldingen": meldingen, "observed": observed}

    def label(self, loc: int, day: date, week: int) -> Label:
        """A crew labels every bicycle at ``loc``: all orphans there now, and some active bicycles."""
        rng = self.rng_for(week * 10_000 + loc, 2)
        active = int(rng.poisson(self.params.active_factor * self.locs.rate[loc] * 4))
        orphans = int(self.stock[loc])
        self.stock[loc] = 0                       # labelled orphans are tracked in ``pending``
        lab = Label(loc, day, orphans + active, orphans)
        self.pending.append(lab)
        return lab

    def recheck(self, lab: Label) -> int:
        """Day 28 or later: remove the labelled orphans still there."""
        self.pending.remove(lab)
        return lab.orphans

    def due(self, day: date) -> list[Label]:
        return [lab for lab in self.pending if (day - lab.day).days >= LABEL_DAYS]


def kwb_density(kwb_xlsx: Path) -> dict[str, float]:
    """Population density (inwoners per km²) per buurt from the bundled CBS Kerncijfers 2024 file."""
    import pandas as pd

    df = pd.read_excel(kwb_xlsx, engine="calamine")
    code = next(c for c in df.columns if str(c).lower().startswith("gwb_code_10"))
    dens = next(c for c in df.columns if str(c).lower() == "bev_dich")
    vals = pd.to_numeric(df[dens], errors="coerce")
    return {str(k): float(v) for k, v in zip(df[code], vals) if str(k).startswith("BU") and pd.notna(v)}


def wijk_rotation(locs: Locations, week: int, per_week: int) -> list[int]:
    """The old policy: label every location of the next wijk(en) in a fixed rotation, as many as fit."""
    wijken = sorted(set(locs.wijk))
    order = np.concatenate([np.flatnonzero(locs.wijk == w) for w in wijken])
    start = (week * per_week) % len(order)
    idx = np.concatenate([order, order])[start:start + per_week]
    return [int(i) for i in idx]


def record_signals(world: World, week: int, monday: date, seen: dict[str, np.ndarray], meldingen: list,
                   waarnemingen: list) -> None:
    """Turn a week's hidden meldingen and inspector counts into the records the city receives."""
    locs = world.locs
    wr = world.rng_for(week, 3)
    for loc in np.flatnonzero(seen["meldingen"]):
        for _ in range(int(seen["meldingen"][loc])):
            cat = MOR_CATEGORIES[0] if wr.random() < MOR_CATEGORIES[0][2] else MOR_CATEGORIES[1]
            t = datetime.combine(monday, datetime.min.time()) + timedelta(minutes=int(wr.integers(0, 7 * 1440)))
            meldingen.append((f"M{len(meldingen) + 1:06d}", t, cat[0], cat[1],
                              locs.x[loc] + wr.uniform(-60, 60), locs.y[loc] + wr.uniform(-60, 60), int(loc)))
    for loc in np.flatnonzero(seen["observed"] >= 0):
        t = datetime.combine(monday + timedelta(days=int(wr.integers(0, 5))), datetime.min.time()) + timedelta(hours=10)
        waarnemingen.append((f"W{len(waarnemingen) + 1:06d}", t, int(seen["observed"][loc]),
                             locs.x[loc], locs.y[loc], int(loc)))


def run_old_policy(world: World, start: date, weeks: int, per_week: int, on_week=None) -> dict[str, list]:
    """The old policy for ``weeks``: re-check what is due, then label the next wijk(en) in rotation.

    ``on_week(week, monday, world)`` is called after the week's arrivals and before its work (backtests read the
    hidden truth there). Returns the records a city would hold: acties, meldingen, waarnemingen."""
    locs = world.locs
    acties: list = []
    meldingen: list = []
    waarnemingen: list = []
    for week in range(weeks):
        monday = start + timedelta(weeks=week)
        seen = world.advance_week(week)
        if on_week is not None:
            on_week(week, monday, world)
        record_signals(world, week, monday, seen, meldingen, waarnemingen)
        for i, lab in enumerate(sorted(world.due(monday), key=lambda l: l.day)):
            day = monday + timedelta(days=i % 5)
            if (day - lab.day).days > LABEL_DAYS + RECHECK_WINDOW_DAYS:
                day = lab.day + timedelta(days=LABEL_DAYS + RECHECK_WINDOW_DAYS)
            removed = world.recheck(lab)
            acties.append((lab.loc, lab.day, lab.labelled, day, removed, CREWS[lab.loc % 3]))
        for j, loc in enumerate(wijk_rotation(locs, week, per_week)):
            world.label(loc, monday + timedelta(days=j % 5), week)
    acties += [(lab.loc, lab.day, lab.labelled, None, None, CREWS[lab.loc % 3]) for lab in world.pending]
    return {"acties": acties, "meldingen": meldingen, "waarnemingen": waarnemingen}


CREWS = ("ploeg A", "ploeg B", "ploeg C")
HISTORY_START = date(2023, 1, 2)
HISTORY_WEEKS = 52
HISTORY_PER_WEEK = 250


def write_history(folder: Path, *, buurten_geojson: Path, kwb_xlsx: Path | None, start: date = HISTORY_START,
                  weeks: int = HISTORY_WEEKS, seed: int = 2023, per_week: int = HISTORY_PER_WEEK,
                  params: WorldParams = WorldParams()) -> dict[str, object]:
    """Run the old policy for ``weeks`` and write acties.csv, meldingen.csv, waarnemingen.csv (gesimuleerd)."""
    rng = np.random.default_rng(seed)
    density = kwb_density(kwb_xlsx) if kwb_xlsx and Path(kwb_xlsx).exists() else None
    locs = utrecht_locations(buurten_geojson, density, params, rng)
    world = World(locs, params, seed)
    rec = run_old_policy(world, start, weeks, per_week)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "acties.csv", ["actie_id", "locatie", "x", "y", "datum_gelabeld", "aantal_gelabeld",
                                   "datum_gecontroleerd", "aantal_verwijderd", "ploeg"],
           [(f"A{i + 1:06d}", locs.cell[l], f"{locs.x[l]:.0f}", f"{locs.y[l]:.0f}", d.isoformat(), n,
             c.isoformat() if c else "", "" if r is None else r, crew)
            for i, (l, d, n, c, r, crew) in enumerate(rec["acties"])])
    _write(folder / "meldingen.csv", ["melding_id", "tijd", "mor_id", "categorie", "x", "y"],
           [(m, t.strftime("%Y-%m-%d %H:%M:%S"), c, cat, f"{x:.0f}", f"{y:.0f}")
            for m, t, c, cat, x, y, _ in rec["meldingen"]])
    _write(folder / "waarnemingen.csv", ["waarneming_id", "tijd", "aantal_weesfietsen", "x", "y"],
           [(w, t.strftime("%Y-%m-%d %H:%M:%S"), n, f"{x:.0f}", f"{y:.0f}") for w, t, n, x, y, _ in rec["waarnemingen"]])
    (folder / "SIMULATED.txt").write_text(
        "GESIMULEERD door stadslab/demo/weesfietsen_sim.py (seed %d): geen echte verwijderingen, meldingen of "
        "waarnemingen. Parameters en de echte cijfers waaraan ze gekoppeld zijn: zie de moduledocumentatie en "
        "docs/weesfietsen.md.\n" % seed, encoding="utf-8")
    return {"locations": len(locs), "acties": len(rec["acties"]), "meldingen": len(rec["meldingen"]),
            "waarnemingen": len(rec["waarnemingen"]), "end": (start + timedelta(weeks=weeks)).isoformat(), "seed": seed}


def _write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def demo_world(repo_data: Path, seed: int = 2023, params: WorldParams = WorldParams()) -> World:
    """The demo's world (same seed as ``write_history``), rebuilt for simulations and backtests."""
    rng = np.random.default_rng(seed)
    kwb = repo_data / "utrecht" / "kwb" / "kwb-2024-utrecht.xlsx"
    locs = utrecht_locations(repo_data / "utrecht" / "boundaries_2024" / "utrecht_buurten_2024_rd.geojson",
                             kwb_density(kwb) if kwb.exists() else None, params, rng)
    return World(locs, params, seed)


def build_demo(workspace_root: Path, repo_data: Path) -> dict[str, object]:
    """``stadslab init --demo``: write the simulated weesfietsen history into the workspace's data folder."""
    return write_history(Path(workspace_root) / "data" / "weesfietsen",
                         buurten_geojson=repo_data / "utrecht" / "boundaries_2024" / "utrecht_buurten_2024_rd.geojson",
                         kwb_xlsx=repo_data / "utrecht" / "kwb" / "kwb-2024-utrecht.xlsx")
