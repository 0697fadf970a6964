"""Login, sessions, CSRF and access rights: who sees which dataset, page and API."""

from __future__ import annotations

import base64
import json

import httpx

from tests.web.conftest import PASSWORDS, csrf_of

RESTRICTED = "sociaal_uitkeringen"


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(server):
    with httpx.Client(base_url=server) as c:
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"gebruiker": "analist", "wachtwoord": "analist-demo", "csrf_token": token})
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "stadslab_sessie=" in cookie
        assert "Secure" not in cookie                      # plain http on 127.0.0.1; Secure behind https
        assert r.headers["x-frame-options"] == "SAMEORIGIN" and r.headers["x-content-type-options"] == "nosniff"
        # doelbinding per request: the werkdoel after login (veiligheid) does not open social data
        assert c.get(f"/api/datasets/{RESTRICTED}").status_code == 403
        c.post("/werkdoel", data={"doel": "sociaal_domein", "csrf_token": csrf_of(c.get("/").text)})
        assert c.get(f"/api/datasets/{RESTRICTED}").status_code == 200
        home = c.get("/").text
        assert "Ingelogd als" in home
        r = c.post("/logout", data={"csrf_token": csrf_of(home)})
        assert r.status_code == 303
        assert c.get(f"/api/datasets/{RESTRICTED}").status_code == 401


def test_wrong_password_and_missing_csrf_are_refused(server):
    with httpx.Client(base_url=server) as c:
        token = csrf_of(c.get("/login").text)
        bad = c.post("/login", data={"gebruiker": "analist", "wachtwoord": "fout", "csrf_token": token})
        assert bad.status_code == 401 and "verkeerd wachtwoord" in bad.text
        no_csrf = c.post("/login", data={"gebruiker": "analist", "wachtwoord": "analist-demo"})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        forged = c.post("/login", data={"gebruiker": "analist", "wachtwoord": "analist-demo", "csrf_token": "x" * 43})
        assert forged.status_code == 403
    with httpx.Client(base_url=server) as other:   # a token from another session is worthless
        r = other.post("/login", data={"gebruiker": "analist", "wachtwoord": "analist-demo", "csrf_token": token})
        assert r.status_code == 403


def test_public_and_users_without_rights_see_nothing_of_a_restricted_dataset(anon, wijkmanager):
    for client, status in ((anon, 401), (wijkmanager, 403)):
        page = client.get(f"/datasets/{RESTRICTED}")
        assert page.status_code == status
        assert "pseudo_id" not in page.text and "Aantal per wijk" not in page.text
        for url in (f"/api/datasets/{RESTRICTED}", f"/api/datasets/{RESTRICTED}/bron",
                    f"/api/datasets/{RESTRICTED}/aggregaat?per=wijk_code"):
            r = client.get(url)
            assert r.status_code == status, url
            assert "rijen" not in r.json() and "velden" not in r.json()
        listed = {d["id"] for d in client.get("/api/datasets").json()["datasets"]}
        assert RESTRICTED not in listed
        assert f"/datasets/{RESTRICTED}" not in client.get("/").text


def test_authorised_user_gets_gated_aggregates_and_is_audited(analist, web_ws):
    analist.post("/werkdoel", data={"doel": "sociaal_domein", "csrf_token": csrf_of(analist.get("/").text)})
    page = analist.get(f"/datasets/{RESTRICTED}")
    assert page.status_code == 200 and "Aantal per wijk" in page.text
    r = analist.get(f"/api/datasets/{RESTRICTED}/aggregaat", params={"per": "postcode_buurtcode"}).json()
    assert r["poort"] is True
    counts = [row["n"] for row in r["rijen"] if row["n"] is not None]
    assert counts and min(counts) >= 15                       # nothing below the threshold leaves
    assert any(row["suppressed"] for row in r["rijen"])       # and small cells are suppressed, not zero
    audit = [json.loads(x) for x in (web_ws / "audit" / "audit.jsonl").read_text().splitlines()]
    mine = [a for a in audit if a["user"] == "analist" and a["dataset"] == RESTRICTED and a["allowed"]]
    assert any(a["route"].startswith("api:/api/datasets") for a in mine)
    assert any(a["route"].startswith("web:/datasets") for a in mine)


def test_refusals_of_personal_data_are_audited(wijkmanager, web_ws):
    wijkmanager.get(f"/api/datasets/{RESTRICTED}/aggregaat", params={"per": "wijk_code"})
    audit = [json.loads(x) for x in (web_ws / "audit" / "audit.jsonl").read_text().splitlines()]
    assert any(a["user"] == "wijkmanager" and not a["allowed"] for a in audit)


def test_basic_auth_for_api_reads(server):
    cred = base64.b64encode(f"analist:{PASSWORDS['analist']}".encode()).decode()
    ok = httpx.get(f"{server}/api/datasets/{RESTRICTED}", headers={"Authorization": f"Basic {cred}"})
    assert ok.status_code == 200
    bad = base64.b64encode(b"analist:fout").decode()
    assert httpx.get(f"{server}/api/datasets/{RESTRICTED}", headers={"Authorization": f"Basic {bad}"}).status_code == 401


def test_overleg_needs_login_and_csrf(anon, analist, web_ws):
    r = anon.get("/overleg", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert anon.get("/api/overleg/groningen_fietsdiefstal/acties").status_code == 401
    no_token = analist.post("/overleg/acties", data={"dataset": "groningen_fietsdiefstal", "gebied": "BU00140000",
                                                     "actie": "x", "team": "flexteam", "datum": "2017-09-01"})
    assert no_token.status_code == 403
    json_no_token = analist.post("/api/overleg/groningen_fietsdiefstal/acties",
                                 json={"gebied": "BU00140000", "actie": "x", "team": "flexteam", "datum": "2017-09-01"})
    assert json_no_token.status_code == 403
    assert not (web_ws / "overleg" / "acties.json").exists() or "\"x\"" not in (web_ws / "overleg" / "acties.json").read_text()


def test_internal_incident_data_need_login_and_come_as_released_counts(anon, wijkmanager):
    intern = "/api/incidenten/utrecht_incidenten_intern"
    assert "utrecht_incidenten_intern" not in {d["id"] for d in anon.get("/api/incidenten").json()["datasets"]}
    assert anon.get(f"{intern}/tabel").status_code == 401
    assert anon.get("/incidenten", params={"dataset": "utrecht_incidenten_intern"}).status_code == 401
    mine = wijkmanager.get(f"{intern}/tabel", params={"periode": "kwartaal"}).json()
    open_twin = wijkmanager.get("/api/incidenten/utrecht_incidenten_test/tabel", params={"periode": "kwartaal"}).json()
    assert mine["totaal"] == open_twin["totaal"]
    assert {r["code"]: r["aantal"] for r in mine["rijen"]} == {r["code"]: r["aantal"] for r in open_twin["rijen"]}
    pts = wijkmanager.get(f"{intern}/punten.geojson", params={"periode": "kwartaal"}).json()
    assert pts["features"] == [] and "open data" in pts["let_op"]       # no single incidents outside open data
    raster = wijkmanager.get(f"{intern}/raster.geojson", params={"periode": "kwartaal"}).json()
    assert raster["hotspots"] == wijkmanager.get("/api/incidenten/utrecht_incidenten_test/raster.geojson",
                                                 params={"periode": "kwartaal"}).json()["hotspots"]
