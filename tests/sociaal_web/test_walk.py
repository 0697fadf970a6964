"""Route walk over every /sociaal page and /api/sociaal route × (anonymous, wrong role, wrong purpose, school,
buurtteam, analist, privacy officer): no 5xx, no pseudonym (32 hex) in any response body, and the public
and the wrong role/purpose never get figures."""

from __future__ import annotations

import re
import shutil

from stadslab.web.app import create_app
from stadslab.workspace import Workspace
from tests.conftest import app_routes

HEX32 = re.compile(r"[0-9a-f]{32}")


def _sociaal_routes(ws, tmp_path) -> list[str]:
    """The app's own list (a route added later is walked too), read from an app over a copy of the config."""
    copy = tmp_path / "ws"
    copy.mkdir()
    for name in ("stadslab.yaml", "catalog"):
        src = ws / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, copy / name)
    app = create_app(Workspace(copy), warm=False)
    try:
        paths = sorted({p for p, m in app_routes(app.routes, "") if "sociaal" in p and "GET" in m})
    finally:
        app.state.stadslab.close()
    return paths


def test_route_walk(clients, ddd_ws, pseudonyms, profile_id, tmp_path):
    paths = _sociaal_routes(ddd_ws, tmp_path)
    assert {"/sociaal", "/sociaal/governance", "/api/sociaal/profiel", "/api/sociaal/effect",
            "/api/sociaal/gebruik"} <= set(paths)
    # the profile's own levels, another partner's wijk, an unknown profile and an injection attempt
    variants = [{}, {"profiel": profile_id, "niveau": "school"},
                {"profiel": profile_id, "niveau": "wijk_code", "gebied": "WK034401"},
                {"profiel": profile_id, "format": "csv"}, {"profiel": "bestaat-niet", "niveau": "x' OR 1=1"}]
    tried, problems = 0, []
    for path in paths:
        for params in variants:
            for who, c in clients.items():
                r = c.get(path, params=params, follow_redirects=False)
                tried += 1
                if r.status_code >= 500:
                    problems.append((who, path, params, r.status_code))
                if set(HEX32.findall(r.text)) & pseudonyms:
                    problems.append((who, path, params, "pseudoniem in antwoord"))
                # figures and usage are refused to outsiders; governance records (convenant, DPIA) are not figures
                if who in ("anoniem", "verkeerde rol", "verkeerd doel") and "governance" not in path and \
                        r.status_code < 300:
                    problems.append((who, path, params, f"geen weigering ({r.status_code})"))
    print(f"\nroute walk /sociaal: {len(paths)} routes, {tried} verzoeken")
    assert tried >= 7 * len(variants) * len(paths)
    assert problems == []
