"""Profile definitions: the YAML files in ``<werkruimte>/profielen/``, their checks and their versions.

A profile is a named combination of conditions over the linked frame (one row per pupil × school
year, analyses/sociaal/linked.py), e.g. "leerplichtig kind met > 10 % verzuim in een huishouden met
bijstand en ZRM financiën ≤ 2"::

    id: verzuim_bijstand_zrm
    titel: Verzuim > 10 % in een huishouden met bijstand en ZRM financiën ≤ 2
    omschrijving: ...
    eigenaar: Team Onderwijs
    doel: sociaal_domein          # doelbinding: the profile may only be counted for this purpose
    voorwaarden:
      alle:                       # or een_van; an item may itself be {alle: [...]} or {een_van: [...]}
        - {veld: verzuim_pct, op: ">", waarde: 10}
        - {veld: bijstand, op: "=", waarde: ja}
        - {veld: zrm_financien, op: "<=", waarde: 2}

Conditions only name fields of the linked frame's vocabulary and never a pseudonym, so a profile cannot
single out a person by key; whatever it selects leaves only as gated counts (profiles.py).
A comparison with an empty value (NULL) is "not met"; ``is_null`` / ``not_null`` ask for it explicitly.

Versions: the definition that counts is ``voorwaarden``. Its SHA-256 (canonical JSON) is kept per
profile in ``profielen/.versies.json`` (written atomically); a changed definition gets the next version
number with its hash and time, so every figure can name the exact definition it was counted with.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from stadslab.atomic import write_json
from stadslab.errors import CatalogError, WorkspaceError

PROFILE_DIR = "profielen"
VERSIONS_FILE = ".versies.json"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
OPS = ("=", "!=", "<", "<=", ">", ">=", "in", "is_null", "not_null")
ORDERED = ("<", "<=", ">", ">=")
KEYS = ("id", "titel", "omschrijving", "eigenaar", "doel", "voorwaarden")
REQUIRED = ("id", "titel", "eigenaar", "doel", "voorwaarden")

ZRM_DOMAINS = ("financien", "werk_opleiding", "tijdsbesteding", "huisvesting", "huiselijke_relaties",
               "geestelijke_gezondheid", "lichamelijke_gezondheid", "middelengebruik", "basale_adl",
               "instrumentele_adl", "sociaal_netwerk", "maatschappelijke_participatie", "justitie")
# The vocabulary: the linked frame's columns (docs/dev/DDD-CONTRACT.md) a condition may name, and their kind.
VOCABULARY: dict[str, str] = {
    "schooljaar": "tekst", "buurt_code": "tekst", "wijk_code": "tekst", "gemeente_code": "tekst",
    "school": "tekst", "schoolsoort": "tekst", "geboortejaar": "getal", "leeftijd": "getal",
    "verzuim_pct": "getal", "verzuim_pct_volgend": "getal", "bijstand": "ja/nee",
    **{f"zrm_{d}": "getal" for d in ZRM_DOMAINS}, "zrm_gemeten": "ja/nee", "traject": "ja/nee",
    "traject_lopend": "ja/nee"}
# never a condition: a pseudonym would let a profile select a known person (or, with '<', split by key)
FORBIDDEN = ("pseudo_id", "pseudo_id_ouder")


@dataclass(frozen=True)
class Profile:
    id: str
    titel: str
    omschrijving: str
    eigenaar: str
    doel: str
    voorwaarden: dict[str, Any]
    versie: int
    sha256: str
    vastgelegd: str
    file: str

    # English aliases for callers that use them
    @property
    def name(self) -> str:
        return self.titel

    @property
    def version(self) -> int:
        return self.versie

    @property
    def flag(self) -> str:
        """The ja/nee column of this profile in the derived table (a dimension of the gate's cover)."""
        return f"p_{self.id}"

    def text(self) -> str:
        return describe(self.voorwaarden)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "titel": self.titel, "omschrijving": self.omschrijving, "eigenaar": self.eigenaar,
                "doel": self.doel, "voorwaarden": self.voorwaarden, "voorwaarden_tekst": self.text(),
                "versie": self.versie, "sha256": self.sha256, "vastgelegd": self.vastgelegd}


def _fail(file: str, key: str, message: str, hint: str | None = None) -> CatalogError:
    return CatalogError(message, file=file, key_path=key, hint=hint)


def check_group(node: Any, file: str, key: str) -> None:
    """Validate a condition group ``{alle|een_van: [...]}`` recursively; errors name file and key."""
    if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in ("alle", "een_van"):
        raise _fail(file, key, "verwacht precies één van 'alle' of 'een_van' met een lijst voorwaarden",
                    hint="bijv. voorwaarden: {alle: [{veld: bijstand, op: '=', waarde: ja}]}")
    kind, items = next(iter(node.items()))
    if not isinstance(items, list) or not items:
        raise _fail(file, f"{key}.{kind}", "verwacht een niet-lege lijst voorwaarden")
    for i, item in enumerate(items):
        where = f"{key}.{kind}[{i}]"
        if isinstance(item, dict) and set(item) <= {"alle", "een_van"}:
            check_group(item, file, where)
        else:
            check_condition(item, file, where)


def check_condition(c: Any, file: str, key: str) -> None:
    if not isinstance(c, dict):
        raise _fail(file, key, "een voorwaarde is een mapping {veld, op, waarde}")
    extra = set(c) - {"veld", "op", "waarde"}
    if extra:
        raise _fail(file, key, f"onbekende sleutel(s) {sorted(extra)}", hint="een voorwaarde heeft veld, op en waarde")
    veld, op = c.get("veld"), c.get("op")
    if veld in FORBIDDEN:
        raise _fail(file, f"{key}.veld", f"'{veld}' is een pseudoniem en mag niet in een voorwaarde staan",
                    hint="profielen beschrijven groepen, geen personen")
    if veld not in VOCABULARY:
        raise _fail(file, f"{key}.veld", f"'{veld}' is geen veld van het gekoppelde bestand",
                    hint="velden: " + ", ".join(VOCABULARY))
    if op not in OPS:
        raise _fail(file, f"{key}.op", f"operator {op!r} is onbekend", hint="kies uit " + ", ".join(OPS))
    kind = VOCABULARY[veld]
    if op in ("is_null", "not_null"):
        if "waarde" in c:
            raise _fail(file, f"{key}.waarde", f"'{op}' heeft geen waarde")
        return
    if "waarde" not in c or c["waarde"] is None:
        raise _fail(file, f"{key}.waarde", f"'{op}' vraagt een waarde")
    values = c["waarde"] if op == "in" else [c["waarde"]]
    if op == "in" and (not isinstance(c["waarde"], list) or not c["waarde"]):
        raise _fail(file, f"{key}.waarde", "'in' vraagt een niet-lege lijst waarden")
    for v in values:
        if isinstance(v, (dict, list, bool)):
            raise _fail(file, f"{key}.waarde", f"waarde {v!r} is geen getal of tekst")
        if kind == "getal" and not isinstance(v, (int, float)):
            raise _fail(file, f"{key}.waarde", f"'{veld}' is een getal; waarde {v!r} is dat niet")
        if kind == "tekst" and not isinstance(v, str):
            raise _fail(file, f"{key}.waarde", f"'{veld}' is tekst; zet waarde {v!r} tussen aanhalingstekens")
        if kind == "ja/nee" and v not in ("ja", "nee"):
            raise _fail(file, f"{key}.waarde", f"'{veld}' is ja of nee; waarde {v!r} is dat niet")
    if op in ORDERED and kind != "getal":
        raise _fail(file, f"{key}.op", f"'{op}' kan alleen bij getallen; '{veld}' is {kind}")


def parse(raw: Any, file: str) -> dict[str, Any]:
    """The checked definition from one YAML document (without version fields)."""
    if not isinstance(raw, dict):
        raise _fail(file, "", "een profiel is een mapping met " + ", ".join(KEYS))
    extra = set(raw) - set(KEYS)
    if extra:
        raise _fail(file, min(extra), f"onbekende sleutel '{min(extra)}'", hint="sleutels: " + ", ".join(KEYS))
    for k in REQUIRED:
        if raw.get(k) in (None, ""):
            raise _fail(file, k, f"'{k}' ontbreekt")
    for k in ("id", "titel", "omschrijving", "eigenaar", "doel"):
        if k in raw and not isinstance(raw[k], str):
            raise _fail(file, k, f"'{k}' moet tekst zijn")
    if not ID_PATTERN.match(raw["id"]):
        raise _fail(file, "id", f"id '{raw['id']}' is ongeldig", hint="kleine letters, cijfers en _, 2–41 tekens")
    stem = Path(file).stem
    if stem != raw["id"]:
        raise _fail(file, "id", f"id '{raw['id']}' past niet bij de bestandsnaam '{stem}.yaml'")
    check_group(raw["voorwaarden"], file, "voorwaarden")
    return {"id": raw["id"], "titel": raw["titel"].strip(), "omschrijving": (raw.get("omschrijving") or "").strip(),
            "eigenaar": raw["eigenaar"], "doel": raw["doel"], "voorwaarden": raw["voorwaarden"]}


def definition_hash(voorwaarden: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(voorwaarden, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def read_definitions(ws_root: str | Path) -> list[dict[str, Any]]:
    folder = Path(ws_root) / PROFILE_DIR
    out = []
    for path in sorted(f for f in folder.glob("*.yaml") if not f.name.startswith(".")) if folder.is_dir() else []:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise _fail(str(path), "", f"geen geldige YAML: {exc}") from None
        out.append(parse(raw, str(path)))
    return out


def versioned(ws_root: str | Path, definitions: list[dict[str, Any]]) -> list[Profile]:
    """Attach version numbers; a new or changed definition is recorded (atomically) as the next version."""
    path = Path(ws_root) / PROFILE_DIR / VERSIONS_FILE
    try:
        history = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkspaceError(f"versiegeschiedenis {path} is onleesbaar: {exc}",
                             hint="herstel het bestand uit de back-up; het is de herkomst van elk profielcijfer") from None
    changed = False
    out = []
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for d in definitions:
        sha = definition_hash(d["voorwaarden"])
        versions = history.setdefault(d["id"], [])
        if not versions or versions[-1]["sha256"] != sha:
            versions.append({"versie": len(versions) + 1, "sha256": sha, "vastgelegd": now,
                             "voorwaarden": d["voorwaarden"]})
            changed = True
        last = versions[-1]
        out.append(Profile(**d, versie=last["versie"], sha256=sha, vastgelegd=last["vastgelegd"],
                           file=str(Path(ws_root) / PROFILE_DIR / f"{d['id']}.yaml")))
    if changed:
        write_json(path, history)
    return out


def history(ws_root: str | Path, profile_id: str) -> list[dict[str, Any]]:
    path = Path(ws_root) / PROFILE_DIR / VERSIONS_FILE
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get(profile_id, []))


def condition_expr(t: Any, node: dict[str, Any]) -> Any:
    """The Ibis boolean of a checked condition group over table ``t`` (NULL comparisons → not met)."""
    import ibis

    kind, items = next(iter(node.items()))
    parts = [condition_expr(t, it) if set(it) <= {"alle", "een_van"} else _leaf(t, it) for it in items]
    out = parts[0]
    for p in parts[1:]:
        out = (out & p) if kind == "alle" else (out | p)
    return ibis.coalesce(out, ibis.literal(False))


def _leaf(t: Any, c: dict[str, Any]) -> Any:
    import ibis

    col, op, v = t[c["veld"]], c["op"], c.get("waarde")
    expr = {"=": lambda: col == v, "!=": lambda: col != v, "<": lambda: col < v, "<=": lambda: col <= v,
            ">": lambda: col > v, ">=": lambda: col >= v, "in": lambda: col.isin(list(v)),
            "is_null": lambda: col.isnull(), "not_null": lambda: col.notnull()}[op]()
    return ibis.coalesce(expr, ibis.literal(False))


WORDS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "in": "in",
         "is_null": "is leeg", "not_null": "is bekend"}


def describe(node: dict[str, Any]) -> str:
    """Dutch text of a condition group, e.g. 'verzuim_pct > 10 en bijstand = ja'."""
    kind, items = next(iter(node.items()))
    parts = []
    for it in items:
        if set(it) <= {"alle", "een_van"}:
            parts.append(f"({describe(it)})")
        elif it["op"] in ("is_null", "not_null"):
            parts.append(f"{it['veld']} {WORDS[it['op']]}")
        else:
            v = it["waarde"]
            parts.append(f"{it['veld']} {WORDS[it['op']]} {', '.join(map(str, v)) if isinstance(v, list) else v}")
    return (" en " if kind == "alle" else " of ").join(parts)
