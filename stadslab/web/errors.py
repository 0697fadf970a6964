"""One error handler for two audiences: JSON on API paths, a Dutch HTML page elsewhere."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stadslab.errors import (AccessDenied, AnalysisError, CatalogError, GeographyError, StadslabError,
                             VersionNotFound, WarehouseError)

TITLES = {400: "Dat gaat niet", 401: "Inloggen nodig", 403: "Geen toegang", 404: "Niet gevonden",
          405: "Niet toegestaan", 422: "Ongeldige invoer", 500: "Er ging iets mis", 503: "Tijdelijk niet beschikbaar"}


def is_api(request: Request) -> bool:
    p = request.url.path
    return p.startswith("/api/") or p.endswith((".json", ".geojson", ".csv")) or \
        "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get("accept", "")


def status_for(exc: StadslabError, request: Request) -> int:
    from stadslab.web.security import current_user

    if isinstance(exc, AccessDenied):
        return 401 if current_user(request).id == "anoniem" else 403
    if isinstance(exc, (CatalogError, VersionNotFound)):
        return 404
    if isinstance(exc, (GeographyError, AnalysisError)):
        return 400
    if isinstance(exc, WarehouseError):
        return 503
    return 400


def respond(request: Request, status: int, message: str, hint: str | None = None, headers=None):
    if is_api(request):
        body = {"fout": message, "status": status}
        if hint:
            body["hint"] = hint
        return JSONResponse(body, status_code=status, headers=headers)
    from stadslab.web.templating import render

    return render(request, "error.html", {"status": status, "titel": TITLES.get(status, "Fout"),
                                          "bericht": message, "hint": hint, "next": request.url.path},
                  status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StadslabError)
    async def stadslab_error(request: Request, exc: StadslabError):
        return respond(request, status_for(exc, request), exc.message, exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Fout")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"De pagina {request.url.path} bestaat niet."
        if exc.status_code == 405:
            detail = "Deze methode is hier niet toegestaan."
        return respond(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path"))
            parts.append(f"{loc}: {e.get('msg')}")
        return respond(request, 422, "Ongeldige invoer — " + "; ".join(parts))
