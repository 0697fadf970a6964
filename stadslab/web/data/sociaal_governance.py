"""Governance next to the data of the Dynamisch Data Dashboard (/sociaal/governance, /api/sociaal/governance,
/api/sociaal/gebruik): the convenant and retention period per source (the catalog entry's ``governance:``
block), the DPIA/IAMA answers for this use (``projects/governance/<project>.yaml`` next to the project
record, which names DPIA and IAMA by reference), the removals the refresh logged for retention, and — for
the privacy officer only — who used which profile or effect, for what purpose and when, from the audit log
(chain verified first). Usage, never personal data: no figure, no row, no pseudonym leaves this module
(32-hex strings in logged requests are masked)."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml

from stadslab.privacy.access import User
from stadslab.web.data.sociaal import PREFIX, ddd_datasets

PROJECT = "sociaal_dashboard"
OFFICER_ROLE, OFFICER_PURPOSE = "privacyfunctionaris", "toezicht"
MASK = "[verborgen]"


def _raw_entry(ds) -> dict[str, Any]:
    """The catalog entry as written (for a ``governance:`` block the typed model may not carry)."""
    if not ds.file:
        return {}
    try:
        raw = yaml.safe_load(Path(ds.file).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return raw if isinstance(raw, dict) else {}


def sources(state) -> list[dict[str, Any]]:
    """Per DDD source: owner, legal basis, convenant and bewaartermijn, and the logged retention removals."""
    wh = state.warehouse()
    out = []
    for ds in ddd_datasets(state):
        gov = getattr(ds, "governance", None) or _raw_entry(ds).get("governance") or {}
        if not isinstance(gov, dict):
            gov = {k: getattr(gov, k) for k in getattr(gov, "__dataclass_fields__", {})}
        out.append({"dataset": ds.id, "titel": ds.title, "eigenaar": ds.owner, "grondslag": ds.legal_basis,
                    "gesimuleerd": ds.simulated, "convenant": gov.get("convenant"),
                    "bewaartermijn": gov.get("bewaartermijn"),
                    "overig": {k: v for k, v in gov.items() if k not in ("convenant", "bewaartermijn")},
                    "verwijderingen": removals(wh, ds.id)})
    return out


def removals(wh, dataset_id: str) -> list[dict[str, Any]]:
    """What each refresh removed for retention (the version's provenance: ``reader_options.bewaartermijn``
    and its note, written by ingest/retention.py; the same application is in the audit log)."""
    out = []
    for v in wh.versions(dataset_id):
        opts = v.get("reader_options") if isinstance(v.get("reader_options"), dict) else {}
        rec = opts.get("bewaartermijn") if isinstance(opts.get("bewaartermijn"), dict) else {}
        notes = [str(n) for n in (v.get("notes") or []) if "bewaartermijn" in str(n)]
        if rec or notes:
            out.append({"versie": v.get("version"), "geladen_op": v.get("finished_at"),
                        "verwijderd": rec.get("verwijderd"), "tekst": _mask("; ".join(notes))[:300]})
    return out


def assessments(state) -> dict[str, Any]:
    """DPIA and IAMA: the project record's references and conclusions, with the answers from the file next to it."""
    folder = state.workspace.root / "projects"
    record, answers = {}, {}
    try:
        record = yaml.safe_load((folder / f"{PROJECT}.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        pass
    try:
        answers = yaml.safe_load((folder / "governance" / f"{PROJECT}.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        pass
    refs = [p for p in record.get("privacy") or [] if isinstance(p, dict)]
    out = {"project": record.get("name") or PROJECT, "verwijzingen": refs, "gesimuleerd": bool(answers.get("gesimuleerd"))}
    for kind in ("dpia", "iama"):
        block = answers.get(kind) or {}
        ref = next((p for p in refs if str(p.get("kind", "")).lower() == kind), {})
        out[kind] = {"model": block.get("model"), "datum": block.get("datum") or ref.get("date"),
                     "conclusie": block.get("conclusie") or ref.get("conclusion"), "referentie": ref.get("ref"),
                     "antwoorden": [a for a in block.get("antwoorden") or [] if isinstance(a, dict)]}
    return out


def is_officer(user: User, purpose: str | None) -> bool:
    return OFFICER_ROLE in user.roles and purpose == OFFICER_PURPOSE


def usage(state, *, limit: int = 500) -> dict[str, Any]:
    """The privacy officer's view: per read of a DDD source who, role, purpose, when, which profile or effect,
    allowed or refused and why — from the audit log after verifying its chain. No figures, no rows."""
    ids = {d.id for d in ddd_datasets(state)}     # + the derived ddd_profielen table the profiles release from
    problems = state.audit.verify()
    reads = []
    for e in state.audit.entries():
        if e.get("dataset") not in ids and not str(e.get("dataset", "")).startswith(PREFIX):
            continue
        route = str(e.get("route") or "")
        reads.append({"tijd": e.get("time"), "gebruiker": e.get("user"), "rol": e.get("role"),
                      "doel": e.get("purpose"), "dataset": e.get("dataset"), "versie": e.get("version"),
                      "wat": what(route), "route": _mask(route), "toegestaan": bool(e.get("allowed")),
                      "reden": _mask(str(e.get("reason") or "")), "vraag": _masked(e.get("filters") or {})})
    reads.reverse()      # newest first
    per_use: dict[tuple, dict[str, Any]] = {}
    for r in reads:
        key = (r["gebruiker"], r["wat"], r["doel"], r["toegestaan"])
        agg = per_use.setdefault(key, {"gebruiker": r["gebruiker"], "wat": r["wat"], "doel": r["doel"],
                                       "toegestaan": r["toegestaan"], "keer": 0, "eerst": r["tijd"], "laatst": r["tijd"]})
        agg["keer"] += 1
        agg["eerst"] = r["tijd"]
    return {"keten_intact": not problems, "problemen": problems[:20], "opvragingen": reads[:limit],
            "samenvatting": list(per_use.values()), "totaal": len(reads)}


def what(route: str) -> str:
    """'profiel <id>' / 'effectschatting' / the route, from the route the page, API or CLI wrote."""
    at = route.find("profiel=")
    if at >= 0:
        name = route[at + len("profiel="):].split(" ")[0].split("@")[0].split(":")[0]
        return f"profiel {_mask(name)[:60]}"
    if "effect" in route:
        return "effectschatting"
    return _mask(route.split(" ")[0])[:80]


def _mask(text: str) -> str:
    """Hide any run of 32 or more hex characters (a pseudonym would look like that) in logged request text."""
    out, run = [], []
    for ch in text + " ":
        if ch in string.hexdigits:
            run.append(ch)
            continue
        out.append(MASK if len(run) >= 32 else "".join(run))
        run = []
        out.append(ch)
    return "".join(out)[:-1]


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return _mask(value)[:200]
    if isinstance(value, dict):
        return {str(k)[:60]: _masked(v) for k, v in list(value.items())[:20]}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in list(value)[:20]]
    return value
