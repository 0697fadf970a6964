"""Inhabitants per buurt for rates per 1,000, found in the catalog — never invented.

Looked for, for the buurt division year of the incidents, in open datasets only:
1. CBS Kerncijfers (fields ``gwb_code_10`` and ``a_inw``) whose division year matches;
2. an area dataset of that year and level ``buurt`` that carries a population field (``a_inw``,
   ``aant_inw``: the CBS wijk- en buurtkaart ships its kerncijfers with the polygons).
Without one, rates are missing (``None``) and the page says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from stadslab.web.state import AppState

POPULATION_FIELDS = ("a_inw", "aant_inw")


@dataclass(frozen=True)
class Population:
    per_buurt: pd.Series          # buurt code → inhabitants (NaN when CBS did not publish)
    dataset: str
    version: int
    field: str
    note: str


def population(state: AppState, year: int, gemeente_code: str | None) -> Population | None:
    def compute() -> Population | None:
        wh = state.warehouse()
        for ds in state.catalog:
            if ds.classification != "open" or wh.current_version(ds.id) is None:
                continue
            names = {f.name for f in ds.fields}
            if {"gwb_code_10", "a_inw"} <= names and ds.geography.division_year == year:
                code, pop = "gwb_code_10", "a_inw"
            elif ds.areas and ds.areas.year == year and ds.areas.level == "buurt" and names & set(POPULATION_FIELDS):
                code, pop = ds.areas.code_field, next(f for f in POPULATION_FIELDS if f in names)
            else:
                continue
            version = wh.current_version(ds.id)
            t = wh.table(ds.id, version)
            df = t.filter(t[code].startswith("BU")).select(t[code].name("code"), t[pop].name("pop")).to_pandas()
            if gemeente_code:
                df = df[df["code"].str[2:6] == gemeente_code[2:6]]
            if df.empty:
                continue
            series = pd.to_numeric(df.set_index("code")["pop"], errors="coerce").astype(float)
            f = ds.field(pop)
            note = (f"Inwoners per buurt: {ds.title}, veld {pop} ({f.description or 'aantal inwoners'}), "
                    f"versie {version}.")
            return Population(series, ds.id, version, pop, note)
        return None
    return state.cache.get_or_compute(("population", state.generation, year, gemeente_code), compute)


def missing_note(year: int) -> str:
    return (f"Per 1.000 inwoners is niet te berekenen: er is geen open dataset met inwoners per buurt voor de "
            f"buurtindeling van {year}. Voeg CBS Kerncijfers van dat jaar toe aan de catalogus.")
