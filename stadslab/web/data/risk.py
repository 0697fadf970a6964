"""The Risicokaart's data: the stored backtest and risk prediction of an incident dataset, honestly presented.

Both are stored results in the warehouse (``stadslab.results``; made by ``stadslab predict backtest`` and
``stadslab predict risk``): ``backtest_risico_<dataset>`` (kind ``backtest``; ``params`` holds the backtest
dict, the result table one row per period × method × area fraction) and ``risico_<dataset>`` (kind
``risk_prediction``; one row per 125 m cell). This module reads the latest of each, shows the one
verdict of ``stadslab.analyses.risk.verdict`` (which also picks the map shown first: the model only when it
clearly wins, else the best baseline) and ranks the cells of any of the four scores with the same
tie-breaks as the backtest (``stadslab.analyses.risk.metrics.rank_cells``: score, then last year's count,
then cell id), so the map of a baseline is exactly the map that was scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from stadslab.analyses.hotspots.lattice import cell_geometry, parse_cells
from stadslab.analyses.risk.metrics import rank_cells
from stadslab.analyses.risk.verdict import NAMES, pct  # noqa: F401  (pct: used by the page through this module)
from stadslab.analyses.risk.verdict import verdict as risk_verdict
from stadslab.errors import AnalysisError, VersionNotFound
from stadslab.warehouse.store import qident
from stadslab.web.data import areas as area_data
from stadslab.web.data.provenance import bron
from stadslab.web.state import AppState

CELL_M = 125
FRACTIONS = ("0.01", "0.03", "0.05", "0.1")
BASELINES = ("last_period", "last_365d", "kde")
SCORES = ("model", *BASELINES)
LONG_NAMES = {"model": "Model (gradient boosting, Poisson)", "last_period": "Vorige periode",
              "last_365d": "Afgelopen jaar", "kde": "Kerndichtheid"}
EXPLAIN = {
    "model": "leert uit eerdere perioden hoeveel incidenten volgen, uit aantallen in en rond de cel over 7 dagen tot "
             "2 jaar, herhaling dichtbij, seizoen en buurt.",
    "last_period": "de cellen met de meeste incidenten in de vorige periode (even lang als de voorspelde).",
    "last_365d": "de cellen met de meeste incidenten in de afgelopen 365 dagen (de langetermijn-hotspotkaart).",
    "kde": "incidenten in en rond de cel, nabije en recente zwaarder gewogen (prospectieve hotspots).",
}
TOP_ROWS = 20
# The same method string as ``stadslab predict risk`` stores (cli/predict_risk.py), so both paths read alike.
METHOD = ("stadslab.analyses.risk: LightGBM Poisson op kenmerken van eerdere incidenten per 125 m-cel; "
          "baselines last_period, last_365d, kde; trefkans/PAI (Chainey e.a. 2008)/PEI (Hunt 2016)")


def commands(dataset: str) -> dict[str, str]:
    return {"backtest": f"stadslab predict backtest {dataset} --start 2017-01-01 --end 2017-10-01",
            "risk": f"stadslab predict risk {dataset}"}


@dataclass(frozen=True)
class Stored:
    """One row of ``stadslab.results``."""
    name: str
    version: int
    table_name: str
    kind: str
    inputs: tuple[tuple[str, int], ...]
    params: dict[str, Any]
    method: str
    rows: int
    created_at: datetime | None
    created_by: str | None


def latest(state: AppState, name: str, kind: str) -> Stored | None:
    """The newest stored result ``name`` of ``kind`` (cached per generation: a save from the app bumps it)."""
    def compute() -> Stored | None:
        stored = state.warehouse().results(name, kind)
        if not stored:
            return None
        r = stored[-1]
        return Stored(r["name"], int(r["version"]), r["table_name"], r["kind"], tuple(r["inputs"]), r["params"],
                      r["method"] or "", int(r["rows"] or 0), r["created_at"], r["created_by"])
    return state.cache.get_or_compute(("risk_latest", state.generation, name, kind), compute)


def stored_backtest(state: AppState, dataset: str) -> Stored | None:
    return latest(state, f"backtest_risico_{dataset}", "backtest")


def stored_prediction(state: AppState, dataset: str) -> Stored | None:
    return latest(state, f"risico_{dataset}", "risk_prediction")


def _table(state: AppState, res: Stored) -> pd.DataFrame:
    return state.cache.get_or_compute(
        ("risk_table", state.generation, res.table_name),
        lambda: state.warehouse().con.execute(f"SELECT * FROM results.{qident(res.table_name)}").df())


# ---- the verdict ------------------------------------------------------------------------------------------

def default_score(bt: Mapping[str, Any] | None) -> str:
    """The map shown first: the one the verdict chooses (``stadslab.analyses.risk.verdict``)."""
    return risk_verdict(bt).default_map


def verdict(bt: Mapping[str, Any] | None) -> dict[str, Any]:
    """The page's view of the one verdict (``stadslab.analyses.risk.verdict.verdict``): same sentence as
    the CLI and the Algoritmeregister entry, plus the keys the template and the API use."""
    v = risk_verdict(bt)
    return {"getoetst": v.tested, "model_wint": (v.level == "wint") if v.tested else None,
            "oordeel": v.level, "standaard": v.default_map, "niveau": v.notice, "kop": v.headline,
            "tekst": v.sentence, "klein_verschil": v.level == "gelijk"}


# ---- backtest view ----------------------------------------------------------------------------------------

def backtest_view(state: AppState, dataset: str) -> dict[str, Any] | None:
    res = stored_backtest(state, dataset)
    if res is None:
        return None

    def compute() -> dict[str, Any]:
        bt = res.params
        order = [bt["model"], *[b for b in BASELINES if b in bt["models"]]]
        rows = []
        for name in order:
            m = bt["models"][name]
            key = "model" if name == bt["model"] else name
            rows.append({"methode": key, "naam": LONG_NAMES.get(key, name), "intern": name,
                         "uitleg": EXPLAIN.get(key, ""), "beste_baseline": name == bt["best_baseline"],
                         "trefkans": {f: m["hit_rate"].get(f) for f in FRACTIONS},
                         "pai": {f: m["pai"].get(f) for f in FRACTIONS},
                         "pei": {f: (m.get("pei") or {}).get(f) for f in FRACTIONS},
                         "gemiddeld": m.get("hit_rate_mean_over_fractions")})
        return {"versie": res.version, "resultaat": f"results.{res.table_name}",
                "gemaakt_op": res.created_at, "perioden": bt["periods"], "periode_dagen": bt["period_days"],
                "van": bt["start"][:10], "tot": bt["end"][:10], "aandelen": list(FRACTIONS), "scores": rows,
                "model": bt["model"], "beste_baseline": bt["best_baseline"],
                "model_wint": bool(bt["model_beats_best_baseline"]), "vergelijking": bt.get("comparison"),
                "kalibratie": bt.get("calibration"), "oordeel": verdict(bt),
                "per_periode": per_period(state, res), "bron": result_bron(state, res, _bt_params(bt))}
    return state.cache.get_or_compute(("risk_backtest_view", state.generation, res.table_name), compute)


def _bt_params(bt: Mapping[str, Any]) -> dict[str, Any]:
    p = bt.get("params") or {}
    return {"perioden": bt.get("periods"), "periode_dagen": bt.get("period_days"),
            "toetsvenster": f"{bt['start'][:10]} tot {bt['end'][:10]}",
            "aandelen_oppervlak": bt.get("area_fractions"), "trainperioden": p.get("train_periods"),
            "opnieuw_trainen_elke": p.get("refit_every"), "marge": bt.get("margin"),
            "studiegebied": (bt.get("study_area") or {}).get("source")}


def per_period(state: AppState, res: Stored, fraction: float = 0.03) -> list[dict[str, Any]]:
    """Hit rate per backtest period at ``fraction`` of the area, for the model and the best baseline."""
    bt = res.params
    t = _table(state, res)
    keep = t[np.isclose(t["area_fraction"].astype(float), fraction) & t["model"].isin([bt["model"], bt["best_baseline"]])]
    keep = keep.sort_values(["t0", "model"])
    label = {bt["model"]: "model", bt["best_baseline"]: NAMES.get(bt["best_baseline"], bt["best_baseline"])}
    return [{"begin": pd.Timestamp(t0).date().isoformat(), "methode": label[m],
             "trefkans": None if pd.isna(h) else float(h), "incidenten": None if pd.isna(n) else int(n)}
            for t0, m, h, n in zip(keep["t0"], keep["model"], keep["hit_rate"], keep["incidents"])]


def result_bron(state: AppState, res: Stored, params: dict[str, Any]) -> dict[str, Any]:
    """Provenance of a stored result: its input datasets and versions, method, when it was made, parameters."""
    wh = state.warehouse()
    notes = [f"Opgeslagen resultaat results.{res.table_name} (versie {res.version}), gemaakt op "
             f"{_when(res.created_at)}{' door ' + res.created_by if res.created_by else ''}."]
    for d, v in res.inputs:
        cur = wh.current_version(d)
        if cur is not None and cur != v:
            notes.append(f"Let op: gemaakt met versie {v} van '{d}'; de huidige versie is {cur}. Maak het opnieuw.")
    block = bron(state, list(res.inputs), method=res.method, filters=params, notes=notes)
    block["berekend_op"] = res.created_at.isoformat(timespec="seconds") if res.created_at else None
    return block


def stale(state: AppState, res: Stored) -> bool:
    """Was the result made from an older version of one of its datasets than the current one?"""
    wh = state.warehouse()
    return any(wh.current_version(d) not in (None, v) for d, v in res.inputs)


def _when(t: datetime | None) -> str:
    return t.astimezone().strftime("%d-%m-%Y %H:%M") if t else "onbekend"


# ---- the prediction: cells ranked by one score ------------------------------------------------------------

def check_score(score: str) -> str:
    if score not in SCORES:
        raise AnalysisError(f"score '{score}' is onbekend", hint="kies uit: " + ", ".join(SCORES))
    return score


def all_cells(state: AppState, res: Stored) -> pd.DataFrame:
    """All cells of a prediction in cell-id order (the order the backtest breaks last ties on), with WGS84."""
    def compute() -> pd.DataFrame:
        t = _table(state, res).sort_values("cell_id", kind="mergesort").reset_index(drop=True)
        ix, iy = parse_cells(t["cell_id"].to_numpy())
        geo = cell_geometry(ix, iy, CELL_M, polygons=False)
        return t.assign(lon=geo["lon"], lat=geo["lat"], _ix=ix, _iy=iy)
    return state.cache.get_or_compute(("risk_cells", state.generation, res.table_name), compute)


def score_values(t: pd.DataFrame, score: str) -> np.ndarray:
    return t["expected" if score == "model" else f"score_{score}"].to_numpy(dtype=float)


def ranked(t: pd.DataFrame, score: str, k: int) -> pd.DataFrame:
    """The top ``k`` cells of ``score``: score desc, last-year count desc, cell id asc (as in the backtest)."""
    order = rank_cells(score_values(t, score), t["score_last_365d"].to_numpy(dtype=float))[:k]
    top = t.iloc[order].copy()
    top["rang"] = np.arange(1, len(top) + 1)
    top["score"] = score_values(top, score)
    return top.reset_index(drop=True)


def _reason(score: str, row: Any, period_days: int) -> str:
    """Why a cell is on a baseline's map, in Dutch (the model's reasons come from the stored SHAP text)."""
    def n(v: float) -> str:
        v = int(round(v))
        return f"{v} incident" if v == 1 else f"{v} incidenten"
    if score == "last_period":
        text = f"{n(row.score_last_period)} in de vorige {period_days} dagen in deze cel"
        if row.score_last_period == 0:   # on the map only through the tie-break, say so
            text += (f"; aangewezen omdat te weinig vakken incidenten hadden: bij gelijke aantallen gaat het vak met "
                     f"de meeste incidenten in het afgelopen jaar voor ({n(row.score_last_365d)})")
        return text
    if score == "last_365d":
        return f"{n(row.score_last_365d)} in de afgelopen 365 dagen in deze cel"
    if score == "kde":
        return (f"kerndichtheid {row.score_kde:.2f}".replace(".", ",") + ": veel recente incidenten in en dicht bij "
                f"deze cel ({n(row.score_last_365d)} in de afgelopen 365 dagen in de cel zelf)")
    return str(row.toelichting or "")


def prediction_view(state: AppState, dataset: str, year: int, score: str) -> dict[str, Any] | None:
    """The top cells of ``score`` with names, reasons and outlines, plus what the prediction is for."""
    res = stored_prediction(state, dataset)
    if res is None:
        return None
    check_score(score)

    def compute() -> dict[str, Any]:
        p = res.params
        t = all_cells(state, res)
        period_days = int(p.get("period_days") or 14)
        k = int(p.get("flagged_cells") or int(t["flagged"].sum()))
        top = ranked(t, score, k)
        known = area_data.areas(state, year)
        names = [known[c].name if isinstance(c, str) and c in known else None for c in top["buurt_code"]]
        geo = cell_geometry(top["_ix"].to_numpy(), top["_iy"].to_numpy(), CELL_M)
        reasons = [_reason(score, r, period_days) for r in top.itertuples()]
        cells = pd.DataFrame({
            "rang": top["rang"], "cel": top["cell_id"], "buurt_code": top["buurt_code"].astype(object), "buurt": names,
            "score": top["score"], "verwacht": top["expected"], "toelichting": reasons,
            "toelichting_model": top["toelichting"], "score_last_period": top["score_last_period"],
            "score_last_365d": top["score_last_365d"], "score_kde": top["score_kde"],
            "x_rd": top["x_rd"], "y_rd": top["y_rd"], "lon": np.round(top["lon"], 6), "lat": np.round(top["lat"], 6)})
        at = pd.Timestamp(p["at"])
        codes = t["buurt_code"].dropna()
        gms = pd.Series([known[c].gemeente_code for c in codes.unique() if c in known])
        bbox = [round(float(t["lon"].min()), 5), round(float(t["lat"].min()), 5),
                round(float(t["lon"].max()), 5), round(float(t["lat"].max()), 5)]
        return {"versie": res.version, "resultaat": f"results.{res.table_name}", "score": score,
                "score_naam": NAMES[score], "van": at.date().isoformat(),
                "tot_en_met": (at + pd.Timedelta(days=period_days - 1)).date().isoformat(),
                "periode_dagen": period_days, "top": float(p.get("top", 0.03)), "aangewezen": k,
                "kandidaatcellen": int(len(t)), "oppervlak_cellen": p.get("n_area_cells"),
                "verwacht_totaal": float(t["expected"].sum()),
                "verwacht_in_top": float(top["expected"].sum()),
                "gemaakt_op": res.created_at, "gemeente": gms.mode().iloc[0] if len(gms) else None,
                "bbox": bbox, "cellen": cells, "polygons": geo["polygon"], "verouderd": stale(state, res),
                "bron": result_bron(state, res, _pred_params(p, score))}
    return state.cache.get_or_compute(("risk_prediction_view", state.generation, res.table_name, score, year), compute)


def _pred_params(p: Mapping[str, Any], score: str) -> dict[str, Any]:
    return {"getoonde_kaart": NAMES[score], "voorspelde_periode_vanaf": str(p.get("at", ""))[:10],
            "periode_dagen": p.get("period_days"), "aangewezen_aandeel": p.get("top"),
            "aangewezen_cellen": p.get("flagged_cells"), "trainperioden": p.get("train_periods"),
            "studiegebied": p.get("study_area"), "tijdveld": p.get("time_column")}


def rows(view: Mapping[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
    c = view["cellen"] if limit is None else view["cellen"].head(limit)
    return c.astype(object).where(c.notna(), None).to_dict(orient="records")


def geojson(view: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("rang", "cel", "buurt_code", "buurt", "score", "verwacht", "toelichting", "toelichting_model",
            "score_last_period", "score_last_365d", "score_kde")
    feats = [{"type": "Feature", "id": int(r["rang"]), "geometry": {"type": "Polygon", "coordinates": poly},
              "properties": {k: r[k] for k in keep}} for r, poly in zip(rows(view), view["polygons"])]
    meta = {k: view[k] for k in ("score", "score_naam", "van", "tot_en_met", "periode_dagen", "top", "aangewezen",
                                 "kandidaatcellen", "bbox", "bron")}
    return {"type": "FeatureCollection", "features": feats, **meta}


def require_prediction(view: dict[str, Any] | None, dataset: str) -> dict[str, Any]:
    if view is None:
        raise VersionNotFound(f"er is nog geen risicokaart opgeslagen voor '{dataset}'",
                              hint=f"maak hem met: {commands(dataset)['risk']}")
    return view


# ---- one dataset's overview (page and API) ----------------------------------------------------------------

def has_results(state: AppState, dataset: str) -> bool:
    return stored_backtest(state, dataset) is not None or stored_prediction(state, dataset) is not None


def overview(state: AppState, dataset: str, year: int, score: str | None = None) -> dict[str, Any]:
    """Backtest scores, verdict, and the map of ``score`` (default: the one the verdict chooses)."""
    bt = backtest_view(state, dataset)
    oordeel = bt["oordeel"] if bt else verdict(None)
    chosen = check_score(score) if score else oordeel["standaard"]
    return {"dataset": dataset, "backtest": bt, "oordeel": oordeel, "standaard": oordeel["standaard"],
            "score": chosen, "voorspelling": prediction_view(state, dataset, year, chosen),
            "opdrachten": commands(dataset), "scores": [{"id": s, "naam": NAMES[s]} for s in SCORES]}
