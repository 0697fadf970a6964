"""``stadslab effect``: the effect of buurtteam support on an outcome, estimated in the lab, only aggregates out.

The CLI door to ``stadslab.analyses.sociaal.effect.estimate_effect`` (access per linked source, publication
gate on every count, audit per source) — the same function the /sociaal page calls.
"""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from stadslab.cli.aggregate import _VERIFIED, login
from stadslab.cli.common import (
    JsonOpt,
    WorkspaceOpt,
    console,
    print_json,
    read_warehouse,
    workspace,
)
from stadslab.cli.handover import forward
from stadslab.privacy.audit import AuditLog


def _nl(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}".replace(".", ",").replace("-", "−")


def effect(dataset: str = typer.Argument(..., help="Dataset met de uitkomst, bijv. ddd_verzuim"),
           outcome: str = typer.Option(..., "--outcome", help="Uitkomst, bijv. verzuim_pct_volgend of zrm_financien_verandering"),
           treatment: str = typer.Option(..., "--treatment", help="DATASET[:PSEUDONIEMKOLOM], bijv. ddd_trajecten:pseudo_id_ouder"),
           confounders: str = typer.Option(..., "--confounders", help="Kenmerken om voor te corrigeren, komma-gescheiden, bijv. bijstand,zrm_financien,verzuim_pct,schoolsoort"),
           by: str | None = typer.Option(None, "--by", help="Schatting per groep, bijv. wijk_code of schoolsoort"),
           user: str | None = typer.Option(None, "--user", envvar="STADSLAB_USER", help="Gebruiker uit stadslab.yaml; wachtwoord uit $STADSLAB_PASSWORD zonder terminal"),
           purpose: str | None = typer.Option(None, "--purpose", help="Doel (doelbinding)"),
           ws: str | None = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Schat het effect van buurtteamondersteuning (AIPW, dubbel robuust); alleen aggregaten via de publicatiepoort.

    Een groep met minder dan 15 behandelde of 15 controleleerlingen wordt geweigerd, niet afgerond.
    Elke run komt in het auditlog, ook een geweigerde."""
    from stadslab.analyses.sociaal.effect import estimate_effect

    w = workspace(ws)
    who = login(w.config, user)
    names = [c.strip() for c in confounders.split(",") if c.strip()]
    d = forward(w, "effect", {"user": user, "password": _VERIFIED.get(user or ""), "purpose": purpose,
                              "dataset": dataset, "outcome": outcome, "treatment": treatment, "confounders": names,
                              "by": by})
    if d is None:           # no running 'stadslab serve' on this workspace: open the files here
        catalog = w.catalog()
        with read_warehouse(w) as wh:
            result = estimate_effect(wh, catalog, user=who, purpose=purpose,
                                     audit=AuditLog(w.root / "audit" / "audit.jsonl"), outcome=outcome,
                                     treatment=treatment, confounders=names, by=by, route="cli:effect",
                                     dataset=dataset)
        d = result.to_dict()
    if as_json:
        print_json(d)
        return
    _print(d)


def _print(d: dict) -> None:
    if d.get("gesimuleerd"):
        console.print("[bold yellow]GESIMULEERDE gegevens[/]")
    console.print(escape(d["tekst"]))
    console.print(f"behandeld: {d['n_treated'] if d['n_treated'] is not None else 'onderdrukt'}; "
                  f"controle: {d['n_control'] if d['n_control'] is not None else 'onderdrukt'} ({d['eenheid_aantallen']})")
    if d["groups"]:
        t = Table(d["by"] or "groep", "effect", "95 %-interval", "behandeld", "controle", "status")
        for g in d["groups"]:
            ci = g.get("ci")
            t.add_row(escape(str(g["value"])), _nl(g.get("estimate")),
                      f"{_nl(ci[0])} tot {_nl(ci[1])}" if ci else "", str(g.get("n_treated") or ""),
                      str(g.get("n_control") or ""), escape(g["status"]))
        console.print(t)
    shown = [b for b in d["balance"] if b["smd_na"] is not None]
    if shown:
        t = Table("kenmerk", "verschil vóór weging (SMD)", "na weging", "onbalans (|SMD| > 0,1)")
        for b in shown:
            t.add_row(escape(b["kenmerk"]), _nl(b["smd_voor"], 3), _nl(b["smd_na"], 3), "ja" if b["onbalans"] else "")
        console.print(t)
    if d["overlap"]:
        console.print(f"overlap: {escape(d['overlap']['regel'])}; begrensd: {_nl(100 * d['overlap']['aandeel_begrensd'], 1)} %")
    console.print(f"[yellow]let op:[/] {escape(d['caveat'])}")
    console.print(f"[dim]methode: {escape(d['method'])}; {escape(d['estimand'])}[/]")
