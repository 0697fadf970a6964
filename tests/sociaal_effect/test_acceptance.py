"""Issue 13 acceptance on helper A's generator, through the real chain and the warehouse: the AIPW
interval covers the planted effect and the naive difference of means does not; access per linked source,
audit of every run (also refused ones), the gate on every count, no pseudonym in any output, the CLI."""

from __future__ import annotations

import json
import re

import pytest

from stadslab.analyses.sociaal.effect import REFUSED, estimate_effect
from stadslab.errors import AccessDenied, AnalysisError
from stadslab.privacy.access import AccessConfig
from stadslab.privacy.audit import AuditLog
from stadslab.workspace import Workspace
from tests.conftest import run_cli

PW = {"STADSLAB_PASSWORD": "analist-demo"}
CONF = ["bijstand", "zrm_financien", "verzuim_pct", "schoolsoort"]
SOURCES = {"ddd_verzuim", "ddd_uitkeringen", "ddd_zrm", "ddd_trajecten"}
PSEUDONYM = re.compile(r"\b[0-9a-f]{32}\b")


def _run(ws, user="analist", purpose="sociaal_domein", **kw):
    w = Workspace(ws)
    who = AccessConfig.from_config(w.config).user(user)
    args = {"outcome": "verzuim_pct_volgend", "treatment": "ddd_trajecten:pseudo_id_ouder", "confounders": CONF}
    args.update(kw)
    with w.warehouse(read_only=True) as wh:
        return estimate_effect(wh, w.catalog(), user=who, purpose=purpose,
                               audit=AuditLog(ws / "audit" / "audit.jsonl"), route="test:effect", **args)


def _audit(ws):
    return [json.loads(line) for line in (ws / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()]


def test_interval_covers_the_planted_effect_and_the_naive_difference_does_not(ddd_ws):
    planted = json.loads((ddd_ws / "data" / "ddd" / "manifest.json").read_text(encoding="utf-8"))["planted_effect_pp"]
    r = _run(ddd_ws)
    lo, hi = r.ci
    assert lo <= planted <= hi, (r.estimate, r.ci)
    naive = r.naive["estimate"]
    assert not (lo <= naive <= hi) and naive > hi, "confounding biases the naive difference upwards"
    assert naive - planted > 1.0
    assert r.n_treated >= 15 and r.n_control >= 15 and r.simulated and "GESIMULEERD" in r.caveat
    assert set(r.provenance["bronnen"]) == SOURCES


def test_every_run_is_audited_per_source_and_a_wrong_purpose_is_refused_and_audited(ddd_ws):
    before = len(_audit(ddd_ws))
    first = _run(ddd_ws, by="schoolsoort")
    again = _run(ddd_ws, by="schoolsoort")          # the second answer comes from the result cache ...
    assert again.to_dict() == first.to_dict()
    new = _audit(ddd_ws)[before:]
    assert len(new) == 2 * len(SOURCES), "... and is audited all the same"
    assert {e["dataset"] for e in new if e["allowed"]} == SOURCES
    assert all(e["version"] == 1 and e["route"].startswith("test:effect") for e in new)
    before = len(_audit(ddd_ws))
    with pytest.raises(AccessDenied, match="doel 'veiligheid'"):
        _run(ddd_ws, purpose="veiligheid")
    refused = _audit(ddd_ws)[before:]
    assert {e["dataset"] for e in refused} == SOURCES and not any(e["allowed"] for e in refused)
    assert AuditLog(ddd_ws / "audit" / "audit.jsonl").verify() == []


def test_counts_pass_the_gate_and_small_groups_are_refused(ddd_ws):
    r = _run(ddd_ws, by="school")
    refused = [g for g in r.groups if g["status"] == REFUSED]
    shown = [g for g in r.groups if g["status"] != REFUSED]
    assert refused and shown, "demo schools: some too small, some large enough"
    assert all(set(g) == {"field", "value", "status"} for g in refused), "no estimate, no count"
    assert all(g["n_treated"] >= 15 and g["n_control"] >= 15 for g in shown)


def test_a_scoped_partner_gets_its_school_only(ddd_ws):
    w = Workspace(ddd_ws)
    who = AccessConfig.from_config(w.config).user("school3")
    if getattr(who, "scope", None) is None:
        pytest.skip("User.scope (helper D) is not there yet")
    mine = _run(ddd_ws, user="school3")
    assert mine.provenance["scope"] == {"school": "S003"}
    everyone = _run(ddd_ws)
    assert mine.status == REFUSED or mine.n_treated < everyone.n_treated


def test_cli_json_and_no_pseudonym_anywhere(ddd_ws):
    proc = run_cli("effect", "ddd_verzuim", "--outcome", "verzuim_pct_volgend", "--treatment",
                   "ddd_trajecten:pseudo_id_ouder", "--confounders", ",".join(CONF), "--by", "schoolsoort",
                   "--user", "analist", "--purpose", "sociaal_domein", "-w", str(ddd_ws), "--json", env=PW)
    out = json.loads(proc.stdout)
    assert {"estimate", "ci", "method", "n_treated", "n_control", "groups", "balance", "naive", "provenance",
            "caveat"} <= set(out)
    assert "AIPW" in out["method"] and len(out["ci"]) == 2 and out["gesimuleerd"] is True
    assert {g["value"] for g in out["groups"]} == {"basisschool", "voortgezet onderwijs"}
    assert not PSEUDONYM.search(proc.stdout) and "pseudo_id\"" not in proc.stdout
    with pytest.raises(AnalysisError) as exc:    # unknown confounder: Dutch, with the allowed names
        _run(ddd_ws, confounders=["bijstand", "inkomen"])
    assert "inkomen" in exc.value.message and "zrm_financien" in exc.value.hint and "pseudo_id" not in exc.value.hint
