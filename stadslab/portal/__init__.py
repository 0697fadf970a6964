"""The open data portal: Dutch pages under /open, downloads, a CKAN Action API (read side) and DCAT-AP-NL 3.0.

    from stadslab.portal import build_router
    app.include_router(build_router(state))          # state: stadslab.web.state.AppState

Routes: /open, /open/datasets/<id> (+ selectie.csv, kaart.geojson), /open/download/<id>/<v<n>|latest>/<file>,
/open/organisaties/<slug>, /open/static/<file>, /api/3/action/<action> (and /api/action/<action>),
/dcat/catalog.ttl, /dcat/catalog.jsonld. Every route finds items through ``Portal`` (registry.py), which
holds only open datasets and gated publications; all routes share one rate limiter per client IP.
See docs/portal.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from stadslab.portal import ckan, dcat, downloads, pages
from stadslab.portal.hygiene import RateLimit, RateLimiter, limiter_dependency
from stadslab.portal.query import Engine
from stadslab.portal.registry import Portal

__all__ = ["build_router", "Portal", "RateLimit"]


def build_router(state: Any, *, rate_limit: RateLimit | None = None) -> APIRouter:
    """All portal routes over one serving state. ``rate_limit`` overrides ``portal.rate_limit`` in stadslab.yaml."""
    portal = Portal(state)
    engine = Engine(lambda: state.warehouse().con)
    limiter = RateLimiter(rate_limit or RateLimit.from_config({"portal": portal.settings}))
    router = APIRouter(dependencies=[Depends(limiter_dependency(limiter))])
    router.include_router(pages.build(portal, engine))
    router.include_router(downloads.build(portal))
    router.include_router(ckan.build(portal, engine))
    router.include_router(dcat.build(portal))
    router.portal = portal  # type: ignore[attr-defined]  # for tests and the CLI: what is published, refusals
    return router
