"""Per-cell explanation of the Poisson model's score in Dutch.

LightGBM's ``pred_contrib=True`` gives TreeSHAP values (Lundberg et al. 2020, *Nature Machine
Intelligence* 2:56–67): per cell, additive contributions of each feature to the log of the expected
count, plus a bias term. ``exp(contribution)`` is the factor by which that feature multiplies the
expectation relative to the average cell; we show the largest ones in plain Dutch.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from stadslab.analyses.risk.features import FeatureSet

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december"]
CONTEXT_LABELS = {"a_inw": "inwoners in de buurt", "bev_dich": "bevolkingsdichtheid van de buurt (inw./km²)",
                  "aant_inw": "inwoners in de buurt", "bev_dichth": "bevolkingsdichtheid van de buurt (inw./km²)",
                  "a_woning": "woningen in de buurt"}


def _n(v: float) -> str:
    v = int(round(v))
    return f"{v} incident" if v == 1 else f"{v} incidenten"


def _num(v: float, decimals: int = 1) -> str:
    return f"{v:.{decimals}f}".replace(".", ",")


def label(feature: str, value: float, contribution: float = 0.0, *, buurt: str | None = None,
          near_repeat_m: float = 200.0, near_repeat_days: int = 14, max_window: int = 730) -> str:
    """Dutch phrase for one feature value, e.g. ``n28_cell=12`` → '12 incidenten in de afgelopen 28
    dagen in deze cel'. ``contribution`` (log scale) chooses 'veel'/'weinig' where a count is vague."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if feature.endswith("_buurt"):
            return "buurt van deze cel onbekend (geen incidenten met buurtcode in deze cel)"
        if feature == "weekend_share_3x3":
            return "geen incidenten in de omgeving in de afgelopen periode"
        if feature.startswith("ctx_"):
            return f"{CONTEXT_LABELS.get(feature[4:].lower(), 'buurtkenmerk ' + feature[4:])}: onbekend"
        return f"{feature}: onbekend"
    m = re.fullmatch(r"n(\d+)_(cell|3x3|5x5|buurt)", feature)
    if m:
        w, scale = m.group(1), m.group(2)
        where = {"cell": "in deze cel", "3x3": "in deze cel en de 8 omliggende cellen",
                 "5x5": "in het blok van 5×5 cellen (625 × 625 m) rond deze cel",
                 "buurt": f"in de buurt{' ' + buurt if buurt else ''}"}[scale]
        return f"{_n(value)} in de afgelopen {w} dagen {where}"
    m = re.fullmatch(r"area_n(\d+)", feature)
    if m:
        return f"{_n(value)} in het hele gebied in de afgelopen {m.group(1)} dagen (algemeen niveau)"
    m = re.fullmatch(r"dec(\d+)_(cell|3x3)", feature)
    if m:
        where = "in deze cel" if m.group(2) == "cell" else "in de omliggende cellen"
        half = _num(int(m.group(1)) * math.log(2), 0)
        return (f"{'veel' if contribution >= 0 else 'weinig'} recente incidenten {where} "
                f"(gewogen, halveringstijd {half} dagen: {_num(value)})")
    if feature == "kde":
        return f"{'veel' if contribution >= 0 else 'weinig'} incidenten in de omgeving (kerndichtheid)"
    if feature == "near_repeat":
        return (f"{_n(value)} binnen {int(near_repeat_m)} m in de afgelopen {near_repeat_days} dagen "
                "(herhaald slachtofferschap in de buurt)")
    if feature == "days_since_last":
        return (f"geen incident in deze cel in de afgelopen {max_window} dagen" if value >= max_window
                else f"laatste incident in deze cel {int(value)} dagen geleden")
    if feature == "weekend_share_3x3":
        return f"{_num(100 * value, 0)}% van de incidenten in de omgeving in het weekend"
    if feature == "month":
        return f"seizoen: {MONTHS[int(value) - 1]}"
    if feature.startswith("ctx_"):
        col = feature[4:]
        return f"{CONTEXT_LABELS.get(col.lower(), 'buurtkenmerk ' + col)}: {_num(value, 0 if value == int(value) else 1)}"
    m = re.fullmatch(r"season(\d+)_(cell|3x3)", feature)
    if m:
        where = "in deze cel" if m.group(2) == "cell" else "in deze cel en de omliggende cellen"
        years = int(m.group(1)) // 365
        ago = "vorig jaar" if years == 1 else f"{years} jaar geleden"
        return f"{_n(value)} in dezelfde weken {ago} {where}"
    m = re.fullmatch(r"fac_(.+)_(cell|3x3)", feature)
    if m:
        where = "in deze cel" if m.group(2) == "cell" else "in deze en de omliggende cellen"
        return f"{int(value)} × {m.group(1).replace('_', ' ')} {where}"
    return f"{feature} = {_num(value)}"


def contributions_table(model, fs: FeatureSet, o: int, *, top: int = 3) -> pd.DataFrame:
    """The ``top`` largest contributions (by absolute value) per cell: cell_id, feature, value,
    contribution (log scale), factor (``exp``) and the Dutch text."""
    contrib, names = model.contributions(fs, o)
    c = contrib[:, :-1]
    order = np.argsort(-np.abs(c), axis=1, kind="stable")[:, :top]
    rows = np.repeat(np.arange(len(c)), order.shape[1])
    cols = order.ravel()
    fidx = [fs.names.index(n) for n in names]
    values = fs.X[o][rows, np.asarray(fidx)[cols]].astype(np.float64)
    contribs = c[rows, cols]
    cfg = fs.config
    texts = []
    for r, f, v, cb in zip(rows, cols, values, contribs):
        phrase = label(names[f], v, cb, buurt=None if fs.buurt is None else fs.buurt[r],
                       near_repeat_m=cfg.near_repeat_m, near_repeat_days=cfg.near_repeat_days,
                       max_window=cfg.max_window)
        factor = math.exp(cb)
        verb = "verhoogt" if cb >= 0 else "verlaagt"
        texts.append(f"{phrase} ({verb} de verwachting ×{_num(factor, 2)})")
    return pd.DataFrame({"cell_id": fs.cells[rows], "feature": [names[f] for f in cols], "value": values,
                         "contribution": contribs, "factor": np.exp(contribs), "text": texts})


def explain_cells(model, fs: FeatureSet, o: int, *, top: int = 3) -> list[str]:
    """One Dutch sentence per candidate cell (in ``fs.cells`` order): the ``top`` main reasons."""
    t = contributions_table(model, fs, o, top=top)
    return t.groupby("cell_id", sort=False)["text"].agg("; ".join).reindex(fs.cells).tolist()
