"""``stadslab route``: the daily container plan from the sensor stream, and its evaluation by simulation."""

from __future__ import annotations

from datetime import date
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, progress, workspace
from stadslab.errors import AnalysisError

app = typer.Typer(help="Routes plannen: welke containers vandaag, in welke volgorde, met stortritten.",
                  no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Routes plannen met de gedeelde routeplanner (PyVRP)."""


def _day(text: Optional[str]) -> date:
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AnalysisError(f"datum '{text}' niet begrepen", hint="gebruik JJJJ-MM-DD, bijvoorbeeld 2026-01-06") from None


@app.command("plan")
def plan(dataset: str = typer.Argument(..., help="Stream-dataset met vulgraadmetingen (bv. denhaag_containervulling)"),
         day: Optional[str] = typer.Option(None, "--date", help="Plandag JJJJ-MM-DD (standaard vandaag)"),
         seconds: float = typer.Option(30.0, "--seconds", help="Rekentijd voor de routeplanner"),
         trucks: int = typer.Option(8, "--trucks", help="Aantal inzamelwagens"),
         fraction: str = typer.Option("Rest", "--fractie", help="Afvalfractie (één fractie per wagen)"),
         save: bool = typer.Option(True, "--save/--no-save", help="Bewaar het plan in het warehouse (voor de chauffeurspagina)"),
         ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Dagplan: verplichte containers (lopen over vóór de volgende ronde) en optionele (met prijs), met routes."""
    from stadslab.analyses.containers.plan import Fleet, PlanSettings
    from stadslab.analyses.containers.plan_store import save_plan

    when = _day(day)
    w = workspace(ws)
    w.catalog().get(dataset)   # a clear catalog error for an unknown dataset
    fleet, settings = Fleet(trucks=trucks), PlanSettings(fraction=fraction)
    with progress(f"routeplan {when.isoformat()}", quiet=as_json) as say:
        say("metingen lezen en vulgraad schatten")
        with w.warehouse(read_only=True) as wh:
            from stadslab.analyses.containers.plan_store import current_state, register_frame
            register = register_frame(wh)
            state = current_state(wh, dataset, register, when, fraction)
        from stadslab.analyses.containers.plan import plan_day

        say("routes zoeken", 0, 100)
        dp = plan_day(register, state, when, fleet=fleet, settings=settings, seconds=seconds,
                      progress=lambda f: say("routes zoeken", round(100 * f), 100))
        dp.estimator = state.attrs.get("schatter", "")
        version = None
        if save:
            say("opslaan")
            with w.warehouse() as wh:
                version = save_plan(wh, dp, dataset)
    summary = dp.summary()
    summary["resultaat"] = f"results.containerplan__{version}" if version else None
    summary["routes"] = [{"wagen": r.vehicle, "km": round(r.distance_m / 1000, 1),
                          "start": _hm(r.start_s), "einde": _hm(r.end_s), "stops": r.stops,
                          "stortritten": [t.ends_at for t in r.trips]} for r in dp.plan.routes]
    if as_json:
        print_json(summary)
        return
    console.print(f"[bold]Dagplan {when.isoformat()}[/] ({summary['fractie']}, [italic]gesimuleerde sensoren[/]): "
                  f"{summary['kandidaten']} kandidaten, {summary['verplicht']} verplicht, "
                  f"{summary['geleegd_gepland']} gepland, {summary['km']} km, {summary['truckuren']} truckuren")
    t = Table("wagen", "start", "einde", "stops", "ritten", "km")
    for r in dp.plan.routes:
        t.add_row(escape(r.vehicle), _hm(r.start_s), _hm(r.end_s), str(len(r.stops)), str(len(r.trips)),
                  f"{r.distance_m / 1000:.1f}")
    console.print(t)
    if not dp.plan.feasible:
        console.print("[bold red]Let op: dit plan is niet toegelaten[/] (de rekentijd was te kort om alle regels "
                      "te halen): " + escape("; ".join(dp.plan.problems[:5])))
    for u in dp.plan.unserved_required[:20]:
        console.print(f"[yellow]niet ingepland[/] {escape(u.stop)}: {escape(u.reason)}")
    if version:
        console.print(f"Opgeslagen als results.containerplan__{version}; chauffeurs: /containers/route")


@app.command("evaluate")
def evaluate(weeks: int = typer.Option(8, "--weeks", help="Aantal weken simulatie (minstens 8 voor de vergelijking)"),
             containers: int = typer.Option(1000, "--containers", help="Ongeveer zoveel restafvalcontainers (hele buurten)"),
             trucks: int = typer.Option(8, "--trucks", help="Aantal wagens voor beide aanpakken"),
             seconds: float = typer.Option(5.0, "--seconds-per-day", help="Rekentijd per dagplan"),
             seed: int = typer.Option(1, "--seed"),
             save: bool = typer.Option(True, "--save/--no-save", help="Bewaar de uitkomst (voor /containers/plan)"),
             ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Simulatie: sensorgestuurd dagplan tegen het vaste weekschema (km, ledigingen, overloopdagen, truckuren)."""
    from stadslab.analyses.containers.evaluate import SPAARZAAM, district, results_table, simulate
    from stadslab.analyses.containers.plan import Fleet
    from stadslab.analyses.containers.plan_store import register_frame, save_evaluation

    w = workspace(ws)
    with w.warehouse(read_only=True) as wh:
        register = register_frame(wh)
    reg = district(register, target=containers)
    with progress("simulatie", quiet=as_json) as say:
        res = simulate(reg, weeks=weeks, fleet=Fleet(trucks=trucks), seconds_per_day=seconds, seed=seed,
                       progress=lambda d, t: say(f"dag {d}/{t}", d, t), variants={"sensor_zuinig": SPAARZAAM})
        params = {"weeks": weeks, "containers": len(reg), "buurten": sorted(reg["buurt"].unique().tolist()),
                  "trucks": trucks, "seconds_per_day": seconds, "seed": seed, "gesimuleerd": True}
        if save:
            with w.warehouse() as wh:
                save_evaluation(wh, res, params)
    table = results_table(res)
    if as_json:
        print_json({"params": params, "resultaat": table.to_dict(orient="records")})
        return
    t = Table("aanpak", "km", "truckuren", "ledigingen", "overloopdagen", "vulgraad bij legen %")
    for r in table.itertuples():
        t.add_row(POLICY_NAMES.get(r.policy, r.policy), f"{r.km:.0f}", f"{r.truck_hours:.0f}",
                  str(r.emptyings), str(r.overflow_days), f"{r.mean_fill_at_emptying:.0f}")
    console.print(f"[bold]{weeks} weken, {len(reg)} containers (gesimuleerd)[/]")
    console.print(t)


POLICY_NAMES = {"vast": "vast weekschema", "sensor": "sensorgestuurd", "sensor_zuinig": "sensorgestuurd, zuinig"}


def _hm(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"
