"""Public-site hygiene: rate limiting per client IP, Cache-Control, ETag and 304."""

from __future__ import annotations

import httpx
import pytest

from stadslab.portal.hygiene import RateLimit, RateLimiter
from tests.portal.conftest import LiveServer, make_app


@pytest.fixture(scope="module")
def strict(state):
    app, _ = make_app(state, rate_limit=RateLimit(requests=5, per_seconds=60))
    server = LiveServer(app)
    yield server
    server.stop()


def test_rate_limit_returns_429_with_retry_after(strict):
    codes = [httpx.get(f"{strict.url}/api/3/action/package_list").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    r = httpx.get(f"{strict.url}/open")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "Te veel verzoeken" in r.text


def test_token_bucket_refills_and_keeps_clients_apart():
    limiter = RateLimiter(RateLimit(requests=2, per_seconds=0.2))   # 10 per second
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert 0 < limiter.take("a") <= 0.1
    assert limiter.take("b") == 0                                  # another client has its own budget
    import time
    time.sleep(0.15)
    assert limiter.take("a") == 0


@pytest.mark.parametrize("path", ["/open", "/open/datasets/meldingen_openbare_ruimte",
                                  "/api/3/action/package_show?id=meldingen_openbare_ruimte", "/dcat/catalog.ttl"])
def test_pages_and_api_carry_cache_headers_and_etags(live, path):
    r = httpx.get(live.url + path)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=60" and r.headers["etag"].startswith('"')
    again = httpx.get(live.url + path, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == r.headers["etag"]
