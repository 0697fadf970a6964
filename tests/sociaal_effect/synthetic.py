"""A small SIMULATED frame shaped like the linked frame (docs/dev/DDD-CONTRACT.md), with a planted effect
of a trajectory on next-year absence and confounding by bijstand, ZRM financiën and this year's absence.
For the estimator's own tests; the acceptance test uses helper A's generator through the warehouse."""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = ["2021/22", "2022/23", "2023/24", "2024/25"]


def synthetic_frame(n_households: int = 4000, *, effect: float = -2.0, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hh = np.arange(n_households)
    kids = rng.integers(1, 3, n_households)
    pupil_hh = np.repeat(hh, kids)
    n = len(pupil_hh)
    wijk = np.array([f"WK0344{w:02d}" for w in range(4)])[pupil_hh % 4]
    school = np.array([f"S{s:03d}" for s in range(1, 7)])[rng.integers(0, 6, n)]
    soort = np.where(np.isin(school, ["S001", "S002", "S003", "S004"]), "basisschool", "voortgezet onderwijs")
    poor = rng.random(n_households) < 0.25
    base = rng.gamma(2.0, 1.5, n)
    rows = []
    for k, year in enumerate(YEARS):
        bij = (poor & (rng.random(n_households) < 0.8)) | (~poor & (rng.random(n_households) < 0.05))
        measured = rng.random(n_households) < np.where(bij, 0.7, 0.3)
        zrm = np.clip(np.round(4 - 1.5 * bij + rng.normal(0, 0.8, n_households)), 1, 5)
        zrm_p = np.where(measured, zrm, np.nan)[pupil_hh]
        low = np.nan_to_num(zrm_p, nan=5) <= 2
        b = bij[pupil_hh]
        verzuim = np.clip(base + 3 * b + 2 * low + rng.normal(0, 1, n), 0, 100)
        lin = -3.2 + 1.3 * b + 1.1 * low + 0.12 * verzuim
        traject_hh = rng.random(n_households) < 1 / (1 + np.exp(-lin[np.unique(pupil_hh, return_index=True)[1]]))
        tr = traject_hh[pupil_hh]
        rows.append(pd.DataFrame({
            "pseudo_id": [f"{i:032x}" for i in range(n)], "pseudo_id_ouder": [f"{h + 10**6:032x}" for h in pupil_hh],
            "schooljaar": year, "buurt_code": [w.replace("WK", "BU") + "01" for w in wijk], "wijk_code": wijk,
            "gemeente_code": "GM0344", "school": school, "schoolsoort": soort, "geboortejaar": 2010,
            "leeftijd": 11 + k, "verzuim_pct": verzuim, "bijstand": np.where(b, "ja", "nee"),
            "zrm_financien": zrm_p, "zrm_gemeten": np.where(np.isnan(zrm_p), "nee", "ja"),
            "traject": np.where(tr, "ja", "nee"), "traject_lopend": np.where(tr, "ja", "nee"),
            "_next_mean": 0.6 * verzuim + 2.0 * b + 1.5 * low + effect * tr}))
    df = pd.concat(rows, ignore_index=True)
    df["verzuim_pct_volgend"] = df["_next_mean"] + rng.normal(0, 1.5, len(df))
    df.loc[df.schooljaar == YEARS[-1], "verzuim_pct_volgend"] = np.nan
    df["zrm_financien"] = df["zrm_financien"].astype("Int64")
    return df.drop(columns="_next_mean")
