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
- A logged-in session also has a random session id that the server keeps (``SessionStore``, persisted
  as sha256 hashes in ``<workspace>/web/sessies.json``): logout removes it, so a copied cookie is
  worthless afterwards; a cookie alone (even validly signed) never logs anybody in.
- Login attempts are throttled per user name and per client address (``LoginThrottle``: after a few
  failures every further attempt waits exponentially longer, answered with 429), and every attempt
  costs exactly one scrypt verification, also for unknown users (no enumeration by timing).
- Doelbinding per request: a session reads for its chosen werkdoel only; a dataset that does not
  serve that purpose is refused (403) and the refusal audited — never silently another purpose.
- ``RequestLimits`` bounds every request before a handler sees it (URL, query parameters, body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied
from stadslab.privacy.access import ANONYMOUS, Permission, User, check
from stadslab.privacy.audit import AuditEntry
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

    def __init__(self, app, secret: str, sessions: "SessionStore | None" = None) -> None:
        self.app = app
        self.sessions = sessions or SessionStore(None)
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
        if isinstance(session, dict) and session.get("u") and \
                not self.sessions.alive(str(session.get("s", "")), str(session["u"])):
            session = None   # logged out, expired or unknown to this server: start over as anonymous
        fresh = not isinstance(session, dict) or "c" not in session
        if fresh:
            session = {"u": None, "d": None, "c": secrets.token_urlsafe(32)}
        state = scope.setdefault("state", {})
        state["session"] = session
        state["session_dirty"] = fresh
        state["sessions"] = self.sessions
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
    """Start a logged-in session with a new CSRF token (a token seen before login is worthless after)
    and a new server-side session id."""
    old = request.state.session.get("s")
    if old:
        request.state.sessions.end(str(old))
    request.state.session.clear()
    sid = request.state.sessions.start(user.id)
    update_session(request, u=user.id, d=purpose, c=secrets.token_urlsafe(32), s=sid)


def logout(request: Request) -> None:
    """End the session on the server too: the old cookie no longer logs anybody in."""
    sid = request.state.session.get("s")
    if sid:
        request.state.sessions.end(str(sid))
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
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    wait = throttle.wait(uid, address)
    if wait:
        raise HTTPException(429, too_many(wait), headers={"Retry-After": str(wait)})
    candidate = authenticate(access, uid, password)
    if candidate is None:
        throttle.failed(uid, address)
        raise HTTPException(401, "onbekende gebruiker of verkeerd wachtwoord",
                            headers={"WWW-Authenticate": 'Basic realm="stadslab"'})
    throttle.succeeded(uid, address)
    return candidate


def authenticate(access, user_id: str, password: str) -> User | None:
    """The user, or None. Exactly one scrypt verification whatever the outcome: a known user with a
    wrong password and an unknown user take the same time (no user enumeration by timing)."""
    if len(user_id) > MAX_CREDENTIAL or len(password) > MAX_CREDENTIAL:
        verify_password("", _DUMMY_HASH)
        return None
    user = access.users.get(user_id.strip())
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = verify_password(password, stored)
    return user if ok and user is not None and stored is not _DUMMY_HASH else None


MAX_CREDENTIAL = 256
_DUMMY_HASH = ("scrypt$16384$8$1$00000000000000000000000000000000$"
               "0000000000000000000000000000000000000000000000000000000000000000")


def client_address(request: Request) -> str:
    """The peer address. Behind a reverse proxy that is the proxy: run uvicorn with
    ``--proxy-headers --forwarded-allow-ips <proxy>`` so that it becomes the real client (docs/security.md)."""
    return request.client.host if request.client else "onbekend"


def too_many(wait: int) -> str:
    return f"Te veel mislukte inlogpogingen. Probeer het over {wait} seconden opnieuw."


class LoginThrottle:
    """Failures per user name and per address; after ``free`` failures each further attempt must wait
    2, 4, 8 … seconds (at most ``cap``). Bounded memory: the oldest keys go first."""

    def __init__(self, *, free_user: int = 5, free_address: int = 20, cap: int = 900, window: int = 3600,
                 max_keys: int = 10_000) -> None:
        self.free = {"u": free_user, "a": free_address}
        self.cap, self.window, self.max_keys = cap, window, max_keys
        self._fail: dict[tuple[str, str], tuple[int, float]] = {}   # key → (failures, time of last failure)
        self._lock = threading.Lock()

    def _wait_for(self, key: tuple[str, str], now: float) -> int:
        n, last = self._fail.get(key, (0, 0.0))
        if n == 0 or now - last > self.window:
            return 0
        over = n - self.free[key[0]]
        if over < 0:
            return 0
        return max(0, int(min(self.cap, 2 ** (over + 1)) - (now - last) + 0.999))

    def wait(self, user_id: str, address: str) -> int:
        """Seconds the next attempt for this user or from this address must still wait (0: go ahead)."""
        now = time.monotonic()
        with self._lock:
            return max(self._wait_for(("u", user_id.strip().lower()[:MAX_CREDENTIAL]), now),
                       self._wait_for(("a", address), now))

    def failed(self, user_id: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (("u", user_id.strip().lower()[:MAX_CREDENTIAL]), ("a", address)):
                n, last = self._fail.pop(key, (0, 0.0))
                self._fail[key] = ((0 if now - last > self.window else n) + 1, now)
            while len(self._fail) > self.max_keys:
                self._fail.pop(next(iter(self._fail)))

    def succeeded(self, user_id: str, address: str) -> None:
        with self._lock:
            self._fail.pop(("u", user_id.strip().lower()[:MAX_CREDENTIAL]), None)


class SessionStore:
    """Server-side ids of logged-in sessions. Only sha256 hashes are written (``sessies.json``, mode 0600),
    so reading the file does not give a usable session; at most ``per_user`` sessions per user."""

    def __init__(self, path: Path | None, *, max_age: int = MAX_AGE_S, per_user: int = 20) -> None:
        self.path, self.max_age, self.per_user = path, max_age, per_user
        self._lock = threading.Lock()
        self._live: dict[str, tuple[str, float]] = {}     # sha256(id) → (user, start time, wall clock)
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._live = {h: (u, float(t)) for h, (u, t) in data.items()}
            except (OSError, ValueError, TypeError):
                self._live = {}

    @staticmethod
    def _h(sid: str) -> str:
        return hashlib.sha256(sid.encode("utf-8")).hexdigest()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._live, fh)
            os.replace(tmp, self.path)
        except OSError:
            pass   # read-only workspace: sessions then live in this process only

    def _prune(self, now: float) -> None:
        for h in [h for h, (_, t) in self._live.items() if now - t > self.max_age]:
            del self._live[h]

    def start(self, user_id: str) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._prune(now)
            mine = sorted((t, h) for h, (u, t) in self._live.items() if u == user_id)
            for _, h in mine[:max(0, len(mine) - self.per_user + 1)]:
                del self._live[h]
            self._live[self._h(sid)] = (user_id, now)
            self._save()
        return sid

    def alive(self, sid: str, user_id: str) -> bool:
        if not sid:
            return False
        rec = self._live.get(self._h(sid))
        return rec is not None and rec[0] == user_id and time.time() - rec[1] <= self.max_age

    def end(self, sid: str) -> None:
        with self._lock:
            if self._live.pop(self._h(sid), None) is not None:
                self._save()


# ---- bounded requests -------------------------------------------------------------------------------

MAX_PATH = 2048
MAX_QUERY = 8192
MAX_PARAMS = 100
MAX_VALUE = 2000
MAX_BODY = 256 * 1024


class RequestLimits:
    """Pure ASGI middleware: refuses oversized requests before any handler or parser sees them, with a
    Dutch message (414 URL too long, 413 body too large, 400 too many or too long parameters)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self._check(scope)
        if problem:
            await _plain_error(send, *problem)
            return
        seen = 0

        async def bounded_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, bounded_receive, send)
        except BodyTooLarge:
            await _plain_error(send, 413, f"Het verzoek is te groot (meer dan {MAX_BODY // 1024} kB).")

    @staticmethod
    def _check(scope) -> tuple[int, str] | None:
        if len(scope.get("path", "")) > MAX_PATH:
            return 414, f"Het adres is te lang (meer dan {MAX_PATH} tekens)."
        qs = scope.get("query_string", b"")
        if len(qs) > MAX_QUERY:
            return 414, f"De vraag in het adres is te lang (meer dan {MAX_QUERY} tekens)."
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    if int(value) > MAX_BODY:
                        return 413, f"Het verzoek is te groot (meer dan {MAX_BODY // 1024} kB)."
                except ValueError:
                    return 400, "Ongeldige Content-Length."
        if qs:
            pairs = parse_qsl(qs.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_PARAMS + 1) \
                if qs.count(b"&") < MAX_PARAMS + 1 else None
            if pairs is None or len(pairs) > MAX_PARAMS:
                return 400, f"Te veel parameters (meer dan {MAX_PARAMS})."
            for k, v in pairs:
                if len(k) > 100 or len(v) > MAX_VALUE:
                    return 400, f"Parameter '{k[:40]}' is te lang (meer dan {MAX_VALUE} tekens)."
        return None


class BodyTooLarge(Exception):
    pass


async def _plain_error(send, status: int, message: str) -> None:
    body = json.dumps({"fout": message, "status": status}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())] + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})


def dataset_purposes(dataset: Dataset) -> tuple[str, ...]:
    return tuple(dataset.access.purposes or dataset.purposes)


def purpose_for(request: Request, dataset: Dataset, user: User, requested: str | None = None) -> str | None:
    """The purpose this read is made for (doelbinding), never silently another one.

    A logged-in session reads for its chosen werkdoel, full stop: a dataset that does not serve it is
    refused by ``check``; an explicit ``doel`` does not override the werkdoel either. A client without a session (HTTP Basic) names
    its ``doel``; without one, only a purpose that is unambiguous — the one of the user's purposes the
    dataset serves — is used."""
    chosen = request.state.session.get("u") and request.state.session.get("d")
    if chosen:
        return chosen
    if requested:
        return requested
    fits = [p for p in user.purposes if p in dataset_purposes(dataset)]
    return fits[0] if len(fits) == 1 else None


def _audit_context(request: Request, dataset: Dataset, user: User, purpose: str | None) -> None:
    """Remember what this request reads, so that a refusal or failure later on is audited (errors.py)."""
    if dataset.classification in ("vertrouwelijk", "persoonsgegevens"):
        request.state.audit_read = {"dataset": dataset.id, "user": user.id, "role": ",".join(user.roles),
                                    "purpose": purpose, "since": datetime.now(timezone.utc).isoformat()}


def audit_refusal(request: Request, reason: str, *, dataset: str | None = None) -> None:
    """Write a refused or failed read of non-open data to the audit log (no-op for open data)."""
    ctx = getattr(request.state, "audit_read", None)
    if ctx is None or (dataset and ctx["dataset"] != dataset):
        return
    state = request.app.state.stadslab
    last = state.audit.last()
    if last and last.get("dataset") == ctx["dataset"] and last.get("user") == ctx["user"] and \
            last.get("allowed") is False and str(last.get("time", "")) >= ctx["since"]:
        request.state.audit_read = None   # the release path has already written this refusal or failure
        return
    try:
        version = state.warehouse().current_version(ctx["dataset"])
    except Exception:   # the refusal is logged even when the warehouse cannot say the version
        version = None
    state.audit.append(AuditEntry(ctx["user"], ctx["role"], ctx["purpose"], ctx["dataset"], version,
                                  f"web:{request.method} {request.url.path}"[:300],
                                  {k: v[:200] for k, v in list(request.query_params.items())[:20]}, None,
                                  allowed=False, reason=reason[:500]))
    request.state.audit_read = None   # once per request


def permission(request: Request, dataset: Dataset, requested: str | None = None) -> tuple[Permission, str | None]:
    user = current_user(request)
    purpose = purpose_for(request, dataset, user, requested)
    _audit_context(request, dataset, user, purpose)
    return check(dataset, user, purpose), purpose


def require_read(request: Request, dataset: Dataset, requested: str | None = None) -> tuple[Permission, str | None]:
    """Permission to read ``dataset``, or ``AccessDenied`` (→ 401 for the public, 403 for a user); refusals
    of non-open data are audited."""
    perm, purpose = permission(request, dataset, requested)
    if not perm.allowed:
        audit_refusal(request, perm.reason)
        raise refused(request, dataset, perm)
    return perm, purpose


def refused(request: Request, dataset: Dataset, perm: Permission) -> AccessDenied:
    chosen = request.state.session.get("u") and request.state.session.get("d")
    user = current_user(request)
    fits = [p for p in user.purposes if p in dataset_purposes(dataset)]
    if chosen and fits and check(dataset, user, fits[0]).allowed:
        return AccessDenied(f"uw werkdoel '{chosen}' geeft geen toegang tot '{dataset.id}'",
                            hint=f"kies werkdoel '{fits[0]}' (rechtsboven) als u deze gegevens daarvoor nodig hebt")
    return AccessDenied(f"geen toegang tot '{dataset.id}': {perm.reason}",
                        hint="vraag de privacyfunctionaris om een rol en doel voor deze dataset")


def can_list(dataset: Dataset, user: User) -> bool:
    """May ``user`` see that this dataset exists with its description (any of the user's purposes)?"""
    purposes = user.purposes or (None,)
    return any(check(dataset, user, p).allowed for p in purposes)


def require_role(request: Request, roles: tuple[str, ...], *, action: str, role_name: str) -> User:
    """The logged-in user when one of ``roles`` is theirs; else AccessDenied (a refusal is audited).
    For field pages where a crew reports what it did (containers, weesfietsen)."""
    user = current_user(request)
    if user.id == ANONYMOUS.id:
        raise AccessDenied("alleen voor ingelogde gebruikers", hint="log in met uw account")
    if not set(roles) & set(user.roles):
        audit_refusal(request, f"{action} zonder rol {'/'.join(roles)}")
        raise AccessDenied(f"u mag geen {action}", hint=f"vraag de rol '{role_name}' aan bij de beheerder")
    return user


def login_redirect(request: Request):
    """A 303 to /login that comes back to this page (with its query) for an anonymous visitor; else None."""
    from urllib.parse import urlencode

    from fastapi.responses import RedirectResponse

    if current_user(request).id != ANONYMOUS.id:
        return None
    here = str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": here}), 303)
