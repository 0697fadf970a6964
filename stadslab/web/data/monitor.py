"""Gebiedsmonitor: CBS Kerncijfers wijken en buurten per area, against the city, and year on year.

Method (shown under "Bron" on the page):

- a *score* per indicator is the CBS value itself for percentages, averages and densities, and the
  value per 1,000 inhabitants (or per 1,000 households) for counts of people or households, so that
  large and small areas can be compared; the population itself is shown as a count;
- the *z-score* of an area is ``(score - reference) / sd``, where ``sd`` is the standard deviation
  (n - 1) of the scores of all areas of the same level in the municipality and ``reference`` is the
  municipality's own score (the city average) — or, for plain counts, the mean over those areas;
- the *change* is the score minus the score of the previous year's Kerncijfers (same area code);
- a value CBS did not publish ('.', secret or unreliable) is missing: no score, no z, no change —
  never zero. CBS rounds counts below municipality level to multiples of five, so wijk totals need
  not add up exactly to the municipality.

Only ``open`` Kerncijfers datasets are used: these are published statistics, and figures from non-open
data leave the warehouse only through the publication gate (``release_aggregate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.errors import AnalysisError
from stadslab.web.data import areas as area_data
from stadslab.web.state import AppState

KWB_FIELDS = {"gwb_code_10", "recs", "a_inw"}


@dataclass(frozen=True)
class Indicator:
    field: str
    label: str
    group: str
    per: str | None = None        # denominator field: score = value / per × 1000
    count: bool = False           # a plain count (z against the mean of the areas, no city value)


INDICATORS: tuple[Indicator, ...] = (
    Indicator("a_inw", "Inwoners", "Bevolking", count=True),
    Indicator("a_00_14", "0 tot 15 jaar", "Leeftijd", per="a_inw"),
    Indicator("a_15_24", "15 tot 25 jaar", "Leeftijd", per="a_inw"),
    Indicator("a_25_44", "25 tot 45 jaar", "Leeftijd", per="a_inw"),
    Indicator("a_45_64", "45 tot 65 jaar", "Leeftijd", per="a_inw"),
    Indicator("a_65_oo", "65 jaar of ouder", "Leeftijd", per="a_inw"),
    Indicator("a_hh", "Huishoudens", "Huishoudens", count=True),
    Indicator("a_1p_hh", "Eenpersoonshuishoudens", "Huishoudens", per="a_hh"),
    Indicator("a_hh_m_k", "Huishoudens met kinderen", "Huishoudens", per="a_hh"),
    Indicator("g_hhgro", "Gemiddelde huishoudensgrootte", "Huishoudens"),
    Indicator("bev_dich", "Bevolkingsdichtheid", "Bevolking"),
    Indicator("g_ink_pi", "Gemiddeld inkomen per inwoner", "Inkomen"),
    Indicator("p_hh_li", "Huishoudens met laag inkomen (laagste 40%)", "Inkomen"),
    Indicator("p_hh_osm", "Huishoudens rond het sociaal minimum", "Inkomen"),
    Indicator("a_soz_wb", "Bijstandsuitkering", "Uitkeringen", per="a_inw"),
    Indicator("a_soz_ao", "Arbeidsongeschiktheidsuitkering", "Uitkeringen", per="a_inw"),
    Indicator("a_soz_ww", "WW-uitkering", "Uitkeringen", per="a_inw"),
    Indicator("a_soz_ow", "AOW-uitkering", "Uitkeringen", per="a_inw"),
    Indicator("p_jz_tn", "Jongeren met jeugdzorg", "Zorg"),
    Indicator("a_wmo_t", "WMO-cliënten", "Zorg", per="a_inw"),
    Indicator("g_wozbag", "Gemiddelde WOZ-waarde", "Wonen"),
    Indicator("p_huurw", "Huurwoningen", "Wonen"),
)
PER_LABEL = {"a_inw": "per 1.000 inwoners", "a_hh": "per 1.000 huishoudens"}


def kwb_datasets(state: AppState, gemeente_code: str) -> dict[int, Dataset]:
    """Open Kerncijfers datasets of the municipality that are loaded, by year."""
    def compute() -> dict[int, Dataset]:
        out: dict[int, Dataset] = {}
        wh = state.warehouse()
        for ds in state.catalog:
            names = {f.name for f in ds.fields}
            if not KWB_FIELDS <= names or ds.classification != "open" or wh.current_version(ds.id) is None:
                continue
            year = ds.geography.division_year or int(str(ds.temporal_coverage.get("start", "0"))[:4] or 0)
            if year and _frame(state, ds.id)["gwb_code_10"].eq(gemeente_code).any():
                out[year] = ds
        return dict(sorted(out.items()))
    return state.cache.get_or_compute(("kwb_datasets", state.generation, gemeente_code), compute)


def indicators_for(ds: Dataset) -> list[dict[str, Any]]:
    names = {f.name: f for f in ds.fields}
    out = []
    for ind in INDICATORS:
        if ind.field not in names or (ind.per and ind.per not in names):
            continue
        f = names[ind.field]
        unit = PER_LABEL[ind.per] if ind.per else (f.unit or "")
        out.append({"veld": ind.field, "label": ind.label, "groep": ind.group, "per": ind.per,
                    "eenheid": unit, "aantal": ind.count, "omschrijving": f.description})
    return out


def _frame(state: AppState, dataset_id: str) -> pd.DataFrame:
    wh = state.warehouse()
    version = wh.current_version(dataset_id)

    def compute() -> pd.DataFrame:
        df = wh.table(dataset_id, version).to_pandas()
        return df.set_index("gwb_code_10", drop=False)
    return state.cache.get_or_compute(("kwb", state.generation, dataset_id, version), compute)


def scores(state: AppState, ds: Dataset, gemeente_code: str) -> pd.DataFrame:
    """Score per area (rows: gwb codes of the municipality) and indicator (columns), NaN = missing."""
    version = state.warehouse().current_version(ds.id)

    def compute() -> pd.DataFrame:
        df = _frame(state, ds.id)
        df = df[df["gwb_code_10"].str.startswith(("GM", "WK", "BU")) &
                ((df["gwb_code_10"] == gemeente_code) |
                 df["gwb_code_10"].str[2:6].eq(gemeente_code[2:6]))]
        out = pd.DataFrame(index=df.index)
        for ind in indicators_for(ds):
            value = pd.to_numeric(df[ind["veld"]], errors="coerce").astype(float)
            if ind["per"]:
                denom = pd.to_numeric(df[ind["per"]], errors="coerce").astype(float)
                value = (value / denom.where(denom > 0)) * 1000.0
            out[ind["veld"]] = value
        out["__level"] = df["gwb_code_10"].map(area_data.level_of)
        return out
    return state.cache.get_or_compute(("kwb_scores", state.generation, ds.id, version, gemeente_code), compute)


def raw_values(state: AppState, ds: Dataset, code: str) -> dict[str, float | None]:
    df = _frame(state, ds.id)
    if code not in df.index:
        return {}
    row = df.loc[code]
    return {ind["veld"]: _num(row[ind["veld"]]) for ind in indicators_for(ds)}


def z_scores(sc: pd.DataFrame, level: str, gemeente_code: str, ds: Dataset) -> pd.DataFrame:
    """z per area of ``level`` and indicator, against the city (see module docstring)."""
    part = sc[sc["__level"] == level].drop(columns="__level")
    city = sc.loc[gemeente_code].drop("__level") if gemeente_code in sc.index else None
    counts = {i["veld"] for i in indicators_for(ds) if i["aantal"]}
    ref = part.mean(axis=0, skipna=True)
    if city is not None:
        for col in part.columns:
            if col not in counts and pd.notna(city[col]):
                ref[col] = float(city[col])
    sd = part.std(axis=0, ddof=1, skipna=True).replace(0.0, np.nan)
    return (part - ref) / sd


def profile(state: AppState, gemeente_code: str, code: str, year: int) -> dict[str, Any]:
    """Everything the monitor shows for one area and year: indicators, scores, z, change, children."""
    return state.cache.get_or_compute(("kwb_profile", state.generation, gemeente_code, code, year),
                                      lambda: _profile(state, gemeente_code, code, year))


def _profile(state: AppState, gemeente_code: str, code: str, year: int) -> dict[str, Any]:
    years = kwb_datasets(state, gemeente_code)
    if year not in years:
        raise AnalysisError(f"geen Kerncijfers voor {year}",
                            hint="beschikbare jaren: " + ", ".join(map(str, years)) if years else
                            "laad een CBS Kerncijfers-dataset (velden gwb_code_10, recs, a_inw)")
    ds = years[year]
    prev_year = max((y for y in years if y < year), default=None)
    prev = years.get(prev_year) if prev_year else None
    level = area_data.level_of(code)
    sc = scores(state, ds, gemeente_code)
    sc_prev = scores(state, prev, gemeente_code) if prev else None
    z = z_scores(sc, level, gemeente_code, ds)
    inds = indicators_for(ds)
    raw = raw_values(state, ds, code)
    raw_prev = raw_values(state, prev, code) if prev else {}
    rows = []
    for ind in inds:
        f = ind["veld"]
        score = _num(sc.at[code, f]) if code in sc.index else None
        before = _num(sc_prev.at[code, f]) if sc_prev is not None and code in sc_prev.index and f in sc_prev else None
        rows.append({**ind, "waarde": raw.get(f), "score": score,
                     "stad": _num(sc.at[gemeente_code, f]) if gemeente_code in sc.index else None,
                     "z": _num(z.at[code, f]) if code in z.index and level != "gemeente" else None,
                     "vorig_jaar": before, "vorige_waarde": raw_prev.get(f),
                     "verschil": None if score is None or before is None else score - before,
                     "gepubliceerd": raw.get(f) is not None})
    child_level = area_data.CHILD[level]
    kids = []
    if child_level:
        zc = z_scores(sc, child_level, gemeente_code, ds)
        for a in area_data.children(state, _division_year(state), code):
            kids.append({"code": a.code, "naam": a.name,
                         "score": {i["veld"]: (_num(sc.at[a.code, i["veld"]]) if a.code in sc.index else None)
                                   for i in inds},
                         "z": {i["veld"]: (_num(zc.at[a.code, i["veld"]]) if a.code in zc.index else None)
                               for i in inds},
                         "inwoners": (raw_values(state, ds, a.code) or {}).get("a_inw")})
    return {"jaar": year, "vorig_jaar": prev_year, "jaren": list(years), "dataset": ds.id,
            "vorige_dataset": prev.id if prev else None, "indicatoren": inds, "profiel": rows,
            "kind_niveau": child_level, "kinderen": kids, "niveau": level}


def _division_year(state: AppState) -> int:
    return int((state.workspace.config.get("municipality") or {}).get("division_year") or 0)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f
