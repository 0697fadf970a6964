"""Workspace and data commands: init, ingest, refresh, versions, rollback, query, status."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab import operations as ops
from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, err_console, print_json, progress, workspace
from stadslab.cli.common import read_warehouse, with_retry
from stadslab.cli.handover import forward
from stadslab.errors import AccessDenied, ValidationFailed, WarehouseError
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
        fwd = forward(w, "refresh", {"datasets": datasets or [], "dry_run": dry_run})
        if fwd is not None:                  # 'stadslab serve' runs: it is the writer, it refreshes
            done = fwd["reloaded"]
            for rec in done:
                if rec.get("status") == "geladen" and not as_json:
                    console.print(f"[green]✓[/] {rec['dataset']} versie {rec['version']}: {rec['rows']} rijen geladen "
                                  f"door de draaiende server [dim]— {escape(rec['reason'])}[/]")
                else:
                    show(rec, None)
            if as_json:
                print_json({"reloaded": done, "via": "stadslab serve"})
            elif not done:
                console.print("alles is actueel")
            return done
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
    """Alle versies van een dataset met herkomst, en een mislukte laadpoging zolang die nog geldt."""
    from stadslab.formatting import nl_datetime, nl_number, shorten

    w = workspace(ws)
    fwd = forward(w, "versions", {"dataset": dataset})     # a running 'stadslab serve' owns the files
    if fwd is not None:
        rows, loads = fwd["versions"], fwd["loads"]
        failed = [l for l in loads[:next((i for i, l in enumerate(loads) if l["status"] == "geladen"), len(loads))]]
        open_failures = failed if fwd.get("changed") else []
    else:
        with read_warehouse(w) as wh:
            rows = wh.versions(dataset)
            loads = wh.loads(dataset, limit=10)
            open_failures = _open_failures(w, wh, dataset, loads)
    if as_json:
        print_json({"versions": rows, "loads": loads, "open_failures": open_failures})
        return
    if not rows:
        console.print(f"'{dataset}' is nog niet geladen")
    t = Table("versie", "huidig", "rijen", "afgewezen", "geladen", "door", "bron (sha256)")
    for r in rows:
        src = ", ".join(f"{f['path']} ({f['sha256'][:10]})" for f in r["source_files"])
        t.add_row(str(r["version"]), "✓" if r["is_current"] else "", nl_number(r["rows_loaded"]),
                  nl_number(r["rows_rejected"]), nl_datetime(r["finished_at"]), r["loaded_by"], escape(src))
    console.print(t)
    for l in open_failures[:3]:
        console.print(f"[yellow]mislukte laadpoging {nl_datetime(l['started_at'])}[/]: {escape(shorten(l['message'], 600))}",
                      soft_wrap=True)


def _open_failures(w, wh, dataset: str, loads: list[dict]) -> list[dict]:
    """Failed loads that still matter: newer than the last good load, and only while the source on disk
    still differs from the latest version (after the file is fixed or restored they are history)."""
    failed = []
    for l in loads:                                # newest first
        if l["status"] == "geladen":
            break
        failed.append(l)
    if not failed:
        return []
    try:
        decision = ops.changed_datasets(w, wh, w.catalog(), only=[dataset])
    except Exception:                              # catalog or source unreadable: keep showing the failure
        return failed
    return failed if any(d.reason for d in decision) else []


def rollback(dataset: str, version: int, ws: Optional[str] = WorkspaceOpt) -> None:
    """Maak een eerdere versie weer de huidige (latere versies blijven bewaard)."""
    w = workspace(ws)
    cat = w.catalog()
    with w.warehouse() as wh:
        ops.rollback(w, wh, cat, dataset, version)
    console.print(f"[green]✓[/] {dataset}: versie {version} is weer de huidige")


def query(sql: str, ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt,
          limit: int = typer.Option(1000, help="Maximaal aantal rijen")) -> None:
    """Alleen-lezen SQL op open en interne datasets (datasets heten zoals hun id).

    Persoonsgegevens en vertrouwelijke datasets zijn voor deze verbinding onbereikbaar: ze staan in een
    ander bestand, dat deze verbinding niet kan openen (gebruik 'stadslab aggregate')."""
    import duckdb

    from stadslab.warehouse.sqlpath import open_sql_connection, restricted_in_main

    w = workspace(ws)
    restricted = w.restricted_ids()
    refuse_restricted_tables(sql, w, restricted)
    fwd = forward(w, "query", {"sql": sql, "limit": limit})   # a running server: same separation there
    if fwd is not None:
        _print_rows(fwd["columns"], fwd["rows"], as_json)
        return
    con = with_retry(lambda: open_sql_connection(w.warehouse_path))
    try:
        old = restricted_in_main(con, restricted)
        if old:     # an older workspace: personal data still in the main file until it is moved
            raise WarehouseError("vrije SQL is uitgeschakeld: het warehouse bevat nog afgeschermde datasets "
                                 f"({', '.join(old)})", hint="'stadslab refresh' verplaatst ze naar restricted.duckdb")
        rel = con.sql(sql)
        if rel is None:
            raise WarehouseError("de opdracht gaf geen resultaat (alleen SELECT-query's)")
        cols = rel.columns
        rows = rel.limit(limit).fetchall()
    except duckdb.PermissionException as exc:
        audit_refused_sql(w, sql, "bestandstoegang geweigerd")
        raise WarehouseError(f"query geweigerd: {str(exc).splitlines()[0]}",
                             hint="vrije SQL leest alleen de open en interne datasets in het warehouse; "
                                  "persoonsgegevens via 'stadslab aggregate'") from None
    except duckdb.Error as exc:
        named = [d for d in sorted(restricted) if d.lower() in str(exc).lower()]
        if named:   # e.g. query('FROM so' || 'ciaal_x'): the table is not there, but the attempt is recorded
            audit_refused_sql(w, sql, "vrije SQL zocht een afgeschermde dataset", dataset=named[0])
        raise WarehouseError(f"query mislukt: {str(exc).splitlines()[0]}",
                             hint="het warehouse is alleen-lezen; open en interne datasets staan in "
                                  "'stadslab status'") from None
    finally:
        con.close()
    _print_rows(cols, rows, as_json)


def _print_rows(cols: list[str], rows: list, as_json: bool) -> None:
    if as_json:
        print_json([dict(zip(cols, r)) for r in rows])
        return
    t = Table(*cols)
    for r in rows:
        t.add_row(*[escape("" if v is None else str(v)) for v in r])
    console.print(t)


def refuse_restricted_tables(sql: str, w, restricted: frozenset[str]) -> None:
    """A friendly early refusal (and an audit entry) when SQL names a restricted dataset. Not the
    protection — the free-SQL connection cannot reach those datasets at all (warehouse/sqlpath.py) —
    but it tells the user where to go instead, and records the attempt."""
    text = sql.lower()
    for ds_id in sorted(restricted):
        if ds_id.lower() in text:
            audit_refused_sql(w, sql, "vrije SQL noemt een afgeschermde dataset", dataset=ds_id)
            raise AccessDenied(f"'{ds_id}' is afgeschermd (persoonsgegevens of vertrouwelijk): niet via vrije SQL",
                               hint=f"gebruik 'stadslab aggregate {ds_id} --by … --user … --purpose …' "
                                    "(toegang op doel, publicatiepoort, auditlog)")


def audit_refused_sql(w, sql: str, reason: str, dataset: str = "(vrije SQL)") -> None:
    """A refused bypass attempt goes into the audit log (issue 9, finding 9)."""
    from stadslab.privacy.audit import AuditEntry, AuditLog
    from stadslab.warehouse.store import current_user

    AuditLog(w.root / "audit" / "audit.jsonl").append(AuditEntry(
        current_user(), "", None, dataset, None, "cli:query", {"sql": sql[:2000]}, None, allowed=False,
        reason=reason))


def status(ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Per dataset: versie, rijen, afgewezen rijen en (puntdata) het aandeel met buurtcode."""
    w = workspace(ws)
    cat = w.catalog()
    if not w.warehouse_path.exists():
        rows = [{"id": d.id, "version": None, "rows": None, "rejected_rows": None} for d in cat]
    else:
        fwd = forward(w, "status")           # a running 'stadslab serve' owns the files: ask it
        if fwd is not None:
            rows = fwd["rows"]
        else:
            with read_warehouse(w) as wh:
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
