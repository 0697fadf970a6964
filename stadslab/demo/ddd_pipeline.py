"""The Dynamisch Data Dashboard's chain (issue 13), end to end, as it runs in a municipality (all SIMULATED).

    holders (own machines)               data lab (outside the workspace)          workspace
    ──────────────────────               ────────────────────────────────          ─────────
    raw files with BSNs ─► pseudonymise ─► source pseudonyms ─► rekey (project ddd) ─► data/ddd/*.parquet
    source key (<ws>-bronhouders/)          master key (<ws>-datalab/master.key)       project pseudonyms only

1. The holders (Leerlingzaken, Werk en Inkomen, the ZRM registration, the buurtteams) pseudonymise their
   files with the kit and the shared *source key* — the same key and holder folder the ``sociaal_*``
   demo uses (``<ws>-bronhouders/``), so a person has the same source pseudonym in every delivery.
2. The data lab receives them in ``<ws>-datalab/ontvangst/`` and re-keys every pseudonym column to the
   project key of ``ddd``, derived from its master key (``stadslab/privacy/rekey.py``). Only the
   re-keyed files enter the workspace (``data/ddd/``): their pseudonyms join with each other but not
   with the source pseudonyms of ``sociaal_*`` or with any other project.
3. The catalog entries (``catalog_ddd/*.yaml``) go to the workspace catalog; ``stadslab refresh`` loads
   them, applying the retention terms of their ``governance:`` blocks (stadslab/ingest/retention.py).

The holder folder and the data-lab folder sit next to the workspace, never inside it (the kit refuses
to write a key into a workspace).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from stadslab.demo.social_pipeline import holder_dir_for
from stadslab.demo.synthetic_ddd import DEMO_SCALE, generate_ddd
from stadslab.privacy.keys import load_key, new_key, write_key
from stadslab.privacy.pseudonymise import pseudonymise_file
from stadslab.privacy.rekey import derive_project_key, rekey_file

PROJECT_ID = "ddd"
CATALOG_TEMPLATES = Path(__file__).resolve().parent / "catalog_ddd"

# holder file → (delivered name, BSN columns, coarsening); the pseudonym columns after the kit follow
DELIVERIES: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "leerlingzaken_verzuim.parquet": ("verzuim.parquet", ["bsn_leerling", "bsn_ouder"], {"geboortedatum": "year"}),
    "werk_en_inkomen_maanden.parquet": ("uitkeringen.parquet", ["bsn_aanvrager", "bsn_partner"], {}),
    "zrm_metingen.parquet": ("zrm.parquet", ["bsn"], {}),
    "buurtteam_trajecten.parquet": ("trajecten.parquet", ["bsn"], {}),
}
PSEUDONYM_COLUMNS = {"verzuim.parquet": ["pseudo_id", "pseudo_id_ouder"],
                     "uitkeringen.parquet": ["pseudo_id", "pseudo_id_partner"],
                     "zrm.parquet": ["pseudo_id"], "trajecten.parquet": ["pseudo_id"]}


def datalab_dir_for(workspace_root: Path) -> Path:
    """The data lab's own folder next to the workspace: master key and received (source-keyed) files."""
    root = Path(workspace_root).resolve()
    return root.parent / f"{root.name}-datalab"


def _source_key(holder: Path) -> Path:
    """The holders' shared source key: the one the sociaal_* demo made, else a new one."""
    key = holder / "bronsleutel.key"
    if not key.exists():
        write_key(new_key(kind="source", note="demo sociaal domein (gesimuleerd)"), key)
    return key


def _master_key(lab: Path) -> Path:
    key = lab / "master.key"
    if not key.exists():
        write_key(new_key(kind="master", note="mastersleutel datalab (demo, gesimuleerd)"), key)
    return key


def build_ddd_demo(workspace_root: Path, *, scale: float = DEMO_SCALE, seed: int = 1) -> dict[str, Any]:
    """Generate, pseudonymise (holders), re-key (data lab) and catalogue the DDD sources; returns receipts."""
    ws = Path(workspace_root).resolve()
    holder = holder_dir_for(ws)
    raw = holder / "ddd" / "ruw"
    if raw.parent.exists():
        shutil.rmtree(raw.parent)
    paths = generate_ddd(raw, scale=scale, seed=seed)
    source_key = load_key(_source_key(holder), kind="source")
    lab = datalab_dir_for(ws)
    received = lab / "ontvangst" / PROJECT_ID
    if received.exists():
        shutil.rmtree(received)
    received.mkdir(parents=True)
    project_key = derive_project_key(load_key(_master_key(lab), kind="master"), PROJECT_ID)
    out_dir = ws / "data" / "ddd"
    out_dir.mkdir(parents=True, exist_ok=True)
    receipts: dict[str, Any] = {}
    for name, (out_name, bsn_cols, coarsen) in DELIVERIES.items():
        delivered = received / out_name
        pseudonymise_file(raw / name, delivered, bsn_column=bsn_cols, key=source_key, coarsen=coarsen,
                          rejects_path=holder / "ddd" / f"{Path(name).stem}.afgekeurd.csv",
                          receipt_path=holder / "ddd" / f"{out_name}.receipt.json")
        receipts[out_name] = rekey_file(delivered, out_dir / out_name, key=project_key,
                                        columns=PSEUDONYM_COLUMNS[out_name])
    shutil.copy2(paths["schools"], out_dir / "scholen.csv")
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    public = {k: manifest[k] for k in ("simulated", "gesimuleerd", "statement", "generator", "seed", "scale",
                                       "school_years", "counts", "planted_effect_pp", "effect_definition",
                                       "confounders", "confounding", "model")}
    public["project_id"] = PROJECT_ID
    (out_dir / "manifest.json").write_text(json.dumps(public, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for yml in sorted(CATALOG_TEMPLATES.glob("*.yaml")):
        shutil.copy2(yml, ws / "catalog" / yml.name)
    (lab / "LEESMIJ-DATALAB.txt").write_text(
        "Deze map hoort bij het datalab, niet bij de werkruimte. GESIMULEERD.\n"
        "master.key: de mastersleutel waarvan projectsleutels worden afgeleid (stadslab source project-key).\n"
        "ontvangst/: de bestanden zoals de bronhouders ze leverden (bronpseudoniemen); alleen de\n"
        "herversleutelde bestanden (projectpseudoniemen) gaan naar de werkruimte (data/ddd).\n", encoding="utf-8")
    return receipts


AREA_DATASETS = ("utrecht_buurten_2024", "utrecht_wijken_2024")


def ddd_workspace(root: Path, *, scale: float, seed: int = 1, config: dict[str, Any] | None = None,
                  profiles: bool = False) -> Path:
    """A workspace with only what the dashboard needs — the Utrecht area divisions (so buurt codes get their
    wijk) and the four DDD sources — not yet loaded; for benches and tests at other scales than the demo.
    ``config``: the stadslab.yaml to write (default: the demo's users and purposes); ``profiles``: copy the
    demo profiles as ``init --demo`` does."""
    import yaml

    from stadslab.workspace import DEMO_CATALOG, DEMO_DATA, demo_config, init_workspace

    root = Path(root)
    init_workspace(root)
    (root / "stadslab.yaml").write_text(yaml.safe_dump(config or demo_config(), allow_unicode=True), encoding="utf-8")
    for ds in AREA_DATASETS:
        entry = yaml.safe_load((DEMO_CATALOG / f"{ds}.yaml").read_text(encoding="utf-8"))
        shutil.copy2(DEMO_CATALOG / f"{ds}.yaml", root / "catalog" / f"{ds}.yaml")
        dst = root / "data" / entry["source"]["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(DEMO_DATA / entry["source"]["path"], dst)
    if profiles:
        shutil.copytree(DEMO_CATALOG.parent / "profielen", root / "profielen")
    build_ddd_demo(root, scale=scale, seed=seed)
    return root
