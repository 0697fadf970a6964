"""Every numeric variable at one area level and year, one column per variable, one row per area.

Where the variables come from (names in brackets, as the CLI and the page show them):

- **area datasets** (``geography.level`` buurt/wijk, a field with ``role: area_code``) whose
  ``temporal_coverage`` overlaps the year: every numeric field (``DATASET.FIELD``), and for counts
  (integer fields whose unit names things counted: ``aantal``, ``misdrijven``) also the rate per 1,000
  inhabitants (``DATASET.FIELD_per_1000``);
- **point datasets** of that year, counted per area by the codes assigned at ingest (``buurt_code``,
  ``wijk_code``; never geometry): ``DATASET.aantal``, ``DATASET.aantal_per_1000``, ``DATASET.aantal_per_ha``;
- **personal datasets**: only as the gated area aggregates their catalog declares (a slice per area code of a
  ``release.structures`` table), through ``release_aggregate`` (access, publication gate, audit):
  ``DATASET.personen`` and ``DATASET.personen_per_1000``. Suppressed areas are missing, never zero.

Denominators are CBS's: inhabitants (``a_inw``) and land area (``a_lan_ha``) from the CBS Kerncijfers of
the year; land area falls back to the area registry. Minimum-population rule: a rate per 1,000 (and a CBS
percentage or 'per 1000' figure) is set missing for areas with fewer than ``min_population`` inhabitants,
so that a business park with 40 inhabitants cannot dominate a correlation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.catalog.release_rules import PERIOD_COLUMN, release_spec
from stadslab.errors import AnalysisError
from stadslab.privacy.access import User, check
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import release_aggregate
from stadslab.warehouse.store import Warehouse

NUMERIC = ("integer", "number")
LEVEL_CODE = {"buurt": "buurt_code", "wijk": "wijk_code"}
LEVEL_PREFIX = {"buurt": "BU", "wijk": "WK"}
CBS_POPULATION, CBS_LAND = "a_inw", "a_lan_ha"
DEFAULT_MIN_POPULATION = 200


@dataclass
class Variable:
    name: str                  # DATASET.FIELD or a derived DATASET.<name>
    dataset: str
    version: int
    label: str
    unit: str
    kind: str                  # veld | per_1000 | aantal | per_ha | personen
    classification: str
    simulated: bool = False
    rate: bool = False         # the minimum-population rule applies
    missing: int = 0           # areas without a value (after the rule)
    suppressed: int = 0        # areas suppressed by the publication gate
    below_min_population: int = 0
    field: str | None = None


@dataclass
class AreaData:
    level: str
    year: int
    division_year: int
    gemeente_code: str
    codes: list[str]
    names: list[str]
    xy: np.ndarray                        # centroids (RD metres), for the spatial weights only
    population: np.ndarray                # CBS inhabitants per area (NaN when unknown)
    variables: list[Variable] = field(default_factory=list)
    columns: list[np.ndarray] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    inputs: dict[str, int] = field(default_factory=dict)
    min_population: int = DEFAULT_MIN_POPULATION

    @property
    def X(self) -> np.ndarray:
        return np.column_stack(self.columns) if self.columns else np.empty((len(self.codes), 0))

    def index(self, name: str) -> int:
        return next(k for k, v in enumerate(self.variables) if v.name == name)

    def add(self, var: Variable, values: pd.Series) -> None:
        """Add a column (indexed by area code; codes outside the registry are ignored)."""
        col = pd.to_numeric(values, errors="coerce").astype(float).reindex(self.codes).to_numpy()
        if var.rate:
            small = ~(self.population >= self.min_population)
            var.below_min_population = int((small & ~np.isnan(col)).sum())
            col = np.where(small, np.nan, col)
        var.missing = int(np.isnan(col).sum())
        self.variables.append(var)
        self.columns.append(col)
        self.inputs[var.dataset] = var.version


def covers(ds: Dataset, year: int) -> bool:
    """Does the dataset's ``temporal_coverage`` overlap the calendar year?"""
    tc = ds.temporal_coverage or {}
    start, end = tc.get("start"), tc.get("end")
    if not start or not 1 <= year <= 9998:
        return False
    start_d = date.fromisoformat(str(start)[:10])
    end_d = date.fromisoformat(str(end)[:10]) if end else date.max
    return start_d <= date(year, 12, 31) and end_d >= date(year, 1, 1)


def division_year(wh: Warehouse, level: str, year: int, gemeente_code: str) -> int:
    """The area division closest to the data year (later wins a tie): its codes are the ones the data use."""
    years = [r[0] for r in wh.con.execute(
        "SELECT DISTINCT year FROM stadslab.areas WHERE level = ? AND gemeente_code = ? ORDER BY year",
        [level, gemeente_code]).fetchall()]
    if not years:
        raise AnalysisError(f"geen gebiedsindeling op niveau {level} voor {gemeente_code}",
                            hint="laad de buurt- en wijkgrenzen (een dataset met 'areas:' in de catalogus)")
    return min(years, key=lambda y: (abs(y - year), -y))


def load_areas(wh: Warehouse, level: str, year: int, gemeente_code: str, *,
               min_population: int = DEFAULT_MIN_POPULATION, division: int | None = None) -> AreaData:
    if level not in LEVEL_CODE:
        raise AnalysisError(f"niveau '{level}' kan niet", hint="kies buurt of wijk")
    div = division or division_year(wh, level, year, gemeente_code)
    rows = wh.con.execute(
        """SELECT code, any_value(name), any_value(ST_X(ST_Centroid(geom))), any_value(ST_Y(ST_Centroid(geom)))
           FROM stadslab.areas WHERE year = ? AND level = ? AND gemeente_code = ? AND geom IS NOT NULL
           GROUP BY code ORDER BY code""", [div, level, gemeente_code]).fetchall()
    codes = [r[0] for r in rows]
    xy = np.array([[r[2], r[3]] for r in rows], dtype=float).reshape(-1, 2)
    return AreaData(level, year, div, gemeente_code, codes, [r[1] or r[0] for r in rows], xy,
                    np.full(len(codes), np.nan), min_population=min_population)


def cbs_kerncijfers(catalog, wh: Warehouse, year: int) -> Dataset | None:
    """The open CBS Kerncijfers dataset of the year (fields gwb_code_10 and a_inw), if loaded."""
    for ds in catalog:
        names = {f.name for f in ds.fields}
        if {"gwb_code_10", CBS_POPULATION} <= names and ds.classification == "open" and covers(ds, year) \
                and wh.current_version(ds.id) is not None:
            return ds
    return None


def _area_frame(wh: Warehouse, ds: Dataset, level: str, columns: list[str]) -> pd.DataFrame:
    code = ds.field_with_role("area_code").name
    t = wh.table(ds.id)
    t = t.filter(t[code].startswith(LEVEL_PREFIX[level]))
    df = t.select(t[code].name("__code"), *[t[c] for c in columns]).to_pandas()
    return df.drop_duplicates("__code").set_index("__code")


def collect(wh: Warehouse, catalog, data: AreaData, *, user: User, purpose: str | None,
            audit: AuditLog | None, store: SuppressionStore | None) -> AreaData:
    """Fill ``data`` with every variable of the year (see module docstring)."""
    year, level = data.year, data.level
    cbs = cbs_kerncijfers(catalog, wh, year)
    land = pd.Series(dtype=float)
    if cbs is not None:
        names = {f.name for f in cbs.fields}
        frame = _area_frame(wh, cbs, level, [CBS_POPULATION] + ([CBS_LAND] if CBS_LAND in names else []))
        data.population = pd.to_numeric(frame[CBS_POPULATION], errors="coerce").reindex(data.codes).to_numpy(float)
        if CBS_LAND in frame:
            land = pd.to_numeric(frame[CBS_LAND], errors="coerce")
        data.notes.append(f"Inwoners en landoppervlakte: {cbs.title} (versie {wh.current_version(cbs.id)}).")
    else:
        data.notes.append(f"Geen CBS Kerncijfers voor {year}: geen cijfers per 1.000 inwoners en geen "
                          "minimum-inwonersregel.")
    if land.dropna().empty:
        reg = wh.con.execute("SELECT code, any_value(land_area_ha) FROM stadslab.areas WHERE year = ? AND level = ? "
                             "GROUP BY code", [data.division_year, level]).fetchall()
        land = pd.Series({c: a for c, a in reg}, dtype=float)
    have_pop = bool(np.isfinite(data.population).any())

    for ds in catalog:
        version = wh.current_version(ds.id)
        if version is None or ds.areas is not None or not covers(ds, year):
            continue
        if not check(ds, user, purpose).allowed:
            data.skipped.append({"dataset": ds.id, "reden": f"geen toegang ({check(ds, user, purpose).reason})"})
            continue
        common = dict(dataset=ds.id, version=version, classification=ds.classification, simulated=ds.simulated)
        if ds.is_personal:
            _personal(wh, ds, data, common, user=user, purpose=purpose, audit=audit, store=store, have_pop=have_pop)
        elif ds.geography.level in ("buurt", "wijk") and ds.field_with_role("area_code") is not None:
            _area_dataset(wh, ds, data, common, have_pop)
        elif ds.is_point and LEVEL_CODE[level] in wh.table(ds.id).columns:
            _point_dataset(wh, ds, data, common, land, have_pop, user=user, purpose=purpose, audit=audit, store=store)
    return data


def _area_dataset(wh: Warehouse, ds: Dataset, data: AreaData, common: dict[str, Any], have_pop: bool) -> None:
    fields = [f for f in ds.fields if f.type in NUMERIC and f.role is None and not f.codes]
    if not fields:
        return
    frame = _area_frame(wh, ds, data.level, [f.name for f in fields])
    matched = frame.index.isin(data.codes).sum()
    if matched == 0 and data.level == "wijk" and "wijk_code" in wh.table(ds.id).columns:
        fields = [f for f in fields if _is_count(f)]      # only counts add up from buurten to wijken
        frame = _wijk_sums(wh, ds, [f.name for f in fields])
        matched = frame.index.isin(data.codes).sum()
        if matched:
            data.notes.append(f"{ds.id}: alleen buurtcijfers; aantallen opgeteld per wijk (een wijk met een "
                              "onbekende buurt blijft onbekend).")
    if matched == 0:
        data.skipped.append({"dataset": ds.id, "reden": f"geen rijen op niveau {data.level} met codes uit de indeling"})
        return
    for f in fields:
        values = pd.to_numeric(frame[f.name], errors="coerce")
        if values.reindex(data.codes).notna().sum() < 3:
            continue                      # not published for this level (CBS '.' everywhere)
        unit = f.unit or ""
        rate = "%" in unit or "per 1000" in unit
        data.add(Variable(f"{ds.id}.{f.name}", label=f.description or f.name, unit=unit, kind="veld", rate=rate,
                          field=f.name, **common), values)
        if _is_count(f) and have_pop and f.name != CBS_POPULATION:
            pop = pd.Series(data.population, index=data.codes)
            data.add(Variable(f"{ds.id}.{f.name}_per_1000", label=f"{f.description or f.name} per 1.000 inwoners",
                              unit="per 1.000 inwoners", kind="per_1000", rate=True, field=f.name, **common),
                     values.reindex(data.codes) / pop.where(pop > 0) * 1000.0)


def _wijk_sums(wh: Warehouse, ds: Dataset, columns: list[str]) -> pd.DataFrame:
    """Counts of a buurt-only dataset summed per wijk (the wijk code ingest assigned); missing when any buurt
    of the wijk is unknown, so a sum is never silently too low."""
    code = ds.field_with_role("area_code").name
    t = wh.table(ds.id)
    t = t.filter(t[code].startswith(LEVEL_PREFIX["buurt"]) & t["wijk_code"].notnull())
    aggs = {}
    for c in columns:
        aggs[c] = t[c].sum()
        aggs[f"__null_{c}"] = t[c].isnull().sum()
    df = t.group_by("wijk_code").aggregate(**aggs).to_pandas().set_index("wijk_code")
    for c in columns:
        df[c] = df[c].where(df[f"__null_{c}"] == 0)
    return df[columns]


NOT_A_COUNT = ("%", "per", "gemiddeld", "km", "ha", "euro", "jaar", "m²", "m2", "x 1000", "uur")


def _is_count(f) -> bool:
    """An integer field whose unit names things counted (``aantal``, ``misdrijven``): it gets a rate."""
    unit = (f.unit or "").lower()
    return f.type == "integer" and bool(unit) and not any(w in unit for w in NOT_A_COUNT)


def _point_dataset(wh: Warehouse, ds: Dataset, data: AreaData, common: dict[str, Any], land: pd.Series,
                   have_pop: bool, *, user: User, purpose: str | None, audit: AuditLog | None,
                   store: SuppressionStore | None) -> None:
    if ds.geography.division_year and ds.geography.division_year != data.division_year:
        data.skipped.append({"dataset": ds.id, "reden": f"buurtcodes volgens indeling {ds.geography.division_year}, "
                                                        f"niet {data.division_year}"})
        return
    col = LEVEL_CODE[data.level]
    when = next((f.name for f in ds.fields if f.type in ("date", "datetime")), None)
    if ds.classification == "open":
        t = wh.table(ds.id)
        if when is not None:  # only the events of the year
            t = t.filter(t[when].year() == data.year)
        t = t.filter(t[col].notnull())
        counts = t.group_by(col).aggregate(n=t.count()).to_pandas().set_index(col)["n"]
        what = f"{ds.title}" + (f" in {data.year}" if when else "")
    else:   # every figure from non-open data goes through release_aggregate (access, gate, audit)
        if audit is None:
            data.skipped.append({"dataset": ds.id, "reden": "niet-open data vragen een auditlog"})
            return
        rel = release_aggregate(wh, ds, user=user, purpose=purpose, by=[col], audit=audit, store=store,
                                route="discovery")
        if rel.gated:
            data.skipped.append({"dataset": ds.id, "reden": "persoonsgegevens als punten: alleen via vastgelegde tabellen"})
            return
        frame = rel.frame[rel.frame[col].notna()]
        counts = pd.Series(frame["n"].to_numpy(dtype=float), index=frame[col].astype(str))
        tc = ds.temporal_coverage or {}
        what = ds.title
        if when is not None:
            data.notes.append(f"{ds.id} ({ds.classification}): geteld via release_aggregate over de hele dataset "
                              f"({tc.get('start')} t/m {tc.get('end') or 'nu'}), niet alleen {data.year}.")
    counts = counts.reindex(data.codes).fillna(0.0)   # ungated point data: an area without points has zero
    data.add(Variable(f"{ds.id}.aantal", label=f"aantal: {what}", unit="aantal", kind="aantal", **common), counts)
    if have_pop:
        pop = pd.Series(data.population, index=data.codes)
        data.add(Variable(f"{ds.id}.aantal_per_1000", label=f"per 1.000 inwoners: {what}", unit="per 1.000 inwoners",
                          kind="per_1000", rate=True, **common), counts / pop.where(pop > 0) * 1000.0)
    area = land.reindex(data.codes)
    data.add(Variable(f"{ds.id}.aantal_per_ha", label=f"per hectare land: {what}", unit="per ha", kind="per_ha",
                      **common), counts / area.where(area > 0))


def declared_request(ds: Dataset, level: str, year: int) -> dict[str, Any] | None:
    """The request for persons per area of ``level`` that the dataset's declared release structures allow
    (catalog ``release.structures``): a slice of the smallest structure with an area column of that level
    (other dimensions at their total; a yearly period fixed at ``year``). None when nothing fits."""
    spec = release_spec(ds)
    if not spec.declared or not spec.structures:
        return None
    area_cols = ({f.name for f in ds.fields if f.role == "area_code"} | {"buurt_code"}) if level == "buurt" \
        else {"wijk_code"}
    for s in sorted(spec.structures, key=lambda s: len(s.columns)):
        col = next((d for d in s.dims if d in area_cols), None)
        if col is None or (s.period and s.period.get("grain") != "jaar"):
            continue
        return {"structure": s.id, "by": [col], "hierarchy": {col: s.hierarchy[col]} if col in s.hierarchy else None,
                "filters": {PERIOD_COLUMN: [str(year)]} if s.period else {}, "period": s.period}
    return None


def _personal(wh: Warehouse, ds: Dataset, data: AreaData, common: dict[str, Any], *, user: User,
              purpose: str | None, audit: AuditLog | None, store: SuppressionStore | None, have_pop: bool) -> None:
    req = declared_request(ds, data.level, data.year)
    if req is None:
        data.skipped.append({"dataset": ds.id, "reden": f"persoonsgegevens zonder vastgelegde tabel per {data.level} "
                                                        "(catalogus, release.structures): alleen zo'n beveiligd "
                                                        "aggregaat mag mee"})
        return
    if audit is None:
        raise AnalysisError("persoonsgegevens vragen een auditlog", hint="geef het auditlog van de werkruimte mee")
    col = req["by"][0]
    rel = release_aggregate(wh, ds, user=user, purpose=purpose, by=req["by"], hierarchy=req["hierarchy"],
                            filters=req["filters"] or None, audit=audit, store=store, route="discovery")
    frame = rel.frame[rel.frame[col].astype(str).isin(data.codes)]
    # suppressed areas stay missing (NaN), never zero; so do areas the release does not mention (the gate
    # released no figure for them, and a zero is a figure too)
    counts = pd.Series(frame["n"].to_numpy(dtype=float), index=frame[col].astype(str)).reindex(data.codes)
    suppressed = int((frame["suppressed"] != "").sum())
    what = ds.title + (f", start in {data.year}" if req["period"] else "")
    common = {**common, "version": rel.version}
    data.add(Variable(f"{ds.id}.personen", label=f"personen: {what} (beveiligd aggregaat)", unit="personen",
                      kind="personen", suppressed=suppressed, **common), counts)
    if have_pop:
        pop = pd.Series(data.population, index=data.codes)
        data.add(Variable(f"{ds.id}.personen_per_1000", label=f"personen per 1.000 inwoners: {what} (beveiligd aggregaat)",
                          unit="per 1.000 inwoners", kind="per_1000", rate=True, suppressed=suppressed, **common),
                 counts / pop.where(pop > 0) * 1000.0)
