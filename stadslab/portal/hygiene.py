"""Public-site hygiene: rate limiting per client IP and HTTP caching (Cache-Control, ETag, 304).

Rate limiting is a token bucket per client address (``request.client.host``; behind a reverse proxy
run uvicorn with ``--proxy-headers --forwarded-allow-ips=<proxy>`` so that this is the real client).
Settings in ``stadslab.yaml``::

    portal:
      rate_limit: {requests: 600, per_seconds: 60}   # burst of 600, refilled at 10 per second

A client over its budget gets ``429`` with ``Retry-After``. Responses carry ``Cache-Control``
(versioned downloads are immutable) and a strong ``ETag``; ``If-None-Match`` gives ``304``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import Response

SHORT = "public, max-age=60"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class RateLimit:
    requests: int = 600
    per_seconds: float = 60.0

    @classmethod
    def from_config(cls, config: dict) -> "RateLimit":
        rl = ((config or {}).get("portal") or {}).get("rate_limit") or {}
        return cls(int(rl.get("requests", cls.requests)), float(rl.get("per_seconds", cls.per_seconds)))


class RateLimiter:
    """Token bucket per client IP. Thread-safe; buckets of idle clients are dropped."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.rate = limit.requests / limit.per_seconds
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def take(self, client: str) -> float:
        """0 when allowed, else the seconds until the next request is allowed."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(client, (float(self.limit.requests), now))
            tokens = min(float(self.limit.requests), tokens + (now - stamp) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if now - self._last_sweep > self.limit.per_seconds:
                full = self.limit.per_seconds
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}
                self._last_sweep = now
        return wait


def limiter_dependency(limiter: RateLimiter):
    """A router dependency: HTTP 429 with Retry-After when the client is over its budget."""
    async def check(request: Request) -> None:
        client = request.client.host if request.client else "onbekend"
        wait = limiter.take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(429, detail=f"Te veel verzoeken vanaf uw adres; probeer het over {seconds} "
                                            "seconde(n) opnieuw.",
                                headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})
    return check


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cached(request: Request, body: bytes | str, media_type: str, *, cache_control: str = SHORT,
           status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response with Cache-Control and ETag; 304 when the client already has this body."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    tag = etag_of(data)
    extra = {"ETag": tag, "Cache-Control": cache_control, "Vary": "Accept-Encoding", **(headers or {})}
    if status_code == 200 and tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=extra)
    return Response(data, status_code=status_code, media_type=media_type, headers=extra)
