"""Change between two periods, and rates per 1000 inhabitants.

References
----------
Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples from Poisson
    series. Biometrika 31(3/4), 313–323.
Krishnamoorthy, K. & Thomson, J. (2004). A more powerful test for comparing two Poisson means.
    Journal of Statistical Planning and Inference 119(1), 23–35 (the conditional "C-test").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from stadslab.errors import AnalysisError

LABEL_UP = "significant gestegen"
LABEL_DOWN = "significant gedaald"
LABEL_CHANCE = "binnen toeval"
METHOD_CHANGE = ("conditionele binomiale toets voor twee Poisson-aantallen (Przyborowski & Wilenski 1940; "
                 "Krishnamoorthy & Thomson 2004), tweezijdig")


def change_test(current, previous, *, current_length: float = 1.0, previous_length: float = 1.0,
                alpha: float = 0.05) -> pd.DataFrame:
    """Is the change from ``previous`` to ``current`` more than chance?

    Exact conditional test for two Poisson counts (Przyborowski & Wilenski 1940; the "C-test" of
    Krishnamoorthy & Thomson 2004). Under H0 both periods have the same rate per unit of time;
    given the total n = current + previous, ``current ~ Binomial(n, π)`` with
    ``π = current_length / (current_length + previous_length)`` (0.5 for equal periods). The
    two-sided p-value is ``min(1, 2·min(P(X ≥ current), P(X ≤ current)))``. Exact, so valid for
    small counts; conservative (true size ≤ α).

    Parameters
    ----------
    current, previous : counts (int or array-like of equal length).
    current_length, previous_length : period lengths in any one unit (days, weeks); scalars or arrays.
    alpha : significance level for the label.

    Returns
    -------
    DataFrame with ``current, previous, change`` (current − previous, not length-adjusted),
    ``ratio`` (rate ratio (current/current_length)/(previous/previous_length); NaN when previous
    is 0), ``p`` and ``label``: "significant gestegen", "significant gedaald" or "binnen toeval".
    With n = 0 the p-value is 1.

    >>> change_test(30, 10)[["change", "p", "label"]].round(4).to_dict("records")
    [{'change': 20, 'p': 0.0022, 'label': 'significant gestegen'}]
    """
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha moet tussen 0 en 1 liggen, niet {alpha}", hint="gebruikelijk is 0,05")
    cur = np.atleast_1d(np.asarray(current))
    prev = np.atleast_1d(np.asarray(previous))
    for name, arr in (("huidige periode", cur), ("vorige periode", prev)):
        if arr.dtype.kind not in "iuf" or np.any(~np.isfinite(arr)) or np.any(arr < 0) \
                or np.any(np.asarray(arr, float) != np.round(np.asarray(arr, float))):
            raise AnalysisError(f"de aantallen van de {name} moeten gehele getallen ≥ 0 zijn",
                                hint="geef tellingen, geen percentages of ontbrekende waarden")
    cur, prev = np.broadcast_arrays(cur.astype(np.int64), prev.astype(np.int64))
    lc = np.broadcast_to(np.asarray(current_length, dtype=float), cur.shape)
    lp = np.broadcast_to(np.asarray(previous_length, dtype=float), cur.shape)
    if np.any(~(lc > 0)) or np.any(~(lp > 0)):
        raise AnalysisError("de lengte van een periode moet groter dan 0 zijn",
                            hint="geef beide periodelengtes in dezelfde eenheid, bijvoorbeeld dagen")
    n = cur + prev
    pi = lc / (lc + lp)
    upper = stats.binom.sf(cur - 1, n, pi)          # P(X ≥ current)
    lower = stats.binom.cdf(cur, n, pi)             # P(X ≤ current)
    p = np.where(n > 0, np.minimum(1.0, 2.0 * np.minimum(upper, lower)), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(prev > 0, (cur / lc) / np.where(prev > 0, prev / lp, 1.0), np.nan)
    rate_up = cur * lp > prev * lc                   # current rate higher than previous rate
    sig = p < alpha
    label = np.where(sig & rate_up, LABEL_UP, np.where(sig & ~rate_up, LABEL_DOWN, LABEL_CHANCE))
    out = pd.DataFrame({"current": cur, "previous": prev, "change": cur - prev, "ratio": ratio,
                        "p": p, "label": label.astype(object)})
    out.attrs["method"] = METHOD_CHANGE
    out.attrs["params"] = {"alpha": alpha}
    return out


def rate_per_1000(count, population):
    """Incidents per 1000 inhabitants; NaN (not 0, not inf) where the population is missing or ≤ 0.

    Scalars give a float, arrays/Series give a float array.

    >>> rate_per_1000(5, 2500), rate_per_1000(5, 0)
    (2.0, nan)
    """
    scalar = np.ndim(count) == 0 and np.ndim(population) == 0
    c = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(count, dtype=object))), errors="coerce").to_numpy(float)
    pop = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(population, dtype=object))),
                        errors="coerce").to_numpy(float)
    c, pop = np.broadcast_arrays(c, pop)
    ok = np.isfinite(pop) & (pop > 0) & np.isfinite(c)
    out = np.full(c.shape, np.nan)
    out[ok] = c[ok] / pop[ok] * 1000.0
    return float(out[0]) if scalar else out
