"""Gebiedsmonitor comparisons: which Kerncijfers year is most complete, in which years an indicator has
figures, an indicator's line over every year the workspace holds, rankings, similar areas and reference areas.

Method (shown on the page):

- *completeness* of a year = the share of (indicator × area) cells of the municipality's areas that CBS
  published; the monitor opens on the most complete year (ties: the newest), so the first view is not a
  grey map;
- *rank* = position of the area among all areas of the same level in the municipality, highest score
  first (1 = highest), with the number of areas that have a figure;
- *similar areas* = the nearest areas of the same level by Euclidean distance over z-standardised
  (mean 0, sd 1 over those areas) CBS traits ``SIMILARITY_TRAITS`` (density, share of children, share of
  65+, one-person households, rented homes, mean WOZ value); traits missing for either area are left out,
  and an area needs at least ``MIN_TRAITS`` shared traits to count. The distance is the root mean square
  difference per trait, so it stays comparable when a trait is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stadslab.web.data import areas as area_data
from stadslab.web.data import monitor as mon
from stadslab.web.state import AppState

SIMILARITY_TRAITS = ("bev_dich", "a_00_14", "a_65_oo", "a_1p_hh", "p_huurw", "g_wozbag")
MIN_TRAITS = 3
METHOD_SIMILAR = ("Vergelijkbare gebieden: dichtstbijzijnde gebieden van hetzelfde niveau op gestandaardiseerde "
                  "CBS-kenmerken (bevolkingsdichtheid, aandeel 0–14 jaar, aandeel 65+, eenpersoonshuishoudens, "
                  "huurwoningen, gemiddelde WOZ-waarde); afstand = wortel van het gemiddelde gekwadrateerde verschil "
                  "in z-scores over de kenmerken die beide gebieden hebben (minstens 3).")


def _levels(sc: pd.DataFrame) -> pd.DataFrame:
    return sc.drop(columns="__level")


def year_coverage(state: AppState, gemeente_code: str) -> dict[int, dict[str, Any]]:
    """Per Kerncijfers year: published cells, all cells, their share, and the indicators with any figure."""
    def compute() -> dict[int, dict[str, Any]]:
        out = {}
        for year, ds in mon.kwb_datasets(state, gemeente_code).items():
            sc = _levels(mon.scores(state, ds, gemeente_code))
            filled = int(sc.notna().to_numpy().sum())
            total = int(sc.size)
            out[year] = {"gevuld": filled, "totaal": total, "aandeel": filled / total if total else 0.0,
                         "met_data": [c for c in sc.columns if sc[c].notna().any()]}
        return out
    return state.cache.get_or_compute(("kwb_coverage", state.generation, gemeente_code), compute)


def default_year(state: AppState, gemeente_code: str) -> int | None:
    """The most complete year (share of published cells), the newest on a tie."""
    cov = year_coverage(state, gemeente_code)
    if not cov:
        return None
    return max(cov, key=lambda y: (round(cov[y]["aandeel"], 6), y))


def indicator_years(state: AppState, gemeente_code: str) -> dict[str, list[int]]:
    """Indicator field → the years in which CBS published it for at least one area of the municipality."""
    out: dict[str, list[int]] = {}
    for year, info in sorted(year_coverage(state, gemeente_code).items()):
        for f in info["met_data"]:
            out.setdefault(f, []).append(year)
    return out


def series(state: AppState, gemeente_code: str, codes: list[str], year_div: int) -> list[dict[str, Any]]:
    """Score of every indicator for ``codes`` in every Kerncijfers year (long format, missing left out)."""
    names = area_data.areas(state, year_div)
    rows = []
    for year, ds in mon.kwb_datasets(state, gemeente_code).items():
        sc = mon.scores(state, ds, gemeente_code)
        for code in codes:
            if code not in sc.index:
                continue
            for f, v in _levels(sc).loc[code].items():
                if pd.notna(v):
                    rows.append({"jaar": year, "code": code, "naam": names[code].name if code in names else code,
                                 "veld": f, "score": float(v)})
    return rows


def ranks(sc: pd.DataFrame, level: str, code: str) -> dict[str, dict[str, int] | None]:
    """Indicator → {'rang': 1 = highest, 'van': areas with a figure}; None when the area has no figure."""
    part = _levels(sc[sc["__level"] == level])
    if code not in part.index:
        return {c: None for c in part.columns}
    r = part.rank(ascending=False, method="min")
    return {c: (None if pd.isna(r.at[code, c]) else {"rang": int(r.at[code, c]), "van": int(part[c].notna().sum())})
            for c in part.columns}


def similar(sc: pd.DataFrame, level: str, code: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` areas of ``level`` nearest to ``code`` on the standardised traits (see module docstring)."""
    traits = [t for t in SIMILARITY_TRAITS if t in sc.columns]
    part = sc.loc[sc["__level"] == level, traits].astype(float)
    if code not in part.index or not traits:
        return []
    z = (part - part.mean()) / part.std(ddof=1).replace(0.0, np.nan)
    diff = (z - z.loc[code]).pow(2)
    shared = diff.notna().sum(axis=1)
    dist = np.sqrt(diff.sum(axis=1, min_count=1) / shared.where(shared > 0))
    dist = dist[(shared >= MIN_TRAITS) & (dist.index != code)].dropna().sort_values(kind="stable")
    return [(c, float(d)) for c, d in dist.head(k).items()]


def comparison(state: AppState, gemeente_code: str, code: str, year: int, refs: list[str]) -> dict[str, Any]:
    """The chosen area next to the city, the mean of its similar areas and each reference area, per indicator,
    with its rank and the indicator's definition."""
    years = mon.kwb_datasets(state, gemeente_code)
    ds = years[year]
    sc = mon.scores(state, ds, gemeente_code)
    level = area_data.level_of(code)
    year_div = mon._division_year(state)
    names = area_data.areas(state, year_div)
    sim = similar(sc, level, code) if level != "gemeente" else []
    rk = ranks(sc, level, code) if level != "gemeente" else {}
    refs = [r for r in refs if r in sc.index and r != code][:5]
    cols = [{"sleutel": "gebied", "naam": names[code].name if code in names else code},
            {"sleutel": "stad", "naam": names[gemeente_code].name if gemeente_code in names else "Gemeente"}]
    if sim:
        cols.append({"sleutel": "vergelijkbaar", "naam": "Vergelijkbare gebieden (gemiddelde)"})
    cols += [{"sleutel": r, "naam": names[r].name if r in names else r} for r in refs]
    rows = []
    sim_codes = [c for c, _ in sim]
    for ind in mon.indicators_for(ds):
        f = ind["veld"]
        vals = {"gebied": _v(sc, code, f), "stad": _v(sc, gemeente_code, f)}
        if sim:
            s = sc.loc[sim_codes, f].astype(float)
            vals["vergelijkbaar"] = None if s.notna().sum() == 0 else float(s.mean())
        for r in refs:
            vals[r] = _v(sc, r, f)
        rows.append({**ind, "waarden": vals, "rang": rk.get(f)})
    return {"gebied": code, "jaar": year, "niveau": level, "kolommen": cols, "rijen": rows,
            "vergelijkbaar": [{"code": c, "naam": names[c].name if c in names else c, "afstand": round(d, 3)}
                              for c, d in sim],
            "methode": METHOD_SIMILAR}


def _v(sc: pd.DataFrame, code: str, f: str) -> float | None:
    if code not in sc.index or f not in sc.columns:
        return None
    v = sc.at[code, f]
    return None if pd.isna(v) else float(v)


def monitor_themes(state: AppState, gemeente_code: str) -> list[str]:
    """The indicator groups that have figures in at least one year, in the monitor's order — what the start
    page may promise (not income, jeugdzorg or Wmo when no Kerncijfers year carries them)."""
    if not gemeente_code:
        return []
    have = indicator_years(state, gemeente_code)
    groups: list[str] = []
    for ind in mon.INDICATORS:
        if have.get(ind.field) and ind.group not in groups:
            groups.append(ind.group)
    return groups
