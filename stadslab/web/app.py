"""The Stadslab web app: pages for professionals and a JSON/GeoJSON/CSV API behind every page.

``create_app(workspace)`` builds one FastAPI app over one ``AppState`` (one warehouse per process).
Pages and API routers are listed explicitly in ``stadslab.web.pages.PAGES`` and
``stadslab.web.api.ROUTERS``; the open data portal (``stadslab.portal``) is added when installed.
Everything the browser loads is served from ``/static`` (MapLibre, Vega, Swagger UI are vendored),
so the app works without internet.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from stadslab.web import errors, warmup
from stadslab.web.api import ROUTERS
from stadslab.web.cache import LRUCache
from stadslab.web.pages import PAGES
from stadslab.web.security import LoginThrottle, RequestLimits, SessionMiddleware, SessionStore, load_secret
from stadslab.web.state import AppState
from stadslab.workspace import Workspace

STATIC_DIR = Path(__file__).parent / "static"

TAGS = [
    {"name": "catalogus", "description": "Datasets, hun herkomst (bron) en geaggregeerde cijfers via de publicatiepoort."},
    {"name": "gebieden", "description": "Gemeenten, wijken en buurten (gebiedsregister) als GeoJSON."},
    {"name": "monitor", "description": "Gebiedsmonitor: CBS Kerncijfers per gebied, z-score en verandering."},
    {"name": "incidenten", "description": "Incidentenkaart: punten, aantallen per buurt en 125 m-vak, hotspots."},
    {"name": "risico", "description": "Risicokaart per 125 m-cel: toetsscores van model en eenvoudige kaarten, "
                                      "de aangewezen cellen en de tekst voor het Algoritmeregister."},
    {"name": "overleg", "description": "Tweewekelijks overleg: briefing en actielog."},
]


def create_app(workspace: Workspace, *, read_only: bool = False, warm: bool = True) -> FastAPI:
    state = AppState(workspace, read_only=read_only)
    state.cache = LRUCache(maxsize=512)  # computed layers, keyed on state.generation + dataset versions

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm:
            warmup.start(app)
        yield
        state.close()

    app = FastAPI(
        title="Stadslab", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_tags=TAGS,
        description="API van Stadslab. Elke pagina heeft hier haar gegevens als JSON, GeoJSON of CSV; "
                    "elk antwoord draagt een `bron` (datasets, versies, filters, methode, verversingstijd). "
                    "Niet-open datasets vragen een ingelogde sessie (of HTTP Basic bij GET) met de juiste rol en "
                    "het juiste doel; persoonsgegevens komen alleen als beveiligd aggregaat naar buiten.")
    app.state.stadslab = state
    app.state.login_throttle = LoginThrottle()
    sessions = SessionStore(None if read_only else workspace.root / "web" / "sessies.json")
    app.add_middleware(SessionMiddleware, secret=load_secret(workspace.root), sessions=sessions)
    app.add_middleware(RequestLimits)   # added last = runs first: oversized requests never reach a handler
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    for page in PAGES:
        app.include_router(page.router)
    for api in ROUTERS:
        app.include_router(api.router, prefix="/api")
    app.state.has_portal = _include_portal(app, state)
    errors.install(app)
    return app


class CachedStatic(StaticFiles):
    """Vendored libraries are fixed versions: let browsers keep them a week. Our own CSS/JS revalidate."""

    def file_response(self, full_path, stat_result, scope, status_code=200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = "/vendor/" in str(full_path)
        response.headers["Cache-Control"] = "public, max-age=604800" if vendored else "no-cache"
        return response


def _include_portal(app: FastAPI, state: AppState) -> bool:
    try:
        from stadslab.portal import build_router
    except ImportError:
        return False
    app.include_router(build_router(state))
    return True
