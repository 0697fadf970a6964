"""Hand a pilot to another municipality (the seeds' "opschaling"): export and import a pilot package.

A package is a zip file with
- ``project.yaml``: the project record (closed phases keep their reason, not their content);
- ``catalog/<id>.yaml``: the catalog entries of the datasets the pilot uses — descriptions, no data;
  area divisions are left out (the receiver uses its own buurten and wijken);
- ``README.md``: in Dutch, which files the receiver must supply, with their columns and types;
- ``manifest.json``: format, origin, and the sha256 of every file (checked on import).

Import installs the entries and the record in another workspace and reports, per dataset, whether it is new,
the same, or differs in schema from what the receiver already has, whether its source file is present, and
which code lists named the sender's municipality (those are emptied: the receiver fills in its own).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from stadslab.catalog.model import Dataset
from stadslab.errors import CatalogError, WorkspaceError
from stadslab.projects.model import PHASES, Project
from stadslab.projects.register import projects_folder, read_projects, structure_problems

FORMAT = "stadslab-pilot/1"


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def _public_record(project: Project) -> dict[str, Any]:
    raw = copy.deepcopy(project.raw)
    for name in PHASES:
        if raw["phases"][name]["access"] == "gesloten":
            raw["phases"][name].pop("text", None)
            raw["phases"][name].pop("who", None)
    return raw


def _readme(project: Project, entries: list[Dataset], areas: list[Dataset], municipality: str) -> str:
    lines = [f"# Pilotpakket: {project.name}", "",
             f"Overgedragen door {municipality} met Stadslab. Vraag van het project: {project.question}", "",
             "## Installeren", "", "```sh", "stadslab project import DIT-BESTAND.zip -w MIJN-WERKRUIMTE "
             "[--division-year JAAR]", "stadslab refresh -w MIJN-WERKRUIMTE",
             f"stadslab project run {project.id} -w MIJN-WERKRUIMTE", "```", "",
             "## Welke gegevens u zelf aanlevert", ""]
    for ds in entries:
        geo = ds.geography
        lines += [f"### {ds.title} (`{ds.id}`)", "",
                  f"- bestand: `data/{ds.source.path}` (lezer: {ds.source.reader or 'automatisch'}, "
                  f"opties: {json.dumps(ds.source.options, ensure_ascii=False)})",
                  f"- geografie: {geo.level}" + (f", gebiedsindeling van jaar {geo.division_year}" if geo.division_year
                                                 else ""),
                  f"- classificatie: {ds.classification}", "", "| kolom in het bestand | veld | type | verplicht |",
                  "|---|---|---|---|"]
        lines += [f"| {f.source} | {f.name} | {f.type} | {'nee' if f.nullable else 'ja'} |" for f in ds.fields]
        lines.append("")
    if areas:
        lines += ["## Gebiedsindeling", "", "De pilot rekent per buurt en wijk. Gebruik uw eigen gebiedsindeling "
                  "(CBS wijk- en buurtkaart) in de catalogus; de afzender gebruikte: "
                  + ", ".join(f"{a.title} ({a.areas.level} {a.areas.year})" for a in areas) + ".", ""]
    return "\n".join(lines)


def export_project(project: Project, catalog: Any, *, municipality: str, out: Path) -> dict[str, Any]:
    """Write ``out`` (a .zip); returns the manifest."""
    ids = list(dict.fromkeys(project.uses("datasets") + [a.dataset for a in project.analyses]))
    used = [catalog.get(i) for i in ids]
    entries = [d for d in used if d.areas is None]
    areas = [d for d in used if d.areas is not None]
    files: dict[str, bytes] = {"project.yaml": _dump(_public_record(project))}
    for ds in entries:
        files[f"catalog/{ds.id}.yaml"] = ds.file.read_bytes() if ds.file else _dump({"id": ds.id})
    files["README.md"] = _readme(project, entries, areas, municipality).encode("utf-8")
    manifest = {"format": FORMAT, "project": project.id, "name": project.name,
                "municipality": municipality, "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "datasets": [d.id for d in entries], "area_divisions": [d.id for d in areas],
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for name, data in files.items():
            zf.writestr(name, data)
    return manifest


@dataclass
class ImportReport:
    project: str
    installed: list[str] = field(default_factory=list)      # new catalog entries written
    same: list[str] = field(default_factory=list)           # receiver already had an identical schema
    differs: dict[str, list[str]] = field(default_factory=dict)   # dataset → schema differences
    missing_files: dict[str, str] = field(default_factory=dict)   # dataset → expected path under data/
    relaxed_codes: list[str] = field(default_factory=list)  # dataset.field whose code list named the sender
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _read_package(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            if any(n.startswith("/") or ".." in Path(n).parts for n in names):
                raise WorkspaceError(f"{path}: pakket bevat paden buiten de pakketmap")
            files = {n: zf.read(n) for n in names}
    except (zipfile.BadZipFile, FileNotFoundError) as exc:
        raise WorkspaceError(f"{path}: geen leesbaar pilotpakket ({exc})",
                             hint="maak het met 'stadslab project export NAAM'") from None
    if "manifest.json" not in files:
        raise WorkspaceError(f"{path}: manifest.json ontbreekt", hint="maak het pakket met 'stadslab project export'")
    manifest = json.loads(files.pop("manifest.json"))
    if manifest.get("format") != FORMAT:
        raise WorkspaceError(f"{path}: onbekend pakketformaat {manifest.get('format')!r} (verwacht {FORMAT})")
    for name, digest in manifest["files"].items():
        if name not in files or hashlib.sha256(files[name]).hexdigest() != digest:
            raise WorkspaceError(f"{path}: bestand {name} ontbreekt of is gewijzigd (sha256 klopt niet)",
                                 hint="vraag de afzender om een nieuw pakket")
    return manifest, files


def _schema_of(entry: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["name"]: (f.get("type", "string"), f.get("source", f["name"])) for f in entry.get("fields", [])}


def _relax_sender_codes(entry: dict[str, Any], sender_words: set[str]) -> list[str]:
    """Empty code lists that only name the sender's place (``plaats: [Groningen]``)."""
    relaxed = []
    for f in entry.get("fields", []):
        codes = f.get("codes")
        values = list(codes) if isinstance(codes, (list, dict)) else []
        if values and all(str(v).lower() in sender_words for v in values):
            f.pop("codes")
            relaxed.append(f"{entry['id']}.{f['name']}")
    return relaxed


def import_project(package: Path, workspace: Any, *, division_year: int | None = None,
                   catalog_check: Any = None) -> ImportReport:
    """Install a pilot package in ``workspace``; never overwrites a receiver's differing catalog entry."""
    manifest, files = _read_package(Path(package))
    record = yaml.safe_load(files["project.yaml"])
    problems = structure_problems(json.loads(json.dumps(record, default=str)), "project.yaml")
    if problems:
        raise CatalogError("het projectrecord in het pakket is ongeldig: " + "; ".join(map(str, problems)))
    report = ImportReport(project=record["id"])
    sender = manifest.get("municipality", "")
    catalog = workspace.catalog(strict=False)
    sender_words = {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ'-]+", sender) if len(w) > 2} - {"gemeente"}
    for name, data in sorted(files.items()):
        if not name.startswith("catalog/"):
            continue
        entry = yaml.safe_load(data)
        owner_words = {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ'-]+", entry.get("owner", "")) if len(w) > 2}
        report.relaxed_codes += _relax_sender_codes(entry, (sender_words | owner_words) - {"gemeente", "politie"})
        if division_year and (entry.get("geography") or {}).get("division_year"):
            entry["geography"]["division_year"] = division_year
        target = workspace.catalog_dir / f"{entry['id']}.yaml"
        if entry["id"] in catalog:
            mine = yaml.safe_load(catalog.get(entry["id"]).file.read_bytes())
            diff = _schema_diff(_schema_of(mine), _schema_of(entry))
            if diff:
                report.differs[entry["id"]] = diff
            else:
                report.same.append(entry["id"])
        else:
            target.write_bytes(_dump(entry))
            report.installed.append(entry["id"])
        src = (workspace.data_dir / entry["source"]["path"]) if entry.get("source") else None
        if src is not None and not src.exists():
            report.missing_files[entry["id"]] = f"data/{entry['source']['path']}"
    if division_year is None:
        report.notes.append("de gebiedsindeling (division_year) is overgenomen van de afzender; kies uw eigen jaar "
                            "met --division-year als u een ander jaar hebt")
    record = _receiver_record(record, manifest, workspace)
    # the sender's area divisions are not in the package: the pilot uses the receiver's own
    own_areas = [d.id for d in catalog if d.areas is not None and (division_year is None or d.areas.year == division_year)]
    uses = record.setdefault("uses", {})
    uses["datasets"] = [d for d in uses.get("datasets", []) if d not in manifest.get("area_divisions", [])] + own_areas
    if manifest.get("area_divisions"):
        report.notes.append("gebiedsindeling van de afzender (" + ", ".join(manifest["area_divisions"]) + ") vervangen "
                            "door de uwe: " + (", ".join(own_areas) or "geen gevonden — voeg uw buurten en wijken toe"))
    folder = projects_folder(workspace.root)
    folder.mkdir(exist_ok=True)
    if any(p.id == record["id"] for p in read_projects(folder)[0]):
        report.notes.append(f"project '{record['id']}' bestond al in deze werkruimte en is niet overschreven")
    else:
        (folder / f"{record['id']}.yaml").write_bytes(_dump(record))
    (folder / f"{record['id']}.README.md").write_bytes(files.get("README.md", b""))
    return report


def _receiver_record(record: dict[str, Any], manifest: dict[str, Any], workspace: Any) -> dict[str, Any]:
    """The sender's evaluations and verdicts are theirs: the receiver starts a pilot with open hypotheses."""
    out = copy.deepcopy(record)
    me = (workspace.config.get("municipality") or {}).get("name", "")
    out["owner"] = f"Gemeente {me}" if me else out["owner"]
    out["status"] = "pilot"
    out.pop("evaluations", None)
    out.pop("started", None)
    out.pop("ended", None)
    for h in out.get("hypotheses", []):
        h["status"] = "open"
        h.pop("evidence", None)
    out["origin"] = {"municipality": manifest.get("municipality", ""), "project": manifest["project"],
                     "exported": manifest["exported"],
                     "imported": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return out


def _schema_diff(mine: dict[str, tuple[str, str]], theirs: dict[str, tuple[str, str]]) -> list[str]:
    out = [f"veld '{n}' ontbreekt bij u" for n in theirs if n not in mine]
    out += [f"veld '{n}': type {mine[n][0]} bij u, {theirs[n][0]} in het pakket" for n in theirs
            if n in mine and mine[n][0] != theirs[n][0]]
    return out

