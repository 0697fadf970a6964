"""Profiles of the Dynamisch Data Dashboard: counts, shares and trends per wijk / buurt / school and school
year — every figure through ``release_aggregate`` (access, doelbinding, partner scope, gate, audit).

Public interface (the page, the API, the CLI and bench/sociaal.py call these)::

    load_profiles(ws_root) -> list[Profile]          # checked, versioned (profile_defs.py)
    get_profile(ws_root, profile_id) -> Profile
    profile_view(wh, catalog, ws_root, *, user, purpose, audit, profile_id, level="wijk_code",
                 schooljaar=None, route="api:profiel", store=None) -> Release
        Release.frame, one row per area (``level`` column; "Totaal" = all areas the user may see) and
        school year: [level, (wijk_code when level is buurt_code), schooljaar, aantal, populatie, aandeel,
        suppressed]. ``aantal`` = pupils (unique pupil × school year) meeting the profile, ``populatie`` =
        all pupils of that area and year, ``aandeel`` = aantal / populatie in % (1 decimal). A suppressed
        figure is NULL, and ``suppressed == "onderdrukt"`` when aantal or aandeel is NULL (a share with a
        suppressed part is suppressed). Release.provenance: profiel, profielversie (also
        ``profile_version``), sha256, familie {id: versie}, bronnen {dataset: versie}, structure,
        min_cell, suppressed, gesimuleerd.
    profile_table(..., schooljaar) -> list[dict]     # one school year, every area + Totaal
    profile_trend(...) -> list[dict]                 # the Totaal row per school year

Design (docs/sociaal.md "Profielen"). The declared profiles form one *family*: the linked frame plus one
ja/nee column per profile is a derived person-level table (unit: pupil × school year) with a synthesised
catalog entry ``ddd_profielen``. Its ``release:`` block declares two covers — buurt (→ wijk) × schooljaar ×
all profile flags, and school × schooljaar × all flags — whose published sub-tables are area × schooljaar ×
one flag. ``release_aggregate`` protects all sub-tables of a cover *together* (``protect_linked``): every
published count of every profile is a cell of one certified publication whose witnesses live in the
cover, so two queries (two profiles, a profile and its parent or complement, two levels, two years) cannot
be differenced to a cell below 15. Empty combinations are treated as known to the attacker
(``privacy.absent: structural``): the atoms that nested profiles exclude are never complementary cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from stadslab.analyses.sociaal.profile_defs import PROFILE_DIR, Profile, condition_expr, read_definitions, versioned
from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied, AnalysisError, CatalogError
from stadslab.privacy.access import User, check
from stadslab.privacy.audit import AuditEntry, AuditLog
from stadslab.privacy.gate import DEFAULT_MIN_CELL, SuppressionStore
from stadslab.privacy.release import TOTAL, Release, release_aggregate, suppression_store_path

DERIVED_ID = "ddd_profielen"
PERSON = "leerling_schooljaar"          # the counted unit: one pupil in one school year
LEVELS = {"wijk_code": "wijk", "buurt_code": "buurt", "school": "school"}
MAX_FAMILY = 6                          # cover size grows 3^k; 6 flags ≈ 400 k cells at buurt level
SUPPRESSED = "onderdrukt"
SETTINGS_FILE = ".instellingen.yaml"


def load_profiles(ws_root: str | Path) -> list[Profile]:
    """Every profile in ``<ws_root>/profielen/*.yaml``, checked and with its current version."""
    return versioned(ws_root, read_definitions(ws_root))


def get_profile(ws_root: str | Path, profile_id: str) -> Profile:
    profiles = load_profiles(ws_root)
    for p in profiles:
        if p.id == profile_id:
            return p
    raise AnalysisError(f"profiel '{profile_id}' bestaat niet",
                        hint="profielen: " + (", ".join(p.id for p in profiles) or "(geen; zie profielen/*.yaml)"))


def derived_table(linked: Any, profiles: list[Profile]) -> Any:
    """The linked frame reduced to dimensions + one ja/nee column per profile (Ibis, engine-neutral)."""
    import ibis

    flags = {p.flag: ibis.ifelse(condition_expr(linked, p.voorwaarden), "ja", "nee") for p in profiles}
    return linked.select(linked.buurt_code, linked.wijk_code, linked.school, linked.schooljaar,
                         **{PERSON: linked.pseudo_id.concat("|", linked.schooljaar)}, **flags)


def buurt_level(ws_root: str | Path) -> bool:
    """Is the buurt level published? (``profielen/.instellingen.yaml``: ``buurtniveau: ja|nee``, default ja)

    Wijk and buurt figures must come from one cover (buurt → wijk) to resist differencing between the two
    levels; protecting the many small buurt cells then costs wijk-level detail. Without the buurt level
    the wijk figures come from a wijk cover alone (far fewer suppressions)."""
    path = Path(ws_root) / PROFILE_DIR / SETTINGS_FILE
    if not path.exists():
        return True
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"geen geldige YAML: {exc}", file=str(path)) from None
    value = raw.get("buurtniveau", "ja") if isinstance(raw, dict) else None
    if value not in ("ja", "nee", True, False):
        raise CatalogError(f"buurtniveau moet ja of nee zijn, niet {value!r}", file=str(path), key_path="buurtniveau")
    return value in ("ja", True)


def derived_dataset(profiles: list[Profile], sources: list[Dataset], *, buurt: bool = True) -> Dataset:
    """The synthesised catalog entry of the derived table: personal data, readable by the roles and for the
    purposes that every linked source allows, released only as the declared covers' sub-tables."""
    roles = set.intersection(*[set(d.access.roles) for d in sources]) if sources else set()
    purposes = set.intersection(*[set(d.access.purposes or d.purposes) for d in sources]) if sources else set()
    min_cell = max([DEFAULT_MIN_CELL, *[int((d.privacy or {}).get("min_cell", DEFAULT_MIN_CELL)) for d in sources]])
    flags = [p.flag for p in sorted(profiles, key=lambda p: p.id)]
    return Dataset.from_dict({
        "id": DERIVED_ID, "title": "Profielen over het gekoppelde bestand (afgeleid, gesimuleerd)",
        "owner": "datalab", "classification": "persoonsgegevens", "simulated": any(d.simulated for d in sources),
        "purposes": sorted(purposes), "access": {"roles": sorted(roles), "purposes": sorted(purposes)},
        "geography": {"level": "buurt", "division_year": 2024}, "source": {"path": ""},
        "privacy": {"min_cell": min_cell, "absent": "structural"},
        "fields": [{"name": PERSON, "type": "string", "role": "pseudonym"},
                   {"name": "buurt_code", "type": "string", "role": "area_code"},
                   {"name": "school", "type": "string"}, {"name": "schooljaar", "type": "string"},
                   *[{"name": f, "type": "string", "codes": ["ja", "nee"]} for f in flags]],
        "release": {
            "dimensions": ["buurt_code", "wijk_code", "school", "schooljaar", *flags],
            "structures": [
                ({"id": "buurt_profielen", "dims": ["buurt_code", "schooljaar", *flags],
                  "hierarchy": {"buurt_code": "wijk_code"}, "margins": "persons_distinct",
                  "tables": [["buurt_code", "schooljaar", f] for f in flags]} if buurt else
                 {"id": "wijk_profielen", "dims": ["wijk_code", "schooljaar", *flags], "margins": "persons_distinct",
                  "tables": [["wijk_code", "schooljaar", f] for f in flags]}),
                {"id": "school_profielen", "dims": ["school", "schooljaar", *flags], "margins": "persons_distinct",
                 "tables": [["school", "schooljaar", f] for f in flags]}]}})


def linked_input(wh: Any, catalog: Any) -> tuple[Any, list[Dataset]]:
    """The linked frame (versions pinned to what is current now) and the datasets it reads."""
    from stadslab.analyses.sociaal.linked import linked_frame, linked_sources

    versions = linked_sources(catalog, wh)
    return linked_frame(wh, catalog, versions=versions), [catalog.get(d) for d in versions]


def _audit_refusal(audit: AuditLog, user: User, purpose: str | None, dataset: str, version: Any, route: str,
                   what: dict[str, Any], reason: str) -> None:
    audit.append(AuditEntry(user.id, ",".join(user.roles), purpose, dataset, version, route, what, None,
                            allowed=False, reason=reason[:500]))


def profile_view(wh: Any, catalog: Any, ws_root: str | Path, *, user: User, purpose: str | None, audit: AuditLog,
                 profile_id: str, level: str = "wijk_code", schooljaar: str | None = None,
                 route: str = "api:profiel", store: SuppressionStore | None = None,
                 linked: Any = None, sources: list[Dataset] | None = None) -> Release:
    """Counts, shares and trend of one profile per area and school year (see the module docstring).

    ``linked``/``sources``: the linked frame and its datasets (default: analyses/sociaal/linked.py)."""
    if level not in LEVELS:
        raise AnalysisError(f"niveau '{level}' is onbekend", hint="kies " + ", ".join(LEVELS))
    profiles = load_profiles(ws_root)
    profile = next((p for p in profiles if p.id == profile_id), None)
    what = {"profiel": profile_id, "niveau": level, "schooljaar": schooljaar}
    if profile is None:
        raise AnalysisError(f"profiel '{profile_id}' bestaat niet",
                            hint="profielen: " + (", ".join(p.id for p in profiles) or "(geen)"))
    if len(profiles) > MAX_FAMILY:
        raise AnalysisError(f"{len(profiles)} profielen vastgelegd; de publicatiepoort beschermt ten hoogste "
                            f"{MAX_FAMILY} samen", hint="verwijder of combineer profielen (docs/sociaal.md)")
    if linked is None:
        linked, sources = linked_input(wh, catalog)
    sources = list(sources or [])
    versions = {d.id: wh.current_version(d.id) for d in sources}
    route = f"{route} profiel={profile.id}@v{profile.versie}"
    for d in sources:   # every linked source needs its own access (role and doelbinding); refusals audited
        perm = check(d, user, purpose)
        if not perm.allowed:
            if d.classification in ("vertrouwelijk", "persoonsgegevens"):
                _audit_refusal(audit, user, purpose, d.id, versions[d.id], route + ":koppeling", what, perm.reason)
            perm.require(d)
    if purpose != profile.doel:   # doelbinding of the profile itself
        reason = f"profiel '{profile.id}' is vastgelegd voor doel '{profile.doel}', niet voor '{purpose}'"
        _audit_refusal(audit, user, purpose, DERIVED_ID, profile.versie, route, what, reason)
        raise AccessDenied(reason, hint=f"vraag het profiel op met --purpose {profile.doel}")
    for d in sources:   # the sources this view reads, with their versions: the officer's "who used what"
        if d.classification in ("vertrouwelijk", "persoonsgegevens"):
            audit.append(AuditEntry(user.id, ",".join(user.roles), purpose, d.id, versions[d.id], route + ":koppeling",
                                    what, None, allowed=True, reason=f"bron van profiel {profile.id}@v{profile.versie}"))
    dataset = derived_dataset(profiles, sources, buurt=buurt_level(ws_root))
    table = derived_table(linked, profiles)
    store = store if store is not None else SuppressionStore(suppression_store_path(ws_root))
    filters = {"schooljaar": [schooljaar]} if schooljaar else None
    if level == "buurt_code" and not buurt_level(ws_root):
        raise AnalysisError("profielen op buurtniveau staan uit in deze werkruimte",
                            hint=f"kies wijk of school, of zet 'buurtniveau: ja' in {PROFILE_DIR}/{SETTINGS_FILE} "
                                 "(dat kost detail op wijkniveau, docs/sociaal.md)")
    # release_aggregate reads the table twice (cells, distinct persons): materialise the linked frame's joins
    # once, as an engine temp table dropped right after (Ibis cache; DuckDB or Spark)
    with table.cache() as cached:
        rel = release_aggregate(wh, dataset, user=user, purpose=purpose, by=[level, "schooljaar", profile.flag],
                                filters=filters, audit=audit, store=store, route=route, version=profile.versie,
                                table=cached)
    frame = _shape(rel.frame, level, profile.flag)
    prov = dict(rel.provenance)
    prov.update(profiel=profile.id, profielversie=profile.versie, profile_version=profile.versie,
                sha256=profile.sha256, titel=profile.titel, voorwaarden=profile.text(),
                familie={p.id: p.versie for p in profiles}, bronnen=versions, sources=versions,
                niveau=level, gesimuleerd=dataset.simulated,
                suppressed=int((frame["suppressed"] != "").sum()),
                eenheid="unieke leerling per schooljaar (pseudoniem × schooljaar)")
    return Release(frame, DERIVED_ID, profile.versie, rel.gated, prov)


def _shape(released: pd.DataFrame, level: str, flag: str) -> pd.DataFrame:
    """From the gate's slice (rows per area, year, flag ∈ ja/nee/Totaal) to aantal / populatie / aandeel."""
    f = released[released["schooljaar"].astype(str) != TOTAL]
    if level == "buurt_code" and "wijk_code" in f:   # wijk subtotals belong to the wijk view
        f = f[(f["buurt_code"] != TOTAL) | (f["wijk_code"] == TOTAL)]
    keys = [level, *(["wijk_code"] if level == "buurt_code" and "wijk_code" in f else []), "schooljaar"]
    yes = f[f[flag] == "ja"].set_index(keys)["n"].rename("aantal")
    pop = f[f[flag] == TOTAL].set_index(keys)["n"].rename("populatie")
    out = pd.concat([yes, pop], axis=1).reset_index()
    out["aantal"] = out["aantal"].astype("Int64")
    out["populatie"] = out["populatie"].astype("Int64")
    ok = out["aantal"].notna() & out["populatie"].notna() & (out["populatie"].fillna(0) > 0)
    share = (out["aantal"].astype("Float64") / out["populatie"].astype("Float64") * 100).round(1)
    out["aandeel"] = share.where(ok, pd.NA).astype("Float64")
    out["suppressed"] = (out["aantal"].isna() | out["aandeel"].isna()).map({True: SUPPRESSED, False: ""})
    # a population of 0 has no share but nothing is hidden
    empty = out["populatie"].fillna(-1) == 0
    out.loc[empty, "suppressed"] = ""
    out["_tot"] = out[level] == TOTAL
    out = out.sort_values(["_tot", level, "schooljaar"], kind="stable").drop(columns="_tot")
    return out.reset_index(drop=True)


def profile_table(wh: Any, catalog: Any, ws_root: str | Path, *, schooljaar: str, **kwargs: Any) -> list[dict[str, Any]]:
    """One school year: every area the user may see and the Totaal row (records of ``profile_view``)."""
    rel = profile_view(wh, catalog, ws_root, schooljaar=schooljaar, **kwargs)
    return rel.records()


def profile_trend(wh: Any, catalog: Any, ws_root: str | Path, **kwargs: Any) -> list[dict[str, Any]]:
    """The Totaal row (all areas the user may see) per school year."""
    rel = profile_view(wh, catalog, ws_root, **kwargs)
    level = kwargs.get("level", "wijk_code")
    return [r for r in rel.records() if r[level] == TOTAL]
