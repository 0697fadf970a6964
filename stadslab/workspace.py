"""A workspace: the folder a municipality's data lab works in.

    DIR/
      stadslab.yaml      municipality identity (name, CBS gemeente code, default area year); users/roles later
      catalog/*.yaml     one description per dataset (docs/catalog.md)
      data/              the source files the catalog points at (paths are relative to this folder)
      warehouse.duckdb   the versioned warehouse: open and intern datasets (the only file free SQL sees)
      restricted.duckdb  personal and confidential datasets, same layout (ingest and the release path)
      gate/, audit/      stored suppression patterns, the audit log

Every file in a workspace is the owner's only: the process umask is 0o077 from the moment a workspace
is opened or created, and files left readable by others (older workspaces, copied data) are made
owner-only at open (issue 9, finding 10).

Chosen with ``--workspace DIR``, else ``$STADSLAB_WORKSPACE``, else ``.stadslab/demo`` under the
current directory (the demo workspace that ``make demo`` builds).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import yaml

from stadslab.catalog import Catalog, load_catalog
from stadslab.errors import WorkspaceError

if TYPE_CHECKING:
    from stadslab.warehouse.store import Warehouse

DEFAULT_WORKSPACE = Path(".stadslab/demo")
CONFIG_FILE = "stadslab.yaml"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO_ROOT / "data" / "demo"
DEMO_CATALOG = Path(__file__).resolve().parent / "demo" / "catalog"

DEMO_CONFIG = {
    "municipality": {"name": "Utrecht", "gemeente_code": "GM0344", "division_year": 2024},
    "description": "Demowerkruimte van Stadslab met echte open data (Utrecht, Groningen, Den Haag, Amsterdam, NL) "
                   "en GESIMULEERDE gegevens uit het sociaal domein.",
}

# Demo users; the passwords are public (README) and only for the demo workspace.
DEMO_USERS = [
    {"id": "analist", "name": "Analist datalab", "password": "analist-demo", "roles": ["analist", "sociaal_analist"],
     "purposes": ["veiligheid", "sociaal_domein", "beheer", "onderzoek"]},
    {"id": "wijkmanager", "name": "Wijkmanager", "password": "wijkmanager-demo", "roles": ["professional"],
     "purposes": ["veiligheid", "beheer"]},
    {"id": "privacy", "name": "Privacyfunctionaris", "password": "privacy-demo", "roles": ["privacyfunctionaris"],
     "purposes": ["toezicht"]},
    {"id": "school", "name": "Schoolleider (gesimuleerde school S020)", "password": "school-demo", "roles": ["school"],
     "purposes": ["sociaal_domein"], "scope": {"school": "S020"}},
    {"id": "buurtteam", "name": "Buurtteam (wijk WK034403)", "password": "buurtteam-demo", "roles": ["buurtteam"],
     "purposes": ["sociaal_domein"], "scope": {"wijk_code": "WK034403"}},
]
DEMO_ACCESS = {
    "roles": {"analist": "Analist van het datalab", "sociaal_analist": "Analist sociaal domein (Dynamisch Data Dashboard)",
              "professional": "Professional in het veld: wijkmanager, handhaver, buurtteam, politiepartner",
              "privacyfunctionaris": "Privacyfunctionaris: ziet het auditlog, leest geen persoonsgegevens",
              "school": "Partner school: ziet alleen beveiligde aggregaten van de eigen school (Dynamisch Data Dashboard)",
              "buurtteam": "Partner buurtteam: ziet alleen beveiligde aggregaten van de eigen wijk (Dynamisch Data Dashboard)"},
    "purposes": {"veiligheid": "Gebiedsgerichte aanpak veiligheid (hotspots, inzet flexteam)",
                 "sociaal_domein": "Dynamisch Data Dashboard sociaal domein",
                 "beheer": "Beheer openbare ruimte", "onderzoek": "Onderzoek en statistiek",
                 "toezicht": "Toezicht op de verwerking (AVG art. 39)",
                 "publicatie": "Publicatie van beveiligde aggregaten op het open-dataportaal"},
}


def demo_config() -> dict[str, Any]:
    from stadslab.privacy.passwords import hash_password

    users = [{**{k: v for k, v in u.items() if k != "password"}, "password_hash": hash_password(u["password"])}
             for u in DEMO_USERS]
    return {**DEMO_CONFIG, "access": {**DEMO_ACCESS, "users": users}}


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def catalog_dir(self) -> Path:
        return self.root / "catalog"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def warehouse_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def restricted_path(self) -> Path:
        """Personal and confidential datasets: never opened by the free-SQL path."""
        return self.root / "restricted.duckdb"

    def restricted_ids(self) -> frozenset[str]:
        """Catalog datasets classified persoonsgegevens or vertrouwelijk, read from the YAML files
        directly, so a problem elsewhere in an entry never lets one slip into the main file."""
        from stadslab.warehouse.store import RESTRICTED_CLASSES

        out = set()
        for yml in sorted(self.catalog_dir.glob("*.y*ml")):
            try:
                raw = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(raw, dict) and raw.get("classification") in RESTRICTED_CLASSES and raw.get("id"):
                out.add(str(raw["id"]))
        return frozenset(out)

    @property
    def config(self) -> dict[str, Any]:
        path = self.root / CONFIG_FILE
        if not path.exists():
            return {}
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise WorkspaceError(f"{path}: geen geldige YAML ({exc})") from None

    @classmethod
    def resolve(cls, path: str | Path | None = None) -> "Workspace":
        chosen = path or os.environ.get("STADSLAB_WORKSPACE") or DEFAULT_WORKSPACE
        root = Path(chosen).expanduser().resolve()
        if not (root / "catalog").is_dir():
            raise WorkspaceError(
                f"geen Stadslab-werkruimte in {root} (map 'catalog' ontbreekt)",
                hint="maak er een met 'stadslab init DIR' (of 'make demo' voor de demo), "
                     "of kies er een met --workspace DIR / STADSLAB_WORKSPACE")
        secure_workspace(root)
        return cls(root)

    def catalog(self, *, strict: bool = True) -> Catalog:
        return load_catalog(self.catalog_dir, strict=strict)

    @contextmanager
    def warehouse(self, *, read_only: bool = False) -> Iterator["Warehouse"]:
        from stadslab.warehouse.store import Warehouse

        wh = Warehouse.open(self.warehouse_path, read_only=read_only, restricted_path=self.restricted_path,
                            restricted_ids=self.restricted_ids())
        try:
            from stadslab.warehouse.engine import wrap

            yield wrap(self.root, self.config, wh)   # engine: duckdb (this warehouse) or spark (docs/scale.md)
        finally:
            wh.close()


def init_workspace(root: Path, *, demo: bool = False, municipality: str | None = None,
                   gemeente_code: str | None = None) -> Workspace:
    """Create a workspace folder. With ``demo`` the bundled catalog and real data are copied in."""
    root = root.expanduser().resolve()
    os.umask(OWNER_ONLY_UMASK)     # before the first file: the holders' files, the key, the workspace
    if (root / "catalog").exists() and any((root / "catalog").iterdir()):
        raise WorkspaceError(f"{root} is al een werkruimte met een catalogus",
                             hint="kies een lege map, of werk met deze verder")
    (root / "catalog").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    if demo:
        from stadslab.demo.social_pipeline import build_social_demo

        config = demo_config()
        for yml in sorted(DEMO_CATALOG.glob("*.yaml")):
            shutil.copy2(yml, root / "catalog" / yml.name)
        shutil.copytree(DEMO_DATA, root / "data", dirs_exist_ok=True)
        shutil.copytree(DEMO_CATALOG.parent / "projects", root / "projects", dirs_exist_ok=True)  # project register
        shutil.copytree(DEMO_CATALOG.parent / "profielen", root / "profielen", dirs_exist_ok=True)  # DDD profiles
        build_social_demo(root)   # simulated source holders pseudonymise their files next to the workspace
        from stadslab.demo.ddd_pipeline import build_ddd_demo

        build_ddd_demo(root)      # Dynamisch Data Dashboard: holders pseudonymise, the data lab re-keys (project ddd)
        from stadslab.demo.weesfietsen_sim import build_demo as build_weesfietsen

        build_weesfietsen(root, DEMO_DATA)   # simulated orphan-bicycle history (docs/weesfietsen.md)
    else:
        config = {"municipality": {"name": municipality or "Mijn gemeente",
                                   "gemeente_code": gemeente_code or "GM0000", "division_year": 2024}}
    (root / CONFIG_FILE).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    secure_workspace(root)     # files copied with copy2 keep their source mode: make them owner-only too
    return Workspace(root)


OWNER_ONLY_UMASK = 0o077


def secure_workspace(root: Path) -> None:
    """Owner-only from here on (umask 0o077 for this process), and owner-only for what is there:
    the workspace folder, its files and folders (warehouse files, data, gate/, audit/). Files of other
    owners are left alone (chmod would fail; the check in docs/security.md names them)."""
    os.umask(OWNER_ONLY_UMASK)
    uid = os.getuid() if hasattr(os, "getuid") else None
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [None, *dirnames, *filenames]:
            path = dirpath if name is None else os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if (st.st_mode & 0o077) and not os.path.islink(path) and (uid is None or st.st_uid == uid):
                try:
                    os.chmod(path, st.st_mode & 0o7700)
                except OSError:
                    pass
