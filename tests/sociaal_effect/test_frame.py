"""The effect estimate on a simulated linked frame with a planted effect (−2 pp) and confounding."""

from __future__ import annotations

import json

import ibis
import pytest

from stadslab.analyses.sociaal.effect import REFUSED, estimate_on_frame, parse_treatment
from stadslab.errors import AnalysisError, PrivacyError

CONF = ["bijstand", "zrm_financien", "verzuim_pct"]


def test_planted_effect_is_recovered_and_naive_is_biased(frame):
    r = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF)
    assert r.ci[0] <= -2.0 <= r.ci[1]
    assert r.naive["estimate"] > r.ci[1] + 1, "confounding makes the naive difference positive"
    assert r.n_treated >= 15 and r.n_control >= 15
    before = {b["kenmerk"]: b["smd_voor"] for b in r.balance}
    assert before["bijstand=ja"] > 0.5
    assert all(abs(b["smd_na"]) <= 0.1 for b in r.balance if b["smd_na"] is not None)
    assert "geen onbekende verstorende factoren" in r.caveat
    assert r.overlap["aandeel_begrensd"] < 0.05


def test_groups_below_the_threshold_are_refused_not_rounded(frame_df):
    df = frame_df.copy()
    # wijk WK034403 keeps only 5 treated pupil-years: refused, and (complementary suppression) one more wijk
    small = df.index[(df.wijk_code == "WK034403") & (df.traject == "ja")][5:]
    df = df.drop(small)
    t = ibis.duckdb.connect().create_table("f", df)
    r = estimate_on_frame(t, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF, by="wijk_code")
    groups = {g["value"]: g for g in r.groups}
    assert groups["WK034403"] == {"field": "wijk_code", "value": "WK034403", "status": REFUSED}
    refused = [g for g in r.groups if g["status"] == REFUSED]
    assert len(refused) >= 2, "one refused group alone could be recovered from the total"
    for g in r.groups:
        if g["status"] != REFUSED:
            assert g["n_treated"] >= 15 and g["n_control"] >= 15 and g["ci"][0] < g["ci"][1]
    text = json.dumps(r.to_dict())
    assert '"WK034403", "status": "geweigerd: te weinig personen"}' in text


def test_a_higher_catalog_threshold_refuses_more(frame):
    r = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                          by="school", min_cell=100_000)
    assert r.estimate is None and r.status == REFUSED and r.n_treated is None
    assert all(g["status"] == REFUSED for g in r.groups)


def test_scope_restricts_the_estimate_or_refuses(frame, frame_df):
    r = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                          scope={"school": "S003"})
    full = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF)
    sub = frame_df[(frame_df.school == "S003") & frame_df.verzuim_pct_volgend.notna()]
    assert r.n_treated == int((sub.traject == "ja").sum())      # pupil-years
    assert r.n_treated < full.n_treated
    with pytest.raises(PrivacyError, match="beperkt tot"):
        estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                          scope={"buurtteam": "Noord"})


def test_unknown_names_list_the_allowed_ones(frame):
    with pytest.raises(AnalysisError) as exc:
        estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=["inkomen"])
    assert "inkomen" in exc.value.message and "bijstand" in exc.value.hint and "pseudo_id" not in exc.value.hint
    with pytest.raises(AnalysisError, match="uitkomst"):
        estimate_on_frame(frame, outcome="pseudo_id", treatment="traject", confounders=CONF)
    with pytest.raises(AnalysisError, match="indeling"):
        estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                          by="pseudo_id_ouder")
    assert parse_treatment("ddd_trajecten:pseudo_id_ouder") == "traject"
    with pytest.raises(AnalysisError, match="pseudo_id_ouder"):
        parse_treatment("ddd_trajecten:pseudo_id")
    with pytest.raises(AnalysisError, match="ddd_trajecten"):
        parse_treatment("ddd_uitkeringen")


def test_change_outcome_and_no_pseudonym_leaves(frame, frame_df):
    r = estimate_on_frame(frame, outcome="zrm_financien_verandering", treatment="traject",
                          confounders=["bijstand", "zrm_financien"], by="schoolsoort")
    assert r.estimate is not None and r.ci[0] < r.ci[1]
    text = json.dumps(r.to_dict(), ensure_ascii=False)
    for pid in frame_df.pseudo_id.head(200).tolist() + frame_df.pseudo_id_ouder.head(200).tolist():
        assert pid not in text
    assert "pseudo_id" not in text


def test_counts_are_pupil_years_and_the_same_whatever_the_grouping(frame, frame_df):
    # additive counts: a pupil in two groups (basisschool, then voortgezet) cannot make two queries differ
    whole = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF)
    split = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                              by="schoolsoort")
    assert (split.n_treated, split.n_control) == (whole.n_treated, whole.n_control)
    assert sum(g["n_treated"] for g in split.groups) == whole.n_treated
    rows = frame_df[frame_df.verzuim_pct_volgend.notna()]
    assert whole.n_control == int((rows.traject == "nee").sum())


def test_enough_pupil_years_but_too_few_pupils_is_refused(frame_df):
    # wijk WK034403: 6 treated pupils, each treated in all three years (18 pupil-years ≥ 15, 6 pupils < 15)
    df = frame_df.copy()
    wk = df.wijk_code == "WK034403"
    keep = df[wk & (df.traject == "ja")].pseudo_id.unique()[:6]
    df.loc[wk & ~df.pseudo_id.isin(keep), "traject"] = "nee"
    df.loc[wk & df.pseudo_id.isin(keep), "traject"] = "ja"
    t = ibis.duckdb.connect().create_table("f6", df)
    r = estimate_on_frame(t, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF, by="wijk_code")
    groups = {g["value"]: g for g in r.groups}
    assert groups["WK034403"] == {"field": "wijk_code", "value": "WK034403", "status": REFUSED}


def test_a_scope_is_a_slice_of_the_protected_whole_table(frame_df):
    # school S005 keeps 5 treated pupil-years: primary; the gate also withholds another school. A partner
    # scoped to that other school gets the same refusal, and an unaffected school's partner the same counts.
    df = frame_df.copy()
    drop = df.index[(df.school == "S005") & (df.traject == "ja") & df.verzuim_pct_volgend.notna()][5:]
    t = ibis.duckdb.connect().create_table("f5", df.drop(drop))
    table = estimate_on_frame(t, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF, by="school")
    refused = {g["value"] for g in table.groups if g["status"] == REFUSED}
    assert "S005" in refused and len(refused) >= 2
    other = min(refused - {"S005"})
    mine = estimate_on_frame(t, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                             scope={"school": other})
    assert mine.status == REFUSED and mine.estimate is None and mine.n_treated is None
    fine = next(g for g in table.groups if g["status"] != REFUSED)
    theirs = estimate_on_frame(t, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                               scope={"school": fine["value"]})
    assert (theirs.n_treated, theirs.n_control) == (fine["n_treated"], fine["n_control"])
    assert theirs.estimate == pytest.approx(fine["estimate"])


def test_a_partner_grouping_by_its_own_scope_gets_its_own_figures(frame):
    by_school = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                                  by="school")
    s3 = next(g for g in by_school.groups if g["value"] == "S003")
    mine = estimate_on_frame(frame, outcome="verzuim_pct_volgend", treatment="traject", confounders=CONF,
                             by="school", scope={"school": "S003"})
    assert [g["value"] for g in mine.groups] == ["S003"]
    assert (mine.n_treated, mine.n_control) == (s3["n_treated"], s3["n_control"])
    assert mine.groups[0]["estimate"] == pytest.approx(s3["estimate"])
