"""``stadslab predict demand DATASET`` — forecast counts per category, with an honest backtest.

Register with ``app.add_typer(predict_demand.app, name="predict")`` (or add :func:`demand` as a
command to an existing ``predict`` group: ``predict_app.command("demand")(predict_demand.demand)``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, progress, workspace
from stadslab.errors import AnalysisError
from stadslab.formatting import nl_number, nl_pct

app = typer.Typer(help="Voorspellen met eerlijke evaluatie.", no_args_is_help=True)
PASSPORT_NAMES = ("passports", "paspoorten")


@app.callback()
def _group() -> None:
    """Voorspellen met eerlijke evaluatie (altijd naast de seizoensnaïeve voorspelling)."""


@app.command("demand")
def demand(dataset: str = typer.Argument(..., help="Dataset-id uit de catalogus (of 'passports' met --simulated)"),
           key: Optional[str] = typer.Option(None, "--key", help="Kolom met de categorie (één reeks per waarde)"),
           time: Optional[str] = typer.Option(None, "--time", help="Tijdkolom (standaard: het veld met role: time)"),
           value: Optional[str] = typer.Option(None, "--value", help="Kolom om op te tellen (standaard: rijen tellen)"),
           freq: str = typer.Option("M", "--freq", help="M (maand), W (week) of D (dag)"),
           horizon: int = typer.Option(12, "--horizon", help="Aantal perioden vooruit"),
           models: str = typer.Option("ets,arima", "--models", help="ets, arima (SeasonalNaive doet altijd mee)"),
           run_backtest: bool = typer.Option(False, "--backtest", help="Toets met rollende oorsprong (MASE, dekking)"),
           windows: int = typer.Option(3, "--windows", help="Aantal toetsvensters bij --backtest"),
           start: Optional[str] = typer.Option(None, "--start", help="Eerste periode (JJJJ-MM-DD)"),
           end: Optional[str] = typer.Option(None, "--end", help="Laatste periode; laat een onvolledige laatste maand weg"),
           out: Optional[Path] = typer.Option(None, "--out", help="Schrijf de voorspellingen naar dit CSV-bestand"),
           simulated: bool = typer.Option(False, "--simulated", help="Gesimuleerde paspoortvraag (demo, geen echte data)"),
           population: int = typer.Option(374_238, "--population", help="Inwoners (alleen --simulated; Utrecht 2024)"),
           seed: int = typer.Option(0, "--seed", help="Toevalszaad (alleen --simulated)"),
           jobs: int = typer.Option(0, "--jobs", help="Parallelle processen voor statsforecast (0 = alle kernen)"),
           refit: bool = typer.Option(False, "--refit/--no-refit", help="Bij --backtest: elk model in elk "
                                      "toetsvenster opnieuw schatten (±3× trager); standaard één keer geschat bij "
                                      "het eerste venster en daarna met de nieuwe waarnemingen doorgerold"),
           ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Voorspel aantallen per categorie met intervallen; sla ze op in het warehouse met herkomst."""
    jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
    if simulated:
        if dataset.lower() not in PASSPORT_NAMES:
            raise AnalysisError(f"--simulated bestaat alleen voor 'passports', niet voor '{dataset}'")
        _passports(population=population, seed=seed, jobs=jobs, out=out, as_json=as_json)
        return
    _dataset(dataset, key=key, time=time, value=value, freq=freq, horizon=horizon, models=models,
             run_backtest=run_backtest, windows=windows, start=start, end=end, out=out, jobs=jobs, ws=ws,
             as_json=as_json, refit=refit)


def _dataset(dataset: str, *, key: str | None, time: str | None, value: str | None, freq: str, horizon: int,
             models: str, run_backtest: bool, windows: int, start: str | None, end: str | None, out: Path | None,
             jobs: int, ws: str | None, as_json: bool, refit: bool = False) -> None:
    from stadslab.analyses.forecasting.demand import METHOD, backtest_table, forecast_series
    from stadslab.analyses.forecasting.series import build_series, fill_policy

    w = workspace(ws)
    entry = w.catalog().get(dataset)
    if time is None:
        time_field = entry.field_with_role("time")
        if time_field is None:
            raise AnalysisError(f"dataset '{dataset}' heeft geen veld met role: time", hint="geef --time KOLOM")
        time = time_field.name
    fill = fill_policy(entry, value)
    with progress(f"voorspellen {dataset}", quiet=as_json) as say:
        with w.warehouse(read_only=True) as wh:
            version = wh.current_version(dataset)
            say("reeksen maken")
            series = build_series(wh.table(dataset), time=time, key=key, value=value, freq=freq, fill=fill,
                                  start=start, end=end)
        say(f"{series['unique_id'].nunique()} reeksen voorspellen")
        run = forecast_series(series, freq=freq, horizon=horizon, models=models, run_backtest=run_backtest,
                              n_windows=windows, n_jobs=jobs, refit=refit, progress=say)
        run.params.update({"time": time, "key": key, "value": value, "fill": fill, "start": start, "end": end,
                           "dataset": dataset, "version": version})
        say("opslaan")
        labels = _labels(entry, key)
        fc = run.forecasts.assign(label=run.forecasts["unique_id"].map(labels), dataset=dataset,
                                  dataset_version=version)
        inputs = [(dataset, int(version))]
        with w.warehouse() as wh:
            n_fc = wh.save_result(f"voorspelling_{dataset}", fc, kind="forecast", inputs=inputs, params=run.params,
                                  method=METHOD)
            n_bt = None
            if run.backtest is not None:
                n_bt = wh.save_result(f"backtest_{dataset}", backtest_table(run.backtest), kind="backtest",
                                      inputs=inputs, params=run.params, method=METHOD)
    if out is not None:
        fc.to_csv(out, index=False)
    summary = run.summary()
    for row in summary["per_series"]:
        row["label"] = labels.get(row["unique_id"])
    summary["results"] = {"forecast": f"results.voorspelling_{dataset}__{n_fc}",
                          "backtest": f"results.backtest_{dataset}__{n_bt}" if n_bt else None}
    if as_json:
        print_json(summary)
        return
    _print_forecast(summary, dataset, version)
    if run.backtest is not None:
        _print_backtest(run.backtest.summary)
    console.print(f"opgeslagen: {summary['results']['forecast']}"
                  + (f", {summary['results']['backtest']}" if n_bt else "") + (f"; CSV: {escape(str(out))}" if out else ""))


def _labels(entry: Any, key: str | None) -> dict[str, str]:
    """Code → label from the catalog (``codes:`` as a mapping), so '1.2.3' reads as what it is."""
    if key is None:
        return {}
    try:
        return dict(entry.field(key).code_labels or {})
    except KeyError:
        return {}


def _passports(*, population: int, seed: int, jobs: int, out: Path | None, as_json: bool) -> None:
    from stadslab.analyses.forecasting.passports import PassportParams, passport_demo

    with progress("gesimuleerde paspoortvraag", quiet=as_json) as say:
        say("simuleren en toetsen op 2024–2025")
        res = passport_demo(seed=seed, params=PassportParams(population=population), n_jobs=jobs)
    forecasts = res.pop("forecasts")
    if out is not None:
        forecasts.assign(simulated=True).to_csv(out, index=False)
    if as_json:
        print_json(res)
        return
    inwoners = nl_number(population)
    console.print(f"[bold yellow]GESIMULEERD[/] — paspoorten en ID-kaarten, {inwoners} inwoners "
                  f"(geldigheid volwassenen 5 → 10 jaar vanaf maart 2014); toetsperiode "
                  f"{res['holdout'][0]} t/m {res['holdout'][1]}")
    t = Table("model", "verklarende variabele", "MASE", "dekking 80 %", "dekking 95 %")
    for name, m in sorted(res["models"].items(), key=lambda kv: kv[1]["mase_mean"]):
        t.add_row(name, ", ".join(res["drivers"].get(name, [])) or "-", nl_number(m["mase_mean"], 2),
                  nl_number(m["coverage_80"], 2), nl_number(m["coverage_95"], 2))
    console.print(t)
    console.print(f"beste model: [bold]{res['best_model']}[/]. MASE < 1 is beter dan de seizoensnaïeve methode "
                  "in de trainingsperiode; SeasonalNaive zelf mist de piek van 2024.")
    best = res["models"][res["best_model"]]
    if best["coverage_80"] < 0.7:
        console.print(f"[yellow]let op:[/] de 80%-intervallen van {res['best_model']} bevatten maar "
                      f"{nl_pct(best['coverage_80'], 0)} van de werkelijke waarden: ze zijn te smal.")


def _print_forecast(summary: dict[str, Any], dataset: str, version: Any) -> None:
    console.print(f"[bold]{escape(dataset)}[/] versie {version}: {summary['series']} reeksen, "
                  f"{summary['periods']} perioden ({summary['first']} t/m {summary['last']}); "
                  f"{summary['filled_with_zero']} lege perioden als 0, {summary['rows_without_time']} rijen zonder tijd")
    if summary.get("last_period_incomplete"):
        console.print(f"[yellow]let op:[/] de laatste periode ({summary['last']}) is onvolledig in de data; "
                      "een halve maand trekt de voorspelling omlaag. Kies --end met de laatste volledige periode.")
    models = list(summary["per_series"][0]["forecast_total"]) if summary["per_series"] else []
    t = Table("reeks", "omschrijving", "historie totaal", *[f"{m} (som horizon)" for m in models])
    for row in summary["per_series"][:15]:
        t.add_row(escape(row["unique_id"]), escape(row.get("label") or ""), nl_number(row["history_total"]),
                  *[nl_number(row["forecast_total"][m]) for m in models])
    console.print(t)
    if summary["series"] > 15:
        console.print(f"… en {summary['series'] - 15} reeksen meer (zie --json of --out)")


def _print_backtest(bt: dict[str, Any]) -> None:
    t = Table("model", "MASE gemiddeld", "MASE mediaan", "dekking 80 %", "dekking 95 %", "wint van SeasonalNaive")
    for name, m in bt["models"].items():
        share = m.get("share_beats_seasonal_naive")
        t.add_row(name, _f(m["mase_mean"]), _f(m["mase_median"]), _f(m.get("coverage_80")), _f(m.get("coverage_95")),
                  "–" if share is None else nl_pct(share, 0))
    console.print(t)
    console.print(bt["verdict"])
    narrow = [n for n, m in bt["models"].items() if m.get("coverage_80") is not None and m["coverage_80"] < 0.7]
    if narrow:
        console.print(f"[yellow]let op:[/] te smalle 80%-intervallen bij {', '.join(narrow)}.")


def _f(x: float | None) -> str:
    return nl_number(x, 3)
