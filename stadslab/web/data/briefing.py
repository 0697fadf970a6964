"""The briefing pack for the biweekly enforcement meeting: top areas with counts, rates, change and its
significance, the hotspot map, the actions decided earlier and the change measured since each action."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request

from stadslab.analyses.hotspots import change_test
from stadslab.web.data import actions as action_log
from stadslab.web.data import areas as area_data
from stadslab.web.data import svgmap
from stadslab.web.data.incident_layers import ALPHA, analyse, buurt_rows
from stadslab.web.data.incidents import Filters, IncidentSource, frame, mask

TOP_N = 10


def action_effects(request: Request, src: IncidentSource, f: Filters) -> list[dict[str, Any]]:
    """For every action: incidents (same type filter) in its area since the action date up to the end of the
    data, against the equally long period right before the action, with the exact change test."""
    state = request.app.state.stadslab
    df, _ = frame(request, src)
    items = action_log.for_dataset(state.workspace.root, src.id)
    if not items or not len(df):
        return []
    end = df["_day"].max() + pd.Timedelta(days=1)
    type_only = Filters(soort=f.soort, periode="alles")
    out = []
    for a in items:
        start = pd.Timestamp(a["datum"])
        days = int((end - start) / pd.Timedelta(days=1))
        entry = {**a, "dagen": max(days, 0)}
        if days <= 0:
            out.append({**entry, "meting": "nog geen gegevens na de actiedatum"})
            continue
        level = area_data.level_of(a["gebied"])
        in_area = np.ones(len(df), dtype=bool) if level == "gemeente" else \
            (df["buurt_code" if level == "buurt" else "wijk_code"] == a["gebied"]).to_numpy()
        after = mask(df, type_only, start, end) & in_area
        before = mask(df, type_only, start - pd.Timedelta(days=days), start) & in_area
        t = change_test(int(df.loc[after, "n"].sum()), int(df.loc[before, "n"].sum()), alpha=ALPHA).iloc[0]
        out.append({**entry, "na": int(t["current"]), "voor": int(t["previous"]), "verandering": int(t["change"]),
                    "p": float(t["p"]), "label": t["label"],
                    "meting": f"{days} dagen na de actie tegen {days} dagen ervoor"})
    return out


def build(request: Request, src: IncidentSource, f: Filters) -> dict[str, Any]:
    state = request.app.state.stadslab
    result = analyse(request, src, f)
    rows = buurt_rows(result)
    top = [r for r in rows if r["aantal"] > 0][:TOP_N]
    hot_rows = [r for r in rows if r["hotspot"] == "hotspot"]
    bounds = svgmap.classes([r["aantal"] for r in rows])
    shapes = [{"geometry": area_data.geometry(state, src.year, r["code"]),
               "fill": svgmap.colour(r["aantal"], bounds), "hot": r["hotspot"] == "hotspot",
               "label": f"{r['naam']}: {r['aantal']}"} for r in rows]
    g = result["raster"]
    cells = [{"geometry": {"type": "Polygon", "coordinates": p}} for p in g.loc[g["hot"].astype(bool), "polygon"]] \
        if len(g) else []
    title = f"Incidenten per buurt en hotspots, {result['periode']['van']} t/m {result['periode']['tot_en_met']}"
    wijk = area_data.area(state, src.year, f.wijk).name if f.wijk else None
    return {"dataset": src.dataset, "resultaat": result, "top": top, "hotspots": hot_rows,
            "kaart": svgmap.render(shapes, cells, title=title), "legenda": svgmap.legend(bounds),
            "acties": action_effects(request, src, f), "wijk": wijk, "kaart_titel": title,
            "raster_hot": len(cells), "gemaakt_op": date.today().isoformat()}
