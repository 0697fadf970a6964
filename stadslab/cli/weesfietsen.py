"""``stadslab weesfietsen plan|backtest|evaluate``: the orphan-bicycle pilot (GESIMULEERD in the demo)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, progress, workspace
from stadslab.errors import AnalysisError

app = typer.Typer(help="Weesfietsen: waar labelen, wanneer hercontroleren, met eerlijke evaluatie.",
                  no_args_is_help=True)


def _next_monday(wh) -> date:
    from stadslab.analyses.weesfietsen.data import DATASETS

    t = wh.table(DATASETS["acties"])
    last = t.aggregate(m=t.datum_gelabeld.max()).to_pandas()["m"].iloc[0]
    d = pd.Timestamp(last).date() + timedelta(days=1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


@app.command()
def plan(week: Optional[str] = typer.Option(None, "--week", help="Maandag van de week (JJJJ-MM-DD); standaard de "
                                                                  "week na de laatste labelactie"),
         crews: int = typer.Option(5, "--ploegen", help="Aantal ploegen"),
         capacity: int = typer.Option(20, "--busjes-capaciteit", help="Fietsen per bus"),
         seconds: float = typer.Option(4.0, "--seconden", help="Rekentijd per dag"),
         ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Maak het weekplan: hercontroles binnen hun termijn, labelen waar het loont, lossen bij het fietsdepot."""
    from stadslab.analyses.weesfietsen.data import make_plan
    from stadslab.analyses.weesfietsen.plan import TeamSettings

    w = workspace(ws)
    with w.warehouse() as wh:
        monday = date.fromisoformat(week) if week else _next_monday(wh)
        settings = TeamSettings(crews=crews, van_capacity=capacity, seconds_per_day=seconds)
        with progress(f"weekplan {monday}", quiet=as_json) as step:
            p, version = make_plan(wh, monday, settings, progress=lambda i, n: step(f"dag {i + 1}/{n}"))
    df = p.frame()
    summary = {"week": monday.isoformat(), "versie": version, "stops": len(df), "gesimuleerd": True,
               "hercontroles": int((df["kind"] == "hercontrole").sum()) if len(df) else 0,
               "labelen": int((df["kind"] == "labelen").sum()) if len(df) else 0,
               "niet_gepland": p.not_scheduled, "routes": p.routes, "rekentijd_s": round(p.runtime_s, 1),
               "kalender": p.calendar}
    if as_json:
        print_json({**summary, "stops_detail": df.astype(str).to_dict(orient="records")})
        return
    t = Table("dag", "hercontroles", "labelen", "km", "ploeguren")
    routes = pd.DataFrame(p.routes)
    for day, g in (df.groupby("day") if len(df) else []):
        r = routes[routes["dag"] == str(day)]
        t.add_row(str(day), str(int((g["kind"] == "hercontrole").sum())), str(int((g["kind"] == "labelen").sum())),
                  f"{r['km'].sum():.0f}", f"{r['uren'].sum():.1f}")
    console.print(t)
    for n in p.not_scheduled:
        console.print(f"[yellow]niet gepland[/]: {n['locatie']} (gelabeld {n['gelabeld']}): {escape(n['reden'])}")
    console.print(f"GESIMULEERDE gegevens · opgeslagen als results.weesfietsen_plan versie {version} · "
                  f"{len(p.calendar)} nieuwe hercontroles over vier weken")


@app.command()
def backtest(weeks: int = typer.Option(12, "--weken"), ws: Optional[str] = WorkspaceOpt,
             as_json: bool = JsonOpt) -> None:
    """Toets de verwachte opbrengst tegen eenvoudige keuzes op de laatste weken van het gesimuleerde jaar."""
    from stadslab.analyses.weesfietsen.backtest import backtest as run
    from stadslab.demo.weesfietsen_sim import demo_world
    from stadslab.workspace import DEMO_DATA

    w = workspace(ws)
    _demo_only(w)
    with progress("toets weesfietsen", quiet=as_json):
        res = run(demo_world(DEMO_DATA), weeks=weeks)
    with w.warehouse() as wh:
        res["versie"] = wh.save_result("backtest_weesfietsen", pd.DataFrame(res["per_week"]), kind="backtest",
                                       inputs=[], params={k: v for k, v in res.items() if k != "per_week"},
                                       method="GESIMULEERD: " + res["methode"])
    if as_json:
        print_json(res)
        return
    for k, v in res["per_ploeguur"].items():
        console.print(f"  {k:26s} {v:6.2f} weesfietsen per ploeguur")
    console.print(escape(res["oordeel"]) + " (gesimuleerd)")


@app.command()
def evaluate(weeks: int = typer.Option(12, "--weken"), seconds: float = typer.Option(1.5, "--seconden"),
             ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Simuleer het geplande werken tegen 'een hele wijk labelen in rotatie' (verwijderd per ploeguur, op tijd, km)."""
    from stadslab.analyses.weesfietsen.evaluate import demo_evaluation
    from stadslab.analyses.weesfietsen.plan import TeamSettings
    from stadslab.workspace import DEMO_DATA

    w = workspace(ws)
    _demo_only(w)
    with progress("simulatie", quiet=as_json) as step:
        res = demo_evaluation(DEMO_DATA, weeks=weeks, settings=TeamSettings(seconds_per_day=seconds), progress=step)
    with w.warehouse() as wh:
        res["versie"] = wh.save_result("evaluatie_weesfietsen", pd.DataFrame(res["beleid"]), kind="evaluatie",
                                       inputs=[], params=res, method="GESIMULEERD: gemeenschappelijke toevalsgetallen, "
                                                                     "beide beleidsvormen met dezelfde routeplanner")
    if as_json:
        print_json(res)
        return
    for b in res["beleid"]:
        console.print(f"  {b['beleid']:12s} verwijderd {b['verwijderd']:5d} · {b['ploeguren']:7.1f} ploeguren · "
                      f"{b['km']:7.1f} km · {b['verwijderd_per_ploeguur']:.2f} per ploeguur · "
                      f"op tijd {100 * b['hercontroles_op_tijd']:.1f} %")
    console.print(f"winst {res['winst']:.2f}× per ploeguur (gesimuleerd, {weeks} weken)")


def _demo_only(w) -> None:
    if not (w.data_dir / "weesfietsen" / "SIMULATED.txt").exists():
        raise AnalysisError("de toets en de simulatie draaien op de gesimuleerde demowereld",
                            hint="maak een demowerkruimte met 'stadslab init DIR --demo'; met echte data toetst u "
                                 "met de verwijderingen van de komende weken")
