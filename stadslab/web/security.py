"""Login sessions, CSRF tokens and "who is asking": the web app's side of the access rules.

- The session is a signed cookie (itsdangerous, HMAC-SHA1 over the JSON payload + timestamp), ``HttpOnly``,
  ``SameSite=Lax``, and ``Secure`` when the app is served over HTTPS (or ``STADSLAB_COOKIE_SECURE=1``
  behind a TLS proxy). It holds only the user id, the chosen purpose (werkdoel) and the CSRF token;
  roles are read from ``stadslab.yaml`` on every request, so a removed user is logged out at once.
- Every session, also an anonymous one, carries a random CSRF token. Forms send it as ``csrf_token``,
  scripts as the ``X-CSRF-Token`` header; a POST without the right token is refused (synchroniser token
  pattern, OWASP CSRF cheat sheet). Login issues a fresh token (no session fixation).
- API clients without a browser may send HTTP Basic credentials on GET requests (side-effect free, so
  no CSRF risk); passwords are checked with scrypt (``stadslab.privacy.passwords``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied
from stadslab.privacy.access import ANONYMOUS, Permission, User, check
from stadslab.privacy.passwords import verify_password

COOKIE = "stadslab_sessie"
MAX_AGE_S = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Sent with every response: no MIME sniffing, no framing by other sites (clickjacking), no full URLs
# (with filters) in the Referer to other sites.
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN"),
                    (b"referrer-policy", b"same-origin")]


def load_secret(root: Path) -> str:
    """The signing key: $STADSLAB_SECRET_KEY, else ``<workspace>/web/secret.key`` (made once, mode 0600)."""
    env = os.environ.get("STADSLAB_SECRET_KEY")
    if env:
        return env
    path = root / "web" / "secret.key"
    try:
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key)
        return key
    except OSError:
        # read-only workspace: sessions then last as long as this process
        return secrets.token_hex(32)


class SessionMiddleware:
    """Pure ASGI middleware: reads the signed cookie into ``request.state.session`` and writes it back
    when a handler changed it (or when a new anonymous session got its CSRF token)."""

    def __init__(self, app, secret: str) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="stadslab-sessie")
        self.force_secure = os.environ.get("STADSLAB_COOKIE_SECURE", "") in ("1", "true", "ja")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = _cookie(scope, COOKIE)
        session: dict[str, Any] | None = None
        if raw:
            try:
                session = self.serializer.loads(raw, max_age=MAX_AGE_S)
            except BadSignature:
                session = None
        fresh = not isinstance(session, dict) or "c" not in session
        if fresh:
            session = {"u": None, "d": None, "c": secrets.token_urlsafe(32)}
        state = scope.setdefault("state", {})
        state["session"] = session
        state["session_dirty"] = fresh
        secure = self.force_secure or scope.get("scheme") == "https"
        path = scope.get("path", "")
        # static files and API calls do not need to set a cookie for anonymous visitors
        quiet = path.startswith("/static/") or path.startswith("/api/") or path in ("/openapi.json", "/favicon.ico")

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                message = {**message, "headers": headers}
            if message["type"] == "http.response.start" and state.get("session_dirty") and \
                    (not quiet or state.get("session_changed")):
                headers = list(message.get("headers", []))
                if state.get("session_cleared"):
                    value = f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
                else:
                    token = self.serializer.dumps(state["session"])
                    value = f"{COOKIE}={token}; Path=/; Max-Age={MAX_AGE_S}; HttpOnly; SameSite=Lax"
                if secure:
                    value += "; Secure"
                headers.append((b"set-cookie", value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _cookie(scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def session(request: Request) -> dict[str, Any]:
    return request.state.session


def update_session(request: Request, **values: Any) -> None:
    request.state.session.update(values)
    request.state.session_dirty = True
    request.state.session_changed = True


def login(request: Request, user: User, purpose: str | None) -> None:
    """Start a logged-in session with a new CSRF token (a token seen before login is worthless after)."""
    request.state.session.clear()
    update_session(request, u=user.id, d=purpose, c=secrets.token_urlsafe(32))


def logout(request: Request) -> None:
    request.state.session.clear()
    request.state.session.update({"u": None, "d": None, "c": secrets.token_urlsafe(32)})
    request.state.session_dirty = True
    request.state.session_changed = True


def csrf_token(request: Request) -> str:
    return request.state.session["c"]


async def verify_csrf(request: Request) -> None:
    """FastAPI dependency for every state-changing route: the session's token must come back."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    expected = request.state.session.get("c", "")
    if not sent or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "Het formulier is verlopen of niet van deze site (CSRF-controle). "
                                 "Laad de pagina opnieuw en probeer het nog eens.")


def current_user(request: Request) -> User:
    """The logged-in user, a Basic-auth API client, or the public (``ANONYMOUS``)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    access = request.app.state.stadslab.access
    user = ANONYMOUS
    uid = request.state.session.get("u")
    if uid and uid in access.users:
        user = access.users[uid]
    elif request.method == "GET" and request.headers.get("authorization", "").lower().startswith("basic "):
        user = _basic_user(request, access)
    request.state.user = user
    return user


def _basic_user(request: Request, access) -> User:
    try:
        raw = base64.b64decode(request.headers["authorization"].split(" ", 1)[1]).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, IndexError):
        raise HTTPException(401, "ongeldige Basic-authenticatie") from None
    uid, _, password = raw.partition(":")
    candidate = access.users.get(uid)
    if candidate is None or not verify_password(password, candidate.password_hash):
        raise HTTPException(401, "onbekende gebruiker of verkeerd wachtwoord",
                            headers={"WWW-Authenticate": 'Basic realm="stadslab"'})
    return candidate


def authenticate(access, user_id: str, password: str) -> User | None:
    user = access.users.get(user_id.strip())
    if user is not None and verify_password(password, user.password_hash):
        return user
    verify_password(password, _DUMMY_HASH)  # same cost for unknown users: no user enumeration by timing
    return None


_DUMMY_HASH = ("scrypt$16384$8$1$00000000000000000000000000000000$"
               "0000000000000000000000000000000000000000000000000000000000000000")


def dataset_purposes(dataset: Dataset) -> tuple[str, ...]:
    return tuple(dataset.access.purposes or dataset.purposes)


def purpose_for(request: Request, dataset: Dataset, user: User, requested: str | None = None) -> str | None:
    """The purpose this read is made for (doelbinding).

    An explicit ``doel`` wins; else the session's werkdoel when the dataset serves it; else the first of
    the user's own purposes that the dataset serves. ``check`` still refuses a purpose the user lacks."""
    if requested:
        return requested
    allowed = dataset_purposes(dataset)
    chosen = request.state.session.get("d")
    if chosen and chosen in allowed:
        return chosen
    for p in user.purposes:
        if p in allowed:
            return p
    return chosen or (user.purposes[0] if user.purposes else None)


def permission(request: Request, dataset: Dataset, requested: str | None = None) -> tuple[Permission, str | None]:
    user = current_user(request)
    purpose = purpose_for(request, dataset, user, requested)
    return check(dataset, user, purpose), purpose


def require_read(request: Request, dataset: Dataset, requested: str | None = None) -> tuple[Permission, str | None]:
    """Permission to read ``dataset``, or ``AccessDenied`` (→ 401 for the public, 403 for a user)."""
    perm, purpose = permission(request, dataset, requested)
    if not perm.allowed:
        raise AccessDenied(f"geen toegang tot '{dataset.id}': {perm.reason}",
                           hint="vraag de privacyfunctionaris om een rol en doel voor deze dataset")
    return perm, purpose


def can_list(dataset: Dataset, user: User) -> bool:
    """May ``user`` see that this dataset exists with its description (any of the user's purposes)?"""
    purposes = user.purposes or (None,)
    return any(check(dataset, user, p).allowed for p in purposes)
