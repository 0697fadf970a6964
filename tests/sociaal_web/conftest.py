"""Fixtures for the dashboard sociaal domein (/sociaal): one demo workspace of our own (init --demo, then a
refresh of only what the dashboard reads: the Utrecht area divisions, the DDD and sociaal sources), a real
uvicorn (``stadslab serve``), and logged-in clients per role and werkdoel."""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from stadslab.web.launch import running_server
from tests.conftest import csrf_of, run_cli, web_login  # noqa: F401 (csrf_of: re-exported)

PASSWORDS = {"analist": "analist-demo", "wijkmanager": "wijkmanager-demo", "privacy": "privacy-demo",
             "school": "school-demo", "buurtteam": "buurtteam-demo"}
AREAS = ["utrecht_wijken_2024", "utrecht_buurten_2024"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
PROFILES = {
    "verzuim_bijstand": {"titel": "Verzuim > 10 % in een huishouden met bijstand", "eigenaar": "Team Onderwijs",
                         "doel": "sociaal_domein", "voorwaarden": {"alle": [
                             {"veld": "verzuim_pct", "op": ">", "waarde": 10},
                             {"veld": "bijstand", "op": "=", "waarde": "ja"}]}},
    "bijstand": {"titel": "Huishouden met bijstand", "eigenaar": "Team Onderwijs", "doel": "sociaal_domein",
                 "voorwaarden": {"alle": [{"veld": "bijstand", "op": "=", "waarde": "ja"}]}},
}


@pytest.fixture(scope="session")
def ddd_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sociaal_web") / "ws"
    run_cli("init", str(root), "--demo")
    ids = [p.stem for p in (root / "catalog").glob("*.yaml") if p.stem.startswith("ddd_")]
    run_cli("refresh", "-w", str(root), *AREAS, *sorted(ids))
    # the demo publishes no buurt level (profielen/.instellingen.yaml); these tests need it: a buurtteam's buurten
    (root / "profielen" / ".instellingen.yaml").write_text("buurtniveau: ja\n", encoding="utf-8")
    folder = root / "profielen"
    if not list(folder.glob("*.yaml")):      # a demo without declared profiles: declare two, as a user would
        folder.mkdir(exist_ok=True)
        for pid, spec in PROFILES.items():
            (folder / f"{pid}.yaml").write_text(yaml.safe_dump({"id": pid, **spec}, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def users(ddd_ws) -> dict[str, dict]:
    cfg = yaml.safe_load((ddd_ws / "stadslab.yaml").read_text(encoding="utf-8"))
    return {u["id"]: u for u in cfg["access"]["users"]}


@pytest.fixture(scope="session")
def server(ddd_ws) -> Iterator[str]:
    with running_server(ddd_ws, ready="/login") as base:
        yield base


def login(base: str, user: str, werkdoel: str | None = None) -> httpx.Client:
    return web_login(base, user, PASSWORDS[user], werkdoel=werkdoel)


@pytest.fixture(scope="session")
def clients(server) -> Iterator[dict[str, httpx.Client]]:
    """anoniem, verkeerde rol (wijkmanager), verkeerd doel (analist with werkdoel veiligheid), school,
    buurtteam, analist (sociaal_domein), privacy (toezicht)."""
    cs = {"anoniem": httpx.Client(base_url=server, timeout=120),
          "verkeerde rol": login(server, "wijkmanager"),
          "verkeerd doel": login(server, "analist", "veiligheid"),
          "school": login(server, "school", "sociaal_domein"),
          "buurtteam": login(server, "buurtteam", "sociaal_domein"),
          "analist": login(server, "analist", "sociaal_domein"),
          "privacy": login(server, "privacy", "toezicht")}
    yield cs
    for c in cs.values():
        c.close()


@pytest.fixture(scope="session")
def pseudonyms(ddd_ws) -> set[str]:
    """Every pseudonym in the workspace's personal data files (the 32-hex values)."""
    files = glob.glob(f"{ddd_ws}/data/ddd/*.parquet") + glob.glob(f"{ddd_ws}/data/sociaal/*.parquet")
    out: set[str] = set()
    for f in files:
        cols = [c for (c,) in duckdb.sql(f"SELECT column_name FROM (DESCRIBE SELECT * FROM '{f}')").fetchall()
                if c.startswith("pseudo")]
        for c in cols:
            out |= {v for (v,) in duckdb.sql(f'SELECT DISTINCT "{c}" FROM \'{f}\' WHERE "{c}" IS NOT NULL').fetchall()}
    assert len(out) > 100
    return out


def audit_entries(ws: Path) -> list[dict]:
    import json

    path = ws / "audit" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def profile_id(clients) -> str:
    r = clients["analist"].get("/api/sociaal/profielen")
    assert r.status_code == 200, r.text
    items = r.json()["profielen"]
    assert items, "de demo heeft geen profielen"
    return items[0]["id"]
