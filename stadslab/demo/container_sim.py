"""GESIMULEERDE vulgraadsensoren op de echte ondergrondse containers van Den Haag.

The containers (location, fraction, buurt) are real open data (data/demo/denhaag/); everything this
module adds is **gesimuleerd**: fill levels, sensor readings, faults, the assumed volume per fraction
and the fixed collection weekdays of the demo's "vast schema". Nothing here is a measurement.

Offline API (pure numpy/pandas, no server, no warehouse) — also what the 8-week evaluation uses::

    from stadslab.demo.container_sim import SensorSimulator, load_containers, fixed_schedule
    containers = load_containers()                          # DataFrame: container_id, afvalfractie, buurt, lon, lat,
                                                            #   volume_m3, inzameldagen (the vendored register)
    sim = SensorSimulator(containers, seed=1, start=datetime(2026, 1, 5, tzinfo=timezone.utc))
    r = sim.step(until, emptied=[("DH-00001", t), ...])    # readings with time <= until: DataFrame
                                                            #   sensor_id, tijd, vulgraad, batterij  (gesimuleerd)
    sim.level                  # true fill level now (%, numpy array in the order of containers)
    sim.emptyings              # DataFrame container_id, tijd, vulgraad_voor, volume_m3, kg (one row per emptying)
    sim.overflow_hours         # per container: simulated hours at 100 % (waste next to the container)
    sim.overflow_days()        # DataFrame container_id, datum: days with at least one hour at 100 %
    fixed_schedule(containers, start, end)   # [(container_id, time)]: the vast schema's emptyings

Model, per container *c* of fraction *f*, in hourly steps (every parameter is in ``FRACTIONS``,
``WEEKDAY`` and ``HOUR`` below):

- fill increment per hour = rate_f × m_c × WEEKDAY[weekday] × HOUR[hour] × G, with rate_f the mean
  fill per day of the fraction / 24, m_c ~ LogNormal(0, 0.35) a fixed container multiplier (busy or
  quiet location), and G ~ Gamma(2, 1/2) noise (mean 1). The level is capped at 100 %; every hour
  at 100 % counts as an overflow hour.
- emptying: the level drops to a residual U(0, 2) %; an event takes effect at the start of the
  simulated hour that contains it, or at the next hour start when that hour was already simulated
  (the clock never goes back: ``step(until)`` simulates the hour containing ``until`` whole). Volume collected =
  level/100 × volume_m3, weight = volume × DENSITY_KG_M3[f].
- sensor: one reading per ``interval_minutes`` at a container-specific minute; reading = level +
  N(0, noise_sd), clipped to 0..100, one decimal; battery drains slowly.
- faults: stuck (P = ``p_stuck_per_day``, lasting Exp(mean 2 days), repeats its last value),
  dropout (P = ``p_dropout_per_day``, Exp(mean 8 h) without readings), dead sensors
  (``dead_share`` stop reporting at a random moment), spikes (P = ``p_spike`` per reading, 95–100 %
  or 0 %, the ultrasonic echo of a bag hanging in the shaft).

Every hour draws the same random numbers whatever the step sizes, so ``step`` in small live chunks
and in one big offline call give the same readings for the same seed, start and emptyings.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

REGISTER = Path(__file__).resolve().parents[2] / "data" / "demo" / "denhaag" / "containers" / \
    "denhaag_containerregister.csv.gz"
SIMULATED = "gesimuleerd"


@dataclass(frozen=True)
class Fraction:
    volume_m3: float        # assumed container volume (ORAC: 3–5 m³)
    fill_per_day: float     # mean fill in % of the volume per day (gesimuleerd)
    days: int               # collections per week in the vast schema


FRACTIONS: dict[str, Fraction] = {
    "Rest": Fraction(5.0, 20.0, 2),
    "Papier": Fraction(5.0, 11.0, 1),
    "GFT": Fraction(3.0, 12.0, 1),
    "Plastic, blik en drankpak": Fraction(5.0, 11.0, 1),
    "Glas": Fraction(3.0, 7.0, 1),
    "Glas combi": Fraction(3.0, 7.0, 1),
    "Glas bont": Fraction(3.0, 7.0, 1),
    "Textiel": Fraction(3.0, 6.0, 1),
}
DENSITY_KG_M3 = {"Rest": 110.0, "Papier": 60.0, "GFT": 350.0, "Plastic, blik en drankpak": 25.0, "Glas": 300.0,
                 "Glas combi": 300.0, "Glas bont": 300.0, "Textiel": 150.0}
# Monday … Sunday: more after the weekend, less on Sunday (mean 1).
WEEKDAY = np.array([1.20, 1.05, 0.95, 0.95, 1.00, 1.05, 0.80])
WEEKDAY = WEEKDAY / WEEKDAY.mean()
# Hour of day (local time ≈ UTC+1): little at night, most in the evening (mean 1).
HOUR = np.array([0.15] * 6 + [0.5, 1.0, 1.0, 1.0] + [1.3] * 7 + [1.6] * 5 + [0.6, 0.3])
HOUR = HOUR / HOUR.mean()
DAYS_NL = ["ma", "di", "wo", "do", "vr", "za", "zo"]
PAIRS = [("ma", "do"), ("di", "vr"), ("wo", "za")]


@dataclass
class SimParams:
    interval_minutes: int = 60
    noise_sd: float = 1.5
    multiplier_sigma: float = 0.35
    p_stuck_per_day: float = 0.002
    p_dropout_per_day: float = 0.01
    dead_share: float = 0.004
    p_spike: float = 0.004


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)


def load_containers(path: Path | None = None) -> pd.DataFrame:
    """The vendored register (real locations and fractions; volume and collection days gesimuleerd)."""
    return pd.read_csv(path or REGISTER, dtype={"container_id": str})


def build_register(geojson: Path, out: Path) -> pd.DataFrame:
    """Derive the container register from the Open Data Den Haag points: a stable id per location
    (file order; each location occurs once), fraction, buurt, lon/lat, and the demo's assumptions."""
    feats = json.loads(Path(geojson).read_text(encoding="utf-8"))["features"]
    rows = []
    for i, f in enumerate(feats, start=1):
        p = f["properties"]
        frac, buurt = p["afvalfractie"], p["buurt"]
        spec = FRACTIONS[frac]
        h = _stable(f"{buurt}|{frac}")
        days = PAIRS[h % 3] if spec.days == 2 else (DAYS_NL[h % 5],)
        lon, lat = f["geometry"]["coordinates"][:2]
        rows.append({"container_id": f"DH-{i:05d}", "afvalfractie": frac, "buurt": buurt, "lon": round(lon, 6),
                     "lat": round(lat, 6), "volume_m3": spec.volume_m3, "inzameldagen": ",".join(days)})
    df = pd.DataFrame(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False)
    return df


def fixed_schedule(containers: pd.DataFrame, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """The vast schema: every container emptied on its ``inzameldagen`` between 07:00 and 15:00 UTC
    (a stable time per buurt route), for days in [start, end)."""
    out = []
    day = datetime(start.year, start.month, start.day, tzinfo=timezone.utc)
    ids, days, buurt = containers["container_id"].tolist(), containers["inzameldagen"].tolist(), containers["buurt"].tolist()
    minute = [7 * 60 + _stable(b) % 480 for b in buurt]
    while day < end:
        wd = DAYS_NL[day.weekday()]
        for cid, d, m in zip(ids, days, minute):
            if wd in d.split(","):
                t = day + timedelta(minutes=m)
                if start <= t < end:
                    out.append((cid, t))
        day += timedelta(days=1)
    return out


class SensorSimulator:
    """Simulated fill levels and sensor readings for ``containers`` (see the module docstring)."""

    def __init__(self, containers: pd.DataFrame, seed: int = 0, start: datetime | None = None,
                 params: SimParams | None = None, initial_level: np.ndarray | None = None) -> None:
        self.p = params or SimParams()
        self.ids = containers["container_id"].astype(str).to_numpy()
        self.index = {c: i for i, c in enumerate(self.ids)}
        self.fraction = containers["afvalfractie"].to_numpy()
        n = self.n = len(self.ids)
        spec = [FRACTIONS.get(f, FRACTIONS["Rest"]) for f in self.fraction]
        self.volume = (containers["volume_m3"].to_numpy(float) if "volume_m3" in containers
                       else np.array([s.volume_m3 for s in spec]))
        self.density = np.array([DENSITY_KG_M3.get(f, 110.0) for f in self.fraction])
        self.rng = np.random.default_rng(seed)
        self.mult = self.rng.lognormal(0.0, self.p.multiplier_sigma, n)
        self.rate = np.array([s.fill_per_day for s in spec]) / 24.0 * self.mult
        start = start or datetime.now(timezone.utc) - timedelta(days=14)
        self.t = datetime(start.year, start.month, start.day, start.hour, tzinfo=timezone.utc)
        self.level = initial_level.copy() if initial_level is not None else self.rng.uniform(0, 60, n)
        self.offset = self.rng.integers(0, self.p.interval_minutes, n)
        self.battery = self.rng.uniform(60, 100, n)
        self.dead_at = np.where(self.rng.random(n) < self.p.dead_share, self.rng.uniform(0, 1, n), np.inf)
        self.stuck_until = np.zeros(n)       # hours since start
        self.stuck_value = np.zeros(n)
        self.silent_until = np.zeros(n)
        self.hours = 0
        self.overflow_hours = np.zeros(n, dtype=int)
        self._overflow_days: list[np.ndarray] = []  # per simulated day: boolean per container
        self._day_flag = np.zeros(n, bool)
        self._pending: list[tuple[datetime, int]] = []
        self._buffer: list[tuple[np.ndarray, ...]] = []  # (container index, time ns, vulgraad, batterij)
        self._emptyings: list[dict] = []

    # ---- public -------------------------------------------------------------------------------

    def step(self, until: datetime, emptied: list[tuple[str, datetime]] = ()) -> pd.DataFrame:
        """Advance to ``until``; apply the ``emptied`` (container_id, time) events; return the readings
        with time <= ``until`` that were not returned before (sensor_id, tijd, vulgraad, batterij)."""
        if len(emptied):
            self._pending += [(when, self.index[cid]) for cid, when in emptied if cid in self.index]
            self._pending.sort(key=lambda e: e[0])
        while self.t <= until:  # an hour is simulated whole; its readings after ``until`` wait in the buffer
            self._hour()
        if not self._buffer:
            return _empty()
        idx, ns, val, bat = (np.concatenate(parts) for parts in zip(*self._buffer))
        limit = pd.Timestamp(until).value
        ready = ns <= limit
        self._buffer = [(idx[~ready], ns[~ready], val[~ready], bat[~ready])] if (~ready).any() else []
        order = np.lexsort((idx[ready], ns[ready]))
        return pd.DataFrame({"sensor_id": pd.Categorical.from_codes(idx[ready][order], self.ids),
                             "tijd": pd.to_datetime(ns[ready][order], utc=True),
                             "vulgraad": val[ready][order], "batterij": bat[ready][order]})

    @property
    def emptyings(self) -> pd.DataFrame:
        return pd.DataFrame(self._emptyings, columns=["container_id", "tijd", "vulgraad_voor", "volume_m3", "kg"])

    def overflow_days(self) -> pd.DataFrame:
        """(container_id, datum) for every simulated day with at least one hour at 100 %."""
        rows = []
        first = self.t - timedelta(hours=self.hours)
        for d, flags in enumerate(self._overflow_days):
            day = (first + timedelta(days=d)).date()
            rows += [(self.ids[i], day) for i in np.flatnonzero(flags)]
        return pd.DataFrame(rows, columns=["container_id", "datum"])

    # ---- one hour -------------------------------------------------------------------------------

    def _hour(self) -> None:
        p, n, rng, h = self.p, self.n, self.rng, self.hours
        t = self.t
        # emptyings due at this hour boundary
        k = bisect.bisect_left(self._pending, (t + timedelta(hours=1), -1))
        if k:
            due, self._pending = self._pending[:k], self._pending[k:]
            for when, i in due:
                before = float(self.level[i])
                self._emptyings.append({"container_id": self.ids[i], "tijd": max(when, t),
                                        "vulgraad_voor": round(before, 1), "volume_m3": before / 100 * self.volume[i],
                                        "kg": before / 100 * self.volume[i] * self.density[i]})
                self.level[i] = 0.0
            where = np.array([i for _, i in due])
            self.level[where] = rng.uniform(0, 2, len(where))
        # fill during the hour
        g = rng.gamma(2.0, 0.5, n)
        inc = self.rate * WEEKDAY[t.weekday()] * HOUR[t.hour] * g
        frac_before = self.offset / 60.0
        level_at_reading = np.minimum(self.level + inc * frac_before, 100.0)
        self.level = np.minimum(self.level + inc, 100.0)
        full = self.level >= 100.0
        self.overflow_hours += full
        self._day_flag |= full
        # faults
        hd = 1 / 24
        start_stuck = (rng.random(n) < p.p_stuck_per_day * hd) & (self.stuck_until <= h)
        self.stuck_until = np.where(start_stuck, h + rng.exponential(48, n), self.stuck_until)
        self.stuck_value = np.where(start_stuck, level_at_reading, self.stuck_value)
        start_silent = rng.random(n) < p.p_dropout_per_day * hd
        self.silent_until = np.where(start_silent & (self.silent_until <= h), h + rng.exponential(8, n), self.silent_until)
        noise = rng.normal(0, p.noise_sd, n)
        spike = rng.random(n) < p.p_spike
        spike_val = np.where(rng.random(n) < 0.7, rng.uniform(95, 100, n), 0.0)
        # readings of this hour
        every = max(1, p.interval_minutes // 60)
        due = ((h + self.offset // 60) % every == 0) if every > 1 else np.ones(n, bool)
        alive = self.dead_at > (h / (24 * 56))  # dead sensors stop at a moment within ~8 weeks
        reporting = due & alive & (self.silent_until <= h)
        value = np.clip(level_at_reading + noise, 0, 100)
        stuck = self.stuck_until > h
        value = np.where(stuck, self.stuck_value, value)
        value = np.where(spike & ~stuck, spike_val, value)
        self.battery = np.maximum(self.battery - 0.01 * reporting, 0)
        idx = np.flatnonzero(reporting)
        if len(idx):
            ns = pd.Timestamp(t).value + (self.offset[idx] % 60).astype(np.int64) * 60_000_000_000
            self._buffer.append((idx, ns, np.round(value[idx], 1), np.round(self.battery[idx], 1)))
        self.t = t + timedelta(hours=1)
        self.hours += 1
        if self.hours % 24 == 0:
            self._overflow_days.append(self._day_flag.copy())
            self._day_flag[:] = False


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"sensor_id": pd.Series(dtype=str), "tijd": pd.Series(dtype="datetime64[ns, UTC]"),
                         "vulgraad": pd.Series(dtype=float), "batterij": pd.Series(dtype=float)})


def to_json_readings(df: pd.DataFrame) -> list[dict]:
    """Readings as the JSON objects the stream endpoint takes (ISO 8601 UTC times)."""
    times = df["tijd"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()
    return [{"sensor_id": s, "tijd": t, "vulgraad": float(v), "batterij": float(b)}
            for s, t, v, b in zip(df["sensor_id"].astype(str).tolist(), times, df["vulgraad"].tolist(), df["batterij"].tolist())]
