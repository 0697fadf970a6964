"""``stadslab discover``: which area figures go together, with spatial honesty and confounder checks.

Runs ``stadslab.analyses.discovery.run_discovery`` on the workspace, prints the leads (or JSON) and
stores all pairs as ``results."discovery_<niveau>_<jaar>"`` with datasets and versions (docs/discovery.md).
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stadslab.analyses.discovery import CAVEAT, METHOD, Settings, pair_record, run_discovery, save
from stadslab.cli.aggregate import login
from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, err_console, print_json, read_warehouse, workspace
from stadslab.errors import AnalysisError
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import suppression_store_path

STEPS = 5   # collect, Spearman, Pearson, confounders, store


def discover(level: str = typer.Option("buurt", "--level", help="Gebiedsniveau: buurt of wijk"),
             year: int = typer.Option(..., "--year", help="Jaar; kiest elke dataset op zijn temporal_coverage"),
             confounders: Optional[str] = typer.Option(
                 None, "--confounders", help="Verstorende variabelen DATASET.VELD,… (standaard: inwonertal, "
                                             "bevolkingsdichtheid, leeftijdsopbouw, inkomen, huurwoningen uit CBS)"),
             alpha: float = typer.Option(0.05, "--alpha", help="FDR-niveau (Benjamini-Hochberg) en toetsniveau"),
             min_population: int = typer.Option(200, "--min-inwoners",
                                                help="Cijfers per 1.000 inwoners alleen voor gebieden met minstens zoveel inwoners"),
             all_pairs: bool = typer.Option(False, "--alle-paren", help="Alle geteste paren, niet alleen de overlevende"),
             top: int = typer.Option(25, "--top", help="Zoveel aanwijzingen in de tabel (niet bij --json)"),
             store: bool = typer.Option(True, "--opslaan/--niet-opslaan", help="Bewaar de run als resultaat in het warehouse"),
             user: Optional[str] = typer.Option(None, "--user", envvar="STADSLAB_USER",
                                                help="Gebruiker: persoonsgegevens alleen als beveiligd aggregaat, met rol en doel"),
             purpose: Optional[str] = typer.Option(None, "--purpose", help="Doel (doelbinding)"),
             ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Zoek verbanden tussen alle gebiedscijfers van één niveau en jaar; toets ze eerlijk."""
    w = workspace(ws)
    gm = (w.config.get("municipality") or {}).get("gemeente_code")
    if not gm:
        raise AnalysisError("de werkruimte noemt geen gemeente", hint="zet municipality.gemeente_code in stadslab.yaml")
    who = login(w.config, user)
    declared = [c.strip() for c in confounders.split(",") if c.strip()] if confounders else \
        ((w.config.get("discovery") or {}).get("confounders") or None)
    catalog = w.catalog()
    quiet = as_json or not err_console.is_terminal
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task("ontdekken", total=STEPS)

        def step(text: str) -> None:
            bar.update(task, description=f"ontdekken: {text}", advance=0 if "verzamelen" in text else 1)

        with read_warehouse(w) as wh:
            run = run_discovery(wh, catalog, level=level, year=year, gemeente_code=gm, user=who, purpose=purpose,
                                audit=AuditLog(w.root / "audit" / "audit.jsonl"),
                                store=SuppressionStore(suppression_store_path(w.root)),
                                confounders=declared, settings=Settings(alpha=alpha), min_population=min_population,
                                step=step)
        if store:
            step("opslaan")
            with w.warehouse() as wh:
                save(wh, run)
        bar.update(task, completed=STEPS)
    leads = run.leads()
    if as_json:
        rows = run.pairs if all_pairs else leads
        print_json({"level": level, "year": year, "division_year": run.data.division_year,
                    "areas": len(run.data.codes), "tested_pairs": int(run.pairs["rho"].notna().sum()),
                    "surviving_pairs": len(leads), "suspects": run.suspects,
                    "variables": run.params["variables"], "skipped": run.data.skipped, "notes": run.data.notes,
                    "simulated": any(v.simulated for v in run.data.variables),
                    "caveat": CAVEAT, "method": METHOD, "seconds": round(run.seconds, 2),
                    "result": {"name": run.result_name, "version": run.result_version} if store else None,
                    "pairs": [pair_record(r) for _, r in rows.iterrows()]})
        return
    t = Table(title=f"Aanwijzingen, {level} {year}")
    for col in ("x", "y"):
        t.add_column(col, overflow="fold", ratio=3)
    for col in ("ρ", "p (gecorr.)", "n", "n_eff", "partieel ρ"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("oordeel", overflow="fold", ratio=2)
    for _, r in leads.head(top).iterrows():
        rec = pair_record(r)
        t.add_row(escape(rec["x"]), escape(rec["y"]), f"{rec['rho']:.2f}", f"{rec['p_adj']:.2g}", str(rec["n_areas"]),
                  f"{rec['n_eff']:.0f}", "–" if rec["partial_rho"] is None else f"{rec['partial_rho']:.2f}",
                  escape(rec["verdict"] or ""))
    console.print(t)
    console.print(f"{len(run.data.variables)} variabelen, {len(run.data.codes)} gebieden, "
                  f"{int(run.pairs['rho'].notna().sum())} paren getoetst, {len(leads)} overleven Benjamini-Hochberg "
                  f"(α = {alpha}); {run.seconds:.1f} s.")
    missing = [v for v in run.data.variables if v.missing]
    if missing:
        console.print("[bold]Ontbrekende gebieden per variabele[/] (onderdrukt = door de publicatiepoort):")
        for v in missing:
            extra = f", waarvan {v.suppressed} onderdrukt" if v.suppressed else ""
            extra += f", {v.below_min_population} onder {min_population} inwoners" if v.below_min_population else ""
            console.print(f"  {escape(v.name)}: {v.missing} van {len(run.data.codes)}{extra}")
    for s in run.data.skipped:
        console.print(f"[dim]overgeslagen: {escape(s.get('variabele') or s['dataset'])}: {escape(s['reden'])}[/]")
    for n in run.data.notes:
        console.print(f"[dim]{escape(n)}[/]")
    console.print(f"[yellow]let op:[/] {CAVEAT}")
    if store:
        console.print(f"[dim]bewaard als resultaat {run.result_name} versie {run.result_version}[/]")
