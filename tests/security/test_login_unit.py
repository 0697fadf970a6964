"""Finding 8 without a server: one scrypt per login attempt whoever the user is, and the throttle's
per-user and per-address backoff."""

from __future__ import annotations

import statistics
import time

from stadslab.privacy.access import AccessConfig
from stadslab.privacy.passwords import hash_password
from stadslab.web.security import LoginThrottle, SessionStore, authenticate

ACCESS = AccessConfig.from_config({"access": {"users": [
    {"id": "anna", "roles": ["datalab"], "purposes": ["x"], "password_hash": hash_password("juist")}]}})


def _median(fn, n: int = 7) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def test_unknown_and_known_users_cost_the_same():
    assert authenticate(ACCESS, "anna", "juist") is not None
    assert authenticate(ACCESS, "anna", "fout") is None and authenticate(ACCESS, "niemand", "fout") is None
    known = _median(lambda: authenticate(ACCESS, "anna", "fout"))
    unknown = _median(lambda: authenticate(ACCESS, "niemand", "fout"))
    # the old code ran scrypt twice for a known user with a wrong password (ratio ≈ 2)
    assert 0.7 < known / unknown < 1.4, (known, unknown)


def test_throttle_backs_off_per_user_and_per_address():
    t = LoginThrottle(free_user=3, free_address=5)
    for _ in range(3):
        assert t.wait("anna", "10.0.0.1") == 0
        t.failed("anna", "10.0.0.1")
    assert t.wait("anna", "10.0.0.9") > 0          # the user is throttled from any address
    assert t.wait("bert", "10.0.0.2") == 0
    for name in ("a", "b", "c", "d", "e", "f"):     # many names from one address: the address is throttled
        t.failed(name, "10.0.0.3")
    assert t.wait("nieuw", "10.0.0.3") > 0
    first = t.wait("anna", "10.0.0.1")
    t.failed("anna", "10.0.0.1")
    assert t.wait("anna", "10.0.0.1") > first       # exponential: every further failure waits longer
    t.succeeded("anna", "10.0.0.1")
    assert t.wait("anna", "10.0.0.7") == 0


def test_session_store_ends_sessions_and_keeps_only_hashes(tmp_path):
    path = tmp_path / "sessies.json"
    store = SessionStore(path)
    sid = store.start("anna")
    assert store.alive(sid, "anna") and not store.alive(sid, "bert")
    assert sid not in path.read_text()                       # only sha256 hashes on disk
    assert SessionStore(path).alive(sid, "anna")              # survives a restart
    store.end(sid)
    assert not store.alive(sid, "anna") and not SessionStore(path).alive(sid, "anna")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
