"""``stadslab source``: the kit a source holder (bronhouder) runs on its own machine, offline.

    keygen        make a key file (source key, or the data lab's master key)
    pseudonymise  replace BSNs by keyed pseudonyms, drop/coarsen identifiers, write a receipt
    scan          check files for BSNs before they leave the building
    project-key   derive a project key from the master key (data lab)
    rekey         replace source pseudonyms by project pseudonyms (data lab, before a release)
    synthetic     write SIMULATED source-holder files for the demo and tests
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer
from rich.markup import escape

from stadslab.cli.common import JsonOpt, console, err_console, print_json
from stadslab.errors import PrivacyError, RawBSNDetected

app = typer.Typer(help="Kit voor bronhouders: sleutel maken, pseudonimiseren, controleren.", no_args_is_help=True)


def _split(text: Optional[str]) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, Optional[int]], None] | None]:
    """Rich progress bar on stderr (only on a terminal); yields the callback for the kit."""
    if quiet or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: Optional[int]) -> None:
            bar.update(task, completed=done, total=max(total or 0, done) or None)
        yield update


@app.command()
def keygen(out: Path = typer.Option(..., "--out", help="Nieuw sleutelbestand (JSON, rechten 0600)"),
           note: str = typer.Option("", "--note", help="Doel van de sleutel, bijv. 'DDD sociaal domein 2024'"),
           kind: str = typer.Option("source", "--kind", help="source (bronhouders) of master (datalab)"),
           as_json: bool = JsonOpt) -> None:
    """Maak een nieuwe sleutel. Een bronsleutel deel je alleen met de andere bronhouders, via een verzegeld kanaal."""
    from stadslab.privacy.keys import new_key, write_key

    key = new_key(kind=kind, note=note)
    write_key(key, out)
    if as_json:
        print_json({"key_file": str(out), "key_id": key.key_id, "kind": key.kind, "created": key.created})
        return
    console.print(f"[green]✓[/] sleutel {key.key_id} ({key.kind}) geschreven naar {escape(str(out))} (rechten 0600)")
    if kind == "source":
        console.print("  Deel hem alleen met de andere bronhouders, nooit met het datalab; bewaar hem buiten het warehouse.")


@app.command()
def pseudonymise(input: Path = typer.Argument(..., help="Bronbestand: CSV, XLSX of Parquet"),
                 bsn_column: str = typer.Option(..., "--bsn-column", help="BSN-kolom; meer kolommen met komma's (eerste → pseudo_id)"),
                 key: Path = typer.Option(..., "--key", help="Bronsleutel (van 'stadslab source keygen')"),
                 out: Path = typer.Option(..., "--out", help="Uitvoer: .csv of .parquet (gaat naar het datalab)"),
                 drop: Optional[str] = typer.Option(None, "--drop", help="Kolommen die weg moeten, bijv. naam,adres"),
                 coarsen: Optional[str] = typer.Option(None, "--coarsen", help="kolom:regel,... regels: pc4, year, ageband5, ageband10, buurt"),
                 rejects: Optional[Path] = typer.Option(None, "--rejects", help="Afkeurbestand (blijft bij u); standaard naast de invoer"),
                 receipt: Optional[Path] = typer.Option(None, "--receipt", help="Bon (JSON); standaard <uitvoer>.receipt.json"),
                 sheet: Optional[str] = typer.Option(None, "--sheet", help="Werkblad (XLSX)"),
                 reference_date: Optional[str] = typer.Option(None, "--reference-date", help="Peildatum voor leeftijdsklassen (JJJJ-MM-DD)"),
                 buurt_lookup: Optional[Path] = typer.Option(None, "--buurt-lookup", help="Tabel postcode[,huisnummer] → buurt_code"),
                 huisnummer_column: Optional[str] = typer.Option(None, "--huisnummer-column"),
                 pseudo_column: str = typer.Option("pseudo_id", "--pseudo-column", help="Naam van de pseudoniemkolom"),
                 workers: Optional[int] = typer.Option(None, "--workers", help="Rekenprocessen (standaard 2 bij grote bestanden)"),
                 as_json: bool = JsonOpt) -> None:
    """Vervang BSN's door pseudoniemen en verwijder of vergrof andere identificerende gegevens."""
    from stadslab.privacy.pseudonymise import pseudonymise_file

    ref = None
    if reference_date:
        try:
            ref = date.fromisoformat(reference_date)
        except ValueError:
            raise PrivacyError(f"ongeldige peildatum '{reference_date}'", hint="vorm: JJJJ-MM-DD") from None
    with _progress(f"pseudonimiseren {input.name}", as_json) as cb:
        res = pseudonymise_file(input, out, bsn_column=_split(bsn_column), key=key, drop=_split(drop),
                                coarsen=coarsen, rejects_path=rejects, receipt_path=receipt, reference_date=ref,
                                buurt_lookup=buurt_lookup, huisnummer_column=huisnummer_column, sheet=sheet,
                                pseudo_column=pseudo_column, workers=workers, progress=cb)
    for w in res["warnings"]:
        err_console.print(f"[yellow]let op:[/] {escape(w)}")
    if as_json:
        print_json(res)
        return
    rows = res["rows"]
    console.print(f"[green]✓[/] {rows['out']} van {rows['in']} rijen gepseudonimiseerd → {escape(str(out))} "
                  f"(sleutel {res['key_id']}, {res['seconds']:.1f} s)")
    if rows["rejected"]:
        console.print(f"  [yellow]{rows['rejected']} rijen afgekeurd[/] → {escape(res['rejects']['file'])}: "
                      "dit bestand blijft bij u en gaat niet naar het datalab.")
        for reason, n in res["rejects"]["by_reason"].items():
            console.print(f"    {n} × {escape(reason)}")
    console.print(f"  bon: {escape(res['receipt_file'])}")


@app.command()
def scan(paths: list[Path] = typer.Argument(..., help="Bestanden of mappen om te controleren"),
         as_json: bool = JsonOpt) -> None:
    """Controleer bestanden op BSN's (kolommen waarin de meeste negencijferige getallen de elfproef halen)."""
    from stadslab.privacy.scan import scan_file

    files = [f for p in paths for f in (sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p])]
    results = [scan_file(f) for f in files]
    findings = [f for r in results for f in r.findings]
    if as_json:
        print_json({"files": len(files), "findings": [f.__dict__ for f in findings],
                    "tokens": sum(r.tokens for r in results), "valid": sum(r.valid for r in results)})
    elif not findings:
        console.print(f"[green]✓[/] geen BSN's gevonden in {len(files)} bestand(en)")
    if findings:
        raise RawBSNDetected("mogelijk BSN's gevonden:\n" + "\n".join(f"  {f}" for f in findings),
                             hint="pseudonimiseer of verwijder deze kolommen voordat het bestand de deur uitgaat")


@app.command("project-key")
def project_key(master: Path = typer.Option(..., "--master", help="Mastersleutel van het datalab"),
                project: str = typer.Option(..., "--project", help="Project-id"),
                out: Path = typer.Option(..., "--out", help="Nieuw projectsleutelbestand (buiten de werkruimte)"),
                as_json: bool = JsonOpt) -> None:
    """Leid de projectsleutel af van de mastersleutel (HKDF); dezelfde project-id geeft dezelfde sleutel."""
    from stadslab.privacy.rekey import derive_project_key
    from stadslab.privacy.keys import write_key

    key = derive_project_key(master, project)
    write_key(key, out)
    if as_json:
        print_json({"key_file": str(out), "key_id": key.key_id, "project_id": project})
        return
    console.print(f"[green]✓[/] projectsleutel {key.key_id} voor '{escape(project)}' → {escape(str(out))}")


@app.command()
def rekey(input: Path = typer.Argument(..., help="Bestand met bronpseudoniemen (CSV, XLSX, Parquet)"),
          column: str = typer.Option("pseudo_id", "--column", help="Pseudoniemkolom(men), met komma's"),
          project_key_file: Path = typer.Option(..., "--project-key", help="Projectsleutel"),
          out: Path = typer.Option(..., "--out", help="Uitvoer .csv of .parquet voor het project"),
          receipt: Optional[Path] = typer.Option(None, "--receipt"),
          as_json: bool = JsonOpt) -> None:
    """Vervang bronpseudoniemen door projectpseudoniemen: tabellen van verschillende projecten koppelen niet."""
    from stadslab.privacy.rekey import rekey_file

    with _progress(f"herversleutelen {input.name}", as_json) as cb:
        res = rekey_file(input, out, key=project_key_file, columns=_split(column), receipt_path=receipt, progress=cb)
    if as_json:
        print_json(res)
        return
    console.print(f"[green]✓[/] {res['rows']} rijen herversleuteld voor project '{escape(str(res['project_id']))}' "
                  f"→ {escape(str(out))} (sleutel {res['key_id']})")


@app.command()
def synthetic(out_dir: Path = typer.Argument(..., help="Map voor de GESIMULEERDE bestanden (buiten de repository)"),
              scale: float = typer.Option(0.1, "--scale", help="Deel van de Utrechtse bevolking (1.0 ≈ 374 000 personen)"),
              seed: int = typer.Option(1, "--seed"),
              as_json: bool = JsonOpt) -> None:
    """Schrijf gesimuleerde bestanden van Leerlingzaken, Werk en Inkomen en buurtteams (met BSN's, voor de kit)."""
    import json

    from stadslab.demo.synthetic_social import generate_social_demo

    if scale <= 0 or scale > 5:
        raise PrivacyError(f"schaal {scale} valt buiten (0, 5]")
    paths = generate_social_demo(out_dir, scale=scale, seed=seed)
    manifest: dict[str, Any] = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    if as_json:
        print_json({"paths": {k: str(v) for k, v in paths.items()}, "manifest": manifest})
        return
    c = manifest["counts"]
    console.print(f"[green]✓[/] GESIMULEERD: {c['persons']} personen in {c['households']} huishoudens, {c['buurten']} buurten")
    for info in manifest["files"].values():
        console.print(f"  {info['file']}: {info['rows']} rijen")
