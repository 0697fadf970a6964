"""Property test (issue 9): random ``by``/filter requests against ``release_aggregate`` on a generated
personal dataset; afterwards an LP attacker combines *everything* that was published and must not pin
any count of 1…14 persons (its upper bound stays ≥ 15), and no published cell is 1…14."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from stadslab.errors import AnalysisError, PrivacyError
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import TOTAL, release_aggregate
from tests.privacy_hardening.conftest import ANALYST, LEEFTIJD, REGELINGEN, WIJKEN, make_warehouse, persons

DIMS = ["wijk_code", "buurt", "regeling", "leeftijd"]
VALUES = {"wijk_code": list(WIJKEN), "buurt": [b for bs in WIJKEN.values() for b in bs], "regeling": REGELINGEN,
          "leeftijd": LEEFTIJD}
MIN = 15

_ROOT = Path(tempfile.mkdtemp(prefix="stadslab-prop-"))
PEOPLE = persons(seed=11)
WH, DS = make_warehouse(_ROOT, PEOPLE)
COVER = PEOPLE.groupby(DIMS, as_index=False).size().rename(columns={"size": "n"})

request = st.tuples(
    st.lists(st.sampled_from(DIMS + ["pseudo_id", "dossier", "start"]), min_size=0, max_size=3),
    st.dictionaries(st.sampled_from(DIMS), st.sampled_from(sum(VALUES.values(), [])).map(lambda v: [v]), max_size=2))


def mask(frame: pd.DataFrame, filters: dict) -> np.ndarray:
    m = np.ones((len(frame), len(COVER)), dtype=bool)
    for c in [c for c in frame.columns if c in DIMS]:
        f = frame[c].astype(str).to_numpy()[:, None]
        m &= (f == TOTAL) | (f == COVER[c].astype(str).to_numpy()[None, :])
    for c, v in filters.items():
        m &= (COVER[c].astype(str).to_numpy() == str(v[0]))[None, :]
    return m


def upper_bound(a: np.ndarray, b: np.ndarray, coef: np.ndarray) -> float:
    res = linprog(-coef, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
    assert res.status in (0, 3), res.message
    return np.inf if res.status == 3 else -res.fun


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(requests=st.lists(request, min_size=3, max_size=8))
def test_nothing_published_pins_a_small_count(requests):
    store = SuppressionStore(None)
    audit = AuditLog(Path(tempfile.mkdtemp(dir=_ROOT)) / "audit.jsonl")
    rows, rhs = [], []
    for by, filters in requests:
        try:
            rel = release_aggregate(WH, DS, user=ANALYST, purpose="sociaal_domein", by=by, filters=filters,
                                    audit=audit, store=store, route="test")
        except (PrivacyError, AnalysisError):
            continue
        assert not ({"pseudo_id", "dossier", "start"} & set(by)), "a pseudonym/identifier became a dimension"
        f = rel.frame
        shown = f["n"].dropna().astype(int)
        assert not ((shown > 0) & (shown < MIN)).any(), f"published small cell for by={by} filters={filters}"
        known = f["n"].notna().to_numpy()
        m = mask(f, {k: v for k, v in filters.items() if k not in f.columns})
        truth = m.astype(float) @ COVER["n"].to_numpy()
        assert (truth[known] == f["n"][known].astype(float)).all(), f"published figure is not the true count: {by} {filters}"
        rows.extend(m[known].astype(float))
        rhs.extend(f["n"][known].astype(float))
    if not rows:
        return
    a, b = np.asarray(rows), np.asarray(rhs)
    # every count an attacker could care about: any cell of any grouping of up to two dimensions
    for k in (1, 2):
        for group in itertools.combinations(DIMS, k):
            truth = COVER.groupby(list(group))["n"].sum()
            for key, n in truth.items():
                if not 0 < n < MIN:
                    continue
                key = key if isinstance(key, tuple) else (key,)
                coef = np.ones(len(COVER))
                for c, v in zip(group, key):
                    coef = coef * (COVER[c].to_numpy() == v)
                assert upper_bound(a, b, coef) >= MIN - 1e-6, f"{dict(zip(group, key))} = {n} pinned below {MIN}"
