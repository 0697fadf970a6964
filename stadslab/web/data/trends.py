"""Incident trends: counts per week or per month, each year as its own line so a period can be read against
the same period in earlier years, and the city's monthly counts next to the country's (politie/CBS 47022NED).

- Filters are the Incidentenkaart's (type, wijk, time of day, weekday); the period filter is ignored: a trend
  shows the whole span of the data. Weeks are ISO weeks (1–53, ``isocalendar``), months 1–12.
- A week or month the data do not fully cover (the first and last of the span) is marked ``volledig: false``
  and drawn dashed: a half month is not a drop.
- Country comparison: the national monthly series of the matching crime type from an open dataset with a
  ``crime_type_code``, a ``month`` and a ``count`` (``nl_misdrijven_maand`` in the demo); the type is matched by the
  incident types' words in the catalog's code labels (e.g. 'fiets' → 1.2.3 diefstal van brom-, snor-,
  fietsen), else the total (0.0.0). Both series are indexed to 100 = their mean over the months both cover,
  so the shape is compared, not the size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request

from stadslab.web.data.incidents import Filters, IncidentSource, frame, mask
from stadslab.web.security import current_user

GRAINS = {"week": "week", "maand": "maand"}
NL_TOTAL = "0.0.0"


def trend(request: Request, src: IncidentSource, f: Filters, grain: str) -> dict[str, Any]:
    state = request.app.state.stadslab
    df, version = frame(request, src)
    key = ("incident_trend", state.generation, src.id, version, f.key(), grain,
           None if src.dataset.classification == "open" else current_user(request).id)
    return state.cache.get_or_compute(key, lambda: _trend(df, f, grain))


def _trend(df: pd.DataFrame, f: Filters, grain: str) -> dict[str, Any]:
    if not len(df):
        return {"korrel": grain, "rijen": [], "jaren": []}
    lo, hi = df["_day"].min(), df["_day"].max() + pd.Timedelta(days=1)
    sel = df.loc[mask(df, f, lo, hi)]
    t = sel["t"]
    if grain == "week":
        iso = t.dt.isocalendar()
        keys = pd.DataFrame({"jaar": iso["year"].astype(int), "nr": iso["week"].astype(int), "n": sel["n"]})
    else:
        keys = pd.DataFrame({"jaar": t.dt.year.astype(int), "nr": t.dt.month.astype(int), "n": sel["n"]})
    counts = keys.groupby(["jaar", "nr"])["n"].sum()
    # every period between the first and the last day, also the empty ones (0 is a count here, not missing)
    days = pd.date_range(lo, hi - pd.Timedelta(days=1), freq="D")
    if grain == "week":
        iso = days.isocalendar()
        span = pd.DataFrame({"jaar": iso["year"].to_numpy(int), "nr": iso["week"].to_numpy(int)})
        per_len = 7
    else:
        span = pd.DataFrame({"jaar": days.year.to_numpy(int), "nr": days.month.to_numpy(int)})
        per_len = None
    covered = span.groupby(["jaar", "nr"]).size()
    rows = []
    for (y, nr), n_days in covered.items():
        full_len = per_len or pd.Period(year=y, month=nr, freq="M").days_in_month
        rows.append({"jaar": int(y), "nr": int(nr), "aantal": int(counts.get((y, nr), 0)),
                     "volledig": bool(n_days >= full_len)})
    return {"korrel": grain, "rijen": rows, "jaren": sorted({r["jaar"] for r in rows}),
            "van": lo.date().isoformat(), "tot_en_met": (hi - pd.Timedelta(days=1)).date().isoformat()}


def national(request: Request, src: IncidentSource, f: Filters) -> dict[str, Any] | None:
    """City vs country per month, both indexed (see module docstring); None without a national series."""
    state = request.app.state.stadslab
    nl_ds = next((ds for ds in state.catalog if ds.classification == "open"
                  and {"crime_type_code", "month", "count"} <= {x.name for x in ds.fields}
                  and state.warehouse().current_version(ds.id) is not None), None)
    if nl_ds is None:
        return None
    df, version = frame(request, src)
    key = ("incident_nl", state.generation, src.id, version, nl_ds.id, f.key())
    return state.cache.get_or_compute(key, lambda: _national(state, nl_ds, df, f))


def match_crime_type(labels: dict[str, str], types: list[str]) -> str:
    """The national code whose label best shares words (≥ 5 letters) with the incident types; a word found in
    many labels ('diefstal') weighs little, a rare one ('fiets') much (weight 1 / number of labels with it)."""
    words = {w.strip(".,()/").lower() for t in types for w in str(t).replace("/", " ").split() if len(w) >= 5}
    low = {c: str(lab).lower() for c, lab in labels.items() if c != NL_TOTAL}
    weight = {w: 1 / max(1, sum(w in lab for lab in low.values())) for w in words}
    scores = {c: sum(weight[w] for w in words if w in lab) for c, lab in low.items()}
    best = max(sorted(scores), key=lambda c: scores[c], default=None)
    return best if best is not None and scores[best] > 0 else NL_TOTAL


def _national(state, nl_ds, df: pd.DataFrame, f: Filters) -> dict[str, Any] | None:
    field = next(x for x in nl_ds.fields if x.name == "crime_type_code")
    labels = dict(field.code_labels or {})
    types = list(f.soort) or sorted(df["soort"].dropna().astype(str).unique().tolist())
    code = match_crime_type(labels, types)
    t = state.warehouse().table(nl_ds.id)
    nl = t.filter(t["crime_type_code"].strip() == code).select(maand=t["month"], n=t["count"]).to_pandas()
    nl["maand"] = pd.to_datetime(nl["maand"]).dt.to_period("M")
    lo, hi = df["_day"].min(), df["_day"].max() + pd.Timedelta(days=1)
    sel = df.loc[mask(df, f, lo, hi)]
    city = sel.groupby(sel["t"].dt.to_period("M"))["n"].sum()
    first_full = lo.to_period("M") + (0 if lo.day == 1 else 1)
    last_full = (hi - pd.Timedelta(days=1)).to_period("M")
    if (hi - pd.Timedelta(days=1)).day < (hi - pd.Timedelta(days=1)).days_in_month:
        last_full -= 1
    months = pd.period_range(first_full, last_full, freq="M") if first_full <= last_full else []
    nl_s = nl.set_index("maand")["n"].astype(float)
    both = [m for m in months if m in nl_s.index]
    if len(both) < 3:
        return None
    c = city.reindex(both, fill_value=0).astype(float)
    n = nl_s.reindex(both)
    c_idx, n_idx = 100 * c / c.mean(), 100 * n / n.mean()
    rows = [{"maand": str(m), "reeks": "deze gemeente", "index": _r(ci), "aantal": int(cv)}
            for m, ci, cv in zip(both, c_idx, c)]
    rows += [{"maand": str(m), "reeks": "Nederland", "index": _r(ni), "aantal": int(nv)} for m, ni, nv in zip(both, n_idx, n)]
    corr = float(np.corrcoef(c.to_numpy(), n.to_numpy())[0, 1]) if c.std() > 0 and n.std() > 0 else None
    return {"dataset": nl_ds.id, "soort_code": code, "soort": labels.get(code, code), "rijen": rows,
            "correlatie": None if corr is None else round(corr, 3), "maanden": len(both)}


def _r(v: float) -> float | None:
    return None if pd.isna(v) else round(float(v), 1)
