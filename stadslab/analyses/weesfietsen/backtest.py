"""Backtest of the yield model against naive choices, on held-out weeks of the simulated year (GESIMULEERD).

For each of the last ``weeks`` weeks of the demo's history, every method ranks all candidate locations using only
what the city knew before that Monday, and picks the top ``k`` (what the crews can label in a week):

- ``model``: the yield model (``yield_model``), refitted on the data known before the week;
- ``verwijderd_vorige_maand``: removals at re-checks done in the 4 weeks before (naive: "where we found bikes");
- ``meldingen``: meldingen in the 4 weeks before (naive: "where people complain");
- ``wijkrotatie``: the locations the old rotation labelled that week.

The score is the simulation's truth: orphan bicycles at the chosen locations that would still be there at the
re-check four weeks later (the expected survivors), per crew-hour of labelling and re-checking them (a visit
costs ``minutes_per_visit`` minutes, travel included, twice: label and re-check). Ties are broken at random.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.weesfietsen import yield_model as ym
from stadslab.demo.weesfietsen_sim import (HISTORY_PER_WEEK, HISTORY_START, HISTORY_WEEKS, World, run_old_policy,
                                           wijk_rotation)

METHODS = ("model", "verwijderd_vorige_maand", "meldingen", "wijkrotatie")


def backtest(world: World, *, weeks: int = 12, k: int = HISTORY_PER_WEEK, minutes_per_visit: float = 12.0,
             seed: int = 0) -> dict[str, Any]:
    truth: dict[int, np.ndarray] = {}
    first = HISTORY_WEEKS - weeks

    def keep(week, monday, w):
        if week >= first:
            truth[week] = w.stock.copy()

    rec = run_old_policy(world, HISTORY_START, HISTORY_WEEKS, HISTORY_PER_WEEK, on_week=keep)
    locs = world.locs
    cells = pd.Series(locs.cell)
    a = pd.DataFrame(rec["acties"], columns=["loc", "datum_gelabeld", "aantal_gelabeld", "datum_gecontroleerd",
                                             "aantal_verwijderd", "ploeg"])
    a["locatie"] = locs.cell[a["loc"].to_numpy(dtype=int)]
    m = pd.DataFrame(rec["meldingen"], columns=["id", "tijd", "mor", "cat", "x", "y", "loc"])
    m["locatie"] = locs.cell[m["loc"].to_numpy(dtype=int)]
    w = pd.DataFrame(rec["waarnemingen"], columns=["id", "tijd", "aantal_weesfietsen", "x", "y", "loc"])
    w["locatie"] = locs.cell[w["loc"].to_numpy(dtype=int)]
    survive = (1 - world.params.decay_per_week) ** 4
    hours = 2 * k * minutes_per_visit / 60
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(first, HISTORY_WEEKS):
        monday = pd.Timestamp(HISTORY_START + timedelta(weeks=week))
        month_ago = monday - pd.Timedelta(days=28)
        done = pd.to_datetime(a["datum_gecontroleerd"])
        scores = {
            "model": ym.predict_at(ym.fit(a, m, w, before=monday), cells, monday, a, m, w)["verwacht"].to_numpy(),
            "verwijderd_vorige_maand": cells.map(a[(done >= month_ago) & (done < monday)]
                                                 .groupby("locatie")["aantal_verwijderd"].sum()).fillna(0).to_numpy(),
            "meldingen": cells.map(m[(pd.to_datetime(m["tijd"]) >= month_ago) & (pd.to_datetime(m["tijd"]) < monday)]
                                   .groupby("locatie").size()).fillna(0).to_numpy(),
        }
        noise = rng.random(len(cells)) * 1e-6
        for name, score in scores.items():
            chosen = np.argsort(-(score + noise))[:k]
            rows.append({"week": monday.date().isoformat(), "methode": name,
                         "gevonden": float(truth[week][chosen].sum() * survive)})
        chosen = np.array(wijk_rotation(locs, week, k))
        rows.append({"week": monday.date().isoformat(), "methode": "wijkrotatie",
                     "gevonden": float(truth[week][chosen].sum() * survive)})
    per_week = pd.DataFrame(rows)
    per_week["per_ploeguur"] = per_week["gevonden"] / hours
    summary = per_week.groupby("methode")["per_ploeguur"].mean().reindex(METHODS)
    best_naive = summary.drop("model").idxmax()
    wins = (per_week.pivot(index="week", columns="methode", values="gevonden")
            .pipe(lambda p: int((p["model"] > p[best_naive]).sum())))
    ratio = float(summary["model"] / summary[best_naive]) if summary[best_naive] else None
    return {"weken": weeks, "k": k, "ploeguren_per_week": hours, "per_ploeguur": summary.round(3).to_dict(),
            "beste_naief": best_naive, "ratio": round(ratio, 3) if ratio else None, "weken_gewonnen": wins,
            "per_week": per_week.to_dict(orient="records"), "oordeel": verdict(ratio, wins, weeks, best_naive),
            "methode": ym.METHOD, "gesimuleerd": True}


def verdict(ratio: float | None, wins: int, weeks: int, best_naive: str) -> str:
    """One Dutch sentence; the model must win clearly (≥ 5 %) and in most weeks to be called better."""
    if ratio is None:
        return "Niet te beoordelen: de eenvoudige keuze vond niets."
    if ratio >= 1.05 and wins > weeks / 2:
        return (f"Het model vindt {100 * (ratio - 1):.0f} % meer weesfietsen per ploeguur dan de beste eenvoudige keuze "
                f"({best_naive.replace('_', ' ')}) en wint {wins} van {weeks} weken.").replace(".", ",", 0)
    return (f"Het model is niet duidelijk beter dan de eenvoudige keuze ({best_naive.replace('_', ' ')}): "
            f"verhouding {ratio:.2f}, {wins} van {weeks} weken gewonnen. Gebruik dan de eenvoudige keuze.")
