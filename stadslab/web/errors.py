"""One error handler for two audiences: JSON on API paths, a Dutch HTML page elsewhere.

What a response says is meant for the user; what went wrong inside (engine error text, tracebacks,
file paths) goes to the server log only (logger ``stadslab.web``). A refused or failed read of non-open
data is written to the audit log (``security.audit_refusal``) whatever the error."""

from __future__ import annotations

import logging

import duckdb
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from stadslab.errors import (AccessDenied, AnalysisError, CatalogError, GeographyError, StadslabError,
                             VersionNotFound, WarehouseError)

log = logging.getLogger("stadslab.web")

TITLES = {400: "Dat gaat niet", 401: "Inloggen nodig", 403: "Geen toegang", 404: "Niet gevonden",
          405: "Niet toegestaan", 409: "Conflict", 413: "Verzoek te groot", 414: "Adres te lang",
          422: "Ongeldige invoer", 429: "Te veel pogingen", 500: "Er ging iets mis",
          503: "Tijdelijk niet beschikbaar"}

# pydantic's error types in Dutch (the English text never reaches the user)
VALIDATION_NL = {"missing": "ontbreekt", "int_parsing": "is geen geheel getal", "int_type": "is geen geheel getal",
                 "float_parsing": "is geen getal", "bool_parsing": "is geen ja/nee-waarde (true/false)",
                 "literal_error": "is geen toegestane waarde", "enum": "is geen toegestane waarde",
                 "string_too_long": "is te lang", "string_too_short": "is te kort",
                 "date_from_datetime_parsing": "is geen datum (JJJJ-MM-DD)", "date_parsing": "is geen datum (JJJJ-MM-DD)",
                 "greater_than_equal": "is te klein", "less_than_equal": "is te groot",
                 "int_from_float": "is geen geheel getal", "json_invalid": "is geen geldige JSON",
                 "model_attributes_type": "heeft niet de verwachte vorm", "dict_type": "heeft niet de verwachte vorm",
                 "list_type": "moet een lijst zijn", "string_type": "moet tekst zijn",
                 "date_type": "is geen datum (JJJJ-MM-DD)", "date_from_datetime_inexact": "is geen datum (JJJJ-MM-DD)"}

# engine errors caused by a value in the request (not by the server): a 400 without the engine's text
INPUT_ENGINE_ERRORS = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException)


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


def _audit(request: Request, reason: str) -> None:
    """A read of non-open data that ended in an error is in the audit log too (finding 9)."""
    from stadslab.web.security import audit_refusal

    if getattr(request.state, "audit_read", None) is None:
        return
    try:
        audit_refusal(request, "mislukt: " + reason)
    except Exception:  # never turn an error response into a crash; the server log keeps it
        log.exception("auditregel voor mislukte leesactie niet geschreven")


def install(app: FastAPI) -> None:
    @app.exception_handler(StadslabError)
    async def stadslab_error(request: Request, exc: StadslabError):
        status = status_for(exc, request)
        message, hint = exc.message, exc.hint
        if isinstance(exc, CatalogError):
            # never list the catalog's ids (personal datasets included) to whoever guesses a wrong one
            hint = "zie /api/datasets voor de datasets die u mag zien"
        elif isinstance(exc, WarehouseError) and not isinstance(exc, VersionNotFound):
            log.error("warehousefout op %s: %s", request.url.path, exc)
            message, hint = "De gegevens zijn tijdelijk niet beschikbaar.", "probeer het later opnieuw"
        if not isinstance(exc, AccessDenied) and not getattr(exc, "audited", False):
            _audit(request, message)
        return respond(request, status, message, hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Fout")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"De pagina {request.url.path[:200]} bestaat niet."
        if exc.status_code == 405:
            detail = "Deze methode is hier niet toegestaan."
        if exc.status_code >= 400:
            _audit(request, detail)
        return respond(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors()[:10]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "body", "path", "form"))
            parts.append(f"{loc or 'invoer'} {VALIDATION_NL.get(e.get('type', ''), 'is ongeldig')}")
        message = "Ongeldige invoer — " + "; ".join(parts)
        _audit(request, message)
        return respond(request, 422, message)

    @app.exception_handler(INPUT_ENGINE_ERRORS[0])
    @app.exception_handler(INPUT_ENGINE_ERRORS[1])
    @app.exception_handler(INPUT_ENGINE_ERRORS[2])
    async def engine_input_error(request: Request, exc: Exception):
        log.warning("ongeldige invoer voor de database op %s: %s", request.url.path, exc)
        message = "Een waarde in het verzoek past niet bij de gegevens (type of bereik)."
        _audit(request, message)
        return respond(request, 400, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("onverwachte fout op %s %s", request.method, request.url.path)
        _audit(request, "onverwachte fout")
        return respond(request, 500, "Er ging iets mis aan onze kant. De beheerder kan het nazien in het serverlog.")
