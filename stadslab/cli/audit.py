"""``stadslab audit``: the privacy officer's view of who read which personal data, for what — and
whether the log is intact (keyed chain + anchor, both checked with the key outside the workspace)."""

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
          verify: bool = typer.Option(False, "--verify", help="Controleer de sleutelketen en het anker van het logboek"),
          migrate: bool = typer.Option(False, "--migreer", help="Zet een oud (ongesleuteld) logboek apart en begin "
                                                                "een nieuw, gesleuteld logboek"),
          as_json: bool = JsonOpt) -> None:
    """Wie las welke persoonsgegevens, met welk doel, hoe vaak (per dataset, gebruiker en periode)."""
    log = audit_log(workspace(ws))
    if migrate:
        old = log.migrate()
        if as_json:
            print_json({"gemigreerd": old is not None, "oud_logboek": str(old) if old else None})
        else:
            console.print(f"oud logboek apart gezet: {old}; nieuw gesleuteld logboek begonnen" if old
                          else "geen oud logboek om te migreren")
        return
    if verify:
        problems = log.verify()
        n = len(log.entries())
        if as_json:
            print_json({"intact": not problems, "problems": problems, "entries": n, "key": str(log.key_path),
                        "anchor": str(log.anchor_path)})
        elif problems:
            for p in problems:
                console.print(f"[red]✗[/] {p}")
        else:
            console.print(f"[green]✓[/] auditlog intact ({n} regels; sleutel en anker: {log.key_path.parent})")
        if problems:
            raise typer.Exit(10)
        return
    rows = log.summary(dataset=dataset, user=user, since=since, until=until)
    if as_json:
        print_json(rows)
        return
    t = Table("dataset", "gebruiker", "doel", "toegestaan", "keer", "rijen uit", "eerste", "laatste", "routes")
    for r in rows:
        t.add_row(str(r["dataset"]), str(r["user"]), r["purpose"] or "-", "ja" if r["allowed"] else "[red]nee[/]",
                  str(r["reads"]), str(r["rows_out"]), r["first"][:19], r["last"][:19], ", ".join(r["routes"]))
    console.print(t if rows else "geen leesacties in het auditlog voor deze selectie")
