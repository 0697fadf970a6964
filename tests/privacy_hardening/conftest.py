"""Fixtures for the attacks of issue 9: a generated personal dataset in a real DuckDB warehouse file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stadslab.catalog.model import Dataset
from stadslab.privacy.access import User
from stadslab.warehouse.store import Warehouse

ANALYST = User("analist", "Analist", roles=("sociaal_analist",), purposes=("sociaal_domein",))
WIJKEN = {"W1": ["B11", "B12"], "W2": ["B21", "B22"], "W3": ["B31", "B32"]}
REGELINGEN = ["bijstand", "ioaw", "bbz"]
LEEFTIJD = ["18-39", "40-64", "65+"]

ENTRY = {
    "id": "hulp", "title": "Hulp (gegenereerd)", "owner": "test", "classification": "persoonsgegevens",
    "purposes": ["sociaal_domein"], "privacy": {"min_cell": 15},
    "access": {"roles": ["sociaal_analist"], "purposes": ["sociaal_domein"]},
    "geography": {"level": "buurt", "division_year": 2024},
    "source": {"path": "hulp.parquet"},
    "fields": [{"name": "pseudo_id", "type": "string", "role": "pseudonym"},
               {"name": "dossier", "type": "string", "role": "identifier"},
               {"name": "buurt", "type": "string", "role": "area_code"},
               {"name": "regeling", "type": "string", "codes": REGELINGEN},
               {"name": "leeftijd", "type": "string", "codes": LEEFTIJD},
               {"name": "start", "type": "date"}],
    "release": {
        "dimensions": ["wijk_code", "buurt", "regeling", "leeftijd"],
        "structures": [
            {"id": "buurt_in_wijk", "dims": ["buurt"], "hierarchy": {"buurt": "wijk_code"}, "margins": "persons_distinct"},
            {"id": "wijk_regeling", "dims": ["wijk_code", "regeling"], "margins": "persons_distinct"},
            {"id": "wijk_leeftijd", "dims": ["wijk_code", "leeftijd"], "margins": "persons_distinct"},
            {"id": "regeling_leeftijd", "dims": ["regeling", "leeftijd"], "margins": "persons_distinct"}]},
}


def persons(seed: int = 7, n: int = 900) -> pd.DataFrame:
    """One row per person (every person one buurt, regeling, leeftijd: the structures are partitions),
    with skewed categories so that small cells exist."""
    rng = np.random.default_rng(seed)
    buurten = [b for bs in WIJKEN.values() for b in bs]
    wijk_of = {b: w for w, bs in WIJKEN.items() for b in bs}
    b = rng.choice(buurten, n, p=[.3, .25, .2, .15, .06, .04])
    return pd.DataFrame({
        "pseudo_id": [f"{i:032x}" for i in range(n)], "dossier": [f"D{i}" for i in range(n)],
        "buurt": b, "wijk_code": [wijk_of[x] for x in b], "gemeente_code": "GM0344",
        "regeling": rng.choice(REGELINGEN, n, p=[.8, .15, .05]),
        "leeftijd": rng.choice(LEEFTIJD, n, p=[.5, .4, .1]),
        "start": pd.Timestamp("2023-01-01").date()})


def make_warehouse(root: Path, frame: pd.DataFrame, entry: dict = ENTRY) -> tuple[Warehouse, Dataset]:
    ds = Dataset.from_dict(entry)
    wh = Warehouse.open(root / "warehouse.duckdb", restricted_path=root / "restricted.duckdb",
                        restricted_ids={ds.id})
    wh.con.register("__gen", frame)
    wh.commit_version(ds.id, "__gen", {"classification": ds.classification, "rows_loaded": len(frame)})
    wh.con.unregister("__gen")
    return wh, ds


@pytest.fixture
def personal(tmp_path):
    wh, ds = make_warehouse(tmp_path, persons())
    yield wh, ds
    wh.close()
