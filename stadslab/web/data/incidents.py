"""Incident datasets, their filters and the filtered incident frame behind the Incidentenkaart.

An *incident dataset* is a catalog entry with point geography and a field with role ``time`` (e.g.
``groningen_fietsdiefstal``). Per dataset one small frame is kept in memory per version: time, type,
buurt, wijk, 125 m cell, lon/lat — for open data read straight from the warehouse; for ``intern`` and
``vertrouwelijk`` data counted through ``release_aggregate`` (access check) per buurt × cell × type ×
time, without coordinates. Personal data (``persoonsgegevens``) are not incident layers: those belong
in gated aggregates. All filters are then vectorised numpy masks over that frame.

Relative periods end at the last incident in the data (not today), because sources arrive late and
the demo data end in 2017; the page always shows the exact dates. The previous period is the equally
long period right before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request

from stadslab.catalog.model import Dataset
from stadslab.errors import AnalysisError, CatalogError
from stadslab.privacy.release import TOTAL, UNKNOWN, release_aggregate
from stadslab.web.security import can_list, current_user, require_read
from stadslab.web.state import AppState

PERIODS = {"14d": ("laatste 14 dagen", 14), "28d": ("laatste 28 dagen", 28), "kwartaal": ("laatste kwartaal (91 dagen)", 91),
           "jaar": ("laatste jaar (365 dagen)", 365), "aangepast": ("eigen periode", None)}
DAYPARTS = {"nacht": (0, 6), "ochtend": (6, 12), "middag": (12, 18), "avond": (18, 24)}
WEEKDAYS = {1: "maandag", 2: "dinsdag", 3: "woensdag", 4: "donderdag", 5: "vrijdag", 6: "zaterdag", 7: "zondag"}
TYPE_FIELD_NAMES = ("incidentsoort", "soort", "soort_incident", "soort_misdrijf", "misdrijf", "categorie", "type")


@dataclass(frozen=True)
class IncidentSource:
    dataset: Dataset
    time_field: str
    type_field: str | None
    year: int

    @property
    def id(self) -> str:
        return self.dataset.id


@dataclass(frozen=True)
class Filters:
    soort: tuple[str, ...] = ()
    periode: str = "28d"
    van: date | None = None
    tot: date | None = None
    wijk: str | None = None
    dagdeel: tuple[str, ...] = ()
    dagen: tuple[int, ...] = ()

    def key(self) -> tuple:
        return (self.soort, self.periode, self.van, self.tot, self.wijk, self.dagdeel, self.dagen)

    def describe(self) -> dict[str, Any]:
        return {"soort": list(self.soort), "periode": self.periode, "van": self.van, "tot": self.tot,
                "wijk": self.wijk, "dagdeel": list(self.dagdeel), "dagen": [WEEKDAYS[d] for d in self.dagen]}


@dataclass
class Window:
    start: pd.Timestamp
    end: pd.Timestamp               # exclusive
    prev_start: pd.Timestamp
    days: int
    label: str
    notes: list[str] = field(default_factory=list)
    incomplete: bool = False        # the previous period starts before the data do

    def describe(self) -> dict[str, Any]:
        last = (self.end - pd.Timedelta(days=1)).date()
        return {"van": self.start.date().isoformat(), "tot_en_met": last.isoformat(), "dagen": self.days,
                "label": self.label, "vorige_van": self.prev_start.date().isoformat(),
                "vorige_tot_en_met": (self.start - pd.Timedelta(days=1)).date().isoformat()}


def _type_field(ds: Dataset) -> str | None:
    names = {f.name: f for f in ds.fields}
    for n in TYPE_FIELD_NAMES:
        if n in names:
            return n
    return None


def incident_sources(state: AppState) -> list[IncidentSource]:
    def compute() -> list[IncidentSource]:
        wh = state.warehouse()
        out = []
        for ds in state.catalog:
            tf = ds.field_with_role("time")
            if not ds.is_point or tf is None or ds.is_personal or wh.current_version(ds.id) is None:
                continue
            out.append(IncidentSource(ds, tf.name, _type_field(ds), int(ds.geography.division_year or 0)))
        return out
    return state.cache.get_or_compute(("incident_sources", state.generation), compute)


def visible_sources(request: Request) -> list[IncidentSource]:
    user = current_user(request)
    return [s for s in incident_sources(request.app.state.stadslab) if can_list(s.dataset, user)]


def get_source(request: Request, dataset_id: str | None) -> IncidentSource:
    """The chosen incident dataset (default: the first one visible), after the access check."""
    sources = visible_sources(request)
    all_ids = {s.id: s for s in incident_sources(request.app.state.stadslab)}
    if dataset_id is None:
        if not sources:
            raise CatalogError("er is geen incidentendataset die u mag zien",
                               hint="een incidentendataset heeft geography.level: point en een veld met role: time")
        src = sources[0]
    elif dataset_id in all_ids:
        src = all_ids[dataset_id]
    else:
        request.app.state.stadslab.catalog.get(dataset_id)  # unknown id → 404
        raise CatalogError(f"'{dataset_id}' is geen incidentendataset (puntgegevens met een tijdveld)")
    require_read(request, src.dataset)
    return src


def frame(request: Request, src: IncidentSource) -> tuple[pd.DataFrame, int]:
    """(incident frame, version): columns t, soort, buurt_code, wijk_code, grid_125m, lon, lat, n."""
    state: AppState = request.app.state.stadslab
    wh = state.warehouse()
    version = wh.current_version(src.id)
    ds = src.dataset
    if ds.classification == "open":
        key = ("incident_frame", state.generation, src.id, version)
        return state.cache.get_or_compute(key, lambda: _open_frame(state, src, version)), version
    perm, purpose = require_read(request, ds)
    user = current_user(request)
    key = ("incident_frame", state.generation, src.id, version, user.id, purpose)

    def released() -> pd.DataFrame:
        by = ["buurt_code", "wijk_code", "grid_125m", src.time_field] + ([src.type_field] if src.type_field else [])
        rel = release_aggregate(wh, ds, user=user, purpose=purpose, by=by, audit=state.audit,
                                route="web:/incidenten", version=version)
        df = rel.frame.rename(columns={src.time_field: "t", src.type_field or "": "soort"})
        df = df[df["buurt_code"].astype(str) != TOTAL]
        for c in ("buurt_code", "wijk_code", "grid_125m"):   # the release names missing codes 'onbekend'
            df[c] = df[c].where(df[c] != UNKNOWN, None)
        return _finish(df.assign(lon=np.nan, lat=np.nan))
    return state.cache.get_or_compute(key, released), version


def _open_frame(state: AppState, src: IncidentSource, version: int) -> pd.DataFrame:
    t = state.warehouse().table(src.id, version)
    cols = {"t": t[src.time_field], "soort": t[src.type_field] if src.type_field else None}
    exprs = [cols["t"].name("t")] + ([cols["soort"].cast("string").name("soort")] if src.type_field else [])
    exprs += [t[c] for c in ("buurt_code", "wijk_code", "grid_125m", "lon", "lat")]
    df = t.select(exprs).to_pandas()
    df["n"] = 1
    return _finish(df)


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    if "soort" not in df:
        df["soort"] = "incident"
    df["t"] = pd.to_datetime(df["t"], errors="coerce")
    df = df[df["t"].notna()].reset_index(drop=True)
    df["n"] = pd.to_numeric(df["n"], errors="coerce").fillna(0).astype(np.int64)
    df["_hour"] = df["t"].dt.hour.astype(np.int8)
    df["_dow"] = (df["t"].dt.dayofweek + 1).astype(np.int8)
    df["_day"] = df["t"].dt.normalize()
    return df


def options(request: Request, src: IncidentSource) -> dict[str, Any]:
    """What the filters can be set to for this dataset: types, date range, wijken."""
    df, version = frame(request, src)
    types = sorted(df["soort"].dropna().astype(str).unique().tolist())
    return {"dataset": src.id, "titel": src.dataset.title, "versie": version, "soorten": types,
            "eerste": df["t"].min().date().isoformat() if len(df) else None,
            "laatste": df["t"].max().date().isoformat() if len(df) else None,
            "indeling": src.year, "gemeente": gemeente_of(request, src),
            "perioden": {k: v[0] for k, v in PERIODS.items()}, "dagdelen": list(DAYPARTS),
            "dagen": WEEKDAYS}


def gemeente_of(request: Request, src: IncidentSource) -> str | None:
    """The municipality most incidents lie in (from the buurt codes and the area registry)."""
    from stadslab.web.data import areas as area_data

    state = request.app.state.stadslab
    df, version = frame(request, src)

    def compute():
        codes = df["buurt_code"].dropna()
        if codes.empty:
            return None
        known = area_data.areas(state, src.year)
        per_gm: dict[str, int] = {}
        for code, n in codes.value_counts().items():   # one row per buurt, not per incident
            if code in known and known[code].gemeente_code:
                per_gm[known[code].gemeente_code] = per_gm.get(known[code].gemeente_code, 0) + int(n)
        return max(per_gm, key=per_gm.get) if per_gm else None
    return state.cache.get_or_compute(("incident_gemeente", state.generation, src.id, version), compute)


def window(df: pd.DataFrame, f: Filters) -> Window:
    if not len(df):
        raise AnalysisError("deze dataset bevat geen incidenten met een tijd")
    last_day = df["_day"].max()
    if f.periode == "aangepast":
        if not (f.van and f.tot) or f.tot < f.van:
            raise AnalysisError("kies bij een eigen periode een begin- en einddatum (einde niet vóór begin)")
        start, end = pd.Timestamp(f.van), pd.Timestamp(f.tot) + pd.Timedelta(days=1)
        label = f"{f.van:%d-%m-%Y} t/m {f.tot:%d-%m-%Y}"
    elif f.periode in PERIODS:
        label, days = PERIODS[f.periode]
        end = last_day + pd.Timedelta(days=1)
        start = end - pd.Timedelta(days=days)
    elif f.periode == "alles":
        start, end, label = df["_day"].min(), last_day + pd.Timedelta(days=1), "hele looptijd"
    else:
        raise AnalysisError(f"periode '{f.periode}' is onbekend", hint="kies uit: " + ", ".join(PERIODS))
    days = int((end - start) / pd.Timedelta(days=1))
    w = Window(start, end, start - pd.Timedelta(days=days), days, label)
    w.incomplete = bool(w.prev_start < df["_day"].min())
    if f.periode in ("14d", "28d", "kwartaal", "jaar"):
        w.notes.append(f"De periode eindigt bij het laatste incident in de gegevens ({last_day:%d-%m-%Y}).")
    if w.incomplete:
        w.notes.append("De vorige periode valt (deels) vóór het begin van de gegevens: verandering en toets worden "
                       "niet getoond.")
    return w


def mask(df: pd.DataFrame, f: Filters, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Rows in [start, end) that pass every filter except the period (vectorised)."""
    t = df["t"].to_numpy()
    m = (t >= start.to_datetime64()) & (t < end.to_datetime64())
    if f.soort:
        m &= df["soort"].isin(f.soort).to_numpy()
    if f.wijk:
        m &= (df["wijk_code"] == f.wijk).to_numpy()
    if f.dagdeel:
        hour = df["_hour"].to_numpy()
        part = np.zeros(len(df), dtype=bool)
        for name in f.dagdeel:
            lo, hi = DAYPARTS[name]
            part |= (hour >= lo) & (hour < hi)
        m &= part
    if f.dagen:
        m &= np.isin(df["_dow"].to_numpy(), np.asarray(f.dagen, dtype=np.int8))
    return m


def parse_filters(soort: list[str], periode: str, van: str | None, tot: str | None, wijk: str | None,
                  dagdeel: list[str], dag: list[int]) -> Filters:
    def as_date(s: str | None, name: str) -> date | None:
        if not s:
            return None
        try:
            return datetime.strptime(s, "%Y-%m-%d").date()
        except ValueError:
            raise AnalysisError(f"{name} '{s}' is geen datum (verwacht JJJJ-MM-DD)") from None
    bad = [d for d in dagdeel if d not in DAYPARTS]
    if bad:
        raise AnalysisError(f"dagdeel '{bad[0]}' is onbekend", hint="kies uit: " + ", ".join(DAYPARTS))
    if any(d not in WEEKDAYS for d in dag):
        raise AnalysisError("dag moet 1 (maandag) t/m 7 (zondag) zijn")
    if periode not in PERIODS and periode != "alles":
        raise AnalysisError(f"periode '{periode}' is onbekend", hint="kies uit: " + ", ".join([*PERIODS, "alles"]))
    return Filters(tuple(sorted(s for s in soort if s)), periode, as_date(van, "van"), as_date(tot, "tot"),
                   wijk or None, tuple(sorted(set(dagdeel))), tuple(sorted(set(dag))))
