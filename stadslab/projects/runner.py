"""Run a project's declared analyses (``analyses:`` in its record) and store their results.

A small explicit registry: an analysis kind is a function ``(wh, dataset, params) -> (DataFrame, method)``.
The functions call the shared analysis modules (Ibis over ``Warehouse.table``); the runner stores each
result with ``Warehouse.save_result`` under the name the record gives, with the dataset version as input, so
the project page and the programme report can show live, traceable figures. This is also what makes a pilot
portable: the receiving municipality runs the same record on its own data (``stadslab project run``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

import ibis
import pandas as pd

from stadslab.catalog.model import Dataset
from stadslab.errors import AnalysisError

Runner = Callable[[Any, Dataset, dict[str, Any]], tuple[pd.DataFrame, str]]


def _time_field(ds: Dataset) -> str:
    f = ds.field_with_role("time")
    if f is None:
        raise AnalysisError(f"dataset '{ds.id}' heeft geen tijdveld (role: time)",
                            hint="geef in de catalogus één veld 'role: time'")
    return f.name


def _last_days(wh: Any, ds: Dataset, days: int | None):
    """The dataset's current version, limited to the last ``days`` before its newest record."""
    t = wh.table(ds.id)
    if not days:
        return t
    time_col = _time_field(ds)
    newest = t.aggregate(m=t[time_col].max()).to_pyarrow().column("m")[0].as_py()
    if newest is None:
        raise AnalysisError(f"dataset '{ds.id}' is leeg: geen periode te kiezen")
    return t.filter(t[time_col] > ibis.literal(newest - timedelta(days=int(days))))


def hotspots_grid(wh: Any, ds: Dataset, params: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """Getis-Ord Gi* hot spots on the 125 m grid over the last ``days`` (default 365) of the data."""
    from stadslab.analyses.hotspots import grid_hotspots

    t = _last_days(wh, ds, params.get("days", 365))
    cells = grid_hotspots(t, alpha=float(params.get("alpha", 0.05)), polygons=False)
    cells = cells.drop(columns=[c for c in ("polygon",) if c in cells.columns])
    return cells, str(cells.attrs.get("method", "Getis-Ord Gi* (125 m), Benjamini-Hochberg FDR"))


def counts_per_area(wh: Any, ds: Dataset, params: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """Records per area code (``level``: buurt, wijk) and month: the monitoring table of a hotspot meeting."""
    level = params.get("level", "buurt")
    code = f"{level}_code"
    t = _last_days(wh, ds, params.get("days"))
    if code not in t.columns:
        raise AnalysisError(f"dataset '{ds.id}' heeft geen kolom {code}",
                            hint="een puntdataset krijgt buurt_code en wijk_code bij het inlezen")
    month = t[_time_field(ds)].truncate("M").name("maand")
    out = t.group_by([t[code], month]).aggregate(aantal=t.count()).order_by([code, "maand"]).to_pandas()
    return out, f"aantal records per {level} en maand (Ibis group-by op de code die bij het inlezen is toegekend)"


ANALYSES: dict[str, Runner] = {"hotspots_grid": hotspots_grid, "counts_per_area": counts_per_area}


def run_analyses(wh: Any, catalog: Any, project: Any, *, on_step: Callable[[str], None] | None = None
                 ) -> list[dict[str, Any]]:
    """Run every declared analysis of ``project``; returns one summary per stored result."""
    done = []
    for spec in project.analyses:
        if on_step:
            on_step(f"{spec.kind} op {spec.dataset}")
        ds = catalog.get(spec.dataset)
        version = wh.current_version(ds.id)
        if version is None:
            raise AnalysisError(f"dataset '{ds.id}' is nog niet ingelezen",
                                hint=f"zet het bestand in data/ en draai 'stadslab refresh' (catalogus: {ds.source.path})")
        frame, method = ANALYSES[spec.kind](wh, ds, spec.params)
        n = wh.save_result(spec.result, frame, kind=f"project:{spec.kind}", inputs=[(ds.id, version)],
                           params={"project": project.id, **spec.params}, method=method)
        done.append({"result": spec.result, "version": n, "rows": len(frame), "dataset": ds.id,
                     "dataset_version": version, "method": method})
    return done
