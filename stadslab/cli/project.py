"""``stadslab project list|show|check|run|report|export|import``: the project register."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, progress, workspace
from stadslab.errors import CatalogError, StadslabError, WorkspaceError
from stadslab.projects.model import RUNG_LABELS
from stadslab.projects.register import (known_pages, load_projects, projects_folder, read_projects,
                                        record_versions, reference_problems)

app = typer.Typer(help="Projectregister: wat de gemeente met data doet, waarom, en of het werkt.",
                  no_args_is_help=True)


def _municipality(ws) -> str:
    return (ws.config.get("municipality") or {}).get("name", "")


def _get(projects, name: str):
    for p in projects:
        if p.id == name:
            return p
    known = ", ".join(p.id for p in projects) or "(geen)"
    raise CatalogError(f"onbekend project '{name}'", hint=f"bekende projecten: {known}")


def _result_names(ws) -> set[str] | None:
    from stadslab.projects.live import stored_result_names

    if not ws.warehouse_path.exists():
        return set()
    try:
        with ws.warehouse(read_only=True) as wh:
            return stored_result_names(wh)
    except StadslabError:
        return None


@app.command("list")
def list_(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Alle projecten: trede, status, domein."""
    w = workspace(ws)
    projects = load_projects(projects_folder(w.root))
    rows = [{"id": p.id, "name": p.name, "rung": p.rung, "status": p.status, "domain": p.domain,
             "simulated": p.simulated} for p in projects]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "naam", "trede", "status", "domein")
    for p in projects:
        t.add_row(p.id, p.name + (" [dim](gesimuleerd)[/]" if p.simulated else ""), RUNG_LABELS[p.rung], p.status,
                  p.domain)
    console.print(t)


@app.command()
def check(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Controleer elk projectrecord: structuur, gesloten fasen met reden, en of datasets, resultaten en pagina's bestaan."""
    w = workspace(ws)
    folder = projects_folder(w.root)
    projects, problems = read_projects(folder)
    results = _result_names(w)
    notes: list[str] = [] if results is not None else [
        "opgeslagen resultaten niet gecontroleerd: het warehouse is niet leesbaar"]
    problems += reference_problems(projects, datasets={d.id for d in w.catalog(strict=False)}, results=results,
                                   pages=known_pages(), notes=notes)
    versions = record_versions(folder, projects) if not problems else {}
    if as_json:
        print_json({"ok": not problems, "projects": len(projects), "problems": [str(p) for p in problems],
                    "versions": versions, "notes": notes})
    else:
        for n in notes:
            console.print(f"[yellow]![/] {escape(n)}")
        for p in problems:
            console.print(f"[red]✗[/] {escape(str(p))}")
        if not problems:
            console.print(f"[green]✓[/] {len(projects)} projecten in orde")
    if problems:
        raise typer.Exit(3)


@app.command()
def show(name: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Eén project met zijn actuele cijfers uit opgeslagen resultaten."""
    from stadslab.projects.live import project_figures

    w = workspace(ws)
    p = _get(load_projects(projects_folder(w.root)), name)
    figures = {"results": {}, "missing": [], "indicators": []}
    if w.warehouse_path.exists():
        with w.warehouse(read_only=True) as wh:
            figures = project_figures(wh, p)
    data = {**p.raw, "figures": figures}
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{escape(p.name)}[/] ({p.id}) — {RUNG_LABELS[p.rung]}, status {p.status}")
    console.print(f"Vraag: {escape(p.question)}")
    for ph in p.phases.values():
        console.print(f"  {ph.name}: {ph.access}" + (f" — {escape(ph.reason or '')}" if ph.closed else ""))
    for r in figures["results"].values():
        console.print(f"  resultaat {r['name']} v{r['version']}: {r['rows']} rijen, {escape(str(r['method']))}")
    for ind in figures["indicators"]:
        console.print(f"  {escape(ind['label'])}: {ind['value']} {escape(ind['unit'])} [dim]({escape(str(ind['source']))})[/]")


@app.command()
def run(name: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Draai de analyses van een project en sla hun resultaten op (met herkomst)."""
    from stadslab.projects.runner import run_analyses

    w = workspace(ws)
    p = _get(load_projects(projects_folder(w.root)), name)
    if not p.analyses:
        raise CatalogError(f"project '{name}' heeft geen analyses om te draaien", hint="zie 'analyses:' in docs/projects.md")
    with progress(f"project {name}", quiet=as_json) as step, w.warehouse() as wh:
        done = run_analyses(wh, w.catalog(), p, on_step=step)
    if as_json:
        print_json(done)
        return
    for d in done:
        console.print(f"[green]✓[/] {d['result']} v{d['version']}: {d['rows']} rijen uit {d['dataset']} "
                      f"v{d['dataset_version']}")


@app.command()
def report(ws: Optional[str] = WorkspaceOpt, out: Path = typer.Option(Path("tussenevaluatie"), "--out", "-o",
                                                                          help="Bestandsnaam zonder extensie"),
           pdf: bool = typer.Option(True, "--pdf/--geen-pdf", help="Ook een PDF maken (headless Chromium)"),
           as_json: bool = JsonOpt) -> None:
    """De tussenevaluatie van het programma (HTML en PDF), zoals de evaluatie in de bronnen."""
    from stadslab.projects.report import previous_snapshot, render_html, report_data, save_snapshot

    w = workspace(ws)
    folder = projects_folder(w.root)
    projects = load_projects(folder)
    record_versions(folder, projects)
    data = report_data(projects, municipality=_municipality(w), previous=previous_snapshot(folder))
    html = render_html(data)
    html_path = out.with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html, encoding="utf-8")
    written = [str(html_path)]
    if pdf:
        from stadslab.web.data.pdf import html_to_pdf

        with progress("PDF maken", quiet=as_json):
            out.with_suffix(".pdf").write_bytes(html_to_pdf(html, title="Tussenevaluatie datagedreven sturing"))
        written.append(str(out.with_suffix(".pdf")))
    save_snapshot(folder, data)
    if as_json:
        print_json({**{k: v for k, v in data.items() if k != "snapshot"}, "files": written})
        return
    console.print(f"[green]✓[/] {data['n_projects']} projecten; {len(data['changed'])} veranderd van status sinds de "
                  f"vorige rapportage; geschreven: {', '.join(written)}")


@app.command("export")
def export(name: str, ws: Optional[str] = WorkspaceOpt,
           out: Optional[Path] = typer.Option(None, "--out", "-o", help="Zip-bestand (standaard NAAM.stadslab-pilot.zip)"),
           as_json: bool = JsonOpt) -> None:
    """Schrijf een pilotpakket voor een andere gemeente: catalogus zonder data, instellingen, projectrecord, README."""
    from stadslab.projects.package import export_project

    w = workspace(ws)
    p = _get(load_projects(projects_folder(w.root)), name)
    target = out or Path(f"{name}.stadslab-pilot.zip")
    manifest = export_project(p, w.catalog(), municipality=_pilot_municipality(w, p), out=target)
    if as_json:
        print_json({**manifest, "file": str(target)})
        return
    console.print(f"[green]✓[/] pakket {target}: {len(manifest['datasets'])} datasetbeschrijvingen, projectrecord, README")


def _pilot_municipality(w, p) -> str:
    """The municipality whose data the pilot ran on: the owner of its datasets when they agree, else the workspace's."""
    owners = {w.catalog().get(d).owner for d in p.uses("datasets") if d in w.catalog()}
    owners = {o for o in owners if o.lower().startswith("gemeente ")}
    return owners.pop().split(" ", 1)[1] if len(owners) == 1 else _municipality(w)


@app.command("import")
def import_(package: Path = typer.Argument(..., help="Pilotpakket (.zip)"), ws: Optional[str] = WorkspaceOpt,
            division_year: Optional[int] = typer.Option(None, "--division-year",
                                                        help="Jaar van uw eigen gebiedsindeling voor de puntdatasets"),
            as_json: bool = JsonOpt) -> None:
    """Installeer een pilotpakket in deze werkruimte en zeg welke gegevens nog ontbreken of afwijken."""
    from stadslab.projects.package import import_project

    w = workspace(ws)
    if not package.exists():
        raise WorkspaceError(f"pakket {package} bestaat niet")
    rep = import_project(package, w, division_year=division_year)
    if as_json:
        print_json(rep.as_dict())
        return
    console.print(f"[green]✓[/] project {rep.project} geïnstalleerd (status pilot)")
    for d in rep.installed:
        console.print(f"  + catalogus: {d}")
    for d in rep.same:
        console.print(f"  = catalogus: {d} (u had al hetzelfde schema)")
    for d, diffs in rep.differs.items():
        console.print(f"  [yellow]≠ {d}[/]: " + "; ".join(map(escape, diffs)))
    for d, path in rep.missing_files.items():
        console.print(f"  [yellow]ontbreekt[/]: lever {escape(path)} aan voor {d}")
    for f in rep.relaxed_codes:
        console.print(f"  codelijst van {f} noemde de afzender en is leeggemaakt: vul uw eigen waarden in")
    for n in rep.notes:
        console.print(f"  [dim]{escape(n)}[/]")
