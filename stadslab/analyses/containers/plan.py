"""Daily emptying plan for underground containers with fill sensors: which containers today, in which
order per truck, with trips to a dump (afvaloverslag) when the truck is full.

Method (after Wouda, Aerts-Veenstra & van Foreest 2024, "An Integrated Approach to Waste Collection
with Sensor Data", arXiv:2409.13386, who planned Groningen's underground containers this way):

1. For every container the fill forecast gives the level now and a rate (% of volume per day) with
   uncertainty. The level at the *next possible visit* (the middle of the next collection day's
   shift; no collection on Sunday) is normal with mean ``level + rate × Δt`` and variance
   ``sd_level² + (sd_rate × Δt)²``; ``p_overflow = P(level ≥ 100 %)``.
2. ``p_overflow ≥ required_p`` (default 0.5: the median forecast overflows before we can come back)
   → **required** today. Otherwise, above ``candidate_p``, the container is **optional** with a prize
   ``overflow_cost × p_overflow``: the solver empties it when the expected overflow cost it avoids
   outweighs the detour (driving and working time, in the same cost units).
3. A prize-collecting VRP with reloads at dumps (``stadslab.analyses.routing``) plans the trucks.

Demand of a stop: the expected waste at mid-shift in kg (level × volume × density of the fraction).
Everything about Den Haag's depots, fleet and costs is an assumption (``DEN_HAAG_SITES``,
``Fleet``), stated on the page; the sensor feed in the demo is gesimuleerd.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.special import ndtr

from stadslab.analyses.routing import (Plan, RoutingProblem, Site, SolveOptions, Stop, Vehicle, solve)

TZ = ZoneInfo("Europe/Amsterdam")
COST_UNITS_PER_EURO = 10_000          # routing costs are whole 0.01 euro-cent
DENSITY_KG_M3 = {"Rest": 110.0, "Papier": 60.0, "GFT": 350.0, "Plastic, blik en drankpak": 25.0,
                 "Glas": 300.0, "Glas combi": 300.0, "Glas bont": 300.0, "Textiel": 150.0}
_TO_RD = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)

# Assumptions from public knowledge, approximate locations (not from a municipal source):
# Haagse Milieu Services (HMS) runs collection from the Binckhorst (Zonweg); Den Haag's
# afvalbrengstations include Zonweg (Binckhorst, east) and Kerketuinenweg (Escamp, south-west). We
# let the trucks park at the Zonweg depot and unload at either station (a transfer station, from
# where waste goes on to the incinerator). Replace with the municipality's own sites.
DEN_HAAG_SITES: tuple[Site, ...] = (
    Site("hms_zonweg", "HMS-depot Zonweg (Binckhorst) — aanname", *_TO_RD.transform(4.3418, 52.0796), kind="depot"),
    Site("stort_zonweg", "Afvaloverslag Zonweg (Binckhorst) — aanname", *_TO_RD.transform(4.3430, 52.0790),
         kind="dump", service_s=15 * 60, open_s=7 * 3600, close_s=17 * 3600),
    Site("stort_kerketuinenweg", "Afvalbrengstation Kerketuinenweg (Escamp) — aanname",
         *_TO_RD.transform(4.2622, 52.0453), kind="dump", service_s=15 * 60, open_s=7 * 3600, close_s=17 * 3600),
)


@dataclass(frozen=True)
class Fleet:
    """Trucks of one kind (assumptions): a crane truck with press for underground containers
    ('kraanwagen'), ~9 t payload, 07:00–15:30 with at most 8 h on the road, ~4 min per container
    (lift, empty, put back), €1.50/km and €75/h (driver and truck)."""

    trucks: int = 8
    capacity_kg: int = 9_000
    shift_start: time = time(7, 0)
    shift_end: time = time(15, 30)
    max_shift_h: float = 8.0
    service_s: int = 240
    euro_per_km: float = 1.5
    euro_per_hour: float = 75.0
    euro_per_truck_day: float = 0.0
    depot: str = "hms_zonweg"
    dumps: tuple[str, ...] = ("stort_zonweg", "stort_kerketuinenweg")


@dataclass(frozen=True)
class PlanSettings:
    fraction: str = "Rest"
    overflow_cost_eur: float = 40.0     # cleaning up bijplaatsingen, a melding, the street's look (aanname)
    fill_value_eur: float = 0.0         # prize per full container for the waste itself (empty while passing by)
    prize_lookahead: int = 1            # prize from P(overflow) by the n-th next collection day (1 = next)
    required_p: float = 0.5
    candidate_p: float = 0.01
    max_candidates: int = 1_000
    collection_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5)   # Mon–Sat


@dataclass
class DayPlan:
    day: date
    settings: PlanSettings
    fleet: Fleet
    candidates: pd.DataFrame            # one row per candidate container (see select_candidates)
    problem: RoutingProblem
    plan: Plan
    sites: tuple[Site, ...] = field(default=DEN_HAAG_SITES)
    simulated: bool = True
    estimator: str = ""

    def stops_table(self) -> pd.DataFrame:
        """One row per route step: truck, volgorde, soort, container/site, times (local), load, leg."""
        c = self.candidates.set_index("container_id")
        site = {s.id: s for s in self.sites}
        rows = []
        for r in self.plan.routes:
            for k, e in enumerate(r.events):
                ref_site = site.get(e.via or e.ref) if e.kind != "stop" else None
                rows.append({
                    "truck": r.vehicle, "volgorde": k, "soort": e.kind, "ref": e.ref, "via": e.via, "rit": e.trip,
                    "aankomst_s": e.arrival_s, "start_s": e.start_s, "vertrek_s": e.departure_s,
                    "lading_kg": e.load, "rit_m": e.leg_m,
                    "lon": float(c.at[e.ref, "lon"]) if e.kind == "stop" else _lon(ref_site),
                    "lat": float(c.at[e.ref, "lat"]) if e.kind == "stop" else _lat(ref_site),
                    "vulgraad": float(c.at[e.ref, "vulgraad"]) if e.kind == "stop" else None,
                    "p_overloop": float(c.at[e.ref, "p_overloop"]) if e.kind == "stop" else None,
                    "verplicht": bool(c.at[e.ref, "verplicht"]) if e.kind == "stop" else None,
                    "buurt": str(c.at[e.ref, "buurt"]) if e.kind == "stop" else "",
                    "naam": (ref_site.name if ref_site else ""), "datum": self.day.isoformat(),
                    "gesimuleerd": self.simulated})
        return pd.DataFrame(rows)

    def summary(self) -> dict:
        p = self.plan
        req = int(self.candidates["verplicht"].sum())
        return {"datum": self.day.isoformat(), "fractie": self.settings.fraction,
                "kandidaten": len(self.candidates), "verplicht": req,
                "geleegd_gepland": len(p.served), "trucks_ingezet": len(p.routes), "trucks": self.fleet.trucks,
                "km": round(p.distance_m / 1000, 1), "truckuren": round(p.duration_s / 3600, 2),
                "stortritten": sum(r.reloads for r in p.routes) + len(p.routes),
                "niet_ingepland_verplicht": [{"container": u.stop, "reden": u.reason} for u in p.unserved_required],
                "toegelaten": p.feasible, "problemen": list(p.problems),
                "reistijden": p.travel_source, "vulgraadschatting": self.estimator, "rekentijd_s": round(p.runtime_s, 1), "gesimuleerd": self.simulated}


def _lon(site: Site | None) -> float | None:
    return None if site is None else float(_TO_WGS.transform(site.x, site.y)[0])


def _lat(site: Site | None) -> float | None:
    return None if site is None else float(_TO_WGS.transform(site.x, site.y)[1])


_TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def overflow_probability(level: np.ndarray, rate_per_day: np.ndarray, sd_level: np.ndarray,
                         sd_rate: np.ndarray, days: float | np.ndarray) -> np.ndarray:
    """P(level after ``days`` ≥ 100 %) under a normal forecast (Wouda et al. 2024 use the same
    overflow-probability-as-prize idea with their own fill model)."""
    mean = np.asarray(level, float) + np.asarray(rate_per_day, float) * days
    sd = np.sqrt(np.asarray(sd_level, float) ** 2 + (np.asarray(sd_rate, float) * days) ** 2)
    sd = np.maximum(sd, 1e-6)
    return np.where(np.asarray(level) >= 100.0, 1.0, ndtr((mean - 100.0) / sd))


def _local(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=TZ)


def next_collection_day(day: date, collection_days: tuple[int, ...]) -> date:
    d = day + timedelta(days=1)
    while d.weekday() not in collection_days:
        d += timedelta(days=1)
    return d


def select_candidates(register: pd.DataFrame, state: pd.DataFrame, day: date, fleet: Fleet,
                      settings: PlanSettings) -> pd.DataFrame:
    """Join the register (container_id, afvalfractie, buurt, lon, lat, volume_m3, inzameldagen) with the
    forecast ``state`` (container_id, vulgraad, vulsnelheid [%/dag], sd_vulgraad, sd_vulsnelheid, tijd
    [UTC, time of the level], optional metingen = readings used) and score every container of
    ``settings.fraction``. Containers without recent readings (``metingen == 0``) follow the fixed
    schedule: required on their ``inzameldagen``, otherwise not a candidate."""
    df = register[register["afvalfractie"] == settings.fraction].merge(state, on="container_id", how="inner")
    shift_mid = _local(day, fleet.shift_start) + (_local(day, fleet.shift_end) - _local(day, fleet.shift_start)) / 2
    nxt = next_collection_day(day, settings.collection_days)
    next_mid = shift_mid + (datetime.combine(nxt, time()) - datetime.combine(day, time()))
    t_state = pd.to_datetime(df["tijd"], utc=True)
    to_today = ((pd.Timestamp(shift_mid) - t_state).dt.total_seconds() / 86400).clip(lower=0).to_numpy()
    to_next = ((pd.Timestamp(next_mid) - t_state).dt.total_seconds() / 86400).clip(lower=0).to_numpy()
    later = nxt
    for _ in range(settings.prize_lookahead - 1):
        later = next_collection_day(later, settings.collection_days)
    to_later = to_next + (later - nxt).days
    level = df["vulgraad"].to_numpy(float)
    rate = df["vulsnelheid"].to_numpy(float).clip(min=0)
    p = overflow_probability(level, rate, df["sd_vulgraad"].to_numpy(float), df["sd_vulsnelheid"].to_numpy(float),
                             to_next)
    p_prize = p if settings.prize_lookahead <= 1 else overflow_probability(
        level, rate, df["sd_vulgraad"].to_numpy(float), df["sd_vulsnelheid"].to_numpy(float), to_later)
    expected_today = np.clip(level + rate * to_today, 0, 100)
    density = df["afvalfractie"].map(DENSITY_KG_M3).fillna(110.0).to_numpy()
    df = df.assign(p_overloop=p, verwacht_vandaag=expected_today,
                   vraag_kg=np.maximum(1, np.rint(expected_today / 100 * df["volume_m3"].to_numpy(float) * density)).astype(int),
                   verplicht=p >= settings.required_p,
                   prijs=np.rint(COST_UNITS_PER_EURO * (settings.overflow_cost_eur * p_prize
                                                        + settings.fill_value_eur * expected_today / 100)).astype(np.int64))
    # No recent readings (dead or silent sensor): fall back to the fixed schedule for that container.
    blind = (df["metingen"].to_numpy() == 0) if "metingen" in df else np.zeros(len(df), bool)
    if blind.any():
        wd = ("ma", "di", "wo", "do", "vr", "za", "zo")[day.weekday()]
        on_day = df["inzameldagen"].fillna("").str.split(",").apply(lambda d: wd in d).to_numpy() \
            if "inzameldagen" in df else np.zeros(len(df), bool)
        df = df.assign(verplicht=np.where(blind, on_day, df["verplicht"]),
                       p_overloop=np.where(blind & on_day, 1.0, np.where(blind, 0.0, df["p_overloop"])),
                       prijs=np.where(blind, 0, df["prijs"]),
                       zonder_sensor=blind)
    else:
        df = df.assign(zonder_sensor=False)
    min_prize = settings.candidate_p * settings.overflow_cost_eur * COST_UNITS_PER_EURO
    df = df[(df["p_overloop"] >= settings.candidate_p) | (df["prijs"] >= min_prize) | df["verplicht"]]
    if len(df) > settings.max_candidates:   # keep every required one, then the most valuable optional ones
        df = df.sort_values(["verplicht", "prijs"], ascending=False).head(settings.max_candidates)
    x, y = _TO_RD.transform(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    return df.assign(x_rd=x, y_rd=y).reset_index(drop=True)


def build_problem(candidates: pd.DataFrame, fleet: Fleet, day: date, sites: tuple[Site, ...] = DEN_HAAG_SITES,
                  travel=None) -> RoutingProblem:
    start = fleet.shift_start.hour * 3600 + fleet.shift_start.minute * 60
    end = fleet.shift_end.hour * 3600 + fleet.shift_end.minute * 60
    truck = Vehicle("Wagen", capacity=fleet.capacity_kg, count=fleet.trucks, start_site=fleet.depot,
                    end_site=fleet.depot, shift_start_s=start, shift_end_s=end,
                    max_shift_s=int(fleet.max_shift_h * 3600), reload_sites=fleet.dumps, unload_before_end=True,
                    fixed_cost=int(round(fleet.euro_per_truck_day * COST_UNITS_PER_EURO)),
                    cost_per_m=int(round(fleet.euro_per_km * COST_UNITS_PER_EURO / 1000)),
                    cost_per_s=int(round(fleet.euro_per_hour * COST_UNITS_PER_EURO / 3600)))
    stops = tuple(Stop(cid, float(x), float(y), demand=int(d), service_s=fleet.service_s, required=bool(r),
                       prize=int(pr), name=str(b))
                  for cid, x, y, d, r, pr, b in zip(candidates["container_id"], candidates["x_rd"], candidates["y_rd"],
                                                    candidates["vraag_kg"], candidates["verplicht"],
                                                    candidates["prijs"], candidates["buurt"]))
    return RoutingProblem(sites, (truck,), stops, travel=travel, name=f"containers {day.isoformat()}")


def plan_day(register: pd.DataFrame, state: pd.DataFrame, day: date, *, fleet: Fleet = Fleet(),
             settings: PlanSettings = PlanSettings(), seconds: float = 30.0, progress=None,
             sites: tuple[Site, ...] = DEN_HAAG_SITES, simulated: bool = True) -> DayPlan:
    """Choose and route today's containers. ``progress``: callable(fraction) while solving."""
    cand = select_candidates(register, state, day, fleet, settings)
    problem = build_problem(cand, fleet, day, sites)
    plan = solve(problem, SolveOptions(seconds=seconds, progress=progress))
    return DayPlan(day, settings, fleet, cand, problem, plan, sites, simulated)


def route_problem_for_fixed(register: pd.DataFrame, ids: list[str], day: date, fleet: Fleet,
                            sites: tuple[Site, ...] = DEN_HAAG_SITES, levels: dict[str, float] | None = None) -> RoutingProblem:
    """The fixed schedule's day as a routing problem (every listed container required), so both
    policies are measured with the same router."""
    df = register[register["container_id"].isin(ids)]
    x, y = _TO_RD.transform(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    lv = df["container_id"].map(levels or {}).fillna(60.0).to_numpy(float)
    density = df["afvalfractie"].map(DENSITY_KG_M3).fillna(110.0).to_numpy()
    cand = df.assign(x_rd=x, y_rd=y, verplicht=True, prijs=0,
                     vraag_kg=np.maximum(1, np.rint(lv / 100 * df["volume_m3"].to_numpy(float) * density)).astype(int))
    return build_problem(cand, fleet, day, sites)


def with_trucks(fleet: Fleet, trucks: int) -> Fleet:
    return replace(fleet, trucks=trucks)
