"""Series builder: Ibis aggregation on a DuckDB memtable, zero-filling, the catalog's fill policy."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from stadslab.analyses.forecasting.series import build_series, fill_policy
from stadslab.catalog import Dataset
from stadslab.errors import AnalysisError


def events() -> ibis.Table:
    df = pd.DataFrame({
        "soort": ["a", "a", "a", "b", None, "b"],
        "tijd": pd.to_datetime(["2021-01-03 10:00", "2021-01-30 23:59", "2021-03-15 08:00",
                                "2021-02-01 00:00", "2021-02-10 12:00", None]),
        "schade": [10, 20, 5, 7, 1, 3],
    })
    return ibis.memtable(df)


def test_counts_rows_per_month_and_fills_missing_months_with_zero():
    s = build_series(events(), time="tijd", key="soort")
    got = {(r.unique_id, f"{r.ds:%Y-%m}"): r.y for r in s.itertuples()}
    assert got == {("(onbekend)", "2021-01"): 0, ("(onbekend)", "2021-02"): 1, ("(onbekend)", "2021-03"): 0,
                   ("a", "2021-01"): 2, ("a", "2021-02"): 0, ("a", "2021-03"): 1,
                   ("b", "2021-01"): 0, ("b", "2021-02"): 1, ("b", "2021-03"): 0}
    assert s.attrs["rows_without_time"] == 1          # the row with no time is counted, not silently lost
    assert s.attrs["filled"] == 5
    assert str(s["ds"].dtype) == "datetime64[ns]" and s["y"].dtype == float


def test_sums_a_value_column_and_refuses_gaps_when_missing_is_not_zero():
    s = build_series(events(), time="tijd", key="soort", value="schade")
    assert s.set_index(["unique_id", "ds"]).loc[("a", pd.Timestamp("2021-01-01")), "y"] == 30
    with pytest.raises(AnalysisError, match="perioden zonder waarde") as exc:
        build_series(events(), time="tijd", key="soort", value="schade", fill="error")
    assert "a 2021-02-01" in str(exc.value)


def test_start_end_complete_the_grid_and_cut_an_incomplete_month():
    s = build_series(events(), time="tijd", key="soort", start="2020-11-15", end="2021-02-28")
    assert sorted(s["ds"].dt.strftime("%Y-%m").unique()) == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert s[s["unique_id"] == "a"]["y"].tolist() == [0, 0, 2, 0]


def test_total_series_without_key_and_weekly_periods_start_on_monday():
    s = build_series(events(), time="tijd", freq="W")
    assert set(s["unique_id"]) == {"totaal"}
    assert (s["ds"].dt.dayofweek == 0).all()
    assert s["y"].sum() == 5
    # 2021-01-03 is a Sunday → week of Monday 2020-12-28; 2021-03-15 is a Monday; 12 weeks in all
    assert s["ds"].min() == pd.Timestamp("2020-12-28") and s["ds"].max() == pd.Timestamp("2021-03-15")
    assert len(s) == 12


def test_date_column_and_wrong_types_are_reported():
    t = ibis.memtable(pd.DataFrame({"d": pd.to_datetime(["2020-01-05", "2020-03-01"]).date, "tekst": ["x", "y"]}))
    assert build_series(t, time="d")["y"].tolist() == [1, 0, 1]
    with pytest.raises(AnalysisError, match="verwacht: datum"):
        build_series(t, time="tekst")
    with pytest.raises(AnalysisError, match="bestaat niet"):
        build_series(t, time="d", key="geen")


def _entry(fields):
    return Dataset.from_dict({"id": "x", "title": "x", "owner": "x", "classification": "open",
                              "source": {"path": "x.csv"}, "fields": fields})


def test_fill_policy_follows_the_catalog():
    ds = _entry([{"name": "count", "type": "integer", "unit": "misdrijven"},
                 {"name": "n", "type": "number", "unit": "aantal"},
                 {"name": "bedrag", "type": "integer", "unit": "euro"},
                 {"name": "temp", "type": "number"}])
    assert fill_policy(ds, None) == "zero"          # counting rows: no row = no event
    assert fill_policy(ds, "count") == "zero"       # integer count of things
    assert fill_policy(ds, "n") == "zero"           # explicit count unit
    assert fill_policy(ds, "bedrag") == "error"     # a measurement unit
    assert fill_policy(ds, "temp") == "error"
    assert fill_policy(ds, "onbekend") == "error"


def test_incomplete_last_period_is_flagged_not_dropped():
    s = build_series(events(), time="tijd", key="soort")            # newest event 2021-03-15: March is partial
    assert s.attrs["last_period_incomplete"] is True
    assert s["ds"].max() == pd.Timestamp("2021-03-01")
    full = ibis.memtable(pd.DataFrame({"t": pd.to_datetime(["2021-01-02 09:00", "2021-02-28 18:00"])}))
    assert build_series(full, time="t").attrs["last_period_incomplete"] is False
    monthly = ibis.memtable(pd.DataFrame({"m": pd.to_datetime(["2022-06-01", "2022-07-01"]).date, "n": [3, 4]}))
    assert build_series(monthly, time="m", value="n").attrs["last_period_incomplete"] is False   # already per month
