"""Governance next to the data (issue 13 item 5): convenant and retention per source, DPIA/IAMA answers, and the
privacy officer's view of who used which profile for what — usage from the verified audit log, no personal data."""

from __future__ import annotations

import re


def test_privacy_officer_sees_a_profile_use_just_made(clients, profile_id):
    made = clients["analist"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "wijk_code"})
    assert made.status_code == 200
    r = clients["privacy"].get("/api/sociaal/gebruik")
    assert r.status_code == 200, r.text
    use = r.json()
    assert use["keten_intact"] is True, use["problemen"]
    mine = [u for u in use["opvragingen"] if u["gebruiker"] == "analist" and u["wat"] == f"profiel {profile_id}"
            and u["toegestaan"] and u["doel"] == "sociaal_domein"]
    assert mine, use["opvragingen"][:5]
    # usage, not data: no counts, no rows
    assert not any("rijen" in u or "n" in u for u in use["opvragingen"])
    html = clients["privacy"].get("/sociaal/governance").text
    assert f"profiel {profile_id}" in html and "auditketen intact" in html


def test_usage_only_for_the_privacy_officer(clients):
    for who in ("analist", "school", "buurtteam", "verkeerde rol"):
        assert clients[who].get("/api/sociaal/gebruik").status_code == 403, who
    html = clients["analist"].get("/sociaal/governance").text
    assert "Alleen de privacyfunctionaris" in html and 'id="gebruik-tabel"' not in html
    # the privacy officer does not read the dashboard's figures
    assert clients["privacy"].get("/api/sociaal/profielen").status_code == 403
    r = clients["privacy"].get("/sociaal", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sociaal/governance")


def test_governance_records_per_source(clients):
    r = clients["analist"].get("/api/sociaal/governance")
    assert r.status_code == 200, r.text
    body = r.json()
    ids = {b["dataset"] for b in body["bronnen"]}
    assert {"ddd_verzuim", "ddd_uitkeringen", "ddd_zrm", "ddd_trajecten"} <= ids
    assert all(b["convenant"] and b["bewaartermijn"] for b in body["bronnen"]), body["bronnen"]
    assert body["toetsen"]["dpia"]["antwoorden"] and body["toetsen"]["iama"]["antwoorden"]
    html = clients["analist"].get("/sociaal/governance").text
    assert "GESIMULEERD" in html and "DPIA" in html and "IAMA" in html
    assert not re.search(r"[0-9a-f]{32}", html)
