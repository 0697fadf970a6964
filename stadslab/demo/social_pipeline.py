"""The demo's social-domain chain, end to end, as it runs in a municipality (all data SIMULATED).

    source holders (own machines)                       data lab (workspace)
    ─────────────────────────────                       ───────────────────
    raw files with BSNs ──► stadslab source pseudonymise ──► data/sociaal/*.parquet ──► refresh ──► warehouse
    shared source key (never leaves the holders)            pseudonyms, buurt codes, birth years only

``build_social_demo(workspace_root)`` plays both parts: it generates the holders' raw files
(synthetic_social.py), an address register (postcode → buurt code, what a holder has from the BAG),
a source key, pseudonymises the three files with the kit, and copies the catalog entries for
``sociaal_uitkeringen``, ``sociaal_verzuim`` and ``sociaal_buurtteam`` into the workspace. The
holder folder sits *next to* the workspace (``<workspace>-bronhouders/``), never inside it: the kit
refuses to write a key into a workspace. Receipts go with the data, rejects stay with the holders.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from stadslab.demo.synthetic_social import generate_social_demo
from stadslab.privacy.keys import new_key, write_key
from stadslab.privacy.pseudonymise import pseudonymise_file
from stadslab.privacy.tabular import open_source

CATALOG_TEMPLATES = Path(__file__).resolve().parent / "catalog_sociaal"
DROP = ["voornaam", "achternaam", "adres"]

# holder file → (output name, BSN columns, coarsening)
DELIVERIES: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "werk_en_inkomen_uitkeringen.xlsx": ("uitkeringen.parquet", ["bsn_aanvrager", "bsn_partner"],
                                         {"geboortedatum": "ageband10", "postcode": "buurt"}),
    "leerlingzaken_verzuim.csv": ("verzuim.parquet", ["bsn_leerling", "bsn_ouder"],
                                  {"geboortedatum": "year", "postcode": "buurt"}),
    "buurtteam_interventies.csv": ("buurtteam.parquet", ["bsn"],
                                   {"geboortedatum": "ageband10", "postcode": "buurt"}),
}


def holder_dir_for(workspace_root: Path) -> Path:
    root = Path(workspace_root).resolve()
    return root.parent / f"{root.name}-bronhouders"


def _address_register(raw: Path, out: Path) -> None:
    """Postcode → buurt code from the simulated population (a holder's BAG extract in real life).
    Postcodes that the simulation put in two buurten are left out, as an ambiguous BAG match would be."""
    con = duckdb.connect()
    con.register("benefits", open_source(raw / "werk_en_inkomen_uitkeringen.xlsx").read_all())
    con.execute(f"""
        CREATE TABLE pc AS
        SELECT lpad(regexp_replace(CAST(bsn AS VARCHAR), '(\\.0$)|[^0-9]', '', 'g'), 9, '0') AS bsn, postcode FROM (
            SELECT bsn_leerling AS bsn, postcode FROM read_csv('{raw / "leerlingzaken_verzuim.csv"}', all_varchar=true)
            UNION ALL SELECT bsn, postcode FROM read_csv('{raw / "buurtteam_interventies.csv"}', all_varchar=true)
            UNION ALL SELECT CAST(bsn_aanvrager AS VARCHAR), CAST(postcode AS VARCHAR) FROM benefits)""")
    con.execute(f"""
        COPY (SELECT postcode, any_value(buurt_code) AS buurt_code FROM pc
              JOIN read_parquet('{raw / "bevolking_waarheid.parquet"}') t USING (bsn)
              GROUP BY postcode HAVING count(DISTINCT buurt_code) = 1 ORDER BY postcode)
        TO '{out}' (HEADER, DELIMITER ',')""")
    con.close()


def build_social_demo(workspace_root: Path, *, scale: float = 0.1, seed: int = 1) -> dict[str, Any]:
    """Generate, pseudonymise and catalogue the simulated social-domain sources; returns the receipts."""
    ws = Path(workspace_root).resolve()
    holder = holder_dir_for(ws)
    raw = holder / "ruw"
    if holder.exists():
        shutil.rmtree(holder)
    generate_social_demo(raw, scale=scale, seed=seed)
    register = holder / "adresregister.csv"
    _address_register(raw, register)
    key_path = write_key(new_key(kind="source", note="demo sociaal domein (gesimuleerd)"), holder / "bronsleutel.key")
    out_dir = ws / "data" / "sociaal"
    out_dir.mkdir(parents=True, exist_ok=True)
    receipts = {}
    for name, (out_name, bsn_cols, coarsen) in DELIVERIES.items():
        receipts[out_name] = pseudonymise_file(
            raw / name, out_dir / out_name, bsn_column=bsn_cols, key=key_path, drop=DROP, coarsen=coarsen,
            buurt_lookup=register, rejects_path=holder / f"{Path(name).stem}.afgekeurd.csv")
    for yml in sorted(CATALOG_TEMPLATES.glob("*.yaml")):
        shutil.copy2(yml, ws / "catalog" / yml.name)
    (holder / "LEESMIJ-BRONHOUDERS.txt").write_text(
        "Deze map speelt de machines van de bronhouders na (Werk en Inkomen, Leerlingzaken, buurtteams).\n"
        "Alles is GESIMULEERD. De ruwe bestanden met BSN's, de bronsleutel en de afgekeurde rijen blijven hier;\n"
        "alleen de gepseudonimiseerde bestanden en hun ontvangstbewijzen gaan naar de werkruimte (data/sociaal).\n",
        encoding="utf-8")
    return receipts
