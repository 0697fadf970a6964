"""Access by role and purpose, and the tamper-evident audit log."""

from __future__ import annotations

import json

import pytest

from stadslab.catalog.model import Dataset
from stadslab.errors import AccessDenied
from stadslab.privacy.access import ANONYMOUS, AccessConfig, check
from stadslab.privacy.audit import AuditEntry, AuditLog

CONFIG = {"access": {
    "roles": {"datalab": "Datalab", "wijkmanager": "Wijkmanager"},
    "purposes": {"zelfredzaamheid": "Sociaal domein", "veiligheid": "Veiligheid"},
    "users": [{"id": "anna", "roles": ["datalab"], "purposes": ["zelfredzaamheid"]},
              {"id": "wim", "roles": ["wijkmanager"], "purposes": ["veiligheid"]},
              {"id": "bob", "roles": ["datalab"], "purposes": ["veiligheid"]}]}}


def dataset(classification: str, **extra) -> Dataset:
    return Dataset.from_dict({"id": "d", "title": "D", "owner": "O", "classification": classification,
                              "purposes": ["zelfredzaamheid"], "source": {"path": "x.csv"},
                              "fields": [{"name": "a", "type": "string"}], **extra})


def test_open_is_public_intern_needs_login():
    acc = AccessConfig.from_config(CONFIG)
    assert check(dataset("open"), ANONYMOUS, None).allowed
    assert not check(dataset("intern"), ANONYMOUS, None).allowed
    assert check(dataset("intern"), acc.user("wim"), None).allowed


def test_personal_data_need_role_and_purpose():
    acc = AccessConfig.from_config(CONFIG)
    d = dataset("persoonsgegevens", access={"roles": ["datalab"], "fields": {"datalab": ["a"]}})
    ok = check(d, acc.user("anna"), "zelfredzaamheid")
    assert ok.allowed and ok.audited and ok.gated and ok.fields == ("a",)
    assert "rol wijkmanager" in check(d, acc.user("wim"), "zelfredzaamheid").reason
    assert "hoort niet bij deze dataset" in check(d, acc.user("anna"), "veiligheid").reason
    assert "werkt niet voor doel" in check(d, acc.user("bob"), "zelfredzaamheid").reason
    assert "noem een doel" in check(d, acc.user("anna"), None).reason
    with pytest.raises(AccessDenied, match="geen toegang tot 'd'"):
        check(d, acc.user("wim"), "zelfredzaamheid").require(d)


def test_unknown_user_is_refused():
    with pytest.raises(AccessDenied, match="onbekende gebruiker"):
        AccessConfig.from_config(CONFIG).user("mallory")


def test_audit_log_chain_detects_tampering(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(3):
        log.append(AuditEntry("anna", "datalab", "zelfredzaamheid", "d", 1, "cli:aggregate", {"by": ["buurt"]}, 10 + i))
    assert log.verify() == []
    summary = log.summary(dataset="d")
    assert summary[0]["reads"] == 3 and summary[0]["rows_out"] == 33
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    rec = json.loads(lines[1])
    rec["user"] = "iemand-anders"
    lines[1] = json.dumps(rec, sort_keys=True)
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n")
    problems = log.verify()
    # the keyed chain names the edited line itself (its MAC no longer matches)
    assert problems and "regel 2" in problems[0]
