"""``stadslab predict risk DATASET`` and ``stadslab predict backtest DATASET`` — the risk map per 125 m cell.

Register with ``app.add_typer(predict_risk.app, name="predict")`` or add the commands to an existing
``predict`` group: ``predict_app.command("risk")(predict_risk.risk)`` and
``predict_app.command("backtest")(predict_risk.backtest_cmd)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, err_console, print_json, progress, workspace
from stadslab.errors import AnalysisError, StadslabError
from stadslab.formatting import nl_date, nl_number, nl_pct

app = typer.Typer(help="Risicokaart per 125 m-cel, altijd naast eenvoudige hotspotkaarten getoetst.",
                  no_args_is_help=True)
METHOD = ("stadslab.analyses.risk: LightGBM Poisson op kenmerken van eerdere incidenten per 125 m-cel; "
          "baselines last_period, last_365d, kde; trefkans/PAI (Chainey e.a. 2008)/PEI (Hunt 2016)")


@app.callback()
def _group() -> None:
    """Risicokaart per 125 m-cel (alleen incidenten van vóór de voorspelde periode)."""


def _time_column(w: Any, dataset: str, time: str | None) -> tuple[str, int | None]:
    entry = w.catalog().get(dataset)
    year = entry.geography.division_year if entry.geography else None
    if time:
        return time, year
    field = entry.field_with_role("time")
    if field is None:
        raise AnalysisError(f"dataset '{dataset}' heeft geen veld met role: time", hint="geef --time KOLOM")
    return field.name, year


def _study(wh: Any, t: Any, gemeente: str | None, year: int | None, notes: list[str]):
    """Cells of the municipality from the area registry; the documented fallback when it is missing."""
    from stadslab.analyses.risk.features import StudyArea, study_area_from_registry

    if gemeente is None and "gemeente_code" in t.columns:
        known = t.filter(t.gemeente_code.notnull())
        g = known.group_by("gemeente_code").aggregate(n=known.count())
        top = g.order_by([g.n.desc(), g.gemeente_code]).limit(1).to_pandas()
        gemeente = None if top.empty else str(top.gemeente_code.iloc[0])
    if gemeente is None or year is None:
        notes.append("geen gemeente of indelingsjaar bekend: kandidaatcellen = cellen met incidenten + buren")
        return StudyArea()
    try:
        areas = wh.ibis.table("areas", database="stadslab")
        return study_area_from_registry(areas, year=year, gemeente_code=gemeente)
    except StadslabError as exc:
        notes.append(f"gebiedsregister niet bruikbaar ({exc.message}); terugval op cellen met incidenten + buren")
    except Exception as exc:  # registry view missing in this warehouse: say so, never silently
        notes.append(f"gebiedsregister niet beschikbaar ({type(exc).__name__}); terugval op cellen met incidenten + buren")
    return StudyArea()


@contextmanager
def _incidents(w: Any, dataset: str, time: str | None, gemeente: str | None, year: int | None,
               notes: list[str]) -> Iterator[tuple[Any, Any, int, Any, str]]:
    """The incident dataset opened read-only: (warehouse, Ibis table, version, study area, time column)."""
    time_col, div_year = _time_column(w, dataset, time)
    with w.warehouse(read_only=True) as wh:
        t = wh.table(dataset)
        yield wh, t, wh.current_version(dataset), _study(wh, t, gemeente, year or div_year, notes), time_col


def _last_day(t: Any, time: str) -> pd.Timestamp:
    last = t.aggregate(m=t[time].max()).to_pandas().m.iloc[0]
    if pd.isna(last):
        raise AnalysisError("de dataset heeft geen incidenten met een tijdstip")
    return pd.Timestamp(last).floor("D")


@app.command("risk")
def risk(dataset: str = typer.Argument(..., help="Dataset-id met incidenten (punten met tijd)"),
         at: Optional[str] = typer.Option(None, "--at", help="Begin van de voorspelde periode (JJJJ-MM-DD); "
                                          "standaard de dag na het laatste incident"),
         period_days: int = typer.Option(14, "--period-days", help="Lengte van de periode in dagen"),
         top: float = typer.Option(0.03, "--top", help="Aandeel van het oppervlak dat wordt aangewezen"),
         time: Optional[str] = typer.Option(None, "--time", help="Tijdkolom (standaard: het veld met role: time)"),
         gemeente: Optional[str] = typer.Option(None, "--gemeente", help="CBS-gemeentecode, bv. GM0014"),
         year: Optional[int] = typer.Option(None, "--year", help="Indelingsjaar van de gebieden"),
         facilities: Optional[str] = typer.Option(None, "--facilities", help="Datasets met voorzieningen (x_rd, y_rd), komma-gescheiden"),
         out: Optional[Path] = typer.Option(None, "--out", help="Schrijf alle cellen naar dit CSV-bestand"),
         ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Voorspel het risico per cel voor de komende periode en wijs de top aan; met toelichting per cel."""
    from stadslab.analyses.risk.models import predict_risk

    w = workspace(ws)
    notes: list[str] = []
    with progress(f"risicokaart {dataset}", quiet=as_json) as say:
        with _incidents(w, dataset, time, gemeente, year, notes) as (wh, t, version, study, time_col):
            when = pd.Timestamp(at) if at else _last_day(t, time_col) + pd.Timedelta(days=1)
            fac = {name: wh.table(name) for name in (facilities.split(",") if facilities else [])}
            inputs = [(dataset, int(version))] + [(name, int(wh.current_version(name))) for name in fac]
            say("kenmerken en model")
            pred = predict_risk(t, when, period_days=period_days, top=top, study=study, time_col=time_col,
                                facilities=fac or None)
            stored = wh.results(f"backtest_risico_{dataset}", "backtest")
            stored_bt = stored[-1]["params"] if stored else None
        params = {**pred.params, "dataset": dataset, "version": version, "notes": notes}
        say("opslaan")
        with w.warehouse() as wh:
            n = wh.save_result(f"risico_{dataset}", pred.table, kind="risk_prediction", inputs=inputs,
                               params=params, method=METHOD)
    if out is not None:
        pred.table.to_csv(out, index=False)
    flagged = pred.table[pred.table.flagged]
    if as_json:
        print_json({"dataset": dataset, "version": version, "at": pred.at.isoformat(), "period_days": period_days,
                    "top": top, "flagged_cells": int(len(flagged)), "expected_in_flagged": float(flagged.expected.sum()),
                    "expected_total": float(pred.table.expected.sum()), "notes": notes,
                    "result": f"results.risico_{dataset}__{n}", "oordeel": _verdict_json(stored_bt),
                    "cells": flagged[["cell_id", "x_rd", "y_rd", "buurt_code", "expected", "rank", "toelichting"]]
                    .to_dict(orient="records")})
        return
    for note in notes:
        err_console.print(f"[yellow]let op:[/] {escape(note)}")
    console.print(f"[bold]{escape(dataset)}[/] versie {version}: periode {nl_date(pred.at)} + {period_days} dagen; "
                  f"{len(flagged)} cellen aangewezen ({nl_pct(top, 0)} van het oppervlak), verwacht daar "
                  f"{nl_number(flagged.expected.sum(), 1)} van {nl_number(pred.table.expected.sum(), 1)} incidenten")
    tab = Table("rang", "cel", "buurt", "verwacht", "waarom")
    for row in flagged.head(15).itertuples():
        tab.add_row(str(row.rank), row.cell_id, escape(str(row.buurt_code or "")), nl_number(row.expected, 2),
                    escape(row.toelichting))
    console.print(tab)
    console.print(f"opgeslagen: results.risico_{dataset}__{n}" + (f"; CSV: {escape(str(out))}" if out else ""))
    print_verdict(stored_bt)


@app.command("backtest")
def backtest_cmd(dataset: str = typer.Argument(..., help="Dataset-id met incidenten"),
                 start: Optional[str] = typer.Option(None, "--start", help="Eerste periode (standaard: een jaar voor het einde)"),
                 end: Optional[str] = typer.Option(None, "--end", help="Einde (exclusief; standaard de dag van het laatste incident)"),
                 period_days: int = typer.Option(14, "--period-days", help="Lengte van de periode in dagen"),
                 time: Optional[str] = typer.Option(None, "--time", help="Tijdkolom (standaard: het veld met role: time)"),
                 gemeente: Optional[str] = typer.Option(None, "--gemeente", help="CBS-gemeentecode, bv. GM0014"),
                 year: Optional[int] = typer.Option(None, "--year", help="Indelingsjaar van de gebieden"),
                 refit_every: int = typer.Option(1, "--refit-every", help="Model elke N perioden opnieuw trainen"),
                 register: Optional[Path] = typer.Option(None, "--register", help="Schrijf een Algoritmeregister-"
                                                         "tekst (Markdown + JSON) in deze map"),
                 organisatie: str = typer.Option("Gemeente (in te vullen)", "--organisatie"),
                 reuse: bool = typer.Option(False, "--reuse", help="Sla over als er al een toets is van dezelfde "
                                            "datasetversie met dezelfde instellingen"),
                 ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Toets het model met een rollende oorsprong tegen vorige periode, langetermijnkaart en kerndichtheid."""
    from stadslab.analyses.risk.backtest import backtest, backtest_table

    w = workspace(ws)
    notes: list[str] = []
    with progress(f"toets {dataset}", quiet=as_json) as say:
        with _incidents(w, dataset, time, gemeente, year, notes) as (wh, t, version, study, time_col):
            stop = pd.Timestamp(end) if end else _last_day(t, time_col)
            first = pd.Timestamp(start) if start else stop - pd.Timedelta(days=364)
            requested = {"start": first.isoformat(), "end": stop.isoformat(), "period_days": period_days,
                         "refit_every": refit_every}
            stored = [r for r in wh.results(f"backtest_risico_{dataset}", "backtest")
                      if r["inputs"] == [(dataset, int(version))] and r["params"].get("requested") == requested]
            if reuse and stored:   # same data version and settings: the stored scores answer the question
                res, n = stored[-1]["params"], stored[-1]["version"]
            else:
                res = backtest(t, start=first, end=stop, period_days=period_days, study=study, time_col=time_col,
                               refit_every=refit_every, progress=lambda i, n: say(f"periode {i}/{n}", i, n))
                res.update(dataset=dataset, version=version, notes=notes, requested=requested)
                n = None
        if n is None:
            with w.warehouse() as wh:
                n = wh.save_result(f"backtest_risico_{dataset}", backtest_table(res), kind="backtest",
                                   inputs=[(dataset, int(version))], params={k: v for k, v in res.items()
                                                                               if k not in ("per_period",)},
                                   method=METHOD)
    res["result"] = f"results.backtest_risico_{dataset}__{n}"
    if register is not None:
        from stadslab.analyses.risk.register import register_entry, to_json, to_markdown

        entry = register_entry(res, organisatie=organisatie, dataset=dataset, dataset_version=version,
                               period_days=period_days)
        register.mkdir(parents=True, exist_ok=True)
        (register / f"algoritmeregister_{dataset}.md").write_text(to_markdown(entry), encoding="utf-8")
        (register / f"algoritmeregister_{dataset}.json").write_text(to_json(entry), encoding="utf-8")
    if as_json:
        print_json({**res, "oordeel": _verdict_json(res)})
        return
    _print_backtest(res)


def _verdict_json(bt: dict[str, Any] | None) -> dict[str, Any]:
    from stadslab.analyses.risk.verdict import verdict

    return verdict(bt).to_dict()


def print_verdict(bt: dict[str, Any] | None) -> None:
    """The one verdict (stadslab.analyses.risk.verdict), word for word as the page and the register say it."""
    from stadslab.analyses.risk.verdict import verdict

    v = verdict(bt)
    colour = {"wint": "green", "gelijk": "yellow", "verliest": "red"}.get(v.level, "yellow")
    console.print(f"[bold {colour}]oordeel: {v.level}[/] — {escape(v.headline)}", soft_wrap=True)
    console.print(escape(v.sentence), soft_wrap=True)
    if v.tested:
        console.print(f"standaardkaart: {escape(v.default_map)}")


def _print_backtest(res: dict[str, Any]) -> None:
    for note in res.get("notes", []):
        err_console.print(f"[yellow]let op:[/] {escape(note)}")
    fr = [str(f) for f in res["area_fractions"]]
    console.print(f"[bold]{escape(res['dataset'])}[/]: {res['periods']} perioden van {res['period_days']} dagen "
                  f"vanaf {nl_date(res['start'])}; trefkans (PAI) per aandeel van het oppervlak")
    tab = Table("methode", *[nl_pct(float(f), 0) for f in fr])
    for name, m in res["models"].items():
        tab.add_row(name + (" (model)" if name == res["model"] else ""),
                    *[f"{nl_pct(m['hit_rate'][f])} ({nl_number(m['pai'][f], 1)})" if m["hit_rate"][f] is not None
                      else "–" for f in fr])
    console.print(tab)
    print_verdict(res)
    cal = res["calibration"]
    if cal["ratio_predicted_observed"] is not None:
        console.print(f"kalibratie: voorspeld {nl_number(cal['total_predicted'])}, waargenomen "
                      f"{nl_number(cal['total_observed'])}")
    console.print(f"opgeslagen: {res['result']}")
