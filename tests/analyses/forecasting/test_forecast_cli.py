"""``stadslab predict demand``: reads a warehouse table, stores forecasts with provenance; the passport demo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stadslab.cli.predict_demand import app
from stadslab.workspace import Workspace

ENTRY = {
    "id": "meldingen", "title": "Meldingen (test)", "owner": "Gemeente", "classification": "open",
    "source": {"path": "meldingen.csv"},
    "fields": [{"name": "soort", "type": "string", "codes": {"afval": "Afval naast container", "licht": "Straatlicht"}},
               {"name": "tijd", "type": "datetime", "role": "time"}],
}


def _events(seed: int = 5) -> pd.DataFrame:
    """Four years of events with a yearly cycle; 'licht' has months without any event."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-01-01", "2022-12-01", freq="MS")
    rows = []
    for soort, level in (("afval", 30.0), ("licht", 1.5)):
        lam = level * (1 + 0.4 * np.sin(2 * np.pi * (months.month - 3) / 12))
        for m, n in zip(months, rng.poisson(lam)):
            rows += [(soort, m + pd.Timedelta(hours=int(h))) for h in rng.integers(0, 27 * 24, n)]
    return pd.DataFrame(rows, columns=["soort", "tijd"])


@pytest.fixture
def ws_with_events(builder):
    builder.dataset(ENTRY)
    builder.file("meldingen.csv", "soort,tijd\n")
    ws = Workspace.resolve(builder.root)
    with ws.warehouse() as wh:
        wh.con.register("__events", _events())
        wh.con.execute("CREATE TEMP TABLE __stage_events AS SELECT * FROM __events")
        wh.commit_version("meldingen", "temp.__stage_events", {"rows_loaded": 0, "trigger": "test"})
    return ws


def test_demand_on_a_warehouse_table_stores_forecast_and_backtest(ws_with_events, tmp_path):
    out = tmp_path / "fc.csv"
    res = CliRunner().invoke(app, ["demand", "meldingen", "--key", "soort", "--models", "ets", "--backtest",
                                   "--windows", "2", "--json", "--out", str(out), "-w", str(ws_with_events.root)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["series"] == 2 and data["periods"] == 48
    assert data["filled_with_zero"] > 0                     # 'licht' has empty months, filled as zero
    assert data["params"]["fill"] == "zero" and data["params"]["version"] == 1
    assert data["backtest"]["models"]["AutoETS"]["series_scored"] == 2
    assert data["results"]["forecast"] == "results.voorspelling_meldingen__1"
    with ws_with_events.warehouse(read_only=True) as wh:
        stored = wh.con.execute('SELECT * FROM results."voorspelling_meldingen__1"').df()
        prov = wh.con.execute("SELECT kind, inputs, method FROM stadslab.results WHERE name = 'voorspelling_meldingen'"
                              ).fetchone()
        bt = wh.con.execute('SELECT count(*) FROM results."backtest_meldingen__1"').fetchone()[0]
    assert len(stored) == 2 * 2 * 12 and set(stored["model"]) == {"AutoETS", "SeasonalNaive"}
    assert stored["ds"].min() == pd.Timestamp("2023-01-01")
    assert prov[0] == "forecast" and json.loads(prov[1]) == [["meldingen", 1]] and "Hyndman" in prov[2]
    assert bt == 2 * 2
    assert len(pd.read_csv(out)) == len(stored)
    assert set(stored["label"]) == {"Afval naast container", "Straatlicht"}   # labels from the catalog codes


def test_unknown_column_is_a_dutch_analysis_error(ws_with_events):
    res = CliRunner().invoke(app, ["demand", "meldingen", "--key", "wijk", "-w", str(ws_with_events.root)])
    assert res.exit_code != 0
    assert "kolom 'wijk' (key) bestaat niet" in str(res.exception)


def test_simulated_passports_demo(tmp_path):
    out = tmp_path / "pas.csv"
    res = CliRunner().invoke(app, ["demand", "passports", "--simulated", "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["simulated"] is True and data["holdout"] == ["2024-01", "2025-12"]
    assert data["best_model"] == "AutoARIMA_X"
    assert data["mase"]["AutoARIMA_X"] < data["mase"]["SeasonalNaive"] / 2
    assert pd.read_csv(out)["simulated"].all()
    bad = CliRunner().invoke(app, ["demand", "meldingen", "--simulated"])
    assert bad.exit_code != 0 and "alleen voor 'passports'" in str(bad.exception)
