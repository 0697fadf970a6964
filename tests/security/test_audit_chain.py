"""Finding 4: the audit log detects what an attacker with write access to the workspace does — edit the
last line, delete trailing lines, truncate, or edit line 1 and recompute the (unkeyed) hashes — because
the chain is keyed with a key outside the workspace and its head is anchored next to that key."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from stadslab.errors import PrivacyError
from stadslab.privacy.audit import GENESIS, AuditEntry, AuditLog
from tests.conftest import VENV_BIN


def _ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "audit").mkdir(parents=True)
    (ws / "catalog").mkdir()
    (ws / "stadslab.yaml").write_text("municipality: {name: Test, gemeente_code: GM0344}\n")
    return ws


def _filled(tmp_path: Path, n: int = 4) -> AuditLog:
    log = AuditLog(_ws(tmp_path) / "audit" / "audit.jsonl")
    for i in range(n):
        log.append(AuditEntry("anna", "datalab", "zelfredzaamheid", "sociaal_uitkeringen", 1, "cli:aggregate",
                              {"by": ["wijk_code"]}, 10 + i))
    assert log.verify() == []
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines()


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")


def test_key_and_anchor_live_next_to_the_workspace_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("STADSLAB_AUDIT_KEY", raising=False)
    log = _filled(tmp_path)
    ws = tmp_path / "ws"
    assert log.key_path == tmp_path / "ws-audit" / "audit.key"
    assert log.anchor_path.parent == tmp_path / "ws-audit"
    assert not str(log.key_path.resolve()).startswith(str(ws.resolve()) + os.sep)
    assert oct(log.key_path.stat().st_mode & 0o777) == "0o600"
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
    anchor = json.loads(log.anchor_path.read_text())
    assert anchor["entries"] == 4 and anchor["mac"] == json.loads(_lines(log)[-1])["mac"]


def test_key_inside_the_workspace_is_refused(tmp_path):
    ws = _ws(tmp_path)
    (ws / "stadslab.yaml").write_text("municipality: {name: Test}\naudit: {key: geheim/audit.key}\n")
    with pytest.raises(PrivacyError, match="in de werkruimte"):
        AuditLog(ws / "audit" / "audit.jsonl")


def test_edit_last_line_is_detected(tmp_path):
    log = _filled(tmp_path)
    lines = _lines(log)
    rec = json.loads(lines[-1])
    rec["rows_out"] = 0
    lines[-1] = json.dumps(rec, sort_keys=True)
    _write(log, lines)
    assert any("regel 4" in p and "MAC" in p for p in log.verify())


def test_deleting_trailing_lines_is_detected(tmp_path):
    log = _filled(tmp_path)
    _write(log, _lines(log)[:2])
    assert any("ingekort" in p for p in log.verify())


def test_truncating_to_zero_is_detected(tmp_path):
    log = _filled(tmp_path)
    log.path.write_bytes(b"")
    assert any("ingekort" in p for p in log.verify())
    log.path.unlink()
    assert any("ingekort" in p for p in log.verify())


def test_rewriting_with_recomputed_unkeyed_hashes_is_detected(tmp_path):
    """The attack that beat the old chain: change line 1 and recompute every later hash."""
    log = _filled(tmp_path)
    recs = [json.loads(x) for x in _lines(log)]
    recs[0]["user"] = "iemand-anders"
    prev, out = GENESIS, []
    for rec in recs:
        rec["prev"] = prev
        rec["mac"] = hashlib.sha256(json.dumps({k: v for k, v in rec.items() if k != "mac"}).encode()).hexdigest()
        line = json.dumps(rec, sort_keys=True)
        out.append(line)
        prev = rec["mac"]
    _write(log, out)
    problems = log.verify()
    assert any("regel 1" in p and "MAC" in p for p in problems)


def test_truncation_is_not_healed_by_the_next_append(tmp_path):
    log = _filled(tmp_path)
    _write(log, _lines(log)[:2])
    log.append(AuditEntry("anna", "datalab", "zelfredzaamheid", "d", 1, "cli:aggregate", {}, 1))
    assert any("eerder vastgesteld" in p for p in log.verify())


def test_old_format_log_is_reported_and_can_be_migrated(tmp_path):
    ws = _ws(tmp_path)
    path = ws / "audit" / "audit.jsonl"
    prev, lines = GENESIS, []
    for i in range(3):   # the pre-key format: sha256 of the previous line, no MAC
        line = json.dumps({"time": "2026-01-01", "user": "anna", "dataset": "d", "prev": prev, "route": "cli",
                           "allowed": True, "purpose": None, "rows_out": i}, sort_keys=True)
        lines.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    path.write_text("".join(x + "\n" for x in lines))
    log = AuditLog(path)
    AuditLog(path)._key(create=True)
    assert any("oude formaat" in p for p in log.verify())
    old = log.migrate()
    assert old is not None and old.exists()
    assert log.verify() == []
    first = log.entries()[0]
    assert first["filters"]["regels"] == 3 and first["filters"]["sha256"] == hashlib.sha256(old.read_bytes()).hexdigest()


def test_cli_verify_fails_after_truncation(tmp_path):
    log = _filled(tmp_path)
    stadslab = str(VENV_BIN / "stadslab")
    env = {k: v for k, v in os.environ.items() if k != "STADSLAB_AUDIT_KEY"}
    _write(log, _lines(log)[:-1])
    bad = subprocess.run([stadslab, "audit", "-w", str(tmp_path / "ws"), "--verify"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 10 and "ingekort" in bad.stdout


def test_request_text_with_unicode_line_separators_stays_one_line(tmp_path):
    """The fuzz run found it: U+2028 or U+0085 in a logged parameter split the line for str.splitlines()."""
    log = AuditLog(_ws(tmp_path) / "audit" / "audit.jsonl")
    log.append(AuditEntry("anoniem", "publiek", None, "d", 1, "web:GET /x", {"q": "a\u2028b\x85c\x1cd"}, None,
                          allowed=False, reason="mislukt"))
    assert log.path.read_bytes().isascii()
    assert [e["filters"]["q"] for e in log.entries()] == ["a\u2028b\x85c\x1cd"]
    assert log.verify() == []
