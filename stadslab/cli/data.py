"""Workspace and data commands: init, ingest, refresh, versions, rollback, query, status."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab import operations as ops
from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, err_console, print_json, progress, workspace
from stadslab.errors import ValidationFailed, WarehouseError
from stadslab.workspace import init_workspace


def register(app: typer.Typer) -> None:
    for fn in (init, ingest, refresh, versions, rollback, query, status):
        app.command(fn.__name__)(fn)


def init(directory: Path = typer.Argument(..., help="Map voor de nieuwe werkruimte"),
         demo: bool = typer.Option(False, "--demo", help="Met de demodata (echte open data) en de democatalogus"),
         municipality: Optional[str] = typer.Option(None, help="Naam van de gemeente"),
         gemeente_code: Optional[str] = typer.Option(None, help="CBS-code, bijv. GM0344")) -> None:
    """Maak een nieuwe werkruimte: catalogus, datamap, warehouse."""
    ws = init_workspace(directory, demo=demo, municipality=municipality, gemeente_code=gemeente_code)
    console.print(f"[green]✓[/] werkruimte gemaakt in {ws.root}")
    console.print(f"  volgende stap: [bold]stadslab refresh -w {escape(str(directory))}[/]")


def ingest(dataset: str = typer.Argument(..., help="Dataset-id uit de catalogus"),
           file: Optional[Path] = typer.Argument(None, help="Bronbestand (anders het pad uit de catalogus)"),
           ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Laad één dataset als nieuwe versie (gecontroleerd tegen de catalogus)."""
    w = workspace(ws)
    cat = w.catalog()
    with w.warehouse() as wh, progress(f"laden {dataset}", quiet=as_json) as say:
        try:
            res = ops.ingest_dataset(w, wh, cat, dataset, file=file, progress=say)
        except ValidationFailed as exc:
            if as_json:
                print_json({"status": "mislukt", "error": exc.message, "report": exc.report.as_dict()})
            raise
    if as_json:
        print_json({"status": "geladen", **res.as_dict()})
        return
    _print_load(res)


def _print_load(res: ops.LoadResult, reason: str | None = None) -> None:
    console.print(f"[green]✓[/] {res.dataset} versie {res.version}: {res.rows_loaded} rijen geladen"
                  + (f", {res.rows_rejected} afgewezen" if res.rows_rejected else "") + f" ({res.seconds:.1f} s)"
                  + (f" [dim]— {escape(reason)}[/]" if reason else ""))
    a = res.area_stats
    if a:
        console.print(f"  gebieden: {a['assigned']} van {a['rows']} rijen in een buurt ({a['assigned_share']:.1%})"
                      + (f"; {a['outside']} buiten alle buurten" if a.get("outside") else "")
                      + (f"; {a['no_coordinates']} zonder coördinaten" if a.get("no_coordinates") else ""))
        for s in (a.get("outside_sample") or [])[:5]:
            console.print(f"    buiten: rij {s.get('__row')} (x={s.get('x_rd')}, y={s.get('y_rd')})")
    for w in res.warnings:
        console.print(f"  [yellow]![/] {escape(w)}")


def refresh(ws: Optional[str] = WorkspaceOpt,
            datasets: Optional[list[str]] = typer.Argument(None, help="Alleen deze datasets"),
            watch: bool = typer.Option(False, "--watch", help="Blijf de datamap volgen"),
            interval: float = typer.Option(10.0, help="Seconden tussen twee controles bij --watch"),
            dry_run: bool = typer.Option(False, "--dry-run", help="Alleen tonen wat opnieuw geladen zou worden"),
            as_json: bool = JsonOpt) -> None:
    """Laad precies de datasets waarvan de bron (of de beschrijving) veranderd is."""
    w = workspace(ws)
    failures: list[str] = []

    def show(rec: dict, res) -> None:
        if "status" not in rec and not as_json:       # --dry-run
            console.print(f"• {rec['dataset']} zou opnieuw geladen worden — {escape(rec['reason'])}")
        elif rec.get("status") == "mislukt":
            failures.append(rec["dataset"])
            if not as_json:
                err_console.print(f"[red]✗ {rec['dataset']}[/]: {escape(rec['error'])}")
        elif res is not None and not as_json:
            _print_load(res, reason=rec["reason"])

    def step() -> list[dict]:
        with w.warehouse() as wh:
            done = ops.refresh_changed(w, wh, w.catalog(), datasets or None, dry_run=dry_run, on_result=show,
                                       progress_for=lambda d: progress(f"laden {d}", quiet=as_json))
        if as_json:
            print_json({"reloaded": done})
        elif not done:
            console.print("alles is actueel")
        return done

    if watch:
        console.print(f"volg {w.data_dir} (elke {interval:g} s; Ctrl-C stopt)")
        ops.watch(interval, step)
    else:
        step()
    if failures:
        raise typer.Exit(4)


def versions(dataset: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Alle versies van een dataset met herkomst."""
    w = workspace(ws)
    with w.warehouse(read_only=True) as wh:
        rows = wh.versions(dataset)
        loads = wh.loads(dataset, limit=10)
    if as_json:
        print_json({"versions": rows, "loads": loads})
        return
    if not rows:
        console.print(f"'{dataset}' is nog niet geladen")
    t = Table("versie", "huidig", "rijen", "afgewezen", "geladen", "door", "bron (sha256)")
    for r in rows:
        src = ", ".join(f"{f['path']} ({f['sha256'][:10]})" for f in r["source_files"])
        t.add_row(str(r["version"]), "✓" if r["is_current"] else "", str(r["rows_loaded"]), str(r["rows_rejected"]),
                  f"{r['finished_at']:%Y-%m-%d %H:%M:%S}", r["loaded_by"], escape(src))
    console.print(t)
    failed = [l for l in loads if l["status"] != "geladen"]
    for l in failed[:3]:
        console.print(f"[yellow]mislukte laadpoging {l['started_at']:%Y-%m-%d %H:%M}[/]: {escape(l['message'][:300])}")


def rollback(dataset: str, version: int, ws: Optional[str] = WorkspaceOpt) -> None:
    """Maak een eerdere versie weer de huidige (latere versies blijven bewaard)."""
    w = workspace(ws)
    cat = w.catalog()
    with w.warehouse() as wh:
        ops.rollback(w, wh, cat, dataset, version)
    console.print(f"[green]✓[/] {dataset}: versie {version} is weer de huidige")


def query(sql: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt,
          limit: int = typer.Option(1000, help="Maximaal aantal rijen")) -> None:
    """Alleen-lezen SQL op het warehouse (datasets heten zoals hun id)."""
    import duckdb

    w = workspace(ws)
    refuse_restricted_tables(sql, w.catalog())
    with w.warehouse(read_only=True) as wh:
        try:
            # only the warehouse: no read_csv/read_parquet of files around the catalog's rules
            wh.con.execute("SET enable_external_access = false")
            rel = wh.con.sql(sql)
            if rel is None:
                raise WarehouseError("de opdracht gaf geen resultaat (alleen SELECT-query's)")
            cols = rel.columns
            rows = rel.limit(limit).fetchall()
        except duckdb.Error as exc:
            raise WarehouseError(f"query mislukt: {exc}", hint="het warehouse is alleen-lezen; "
                                 "datasets zijn te vinden met 'stadslab status'") from None
    if as_json:
        print_json([dict(zip(cols, r)) for r in rows])
        return
    t = Table(*cols)
    for r in rows:
        t.add_row(*[escape("" if v is None else str(v)) for v in r])
    console.print(t)


def refuse_restricted_tables(sql: str, catalog) -> None:
    """Raw SQL may touch open and intern datasets only; personal and confidential data go through
    ``stadslab aggregate`` (access by purpose, publication gate, audit)."""
    import sqlglot
    from sqlglot import exp

    from stadslab.errors import AccessDenied

    try:
        trees = sqlglot.parse(sql, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise WarehouseError(f"query is niet te lezen: {str(exc).splitlines()[0]}") from None
    names = {t.name.lower() for tree in trees if tree is not None for t in tree.find_all(exp.Table)}
    for d in catalog:
        if d.classification in ("vertrouwelijk", "persoonsgegevens"):
            hit = [n for n in names if n == d.id.lower() or n.startswith(d.id.lower() + "__")]
            if hit:
                raise AccessDenied(f"'{d.id}' is {d.classification}: niet via vrije SQL",
                                   hint=f"gebruik 'stadslab aggregate {d.id} --by … --user … --purpose …' "
                                        "(toegang op doel, publicatiepoort, auditlog)")


def status(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Per dataset: versie, rijen, afgewezen rijen en (puntdata) het aandeel met buurtcode."""
    w = workspace(ws)
    cat = w.catalog()
    if not w.warehouse_path.exists():
        rows = [{"id": d.id, "version": None, "rows": None, "rejected_rows": None} for d in cat]
    else:
        with w.warehouse(read_only=True) as wh:
            rows = ops.status(w, wh, cat)
    if as_json:
        print_json(rows)
        return
    t = Table("dataset", "versie", "rijen", "afgewezen", "in buurt", "geladen")
    for r in rows:
        share = r.get("area_assigned_share")
        t.add_row(r["id"], str(r["version"] or "-"), str(r["rows"] if r["rows"] is not None else "-"),
                  str(r["rejected_rows"] if r["rejected_rows"] is not None else "-"),
                  f"{share:.1%}" if share is not None else "", r.get("loaded_at") or "")
    console.print(t)
