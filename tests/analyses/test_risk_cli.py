"""The CLI commands on a real workspace: ingest → risk / backtest → results with provenance."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from stadslab.cli.predict_risk import app

ENTRY = {
    "id": "inbraken", "title": "Inbraken (synthetisch)", "owner": "Politie", "classification": "open",
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "inbraken.csv"},
    "fields": [
        {"name": "incident_id", "type": "string", "nullable": False, "unique": True},
        {"name": "begin_tijd", "type": "datetime", "role": "time", "format": "%Y-%m-%d %H:%M:%S"},
        {"name": "x", "type": "number", "role": "x", "unit": "m"},
        {"name": "y", "type": "number", "role": "y", "unit": "m"},
    ],
}


@pytest.fixture(scope="module")
def risk_ws(tmp_path_factory):
    from tests.conftest import WorkspaceBuilder

    from stadslab import operations as ops
    from stadslab.workspace import Workspace

    b = WorkspaceBuilder(tmp_path_factory.mktemp("risk") / "ws")
    b.with_utrecht_buurten().dataset(ENTRY)
    rng = np.random.default_rng(5)
    hot = np.array([[136_860, 455_910], [135_020, 456_480], [137_400, 457_100]])
    n = 900
    which = rng.integers(0, 4, n)
    xy = np.where(which[:, None] < 3, hot[np.minimum(which, 2)] + rng.normal(0, 40, (n, 2)),
                  rng.uniform([133_000, 453_000], [139_000, 459_000], (n, 2)))
    ts = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    df = pd.DataFrame({"incident_id": [f"I{i}" for i in range(n)], "begin_tijd": ts.strftime("%Y-%m-%d %H:%M:%S"),
                       "x": xy[:, 0].round(1), "y": xy[:, 1].round(1)})
    b.file("inbraken.csv", df.to_csv(index=False))
    ws = Workspace.resolve(b.root)
    cat = ws.catalog()
    with ws.warehouse() as wh:
        for ds in ops.load_order(list(cat)):
            ops.ingest_dataset(ws, wh, cat, ds.id)
    return b.root


def test_backtest_cli_json_and_result(risk_ws):
    r = CliRunner().invoke(app, ["backtest", "inbraken", "-w", str(risk_ws), "--start", "2023-09-29",
                                 "--end", "2023-12-29", "--refit-every", "13", "--json",
                                 "--register", str(risk_ws / "register")])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["periods"] == 6 and res["area_fractions"] == [0.01, 0.03, 0.05, 0.1]
    assert {"gbm_poisson", "last_period", "last_365d", "kde"} <= set(res["models"])
    assert isinstance(res["model_beats_best_baseline"], bool)
    # candidate cells from the area registry: Utrecht's 2024 buurten, land area in ha → cells
    assert res["study_area"]["source"] == "registry GM0344 2024" and res["notes"] == []
    assert res["study_area"]["n_area_cells"] == pytest.approx(res["study_area"]["land_area_ha"] / 1.5625)
    assert (risk_ws / "register" / "algoritmeregister_inbraken.md").read_text().startswith("# Risicokaart")
    from stadslab.workspace import Workspace

    with Workspace.resolve(risk_ws).warehouse(read_only=True) as wh:
        row = wh.con.execute("SELECT inputs, rows FROM stadslab.results WHERE name = 'backtest_risico_inbraken'").fetchone()
    assert json.loads(row[0]) == [["inbraken", 1]] and row[1] == 6 * 4 * 4


def test_risk_cli_flags_top_cells(risk_ws, tmp_path):
    out = tmp_path / "risico.csv"
    r = CliRunner().invoke(app, ["risk", "inbraken", "-w", str(risk_ws), "--at", "2024-01-01", "--json",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["flagged_cells"] == len(res["cells"]) > 0
    hot_cells = {"E1094N3647", "E1080N3651", "E1099N3656"}  # the three planted hotspots
    assert hot_cells <= {c["cell_id"] for c in res["cells"]}
    assert all(c["toelichting"] for c in res["cells"])
    table = pd.read_csv(out)
    assert table.flagged.sum() == res["flagged_cells"] and table["rank"].min() == 1


def test_backtest_reuse_skips_an_identical_run_but_not_other_settings(risk_ws):
    args = ["backtest", "inbraken", "-w", str(risk_ws), "--start", "2023-11-24", "--end", "2023-12-29",
            "--refit-every", "13", "--json", "--reuse"]
    first = json.loads(CliRunner().invoke(app, args).stdout)
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert again["result"] == first["result"] and again["models"] == first["models"]
    other = json.loads(CliRunner().invoke(app, [*args[:5], "2023-12-08", *args[6:]]).stdout)
    assert other["result"] != first["result"]
