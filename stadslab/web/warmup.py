"""Warm the caches when the server starts, so the first wijkmanager of the day does not wait.

Runs in a background thread: the area divisions, the incident frames, weights and study areas, and the
default views (Incidentenkaart: last 28 days; Gebiedsmonitor: the municipality) are computed once as the
public would see them. Only open data are touched (no audit entries, nothing personal)."""

from __future__ import annotations

import gc
import logging
import threading

from fastapi import FastAPI
from starlette.requests import Request

log = logging.getLogger("stadslab.web")


def anonymous_request(app: FastAPI, path: str = "/") -> Request:
    return Request({"type": "http", "app": app, "method": "GET", "path": path, "headers": [], "query_string": b"",
                    "state": {"session": {"u": None, "d": None, "c": ""}}})


def warm(app: FastAPI) -> None:
    from stadslab.web.api import incidents as inc_api
    from stadslab.web.api import monitor as mon_api
    from stadslab.web.data.incidents import Filters, visible_sources

    try:
        req = anonymous_request(app)
        mon_api.monitor_map(req, None, None)
        mon_api.monitor_profile(anonymous_request(app), None, None)
        for src in visible_sources(anonymous_request(app)):
            if src.dataset.classification != "open":
                continue
            f = Filters()
            for route in (inc_api.incident_summary, inc_api.incident_buurten, inc_api.incident_raster,
                          inc_api.incident_points):
                route(anonymous_request(app), src.id, f)
    except Exception:  # a warm-up failure must not stop the server; the request will show the real error
        log.exception("opwarmen van de caches mislukt")
    # The caches hold many small long-lived objects (area polygons as nested lists); a full garbage
    # collection walking them stalled every request for ~150 ms under load. Freeze them out of the GC.
    gc.collect()
    gc.freeze()


def start(app: FastAPI) -> threading.Thread:
    t = threading.Thread(target=warm, args=(app,), name="stadslab-warmup", daemon=True)
    t.start()
    return t
