"""Load and check a catalog folder: one YAML file per dataset.

Two layers, as Amsterdam's schema-tools does it: the JSON meta-schema checks structure, then
``checks.py`` checks meaning (fields refer to each other correctly, roles fit types, ...). Every
problem names the file and the key path, e.g. ``fietsdiefstal.yaml [fields[3].type]``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from stadslab.catalog.checks import semantic_problems
from stadslab.catalog.model import Dataset
from stadslab.errors import CatalogError


@dataclass(frozen=True)
class CatalogProblem:
    file: str
    key_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} [{self.key_path}]: {self.message}"


@lru_cache(maxsize=1)
def _metaschema() -> dict:
    return yaml.safe_load((Path(__file__).parent / "metaschema.yaml").read_text(encoding="utf-8"))


def _key_path(path: list) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def check_entry(raw: object, file: str) -> list[CatalogProblem]:
    """All structural and semantic problems of one parsed YAML document."""
    if not isinstance(raw, dict):
        return [CatalogProblem(file, "(root)", "verwacht een mapping met sleutels als id, title, fields")]
    validator = jsonschema.Draft202012Validator(_metaschema())
    problems = [CatalogProblem(file, _key_path(list(e.absolute_path)), e.message)
                for e in sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return problems
    return [CatalogProblem(file, k, m) for k, m in semantic_problems(raw)]


class Catalog:
    """All datasets of a workspace, by id, in a stable order."""

    def __init__(self, datasets: list[Dataset], folder: Path | None = None) -> None:
        self.folder = folder
        self._by_id = {d.id: d for d in datasets}

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, dataset_id: str) -> bool:
        return dataset_id in self._by_id

    def get(self, dataset_id: str) -> Dataset:
        try:
            return self._by_id[dataset_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "(geen)"
            raise CatalogError(f"onbekende dataset '{dataset_id}'", hint=f"bekende datasets: {known}") from None

    def area_datasets(self) -> list[Dataset]:
        return [d for d in self if d.areas is not None]


def read_yaml(path: Path) -> tuple[bytes, object, CatalogProblem | None]:
    """A YAML file's bytes and content, or the problem (with the line) when it is not valid YAML."""
    text = path.read_bytes()
    try:
        return text, yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"regel {mark.line + 1}" if mark else "(root)"
        return text, None, CatalogProblem(path.name, where, f"geen geldige YAML: {getattr(exc, 'problem', exc)}")


def load_catalog(folder: Path, *, strict: bool = True) -> Catalog:
    """Read every ``*.yaml`` in ``folder``. With ``strict`` any problem raises a CatalogError
    listing all problems; otherwise broken entries are skipped (use ``check_catalog`` to see them)."""
    datasets, problems = _read(folder)
    if problems and strict:
        raise CatalogError("de catalogus bevat fouten:\n" + "\n".join(f"  - {p}" for p in problems),
                           hint="draai 'stadslab catalog check' voor het volledige overzicht")
    return Catalog(datasets, folder)


def check_catalog(folder: Path) -> list[CatalogProblem]:
    return _read(folder)[1]


def _read(folder: Path) -> tuple[list[Dataset], list[CatalogProblem]]:
    if not folder.is_dir():
        raise CatalogError(f"catalogusmap {folder} bestaat niet",
                           hint="maak een werkruimte met 'stadslab init DIR'")
    datasets: list[Dataset] = []
    problems: list[CatalogProblem] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.y*ml")):
        text, raw, problem = read_yaml(path)
        if problem is not None:
            problems.append(problem)
            continue
        entry_problems = check_entry(raw, path.name)
        if entry_problems:
            problems.extend(entry_problems)
            continue
        if raw["id"] in seen:
            problems.append(CatalogProblem(path.name, "id", f"id '{raw['id']}' staat ook in {seen[raw['id']]}"))
            continue
        seen[raw["id"]] = path.name
        datasets.append(Dataset.from_dict(raw, file=path, sha256=hashlib.sha256(text).hexdigest()))
    return datasets, problems
