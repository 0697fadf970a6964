"""``stadslab audit``: the privacy officer's view of who read which personal data, for what."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, workspace
from stadslab.privacy.audit import AuditLog


def audit_log(ws) -> AuditLog:
    return AuditLog(ws.root / "audit" / "audit.jsonl")


def audit(ws: Optional[str] = WorkspaceOpt,
          dataset: Optional[str] = typer.Option(None, help="Alleen deze dataset"),
          user: Optional[str] = typer.Option(None, help="Alleen deze gebruiker"),
          since: Optional[str] = typer.Option(None, help="Vanaf (ISO-datum, bijv. 2026-01-01)"),
          until: Optional[str] = typer.Option(None, help="Tot (ISO-datum)"),
          verify: bool = typer.Option(False, "--verify", help="Controleer de hashketen van het logboek"),
          as_json: bool = JsonOpt) -> None:
    """Wie las welke persoonsgegevens, met welk doel, hoe vaak (per dataset, gebruiker en periode)."""
    log = audit_log(workspace(ws))
    if verify:
        problems = log.verify()
        if as_json:
            print_json({"intact": not problems, "problems": problems, "entries": len(log.entries())})
        elif problems:
            for p in problems:
                console.print(f"[red]✗[/] {p}")
        else:
            console.print(f"[green]✓[/] auditlog intact ({len(log.entries())} regels)")
        if problems:
            raise typer.Exit(10)
        return
    rows = log.summary(dataset=dataset, user=user, since=since, until=until)
    if as_json:
        print_json(rows)
        return
    t = Table("dataset", "gebruiker", "doel", "toegestaan", "keer", "rijen uit", "eerste", "laatste", "routes")
    for r in rows:
        t.add_row(r["dataset"], r["user"], r["purpose"] or "-", "ja" if r["allowed"] else "[red]nee[/]",
                  str(r["reads"]), str(r["rows_out"]), r["first"][:19], r["last"][:19], ", ".join(r["routes"]))
    console.print(t if rows else "geen leesacties in het auditlog voor deze selectie")
