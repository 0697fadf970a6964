"""The biweekly meeting: actions log (atomic JSON file), change since each action, briefing HTML and PDF."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from stadslab.errors import AnalysisError
from stadslab.web.data import actions
from tests.web.conftest import csrf_of
from tests.web.synthetic import BURST_BUURT


def test_actions_log_is_written_atomically_and_validated(tmp_path):
    a = actions.add(tmp_path, dataset="d", area_code="BU1", area_name="Buurt", action="Surveillance",
                    team="flexteam", on=date(2024, 12, 1), user="analist")
    data = json.loads(actions.log_path(tmp_path).read_text())
    assert data == [a] and not list(actions.log_path(tmp_path).parent.glob(".acties-*"))
    actions.withdraw(tmp_path, a["id"], "analist")
    assert actions.for_dataset(tmp_path, "d") == []
    with pytest.raises(AnalysisError):
        actions.add(tmp_path, dataset="d", area_code="BU1", area_name="B", action=" ", team="x", on=date.today(), user="u")


def test_action_entered_in_the_app_and_change_measured_since(analist, web_ws):
    page = analist.get("/overleg", params={"dataset": "utrecht_incidenten_test", "periode": "28d"})
    assert page.status_code == 200
    on = date(2024, 12, 31) - timedelta(days=27)
    r = analist.post("/overleg/acties", data={
        "csrf_token": csrf_of(page.text), "dataset": "utrecht_incidenten_test", "gebied": BURST_BUURT,
        "actie": "Camera-toezicht parkeerterrein", "team": "flexteam", "datum": on.isoformat(),
        "terug": "/overleg?dataset=utrecht_incidenten_test"}, follow_redirects=False)
    assert r.status_code == 303
    stored = json.loads((web_ws / "overleg" / "acties.json").read_text())
    assert any(a["actie"] == "Camera-toezicht parkeerterrein" and a["door"] == "analist" for a in stored)
    # JSON API with the session's CSRF header
    r = analist.post("/api/overleg/utrecht_incidenten_test/acties", headers={"X-CSRF-Token": csrf_of(page.text)},
                     json={"gebied": "WK034406", "actie": "Fietsen labelen", "team": "handhaving", "datum": "2024-10-01"})
    assert r.status_code == 201 and r.json()["gebied_naam"] == "Wijk 06 Binnenstad"
    effects = analist.get("/api/overleg/utrecht_incidenten_test/acties").json()["acties"]
    burst = next(a for a in effects if a["gebied"] == BURST_BUURT)
    assert burst["dagen"] == 28
    tab_now = analist.get("/api/incidenten/utrecht_incidenten_test/tabel",
                          params={"periode": "aangepast", "van": on.isoformat(), "tot": "2024-12-31"}).json()
    row = next(x for x in tab_now["rijen"] if x["code"] == BURST_BUURT)
    assert (burst["na"], burst["voor"]) == (row["aantal"], row["vorige_periode"])
    assert burst["label"] == "significant gestegen"


def test_briefing_html_and_pdf(analist):
    html = analist.get("/overleg/briefing", params={"dataset": "utrecht_incidenten_test", "periode": "28d"}).text
    assert "Buurten met de meeste incidenten" in html and "<svg" in html and "Camera-toezicht" in html
    assert "Wolga- en Donaudreef" in html               # the burst buurt tops the list
    brief = analist.get("/api/overleg/utrecht_incidenten_test/briefing", params={"periode": "28d"}).json()
    assert brief["top"][0]["code"] == BURST_BUURT and brief["bron"]["datasets"]
    pdf = analist.get("/overleg/briefing.pdf", params={"dataset": "utrecht_incidenten_test", "periode": "28d"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content[:4] == b"%PDF" and len(pdf.content) > 10_000
