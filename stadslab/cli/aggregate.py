"""``stadslab aggregate``: counts per group from any dataset, through access check, gate and audit.

This is the CLI door to ``stadslab.privacy.release.release_aggregate`` — the same path the web app,
the API and the portal use — so a figure about persons looks the same (and is suppressed the same
way) wherever it is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, print_json, read_warehouse, workspace
from stadslab.cli.handover import forward
from stadslab.errors import AccessDenied, AnalysisError
from stadslab.privacy.access import ANONYMOUS, AccessConfig, User
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.passwords import verify_password
from stadslab.privacy.release import release_aggregate, suppression_store_path


def login(config: dict, user_id: Optional[str]) -> User:
    """The CLI user: ``--user`` or $STADSLAB_USER; the password is asked (or $STADSLAB_PASSWORD)."""
    if not user_id:
        return ANONYMOUS
    user = AccessConfig.from_config(config).user(user_id)
    if user.password_hash:
        password = os.environ.get("STADSLAB_PASSWORD") or _ask_password(user_id)
        if not verify_password(password, user.password_hash):
            raise AccessDenied(f"wachtwoord van '{user_id}' klopt niet")
        _VERIFIED[user_id] = password    # for a running server, which checks it again itself
    return user


_VERIFIED: dict[str, str] = {}


def _ask_password(user_id: str) -> str:
    """Ask in the terminal; without one (a script, a pipe) say in Dutch how to pass it, and stop cleanly
    (getpass would warn in English and echo, and typer would print 'Aborted.')."""
    import sys

    import click

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise AccessDenied(f"geen wachtwoord voor '{user_id}': er is geen terminal om het te vragen",
                           hint="zet het wachtwoord in de omgevingsvariabele STADSLAB_PASSWORD, of draai de "
                                "opdracht in een terminal")
    try:
        return typer.prompt(f"wachtwoord voor {user_id}", hide_input=True, err=True)
    except click.exceptions.Abort:
        raise AccessDenied(f"geen wachtwoord ingevoerd voor '{user_id}'") from None


def _where(specs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        if "=" not in spec:
            raise AnalysisError(f"--where '{spec}': verwacht KOLOM=WAARDE")
        col, value = spec.split("=", 1)
        out.setdefault(col.strip(), []).append(value.strip())
    return out


def aggregate(dataset: str = typer.Argument(..., help="Dataset-id uit de catalogus"),
              by: str = typer.Option(..., "--by", help="Kolommen om op te groeperen, komma-gescheiden"),
              where: list[str] = typer.Option([], "--where", help="Filter KOLOM=WAARDE (één hele categorie)"),
              link: list[str] = typer.Option([], "--link", help="Koppel op pseudoniem: DATASET[:EIGEN_KOLOM], bijv. sociaal_uitkeringen:pseudo_id_ouder (dimensie in_<id>)"),
              hierarchy: Optional[str] = typer.Option(None, "--hierarchy", help="KIND:OUDER, bijv. buurt_code:wijk_code"),
              user: Optional[str] = typer.Option(None, "--user", envvar="STADSLAB_USER", help="Gebruiker uit stadslab.yaml; het wachtwoord wordt gevraagd, of komt uit $STADSLAB_PASSWORD (scripts, geen terminal)"),
              purpose: Optional[str] = typer.Option(None, "--purpose", help="Doel (doelbinding)"),
              out: Optional[Path] = typer.Option(None, "--out", help="Schrijf de tabel naar dit CSV-bestand"),
              ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Tel per groep; persoonsgegevens alleen via de publicatiepoort (minimaal 15) en met auditregel.

    Met --user wordt het wachtwoord gevraagd; in scripts (zonder terminal) komt het uit de
    omgevingsvariabele STADSLAB_PASSWORD."""
    w = workspace(ws)
    entry = w.catalog().get(dataset)
    who = login(w.config, user)
    hier = None
    if hierarchy:
        child, _, parent = hierarchy.partition(":")
        if not child.strip() or not parent.strip():
            raise AnalysisError(f"--hierarchy '{hierarchy}': verwacht KIND:OUDER, bijv. postcode_buurtcode:wijk_code")
        hier = {child.strip(): parent.strip()}
    by_cols = [c.strip() for c in by.split(",") if c.strip()]
    fwd = forward(w, "aggregate", {"dataset": dataset, "user": user, "password": _VERIFIED.get(user or ""),
                                   "purpose": purpose, "by": by_cols, "filters": _where(where), "hierarchy": hier,
                                   "link": list(link)})
    if fwd is not None:            # a running 'stadslab serve' owns the files: it releases (gate, audit)
        import pandas as pd

        from stadslab.privacy.release import Release

        p = fwd["provenance"]
        rel = Release(pd.DataFrame(fwd["rows"]), p["dataset"], p["version"], fwd["gated"], p)
        names: dict[str, str] = {}
    else:
        rel, names = _release_here(w, entry, who, purpose, by_cols, where, hier, link, as_json)
    if out:
        rel.frame.to_csv(out, index=False)
    if as_json:
        print_json({"provenance": rel.provenance, "rows": rel.records()})
        return
    _print_release(rel, names)


def _release_here(w, entry, who, purpose, by_cols, where, hier, link, as_json):
    store = SuppressionStore(suppression_store_path(w.root)) if entry.is_personal else None
    with read_warehouse(w) as wh:
        names = {} if as_json else _area_names(wh)
        rel = release_aggregate(wh, entry, user=who, purpose=purpose, by=by_cols,
                                filters=_where(where), hierarchy=hier, audit=AuditLog(w.root / "audit" / "audit.jsonl"),
                                store=store, route="cli:aggregate", link=[w.catalog().get(d.split(":")[0]) for d in link],
                                link_on={d.split(":")[0]: d.split(":", 1)[1] for d in link if ":" in d})
    return rel, names


# Dutch headings for the columns every release has; area codes get their name next to them
HEADINGS = {"n": "aantal", "suppressed": "onderdrukt", "wijk_code": "wijk", "buurt_code": "buurt",
            "gemeente_code": "gemeente", "postcode_buurtcode": "buurt", "periode": "periode"}


def _area_names(wh) -> dict[str, str]:
    """Area code → name (newest division year); empty without an area registry."""
    try:
        rows = wh.con.execute("SELECT code, arg_max(name, year) FROM stadslab.areas GROUP BY code").fetchall()
    except Exception:      # no area datasets loaded: the view does not exist
        return {}
    return {c: n for c, n in rows if n}


def _print_release(rel, names: dict[str, str]) -> None:
    from stadslab.formatting import nl_number

    cols = list(rel.frame.columns)
    area_cols = [c for c in cols if c.endswith("_code") or c == "postcode_buurtcode"]
    headers = []
    for c in cols:
        headers.append(HEADINGS.get(c, c) + (" (code)" if c in area_cols else ""))
        if c in area_cols:
            headers.append("naam")
    t = Table(*headers)
    for r in rel.records():
        row = []
        for c in cols:
            v = r[c]
            if c == "n":
                row.append("" if v is None else nl_number(v))
            elif c == "suppressed":
                row.append("ja" if v else "")
            else:
                row.append(escape("" if v is None else str(v)))
            if c in area_cols:
                row.append(escape(names.get(str(v), "Totaal" if v == "Totaal" else "")))
        t.add_row(*row)
    console.print(t)
    p = rel.provenance
    for step in p.get("hercodering") or []:
        console.print(f"samengevoegd vóór het onderdrukken: {escape(step['veld'])}: {escape(step['stap'])}")
    console.print(f"[dim]bron: {p['dataset']} versie {p['version']}; telling: {p['measure']}"
                  + (f"; publicatiepoort: minimaal {p['min_cell']}, {p['suppressed']} cellen onderdrukt" if rel.gated else "")
                  + "[/]")
    if p.get("note"):
        console.print(f"[yellow]let op:[/] {escape(p['note'])}")
