"""profile_view: counts equal a direct count, nothing below 15 leaves, access, doelbinding, scope, audit."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.sociaal.profiles import (
    SUPPRESSED,
    derived_table,
    load_profiles,
    profile_view,
)
from stadslab.errors import AccessDenied, AnalysisError, PrivacyError
from stadslab.privacy.access import User
from stadslab.privacy.gate import SuppressionStore
from tests.sociaal_profiles.conftest import (
    ANALYST,
    SCHOOL,
    YEARS,
    source_entries,
    write_profiles,
)

PURPOSE = "sociaal_domein"
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")


def view(env, audit, level="wijk_code", profile="verzuim_bijstand_zrm", user=ANALYST, store=None, root=None, **kw):
    wh, linked, sources, ws = env
    return profile_view(wh, None, root or ws, user=user, purpose=kw.pop("purpose", PURPOSE), audit=audit,
                        profile_id=profile, level=level, linked=linked, sources=kw.pop("sources", sources),
                        store=store if store is not None else SuppressionStore(None), **kw)


def truth(env, level: str, profile: str) -> pd.DataFrame:
    _, linked, _, ws = env
    d = derived_table(linked, load_profiles(ws)).to_pandas()
    flag = f"p_{profile}"
    g = d.groupby([level, "schooljaar"]).agg(aantal=(flag, lambda s: int((s == "ja").sum())), populatie=(flag, "size"))
    tot = d.groupby("schooljaar").agg(aantal=(flag, lambda s: int((s == "ja").sum())), populatie=(flag, "size"))
    tot.index = pd.MultiIndex.from_product([["Totaal"], tot.index], names=[level, "schooljaar"])
    return pd.concat([g, tot])


@pytest.mark.parametrize("level", ["wijk_code", "buurt_code", "school"])
@pytest.mark.parametrize("profile", ["verzuim_bijstand_zrm", "bijstand"])
def test_published_figures_are_true_counts_and_never_small(env, audit, level, profile):
    rel = view(env, audit, level, profile)
    f = rel.frame
    t = truth(env, level, profile)
    assert set(map(tuple, f[[level, "schooljaar"]].to_numpy())) == set(t.index), "one row per area and year"
    for r in rel.records():
        want = t.loc[(r[level], r["schooljaar"])]
        for col in ("aantal", "populatie"):
            if r[col] is not None:
                assert r[col] == want[col], (r, dict(want))
                assert r[col] == 0 or r[col] >= 15, f"small figure published: {r}"
        if r["aandeel"] is not None:
            assert r["aantal"] is not None and r["populatie"] is not None, "share with a suppressed part"
            assert r["aandeel"] == pytest.approx(round(100 * r["aantal"] / r["populatie"], 1))
        if r["aantal"] is None or (r["aandeel"] is None and r["populatie"]):
            assert r["suppressed"] == SUPPRESSED
    # large cells are published (the gate is not suppressing everything)
    big = [r for r in rel.records() if t.loc[(r[level], r["schooljaar"])]["aantal"] >= 60]
    assert sum(r["aantal"] is not None for r in big) >= len(big) // 2, "most large cells are suppressed"
    city = [r for r in rel.records() if r[level] == "Totaal"]
    assert len(city) == len(YEARS)
    if profile == "bijstand":   # a common profile: its city trend is published (a rare one may be suppressed here)
        assert all(r["aantal"] is not None and r["aandeel"] is not None for r in city), "city trend is published"


def test_provenance_and_audit_name_profile_version_and_sources(env, audit):
    rel = view(env, audit, "wijk_code", "verzuim_hoog", route="test:view")
    p = rel.provenance
    assert p["profiel"] == "verzuim_hoog" and p["profielversie"] == 1 and len(p["sha256"]) == 64
    assert set(p["bronnen"]) == {"ddd_verzuim", "ddd_uitkeringen", "ddd_zrm"}
    assert set(p["familie"]) == {"verzuim_hoog", "verzuim_bijstand_zrm", "bijstand", "geen_bijstand"}
    assert p["min_cell"] == 15 and p["gesimuleerd"] is True and p["structure"] == "buurt_profielen"
    entries = [json.loads(x) for x in audit.path.read_text(encoding="utf-8").splitlines()]
    last = entries[-1]
    assert last["allowed"] is True and last["dataset"] == "ddd_profielen" and "verzuim_hoog@v1" in last["route"]
    assert "p_verzuim_hoog" in json.dumps(last)
    sources = [e for e in entries[-4:-1] if e["route"].endswith(":koppeling")]
    assert {e["dataset"] for e in sources} == {"ddd_verzuim", "ddd_uitkeringen", "ddd_zrm"}
    assert all(e["allowed"] and "verzuim_hoog@v1" in e["reason"] for e in sources)


def test_no_pseudonym_or_row_leaves(env, audit):
    for level in ("wijk_code", "buurt_code", "school"):
        rel = view(env, audit, level, "bijstand")
        text = json.dumps({"rows": rel.records(), "provenance": rel.provenance}, default=str)
        assert not HEX32.search(text), "a pseudonym in the output"
        assert len(rel.frame) <= 20 * len(YEARS), "rows are areas × years, never persons"
        assert set(rel.frame.columns) <= {level, "wijk_code", "schooljaar", "aantal", "populatie", "aandeel", "suppressed"}


def test_a_profile_aimed_at_one_pupil_yields_no_small_count(env, audit, frame_df, tmp_path):
    one = frame_df.iloc[123]
    aimed = {"een_leerling": {"titel": "één leerling", "voorwaarden": {"alle": [
        {"veld": "school", "op": "=", "waarde": one.school}, {"veld": "geboortejaar", "op": "=", "waarde": int(one.geboortejaar)},
        {"veld": "verzuim_pct", "op": "=", "waarde": float(one.verzuim_pct)}]}}}
    write_profiles(tmp_path, aimed)
    for level in ("school", "wijk_code"):
        rel = view(env, audit, level, "een_leerling", root=tmp_path)
        shown = rel.frame["aantal"].dropna()
        assert ((shown == 0) | (shown >= 15)).all(), rel.frame


def test_doelbinding_access_and_scope(env, audit):
    # a user without a role for the sources
    stranger = User("x", roles=("analist",), purposes=(PURPOSE,))
    with pytest.raises(AccessDenied):
        view(env, audit, user=stranger)
    # a purpose the profile is not declared for (sources allow it): refused and audited
    both = source_entries(purposes=(PURPOSE, "onderzoek"))
    researcher = User("r", roles=("sociaal_analist",), purposes=(PURPOSE, "onderzoek"))
    with pytest.raises(AccessDenied, match="doel"):
        view(env, audit, user=researcher, purpose="onderzoek", sources=both)
    refused = [json.loads(x) for x in audit.path.read_text(encoding="utf-8").splitlines() if '"allowed": false' in x
               or '"allowed":false' in x]
    assert len(refused) >= 2 and any("onderzoek" in json.dumps(e) for e in refused)
    # a school sees its own school only, with the same figures as the analyst's slice
    mine = view(env, audit, "school", "bijstand", user=SCHOOL)
    assert set(mine.frame["school"]) == {"S003"}
    full = view(env, audit, "school", "bijstand")
    a = full.frame[full.frame.school == "S003"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.frame.reset_index(drop=True), a)
    with pytest.raises(PrivacyError):
        view(env, audit, "wijk_code", "bijstand", user=SCHOOL)
    with pytest.raises(AnalysisError, match="niveau"):
        view(env, audit, "gemeente_code")


def test_one_school_year_is_a_slice_of_the_trend(env, audit):
    store = SuppressionStore(None)
    trend = view(env, audit, "wijk_code", "verzuim_hoog", store=store)
    year = view(env, audit, "wijk_code", "verzuim_hoog", store=store, schooljaar="2023/24")
    assert set(year.frame["schooljaar"]) == {"2023/24"}
    a = trend.frame[trend.frame.schooljaar == "2023/24"].reset_index(drop=True)
    pd.testing.assert_frame_equal(year.frame.reset_index(drop=True), a)
    assert np.isfinite(year.frame["aantal"].dropna().astype(float)).all()
