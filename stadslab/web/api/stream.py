"""Realtime ingestion over HTTP: ``POST /api/stream/<dataset>`` with a JSON batch, and the stream's status.

The server is the warehouse's one writer, so batches are written here, through the server's
connection (a cursor of this request thread), by ``stadslab.ingest.stream.ingest_batch``: the reply
comes after the COMMIT, so a 200 means stored. A source authenticates with its own token
(``Authorization: Bearer …``, made by ``stadslab stream token``; only its SHA-256 is kept, in the
workspace). A retried batch is harmless: readings are unique on (sensor, time).
"""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from stadslab.errors import CatalogError
from stadslab.ingest import stream as st
from stadslab.ingest.stream_tokens import source_for
from stadslab.web.api.render import json_response
from stadslab.web.security import require_read

router = APIRouter(tags=["stream"])
MAX_BODY = 20 * 1024 * 1024   # the app's RequestLimits (web/security.py, 256 KB) refuse larger bodies first


def stream_dataset(request: Request, dataset: str):
    state = request.app.state.stadslab
    try:
        ds = state.catalog.get(dataset)
    except CatalogError:
        raise HTTPException(404, f"onbekende dataset '{dataset}'") from None
    if ds.stream is None:
        raise HTTPException(404, f"dataset '{dataset}' is geen realtime stream")
    return state, ds


@router.post("/stream/{dataset}", summary="Een batch metingen aanleveren (JSON; token van de bron)",
             responses={401: {"description": "geen of onbekend token"}, 400: {"description": "ongeldige JSON"}})
async def post_batch(request: Request, dataset: str):
    """Body: ``{"readings": [{"<sensor>": "…", "<tijd>": "2026-12-06T10:00:00Z", "<waarde>": 42.0}, …]}``
    (or a bare list). Antwoord: batchnummer en aantallen nieuw / dubbel / afgekeurd; afgekeurde metingen
    staan met reden in de dead-letter-tabel."""
    state, ds = stream_dataset(request, dataset)
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-stadslab-token")
    source = source_for(state.workspace, ds.id, token)
    if source is None:
        raise HTTPException(401, "geen geldig brontoken voor deze stream (Authorization: Bearer …)",
                            headers={"WWW-Authenticate": "Bearer"})
    if state.warehouse().read_only:
        raise HTTPException(503, "de server draait alleen-lezen en neemt geen metingen aan")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"batch groter dan {MAX_BODY // (1024 * 1024)} MB; stuur kleinere batches")
    transport = request.headers.get("x-stadslab-transport", "http")[:20]

    def write():   # parsing and checking in a worker thread too: the event loop keeps accepting requests
        items, rejected, error = st.parse_body(body)
        if error:
            rejected = [(body[:st.MAX_PAYLOAD_CHARS].decode("utf-8", "replace"), error)]
        res = st.ingest_batch(state.warehouse(), ds, items, source=source, transport=transport, rejected=rejected,
                              now=datetime.now(timezone.utc))
        return res, error

    res, error = await run_in_threadpool(write)
    return json_response(res.as_json(), status_code=400 if error else 200)


@router.get("/stream/{dataset}/status", summary="Stand van een stream: metingen, afgekeurd per reden, verouderde sensoren")
def stream_status(request: Request, dataset: str, limiet: int = 50):
    state, ds = stream_dataset(request, dataset)
    require_read(request, ds)
    return json_response(st.status(state.warehouse(), ds, limit=max(1, min(limiet, 1000))))
