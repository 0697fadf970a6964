"""Fixtures for the profile tests: a generated frame shaped like the linked frame (docs/dev/DDD-CONTRACT.md)
in a real DuckDB warehouse, source catalog entries, a workspace folder with profiles, users and an audit log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from stadslab.catalog.model import Dataset
from stadslab.privacy.access import User
from stadslab.privacy.audit import AuditLog
from stadslab.warehouse.store import Warehouse

ANALYST = User("analist", "Analist", roles=("sociaal_analist",), purposes=("sociaal_domein",))
SCHOOL = User("school3", "School", roles=("school",), purposes=("sociaal_domein",), scope={"school": "S003"})
YEARS = ["2021/22", "2022/23", "2023/24", "2024/25"]
ZRM = ["financien", "werk_opleiding", "tijdsbesteding", "huisvesting", "huiselijke_relaties",
       "geestelijke_gezondheid", "lichamelijke_gezondheid", "middelengebruik", "basale_adl", "instrumentele_adl",
       "sociaal_netwerk", "maatschappelijke_participatie", "justitie"]

PROFILES = {
    "verzuim_hoog": {"titel": "Verzuim boven 10 %", "voorwaarden": {"alle": [
        {"veld": "verzuim_pct", "op": ">", "waarde": 10}]}},
    "verzuim_bijstand_zrm": {"titel": "Verzuim > 10 % met bijstand en ZRM financiën ≤ 2", "voorwaarden": {"alle": [
        {"veld": "verzuim_pct", "op": ">", "waarde": 10}, {"veld": "bijstand", "op": "=", "waarde": "ja"},
        {"veld": "zrm_financien", "op": "<=", "waarde": 2}]}},
    "bijstand": {"titel": "Huishouden met bijstand", "voorwaarden": {"alle": [
        {"veld": "bijstand", "op": "=", "waarde": "ja"}]}},
    "geen_bijstand": {"titel": "Huishouden zonder bijstand (complement)", "voorwaarden": {"een_van": [
        {"veld": "bijstand", "op": "!=", "waarde": "ja"}, {"veld": "bijstand", "op": "is_null"}]}},
}


def linked_df(seed: int = 3, pupils: int = 2600) -> pd.DataFrame:
    """pupil × school year rows; skewed buurten (some small) so that small cells exist."""
    rng = np.random.default_rng(seed)
    buurten = {f"BU{w}{b}": f"WK{w}" for w in range(1, 5) for b in range(1, 4)}
    names = list(buurten)
    w = np.array([.2, .15, .1, .12, .08, .03, .1, .06, .02, .07, .05, .02])
    home = rng.choice(names, pupils, p=w / w.sum())
    school = rng.choice([f"S{i:03d}" for i in range(1, 7)], pupils, p=[.3, .25, .2, .12, .08, .05])
    poor = rng.random(pupils) < .18
    rows = []
    for yi, year in enumerate(YEARS):
        present = rng.random(pupils) < .9
        idx = np.flatnonzero(present)
        n = len(idx)
        bijstand = np.where(poor[idx] ^ (rng.random(n) < .04), "ja", "nee")
        verzuim = np.round(rng.gamma(1.2, 4.0, n) + np.where(bijstand == "ja", 4, 0), 1)
        fin = np.where(rng.random(n) < .35, np.clip(rng.integers(1, 6, n) - (bijstand == "ja") * 2, 1, 5), np.nan)
        frame = pd.DataFrame({
            "pseudo_id": [f"{i:032x}" for i in idx], "pseudo_id_ouder": [f"{i // 2 + 10**6:032x}" for i in idx],
            "schooljaar": year, "buurt_code": home[idx], "wijk_code": [buurten[b] for b in home[idx]],
            "gemeente_code": "GM0344", "school": school[idx],
            "schoolsoort": np.where(np.isin(school[idx], ["S001", "S002", "S003"]), "basisschool", "voortgezet onderwijs"),
            "geboortejaar": 2008 + (idx % 10), "leeftijd": 2021 + yi - (2008 + (idx % 10)),
            "verzuim_pct": verzuim, "verzuim_pct_volgend": np.nan, "bijstand": bijstand,
            "zrm_gemeten": np.where(np.isnan(fin), "nee", "ja"),
            "traject": np.where(rng.random(n) < .05, "ja", "nee"), "traject_lopend": "nee"})
        for d in ZRM:
            frame[f"zrm_{d}"] = fin if d == "financien" else np.where(np.isnan(fin), np.nan, 3.0)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def source_entries(purposes: tuple[str, ...] = ("sociaal_domein",)) -> list[Dataset]:
    out = []
    for ds in ("ddd_verzuim", "ddd_uitkeringen", "ddd_zrm"):
        out.append(Dataset.from_dict({
            "id": ds, "title": ds, "owner": "test", "classification": "persoonsgegevens", "simulated": True,
            "purposes": list(purposes), "access": {"roles": ["sociaal_analist", "school", "buurtteam"],
                                                   "purposes": list(purposes)},
            "source": {"path": f"{ds}.parquet"}, "geography": {"level": "buurt", "division_year": 2024},
            "fields": [{"name": "pseudo_id", "type": "string", "role": "pseudonym"},
                       {"name": "buurt_code", "type": "string", "role": "area_code"}]}))
    return out


def write_profiles(root: Path, profiles: dict = PROFILES) -> None:
    folder = root / "profielen"
    folder.mkdir(parents=True, exist_ok=True)
    for pid, body in profiles.items():
        doc = {"id": pid, "titel": body["titel"], "omschrijving": "test", "eigenaar": "Team Onderwijs",
               "doel": "sociaal_domein", "voorwaarden": body["voorwaarden"]}
        (folder / f"{pid}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="session")
def frame_df() -> pd.DataFrame:
    return linked_df()


@pytest.fixture(scope="session")
def env(tmp_path_factory, frame_df):
    """(warehouse, linked Ibis table, sources, workspace root)."""
    root = tmp_path_factory.mktemp("profiles")
    wh = Warehouse.open(root / "warehouse.duckdb")
    wh.con.register("__df", frame_df)
    wh.con.execute("CREATE TABLE linked AS SELECT * FROM __df")
    wh.con.unregister("__df")
    write_profiles(root)
    yield wh, wh.ibis.table("linked"), source_entries(), root
    wh.close()


@pytest.fixture
def audit(tmp_path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")
