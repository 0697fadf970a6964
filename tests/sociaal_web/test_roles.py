"""Role acceptance of issue 13 (items 4 and 5): a school sees its own school only, a buurtteam its own wijk,
a wrong purpose or role is refused and audited, the public gets the login — on the page and in the API, and
through the generic aggregate API as well (the scope lives in release_aggregate)."""

from __future__ import annotations

import csv as csvlib
import io
import json
import re

import pytest

from tests.sociaal_web.conftest import audit_entries

HEX32 = re.compile(r"[0-9a-f]{32}")


def _rows(client, profile_id: str, **params) -> list[dict]:
    r = client.get("/api/sociaal/profiel", params={"profiel": profile_id, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["gesimuleerd"] is True
    return body["rijen"]


def test_anonymous_gets_the_login(clients):
    anon = clients["anoniem"]
    r = anon.get("/sociaal", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fsociaal")
    r = anon.get("/sociaal/governance", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    for url in ("/api/sociaal/profielen", "/api/sociaal/profiel?profiel=x", "/api/sociaal/effect",
                "/api/sociaal/governance", "/api/sociaal/gebruik"):
        assert anon.get(url).status_code == 401, url


@pytest.mark.parametrize("who", ["verkeerd doel", "verkeerde rol"])
def test_wrong_purpose_or_role_is_refused_and_audited(clients, ddd_ws, users, who):
    c = clients[who]
    user = "analist" if who == "verkeerd doel" else "wijkmanager"
    before = len(audit_entries(ddd_ws))
    page = c.get("/sociaal")
    assert page.status_code == 403
    assert "Geen toegang" in page.text
    api = c.get("/api/sociaal/profielen")
    assert api.status_code == 403 and "fout" in api.json()
    new = audit_entries(ddd_ws)[before:]
    refused = [e for e in new if e["user"] == user and e["allowed"] is False and e["dataset"].startswith("ddd_")]
    assert len(refused) >= 2, new
    if who == "verkeerd doel":
        assert all(e["purpose"] == "veiligheid" for e in refused)
        assert "sociaal_domein" in api.json().get("hint", "")   # the refusal tells which werkdoel would do


def test_school_sees_only_its_own_school(clients, users, profile_id, ddd_ws):
    own = users["school"]["scope"]["school"]
    rows = _rows(clients["school"], profile_id, niveau="school")
    assert rows and {r["school"] for r in rows} <= {own, "Totaal"}
    assert any(r["school"] == own for r in rows)
    # the page: its own school, no other school code anywhere
    html = clients["school"].get("/sociaal").text
    assert own in html
    assert set(re.findall(r"\bS\d{3}\b", html)) <= {own}
    assert "alleen cijfers van uw eigen school" in html.lower()
    # another school's figures: refused and audited
    other = "S001" if own != "S001" else "S002"
    before = len(audit_entries(ddd_ws))
    r = clients["school"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "school", "gebied": other})
    assert r.status_code == 403
    assert own in r.json()["fout"]
    new = audit_entries(ddd_ws)[before:]
    assert any(e["user"] == "school" and e["allowed"] is False and other in str(e["filters"]) for e in new)
    # a level that escapes the scope (all wijken, no school in that table): refused in plain words, audited
    before = len(audit_entries(ddd_ws))
    r = clients["school"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "wijk_code"})
    assert r.status_code == 403
    assert any(e["user"] == "school" and e["allowed"] is False for e in audit_entries(ddd_ws)[before:])
    page = clients["school"].get("/sociaal", params={"niveau": "wijk_code"}).text
    assert "uw rol ziet alleen cijfers van uw eigen school" in page and 'id="profiel-tabel"' not in page


def test_buurtteam_sees_only_its_own_wijk(clients, users, profile_id, ddd_ws):
    own = users["buurtteam"]["scope"]["wijk_code"]
    wijken = _rows(clients["buurtteam"], profile_id, niveau="wijk_code")
    assert wijken and {r["wijk_code"] for r in wijken} <= {own, "Totaal"}
    buurten = _rows(clients["buurtteam"], profile_id, niveau="buurt_code")
    codes = {r["buurt_code"] for r in buurten} - {"Totaal", "onbekend"}
    assert codes and all(c[2:8] == own[2:8] for c in codes)
    before = len(audit_entries(ddd_ws))
    other = "WK034401" if own != "WK034401" else "WK034402"
    r = clients["buurtteam"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "wijk_code",
                                                                 "gebied": other})
    assert r.status_code == 403
    assert any(e["user"] == "buurtteam" and e["allowed"] is False for e in audit_entries(ddd_ws)[before:])


def test_scope_holds_in_the_generic_aggregate_api(clients, users, ddd_ws):
    """release_aggregate enforces the scope for every route: /api/datasets/<id>/aggregaat too."""
    own = users["buurtteam"]["scope"]["wijk_code"]
    c = clients["buurtteam"]
    r = c.get("/api/datasets/ddd_verzuim/aggregaat", params={"per": "wijk_code"})
    if r.status_code == 200:
        assert {row["wijk_code"] for row in r.json()["rijen"]} <= {own, "Totaal"}
    else:
        assert r.status_code in (400, 403)
    before = len(audit_entries(ddd_ws))
    other = "WK034401" if own != "WK034401" else "WK034402"
    r = c.get("/api/datasets/ddd_verzuim/aggregaat", params={"per": "wijk_code", "filter": f"wijk_code:{other}"})
    assert r.status_code in (400, 403) and own in r.json()["fout"]
    assert any(e["user"] == "buurtteam" and e["allowed"] is False and "geweigerd" in e["reason"]
               for e in audit_entries(ddd_ws)[before:])


def test_analist_sees_the_city_suppressed_cells_never_zero(clients, profile_id):
    rows = _rows(clients["analist"], profile_id, niveau="wijk_code")
    codes = {r["wijk_code"] for r in rows}
    assert len(codes) >= 10
    suppressed = [r for r in rows if r["suppressed"]]
    assert suppressed, "verwacht onderdrukte wijken"
    assert all(r["suppressed"] == "onderdrukt" and (r["aantal"] is None or r["aandeel"] is None) for r in suppressed)
    shown = [r for r in rows if not r["suppressed"] and r["aantal"] is not None]
    assert shown and all(r["aantal"] >= 15 for r in shown)
    csv = clients["analist"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "wijk_code",
                                                                 "format": "csv"})
    assert csv.status_code == 200 and "onderdrukt" in csv.text and "X-Stadslab-Bron" in csv.headers
    table = list(csvlib.DictReader(io.StringIO(csv.text.lstrip("\ufeff")), delimiter=";"))
    hidden = [r for r in table if r["suppressed"] == "onderdrukt"]
    assert hidden and all("" in (r["aantal"], r["aandeel"]) for r in hidden)   # empty, never 0


def test_effect_panel_numbers_and_caveat(clients):
    r = clients["analist"].get("/api/sociaal/effect")
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["beschikbaar"], e
    lo, hi = e["ci"]
    assert lo <= e["estimate"] <= hi
    assert e["n_treated"] >= 15 and e["n_control"] >= 15
    assert e["naive"]["estimate"] is not None and e["balance"]
    assert "oorzaak" in e["caveat"]
    html = clients["analist"].get("/sociaal").text
    assert 'id="effect-paneel"' in html and "95%-interval" in html and "Naïef verschil" in html


def test_a_school_gets_the_slice_of_the_protected_city_table(clients, users, profile_id):
    """Protect the whole table first, then slice: the school's own cells are exactly the analyst's cells for
    that school (same counts, same suppressions) — never a table protected over the school's subset alone."""
    own = users["school"]["scope"]["school"]
    keys = ("schooljaar", "aantal", "populatie", "aandeel", "suppressed")
    mine = {r["schooljaar"]: tuple(r.get(k) for k in keys)
            for r in _rows(clients["school"], profile_id, niveau="school") if r["school"] == own}
    city = {r["schooljaar"]: tuple(r.get(k) for k in keys)
            for r in _rows(clients["analist"], profile_id, niveau="school") if r["school"] == own}
    assert mine and mine == city


def test_scope_holds_in_the_cli(server, ddd_ws, users, pseudonyms):
    """The CLI (handed over to the running server) answers a school with its own school only; another
    school is refused with the Dutch reason; no pseudonym in any output."""
    from tests.conftest import run_cli

    own = users["school"]["scope"]["school"]
    env = {"STADSLAB_PASSWORD": "school-demo"}
    ok = run_cli("aggregate", "ddd_verzuim", "--by", "school", "--user", "school", "--purpose", "sociaal_domein",
                 "-w", str(ddd_ws), "--json", env=env)
    body = json.loads(ok.stdout)
    rows = body.get("rows") or body.get("rijen") or []
    assert rows and {r["school"] for r in rows} <= {own, "Totaal"}
    other = "S001" if own != "S001" else "S002"
    refused = run_cli("aggregate", "ddd_verzuim", "--by", "school", "--where", f"school={other}", "--user", "school",
                      "--purpose", "sociaal_domein", "-w", str(ddd_ws), "--json", env=env, check=False)
    assert refused.returncode != 0 and f"alleen school {own}" in refused.stdout + refused.stderr
    assert not set(HEX32.findall(ok.stdout + refused.stdout + refused.stderr)) & pseudonyms


def test_demo_setting_without_buurt_level_offers_wijk_and_school(clients, ddd_ws, profile_id):
    """The demo publishes no buurt level (profielen/.instellingen.yaml): buurt is not offered and a buurtteam
    opens on its own wijk. (That the wijk figures then stay visible is tested on a fresh workspace in
    tests/sociaal_profiles/test_demo_settings.py: here the suppression store remembers the buurt-level patterns.)"""
    settings = ddd_ws / "profielen" / ".instellingen.yaml"
    settings.write_text("buurtniveau: nee\n", encoding="utf-8")
    try:
        rows = [r for r in _rows(clients["analist"], profile_id, niveau="wijk_code") if r["wijk_code"] != "Totaal"]
        assert rows
        r = clients["analist"].get("/api/sociaal/profiel", params={"profiel": profile_id, "niveau": "buurt_code"})
        assert r.status_code in (400, 403, 422) and "buurtniveau" in r.text
        page = clients["buurtteam"].get("/sociaal").text
        assert 'value="buurt_code"' not in page and 'value="wijk_code" selected' in page
    finally:
        settings.write_text("buurtniveau: ja\n", encoding="utf-8")


def test_profiel_and_effect_are_handed_to_the_running_server(server, ddd_ws, profile_id, pseudonyms):
    """While 'stadslab serve' holds the warehouse, 'profiel tel' and 'effect' in another shell are answered by the
    server (without the hand-over they could not open the files): gated, audited as cli routes, no pseudonym."""
    from tests.conftest import run_cli

    env = {"STADSLAB_PASSWORD": "analist-demo"}
    before = len(audit_entries(ddd_ws))
    tel = run_cli("profiel", "tel", profile_id, "--niveau", "wijk", "--user", "analist", "--purpose", "sociaal_domein",
                  "-w", str(ddd_ws), "--json", env=env)
    rows = json.loads(tel.stdout)["rows"]
    assert rows and all(r["aantal"] is None or r["aantal"] >= 15 for r in rows)
    eff = run_cli("effect", "ddd_verzuim", "--outcome", "verzuim_pct_volgend", "--treatment",
                  "ddd_trajecten:pseudo_id_ouder", "--confounders", "bijstand,zrm_financien,verzuim_pct", "--user",
                  "analist", "--purpose", "sociaal_domein", "-w", str(ddd_ws), "--json", env=env)
    d = json.loads(eff.stdout)
    assert d["ci"][0] < d["estimate"] < d["ci"][1] and d["n_treated"] >= 15
    routes = {e["route"].split(" ")[0] for e in audit_entries(ddd_ws)[before:]}
    assert {"cli:profiel", "cli:effect"} <= {r.split(":koppeling")[0] for r in routes}, routes
    assert not set(HEX32.findall(tel.stdout + eff.stdout)) & pseudonyms
