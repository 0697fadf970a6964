"""``stadslab gate protect``: run the publication gate on a CSV table, so it can be checked from outside.

    stadslab gate protect cellen.csv --count n --dims buurt,categorie --hierarchy buurt:wijk --out uit.csv

The output has every cell and every margin (a margin is a row whose dimension value is ``Totaal``),
the published count in the count column (empty when suppressed) and a ``suppressed`` column with the
reason. ``--public`` replaces the reason by one neutral mark, as public outputs must.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from stadslab.cli.common import JsonOpt, console, err_console, print_json, progress
from stadslab.errors import AnalysisError, ReaderError
from stadslab.privacy.gate import protect as gate_protect

app = typer.Typer(help="Publicatiepoort: onthulling voorkomen (minimaal 15 personen per cel).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Publicatiepoort: onthulling voorkomen (minimaal 15 personen per cel)."""


def _hierarchy(specs: list[str], dims: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        parts = [p.strip() for p in spec.split(":") if p.strip()]
        if len(parts) < 2:
            raise AnalysisError(f"--hierarchy {spec!r}: verwacht kind:ouder, bijvoorbeeld buurt:wijk")
        if parts[0] not in dims:
            raise AnalysisError(f"--hierarchy {spec!r}: '{parts[0]}' staat niet in --dims {dims}",
                                hint="het laagste niveau (buurt) is de dimensie; de ouder (wijk) niet")
        out[parts[0]] = parts[1:]
    return out


def _read(path: Path, sep: Optional[str], text_cols: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise ReaderError("bestand bestaat niet", file=str(path))
    try:
        kwargs = {"sep": sep} if sep else {"sep": None, "engine": "python"}
        return pd.read_csv(path, dtype={c: str for c in text_cols}, keep_default_na=False,
                           encoding="utf-8-sig", **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ReaderError(f"kan CSV niet lezen: {exc}", file=str(path), expected="CSV met kopregel") from exc


@app.command("protect")
def protect_cmd(
    table: Path = typer.Argument(..., help="CSV met één rij per cel (zonder totalen)"),
    count: str = typer.Option(..., "--count", help="Kolom met het aantal personen"),
    dims: str = typer.Option(..., "--dims", help="Dimensiekolommen, komma-gescheiden"),
    hierarchy: list[str] = typer.Option([], "--hierarchy", help="kind:ouder[:grootouder], bv. buurt:wijk (herhaalbaar)"),
    min_cell: int = typer.Option(15, "--min-cell", help="Drempel; lager dan 15 alleen met --override-reason"),
    out: Path = typer.Option(..., "--out", help="Uitvoer-CSV: alle cellen en totalen"),
    values: str = typer.Option("", "--values", help="Afgeleide kolommen (gemiddelden/aandelen), komma-gescheiden"),
    zeros: str = typer.Option("publish", "--zeros", help="publish (0 tonen) of suppress (0 onderdrukken)"),
    override_reason: Optional[str] = typer.Option(None, "--override-reason", help="Reden voor min-cell < 15 (auditlog)"),
    public: bool = typer.Option(False, "--public", help="Reden van onderdrukking verbergen (voor publicatie)"),
    audit: bool = typer.Option(False, "--audit", help="Exacte LP-controle van elke primaire cel (traag bij grote tabellen)"),
    sep: Optional[str] = typer.Option(None, "--sep", help="Scheidingsteken; anders automatisch"),
    as_json: bool = JsonOpt,
) -> None:
    """Beschermt een tabel: primaire en secundaire onderdrukking, met totalen en reden per cel."""
    dim_list = [d.strip() for d in dims.split(",") if d.strip()]
    hier = _hierarchy(hierarchy, dim_list)
    value_list = [v.strip() for v in values.split(",") if v.strip()] or None
    text_cols = dim_list + [c for parents in hier.values() for c in parents]
    with progress("publicatiepoort", quiet=as_json) as step:
        step("inlezen")
        df = _read(table, sep, text_cols)
        step("onderdrukken")
        pt = gate_protect(df, count=count, dims=dim_list, hierarchy=hier or None, min_cell=min_cell,
                          values=value_list, zeros=zeros, override_reason=override_reason)
        report = None
        if audit:
            step("LP-controle")
            report = pt.audit()
    out.parent.mkdir(parents=True, exist_ok=True)
    pt.to_pandas(public=public).to_csv(out, index=False)
    data = {"out": str(out), "stats": pt.stats, "provenance": pt.provenance}
    if report is not None:
        data["audit"] = report
    if as_json:
        print_json(data)
    else:
        s = pt.stats
        console.print(f"{s['cells']} cellen + {s['margins']} totalen; onderdrukt: {s['primary']} primair, "
                      f"{s['secondary']} secundair → {out}")
        if report is not None:
            console.print(f"LP-controle: {report['checked']} primaire cellen, {report['failed']} te smal "
                          f"(laagste bovengrens {report['min_upper']})")
    if report is not None and not report["passed"]:
        err_console.print("[bold red]LP-controle faalt[/]: " + ", ".join(report["failed_cells"]))
        raise typer.Exit(10)
