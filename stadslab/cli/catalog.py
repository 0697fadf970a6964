"""``stadslab catalog list|show|check``."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.catalog import check_catalog
from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, workspace

app = typer.Typer(help="De catalogus: welke datasets er zijn en hoe ze beschreven zijn.", no_args_is_help=True)


@app.command("list")
def list_(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Alle datasets in de catalogus."""
    cat = workspace(ws).catalog()
    rows = [{"id": d.id, "title": d.title, "owner": d.owner, "classification": d.classification,
             "geography": d.geography.level, "update_frequency": d.update_frequency, "licence": d.licence}
            for d in cat]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "titel", "bronhouder", "classificatie", "geografie")
    for r in rows:
        t.add_row(r["id"], r["title"], r["owner"], r["classification"], r["geography"])
    console.print(t)


@app.command()
def show(dataset: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """De beschrijving van één dataset."""
    d = workspace(ws).catalog().get(dataset)
    data = {
        "id": d.id, "title": d.title, "description": d.description, "owner": d.owner,
        "purposes": list(d.purposes), "legal_basis": d.legal_basis, "classification": d.classification,
        "licence": d.licence, "attribution": d.attribution, "update_frequency": d.update_frequency,
        "phases": d.phases, "temporal_coverage": d.temporal_coverage, "simulated": d.simulated,
        "geography": vars(d.geography), "source": {"path": d.source.path, "reader": d.source.reader,
                                                     "options": d.source.options},
        "fields": [{"name": f.name, "type": f.type, "source": f.source, "unit": f.unit, "role": f.role,
                    "nullable": f.nullable, "codes": list(f.codes) if f.codes else None,
                    "range": [f.min, f.max] if f.min is not None or f.max is not None else None,
                    "description": f.description} for f in d.fields],
        "file": str(d.file), "catalog_sha256": d.sha256,
    }
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{escape(d.title)}[/] ({d.id}) — {escape(d.owner)}, {d.classification}")
    if d.description:
        console.print(escape(d.description))
    console.print(f"doelen: {', '.join(d.purposes) or '-'}; licentie: {d.licence or '-'}; "
                  f"bron: {escape(d.source.path)}")
    t = Table("veld", "type", "kolom in bron", "rol", "eenheid", "omschrijving")
    for f in d.fields:
        t.add_row(f.name, f.type, escape(f.source), f.role or "", f.unit or "", escape(f.description))
    console.print(t)


@app.command()
def check(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Controleer de catalogus; elke fout met bestand en sleutelpad. Exitcode 3 bij fouten."""
    w = workspace(ws)
    problems = check_catalog(w.catalog_dir)
    if as_json:
        print_json([{"file": p.file, "key_path": p.key_path, "message": p.message} for p in problems])
    elif problems:
        for p in problems:
            console.print(f"[red]✗[/] {escape(str(p))}")
    else:
        n = len(list(w.catalog_dir.glob("*.y*ml")))
        console.print(f"[green]✓[/] catalogus in orde ({n} datasets)")
    if problems:
        raise typer.Exit(3)
