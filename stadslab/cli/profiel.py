"""``stadslab profiel``: the declared profiles of the Dynamisch Data Dashboard and their gated counts.

``lijst`` and ``toon`` show definitions and versions (no personal data); ``tel`` counts one profile per
wijk, buurt or school and school year through ``profile_view`` — access per linked source, doelbinding of
the profile, partner scope, publication gate and audit, exactly as the /sociaal page. No command prints a
pseudonym or a row.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.aggregate import _VERIFIED, _area_names, login
from stadslab.cli.common import (
    JsonOpt,
    WorkspaceOpt,
    console,
    print_json,
    read_warehouse,
    workspace,
)
from stadslab.cli.handover import forward
from stadslab.errors import AnalysisError
from stadslab.formatting import nl_number
from stadslab.privacy.audit import AuditLog

app = typer.Typer(help="Profielen (Dynamisch Data Dashboard): vastgelegde groepen, tellingen via de publicatiepoort.",
                  no_args_is_help=True)

LEVEL_WORDS = {"wijk": "wijk_code", "buurt": "buurt_code", "school": "school"}


@app.command("lijst")
def lijst(ws: str | None = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Alle profielen van de werkruimte (profielen/*.yaml) met hun huidige versie."""
    from stadslab.analyses.sociaal.profiles import load_profiles

    profiles = load_profiles(workspace(ws).root)
    if as_json:
        print_json([p.to_dict() for p in profiles])
        return
    t = Table("id", "titel", "versie", "eigenaar", "doel", "voorwaarden")
    for p in profiles:
        t.add_row(escape(p.id), escape(p.titel), str(p.versie), escape(p.eigenaar), escape(p.doel), escape(p.text()))
    console.print(t)
    if not profiles:
        console.print("geen profielen: leg ze vast in profielen/<id>.yaml (docs/sociaal.md)")


@app.command("toon")
def toon(profile_id: str = typer.Argument(..., metavar="ID", help="Profiel-id"),
         ws: str | None = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """De definitie van één profiel en de geschiedenis van zijn versies (hash en tijdstip)."""
    from stadslab.analyses.sociaal.profile_defs import history
    from stadslab.analyses.sociaal.profiles import get_profile

    w = workspace(ws)
    p = get_profile(w.root, profile_id)
    versions = [{k: v for k, v in h.items()} for h in history(w.root, p.id)]
    if as_json:
        print_json({**p.to_dict(), "versies": versions})
        return
    console.print(f"[bold]{escape(p.titel)}[/] ({escape(p.id)}, versie {p.versie})")
    if p.omschrijving:
        console.print(escape(p.omschrijving))
    console.print(f"eigenaar: {escape(p.eigenaar)}; doel: {escape(p.doel)}")
    console.print(f"voorwaarden: {escape(p.text())}")
    t = Table("versie", "vastgelegd", "sha256", "voorwaarden")
    from stadslab.analyses.sociaal.profile_defs import describe

    for h in versions:
        t.add_row(str(h["versie"]), escape(str(h["vastgelegd"])), h["sha256"][:12], escape(describe(h["voorwaarden"])))
    console.print(t)


@app.command("tel")
def tel(profile_id: str = typer.Argument(..., metavar="ID", help="Profiel-id"),
        niveau: str = typer.Option("wijk", "--niveau", help="wijk, buurt of school"),
        schooljaar: str | None = typer.Option(None, "--schooljaar", help="Eén schooljaar, bijv. 2023/24 (anders alle: de trend)"),
        user: str | None = typer.Option(None, "--user", envvar="STADSLAB_USER", help="Gebruiker uit stadslab.yaml; wachtwoord uit $STADSLAB_PASSWORD zonder terminal"),
        purpose: str | None = typer.Option(None, "--purpose", help="Doel (doelbinding), bijv. sociaal_domein"),
        ws: str | None = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Tel een profiel per wijk, buurt of school en schooljaar: aantal, populatie en aandeel.

    Alles via de publicatiepoort (minimaal 15 leerlingen per cel, secundaire onderdrukking) en met een
    auditregel; een onderdrukte cel is leeg, nooit 0."""
    from stadslab.analyses.sociaal.profiles import profile_view

    level = LEVEL_WORDS.get(niveau, niveau)
    if level not in LEVEL_WORDS.values():
        raise AnalysisError(f"--niveau '{niveau}' is onbekend", hint="kies wijk, buurt of school")
    w = workspace(ws)
    who = login(w.config, user)
    fwd = forward(w, "profiel", {"user": user, "password": _VERIFIED.get(user or ""), "purpose": purpose,
                                 "profile_id": profile_id, "level": level, "schooljaar": schooljaar})
    if fwd is not None:     # a running 'stadslab serve' owns the files: it releases (gate, scope, audit)
        import pandas as pd

        from stadslab.privacy.release import Release

        p = fwd["provenance"]
        rel, names = Release(pd.DataFrame(fwd["rows"]), "ddd_profielen", p.get("profielversie"), fwd["gated"], p), {}
    else:
        catalog = w.catalog()
        with read_warehouse(w) as wh:
            rel = profile_view(wh, catalog, w.root, user=who, purpose=purpose,
                               audit=AuditLog(w.root / "audit" / "audit.jsonl"), profile_id=profile_id, level=level,
                               schooljaar=schooljaar, route="cli:profiel")
            names = {} if as_json or level == "school" else _area_names(wh)
    if as_json:
        print_json({"provenance": rel.provenance, "rows": rel.records()})
        return
    p = rel.provenance
    if p.get("gesimuleerd"):
        console.print("[bold yellow]GESIMULEERDE gegevens[/]")
    console.print(f"[bold]{escape(p['titel'])}[/] ({escape(p['profiel'])}, versie {p['profielversie']})")
    heads = [niveau, *(["naam"] if names else []), "schooljaar", "aantal", "populatie", "aandeel", "onderdrukt"]
    t = Table(*heads)
    for r in rel.records():
        code = str(r[level])
        row = [escape(code), *([escape(names.get(code, "alle gebieden" if code == "Totaal" else ""))] if names else []),
               escape(str(r["schooljaar"])), nl_number(r["aantal"]), nl_number(r["populatie"]),
               "–" if r["aandeel"] is None else nl_number(r["aandeel"], 1) + " %", "ja" if r["suppressed"] else ""]
        t.add_row(*row)
    console.print(t)
    bronnen = ", ".join(f"{d} v{v}" for d, v in (p.get("bronnen") or {}).items())
    console.print(f"[dim]bronnen: {escape(bronnen)}; voorwaarden: {escape(p['voorwaarden'])}; telling: "
                  f"{escape(p['eenheid'])}; publicatiepoort: minimaal {p.get('min_cell')}, "
                  f"{p.get('suppressed')} rijen onderdrukt[/]")
