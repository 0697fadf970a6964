"""Login, logout and the choice of werkdoel (purpose), all behind CSRF tokens."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from stadslab.web.errors import respond

from stadslab.web import security
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


def _local(next_url: str | None) -> str:
    """Only redirect within this site (no open redirect via ?next=https://elders)."""
    if not next_url:
        return "/"
    p = urlparse(next_url)
    if p.scheme or p.netloc or not next_url.startswith("/") or next_url.startswith("//"):
        return "/"
    return next_url


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None):
    return render(request, "login.html", {"next": _local(next), "fout": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(security.verify_csrf)])
def login(request: Request, gebruiker: str = Form(..., max_length=security.MAX_CREDENTIAL),
          wachtwoord: str = Form(..., max_length=security.MAX_CREDENTIAL), next: str = Form("/", max_length=2000)):
    state = request.app.state.stadslab
    throttle: security.LoginThrottle = request.app.state.login_throttle
    address = security.client_address(request)
    wait = throttle.wait(gebruiker, address)
    if wait:   # refused before any password check: a locked-out guess costs the server nothing
        return respond(request, 429, security.too_many(wait), headers={"Retry-After": str(wait)})
    user = security.authenticate(state.access, gebruiker, wachtwoord)
    if user is None:
        throttle.failed(gebruiker, address)
        return render(request, "login.html", {"next": _local(next), "fout": "Onbekende gebruiker of verkeerd wachtwoord.",
                                              "gebruiker": gebruiker}, status_code=401)
    throttle.succeeded(gebruiker, address)
    security.login(request, user, user.purposes[0] if user.purposes else None)
    request.state.user = user
    return RedirectResponse(_local(next), status_code=303)


@router.post("/logout", dependencies=[Depends(security.verify_csrf)])
def logout(request: Request):
    security.logout(request)
    return RedirectResponse("/", status_code=303)


@router.post("/werkdoel", dependencies=[Depends(security.verify_csrf)])
def choose_purpose(request: Request, doel: str = Form(..., max_length=200), next: str = Form("/", max_length=2000)):
    user = security.current_user(request)
    if doel in user.purposes:
        security.update_session(request, d=doel)
    return RedirectResponse(_local(next), status_code=303)
