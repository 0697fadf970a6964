"""``stadslab predict``: risk maps per grid cell and demand forecasts, each scored against a baseline."""

from __future__ import annotations

import typer

from stadslab.cli import predict_demand, predict_risk

app = typer.Typer(help="Voorspellen met eerlijke evaluatie: elke voorspelling naast een naïeve basislijn.",
                  no_args_is_help=True)
app.command("risk")(predict_risk.risk)
app.command("backtest")(predict_risk.backtest_cmd)
app.command("demand")(predict_demand.demand)
