"""A small portal workspace built in code, and the portal served by a real uvicorn on 127.0.0.1.

Workspace: Utrecht's 2024 buurten (area division), an open point dataset of generated meldingen, an
open table, a ``persoonsgegevens`` dataset with generated pseudonyms (no BSNs) that declares two
publications, and a second one whose purposes lack ``publicatie`` (its publication must be refused).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from stadslab.web.launch import free_port

REPO = Path(__file__).resolve().parents[2]
BUURTEN = REPO / "data" / "demo" / "utrecht" / "boundaries_2024" / "utrecht_buurten_2024_rd.geojson"
WEB_STATIC = REPO / "stadslab" / "web" / "static"
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PERSONAL = "hulp_persoon"
CATEGORIES = ["afval", "verlichting", "groen", "overlast"]
REGELINGEN = ["bijstand", "schuldhulp", "jeugdhulp"]

CONFIG = {
    "municipality": {"name": "Utrecht", "gemeente_code": "GM0344", "division_year": 2024},
    "access": {"roles": {"sociaal_analist": "Analist sociaal domein"},
               "purposes": {"sociaal_domein": "DDD", "publicatie": "Publicatie van aggregaten"}},
    "portal": {"rate_limit": {"requests": 100000, "per_seconds": 60}},
}


def entries() -> list[dict]:
    buurten = {"id": "buurten_2024", "title": "Buurten Utrecht 2024", "owner": "CBS / Kadaster",
               "classification": "open", "licence": "CC BY 4.0", "theme": "geografie",
               "description": "Buurtgrenzen van Utrecht (CBS wijk- en buurtkaart 2024).",
               "areas": {"level": "buurt", "year": 2024, "code_field": "buurtcode", "name_field": "buurtnaam",
                         "parent_field": "wijkcode"},
               "geography": {"level": "polygon", "crs": "EPSG:28992"}, "source": {"path": "buurten.geojson"},
               "fields": [{"name": "buurtcode", "type": "string", "nullable": False, "unique": True},
                          {"name": "buurtnaam", "type": "string"}, {"name": "wijkcode", "type": "string"},
                          {"name": "wijknaam", "type": "string"},
                          {"name": "geom", "type": "geometry", "role": "geometry"}]}
    meldingen = {"id": "meldingen_openbare_ruimte", "title": "Meldingen openbare ruimte (test)",
                 "description": "Gegenereerde meldingen over afval, verlichting, groen en overlast.",
                 "owner": "Gemeente Utrecht", "classification": "open", "licence": "CC0 1.0", "theme": "openbare ruimte",
                 "keywords": ["meldingen", "fietswrak", "openbare ruimte"], "update_frequency": "dagelijks",
                 "contact": "https://www.utrecht.nl/contact",
                 "temporal_coverage": {"start": "2024-01-01", "end": "2024-12-31"},
                 "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
                 "source": {"path": "meldingen.csv"},
                 "fields": [{"name": "melding_id", "type": "string", "unique": True, "nullable": False,
                             "description": "Nummer van de melding"},
                            {"name": "categorie", "type": "string", "codes": CATEGORIES, "description": "Soort melding"},
                            {"name": "status", "type": "string", "codes": ["open", "afgehandeld"]},
                            {"name": "datum", "type": "date", "role": "time", "description": "Datum van de melding"},
                            {"name": "x", "type": "number", "role": "x", "unit": "m"},
                            {"name": "y", "type": "number", "role": "y", "unit": "m"}]}
    tabel = {"id": "bezoekers_per_maand", "title": "Bezoekers stadskantoor per maand (test)",
             "description": "Aantal bezoekers van het stadskantoor per maand.", "owner": "Gemeente Utrecht",
             "classification": "open", "licence": "CC BY 4.0", "theme": "bestuur", "source": {"path": "bezoekers.csv"},
             "fields": [{"name": "maand", "type": "date"}, {"name": "bezoekers", "type": "integer"}]}
    personal = {"id": PERSONAL, "title": "Hulp per persoon (gegenereerd)", "owner": "Werk en Inkomen (test)",
                "description": "Gegenereerde hulptrajecten per pseudoniem.", "classification": "persoonsgegevens",
                "theme": "sociaal domein", "licence": "alleen intern; gepubliceerde aggregaten CC0",
                "purposes": ["sociaal_domein", "publicatie"], "simulated": True,
                "geography": {"level": "buurt", "division_year": 2024}, "privacy": {"min_cell": 15, "unit": "personen"},
                "access": {"roles": ["sociaal_analist"], "purposes": ["sociaal_domein", "publicatie"]},
                "source": {"path": "hulp.csv"},
                "fields": [{"name": "pseudo_id", "type": "string", "role": "pseudonym", "nullable": False},
                           {"name": "postcode_buurtcode", "source": "buurtcode", "type": "string", "role": "area_code"},
                           {"name": "regeling", "type": "string", "codes": REGELINGEN},
                           {"name": "startdatum", "type": "date"}],
                "publications": [
                    {"id": "hulp_per_wijk", "title": "Personen met hulp per wijk en regeling",
                     "description": "Unieke personen met hulp, per wijk en regeling (beveiligd aggregaat).",
                     "by": ["wijk_code", "regeling"]},
                    {"id": "hulp_per_jaar", "title": "Personen met hulp per startjaar",
                     "description": "Unieke personen per jaar waarin de hulp begon, per regeling.",
                     "by": ["regeling"], "period": {"field": "startdatum", "grain": "jaar"}}]}
    no_purpose = {**personal, "id": "hulp_zonder_doel", "title": "Hulp zonder publicatiedoel (gegenereerd)",
                  "purposes": ["sociaal_domein"], "access": {"roles": ["sociaal_analist"], "purposes": ["sociaal_domein"]},
                  "source": {"path": "hulp_zonder_doel.csv"},
                  "publications": [{"id": "zonder_doel_per_wijk", "title": "Mag niet", "description": "Doelbinding.",
                                    "by": ["wijk_code"]}]}
    contacten = {"id": "klantcontacten", "title": "Klantcontacten per kanaal (test)", "owner": "Gemeente Utrecht",
                 "description": "Gegenereerde klantcontacten: kanaal, onderwerp en wijk (groot genoeg voor de kubus).",
                 "classification": "open", "licence": "CC0 1.0", "theme": "bestuur", "source": {"path": "contacten.csv"},
                 "fields": [{"name": "contact_id", "type": "integer"}, {"name": "kanaal", "type": "string"},
                            {"name": "onderwerp", "type": "string"}, {"name": "wijk", "type": "string"},
                            {"name": "tevreden", "type": "boolean"}, {"name": "duur_min", "type": "number"}]}
    return [buurten, meldingen, tabel, personal, no_purpose, contacten]


def write_data(root: Path, rng: np.random.Generator) -> dict:
    import pandas as pd
    import shapely.geometry

    data = root / "data"
    (data / "buurten.geojson").write_bytes(BUURTEN.read_bytes())
    feats = json.loads(BUURTEN.read_text())["features"]
    codes = [f["properties"]["buurtcode"] for f in feats]
    inside = [shapely.geometry.shape(f["geometry"]).representative_point() for f in feats]
    n = 3000
    pick = rng.integers(0, len(feats), n)
    pd.DataFrame({
        "melding_id": [f"M{i:05d}" for i in range(n)],
        "categorie": rng.choice(CATEGORIES, n, p=[0.4, 0.3, 0.2, 0.1]),
        "status": rng.choice(["open", "afgehandeld"], n),
        "datum": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "x": [round(inside[i].x + rng.uniform(-20, 20), 1) for i in pick],
        "y": [round(inside[i].y + rng.uniform(-20, 20), 1) for i in pick],
    }).to_csv(data / "meldingen.csv", index=False)
    pd.DataFrame({"maand": pd.date_range("2023-01-01", periods=24, freq="MS").date,
                  "bezoekers": rng.integers(5000, 9000, 24)}).to_csv(data / "bezoekers.csv", index=False)
    m = 20000
    pd.DataFrame({"contact_id": range(m), "kanaal": rng.choice(["telefoon", "balie", "website", "app", "e-mail"], m),
                  "onderwerp": rng.choice(["afval", "paspoort", "parkeren", "belasting", "zorg", "overig"], m),
                  "wijk": rng.choice([f"Wijk {i:02d}" for i in range(1, 11)] + [""], m),
                  "tevreden": rng.choice(["true", "false"], m), "duur_min": rng.gamma(2, 3, m).round(1)}
                 ).to_csv(data / "contacten.csv", index=False)
    return {"codes": codes}


def personal_frame(rng: np.random.Generator, codes: list[str], persons: int = 2500):
    import pandas as pd

    ids = [secrets.token_hex(16) for _ in range(persons)]   # generated pseudonyms, never BSNs
    # a few large buurten and many small ones, so the gate has something to suppress
    weights = rng.pareto(1.2, len(codes)) + 0.05
    home = rng.choice(codes, persons, p=weights / weights.sum())
    rows = rng.integers(1, 3, persons)
    idx = np.repeat(np.arange(persons), rows)
    return pd.DataFrame({
        "pseudo_id": np.array(ids)[idx], "buurtcode": home[idx],
        "regeling": rng.choice(REGELINGEN, len(idx), p=[0.6, 0.3, 0.1]),
        "startdatum": (pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, len(idx)), unit="D")).date,
    })


class LiveServer:
    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.time() + 15
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def make_app(state, **kwargs) -> tuple[FastAPI, object]:
    from stadslab.portal import build_router

    app = FastAPI()
    router = build_router(state, **kwargs)
    app.include_router(router)
    if WEB_STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")
    return app, router


@pytest.fixture(scope="session")
def portal_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("portal") / "ws"
    (root / "catalog").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "stadslab.yaml").write_text(yaml.safe_dump(CONFIG, allow_unicode=True))
    for e in entries():
        (root / "catalog" / f"{e['id']}.yaml").write_text(yaml.safe_dump(e, allow_unicode=True, sort_keys=False))
    rng = np.random.default_rng(6)
    info = write_data(root, rng)
    personal_frame(rng, info["codes"]).to_csv(root / "data" / "hulp.csv", index=False)
    personal_frame(rng, info["codes"], 300).to_csv(root / "data" / "hulp_zonder_doel.csv", index=False)
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "stadslab"), "refresh", "-w", str(root), "--json"],
                          capture_output=True, text=True, timeout=300, env={**os.environ})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture(scope="session")
def state(portal_ws):
    from stadslab.web.state import AppState
    from stadslab.workspace import Workspace

    st = AppState(Workspace(portal_ws))
    yield st
    st.close()


@pytest.fixture(scope="session")
def live(state):
    app, router = make_app(state)
    server = LiveServer(app)
    server.router = router
    server.state = state
    yield server
    server.stop()


@pytest.fixture(scope="session")
def personal_rows(state):
    """The raw personal dataset as the warehouse holds it (for checks that nothing of it leaks)."""
    return state.warehouse().table(PERSONAL).to_pandas()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}
