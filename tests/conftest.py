"""Fixtures shared by all test folders: repository paths and small workspaces built in code."""

from __future__ import annotations

import random
import shutil
import textwrap
from pathlib import Path

import copy

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DEMO_DATA = REPO / "data" / "demo"
VENV_BIN = REPO / ".venv" / "bin"
UTRECHT_BUURTEN_RD = DEMO_DATA / "utrecht" / "boundaries_2024" / "utrecht_buurten_2024_rd.geojson"

BUURTEN_2024_YAML = {
    "id": "buurten_2024", "title": "Buurten 2024", "owner": "CBS / Kadaster", "classification": "open",
    "areas": {"level": "buurt", "year": 2024, "code_field": "buurtcode", "name_field": "buurtnaam",
              "parent_field": "wijkcode"},
    "geography": {"level": "polygon", "crs": "EPSG:28992"},
    "source": {"path": "buurten.geojson"},
    "fields": [{"name": "buurtcode", "type": "string", "nullable": False, "unique": True},
               {"name": "buurtnaam", "type": "string"},
               {"name": "wijkcode", "type": "string"},
               {"name": "geom", "type": "geometry", "role": "geometry"}],
}


def elfproef_bsn(rng: random.Random) -> str:
    """A synthetic BSN that passes the 11-proef (generated at test time, never committed)."""
    while True:
        d = [rng.randint(0, 9) for _ in range(8)]
        s = sum(w * x for w, x in zip(range(9, 1, -1), d))
        last = s % 11
        if last <= 9 and d[0] != 0:
            return "".join(map(str, d)) + str(last)


class WorkspaceBuilder:
    """Builds a workspace folder with a catalog and data files written by the test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "catalog").mkdir(parents=True)
        (root / "data").mkdir()
        (root / "stadslab.yaml").write_text("municipality: {name: Testgemeente, gemeente_code: GM0344}\n")

    def dataset(self, entry: dict) -> "WorkspaceBuilder":
        (self.root / "catalog" / f"{entry['id']}.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True))
        return self

    def file(self, rel: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.root / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(textwrap.dedent(content).lstrip("\n").encode(encoding))
        else:
            path.write_bytes(content)
        return path

    def copy(self, src: Path, rel: str) -> Path:
        dst = self.root / "data" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        return dst

    def with_utrecht_buurten(self) -> "WorkspaceBuilder":
        self.copy(UTRECHT_BUURTEN_RD, "buurten.geojson")
        return self.dataset(BUURTEN_2024_YAML)


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's browser, but Debian's Chromium (Playwright's own download cannot be had here)."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture
def builder(tmp_path: Path) -> WorkspaceBuilder:
    return WorkspaceBuilder(tmp_path / "ws")


def run_cli(*args: str, check: bool = True, env: dict | None = None):
    """Run the real ``stadslab`` command as a user would; returns the CompletedProcess."""
    import os
    import subprocess

    proc = subprocess.run([str(VENV_BIN / "stadslab"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"stadslab {' '.join(args)} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def csrf_of(html: str) -> str:
    """The CSRF token of a page's form (the web tests log in as a user would)."""
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "geen CSRF-token in de pagina"
    return m.group(1)


def web_login(base: str, user: str, password: str, *, werkdoel: str | None = None, timeout: float = 120):
    """An httpx client logged in through the real login form (and, if given, with a werkdoel chosen)."""
    import httpx

    c = httpx.Client(base_url=base, timeout=timeout)
    r = c.post("/login", data={"gebruiker": user, "wachtwoord": password,
                               "csrf_token": csrf_of(c.get("/login").text), "next": "/"})
    assert r.status_code == 303, r.text
    if werkdoel:
        r = c.post("/werkdoel", data={"doel": werkdoel, "csrf_token": csrf_of(c.get("/login").text), "next": "/"})
        assert r.status_code == 303
    return c


def app_routes(routes, prefix: str = ""):
    """(path, methods) of every route of a FastAPI app, also inside included routers (kept nested)."""
    for r in routes:
        if hasattr(r, "original_router"):
            yield from app_routes(r.original_router.routes, prefix + r.include_context.prefix)
        elif getattr(r, "methods", None):
            yield prefix + r.path, set(r.methods)


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory) -> Path:
    """The demo workspace (all bundled real data), built once per test run through the CLI."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    run_cli("init", str(root), "--demo")
    run_cli("refresh", "-w", str(root), "--json")
    return root


INCIDENTS = {
    "id": "incidenten", "title": "Incidenten (test)", "owner": "Politie", "classification": "open",
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "incidenten.csv"},
    "fields": [
        {"name": "incident_id", "source": "Incident ID", "type": "string", "nullable": False, "unique": True},
        {"name": "soort", "source": "Soort", "type": "string",
         "codes": ["woninginbraak", "autokraak", "fietsdiefstal"]},
        {"name": "tijd", "source": "Datum/tijd", "type": "datetime", "role": "time"},
        {"name": "schade", "source": "Schade (euro)", "type": "number", "range": {"min": 0}},
        {"name": "x", "source": "X", "type": "number", "role": "x", "unit": "m"},
        {"name": "y", "source": "Y", "type": "number", "role": "y", "unit": "m"},
    ],
}

GOOD_CSV = """
Incident ID;Soort;Datum/tijd;Schade (euro);X;Y
A1;woninginbraak;21-09-2017 07:40;1.250,50;136859;455909
A2;autokraak;2017-09-22 23:15:00;.;135000;456500
A3;fietsdiefstal;01-10-2017 12:00;80;100000;400000
A4;fietsdiefstal;02-10-2017 08:30;0;;
"""

BAD_CSV = """
Incident ID;Soort;Datum/tijd;Schade (euro);X;Y
A1;woninginbraak;21-09-2017 07:40;1.250,50;136859;455909
A2;diefstal;2017-09-22 23:15:00;.;135000;456500
A3;fietsdiefstal;32-13-2017 12:00;80;136000;455000
A4;fietsdiefstal;02-10-2017 08:30;-5;136100;455100
"""


@pytest.fixture
def incidents_entry() -> dict:
    return copy.deepcopy(INCIDENTS)


@pytest.fixture
def incident_ws(builder, incidents_entry):
    """A workspace with Utrecht's 2024 buurten and a small incidents file (Dutch formats)."""
    builder.with_utrecht_buurten().dataset(incidents_entry)
    builder.file("incidenten.csv", GOOD_CSV, encoding="latin-1")
    return builder
