"""Risicokaart (/risico): backtest scores next to the baselines, the honest default map, the top cells, the
Algoritmeregister downloads, access, and the page in Chromium.

Own workspace and server (the shared ``server`` fixture may already hold the shared workspace's warehouse):
a copy of the demo with a real backtest made by the CLI before the server starts and the risk map made
by an analist through the page's form; plus an in-process app on a second copy with a doctored backtest
(the model loses) for the other branch.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import re
import shutil
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import UTRECHT_BUURTEN_RD, run_cli
from stadslab.web.launch import running_server
from tests.web.conftest import csrf_of, login_client
from tests.web.synthetic import ENTRY, write_incidents

DS = "groningen_fietsdiefstal"
INTERN = "utrecht_incidenten_intern"
FRACTIONS = ["0.01", "0.03", "0.05", "0.1"]
BASELINES = ["last_period", "last_365d", "kde"]
NL = {"last_period": "vorige periode", "last_365d": "afgelopen jaar", "kde": "kerndichtheid"}


def pct(x: float) -> str:
    return f"{100 * x:.1f} %".replace(".", ",")


@pytest.fixture(scope="module")
def risk_ws(demo_ws, tmp_path_factory) -> tuple[Path, dict]:
    """Demo copy + an intern incident dataset without results + a real (short) backtest through the CLI."""
    root = tmp_path_factory.mktemp("risico") / "ws"
    shutil.copytree(demo_ws, root)
    write_incidents(root / "data" / "test" / "incidenten_utrecht.csv", UTRECHT_BUURTEN_RD)
    entry = copy.deepcopy(ENTRY)
    entry.update(id=INTERN, title="Incidenten Utrecht 2024 (intern, test)", classification="intern")
    (root / "catalog" / f"{INTERN}.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    run_cli("ingest", INTERN, "-w", str(root))
    # one model fit for the six periods keeps this at ~15 s (refit every period: minutes)
    out = run_cli("predict", "backtest", DS, "-w", str(root), "--start", "2017-06-01", "--end", "2017-09-01",
                  "--refit-every", "6", "--json")
    return root, json.loads(out.stdout)


@pytest.fixture(scope="module")
def risk_server(risk_ws):
    with running_server(risk_ws[0], ready="/api/risico") as base:
        yield base


@pytest.fixture(scope="module")
def analist_c(risk_server):
    c = login_client(risk_server, "analist")
    yield c
    c.close()


@pytest.fixture(scope="module")
def made(risk_server, analist_c):
    """The analist makes the risk map from the page (predict_risk in the server process, stored as the CLI does)."""
    token = csrf_of(analist_c.get(f"/risico?dataset={DS}").text)
    r = analist_c.post("/risico/maken", data={"csrf_token": token, "dataset": DS}, timeout=300)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/risico?dataset={DS}&gemaakt=1"
    page = analist_c.get(r.headers["location"]).text
    assert "De risicokaart is gemaakt en opgeslagen (versie 1)" in page
    return analist_c.get(f"/api/risico/{DS}").json()


def test_without_a_map_the_page_names_the_command_and_only_an_analist_gets_the_button(risk_server, analist_c):
    with httpx.Client(base_url=risk_server, timeout=60) as anon:
        html = anon.get("/risico").text
        assert f"stadslab predict risk {DS}" in html and 'id="geen-kaart"' in html
        assert 'id="maak-kaart"' not in html and "inloggen" in html
        assert 'id="scores"' in html                       # the backtest is there already
        assert anon.post("/risico/maken", data={"dataset": DS}).status_code == 403            # no CSRF token
        token = csrf_of(anon.get("/login").text)
        assert anon.post("/risico/maken", data={"dataset": DS, "csrf_token": token}).status_code == 401
    wm = login_client(risk_server, "wijkmanager")
    html = wm.get("/risico").text
    assert 'id="maak-kaart"' not in html and "Alleen een analist" in html
    r = wm.post("/risico/maken", data={"dataset": DS, "csrf_token": csrf_of(html)})
    assert r.status_code == 403 and "alleen een analist" in r.text
    wm.close()
    html = analist_c.get("/risico").text
    assert 'id="maak-kaart"' in html and 'action="/risico/maken"' in html
    # an intern dataset without any result: both commands, and the backtest is not a button
    html = analist_c.get(f"/risico?dataset={INTERN}").text
    assert f"stadslab predict backtest {INTERN} --start 2017-01-01 --end 2017-10-01" in html
    assert 'id="geen-toets"' in html and "Nog niet getoetst" in html
    assert html.count("<form method=\"post\" action=\"/risico/maken\"") == 1


def test_api_scores_model_and_three_baselines_as_stored(risk_ws, made):
    _, bt = risk_ws
    s = made["backtest"]
    assert s["perioden"] == bt["periods"] == 6 and s["periode_dagen"] == 14
    assert (s["van"], s["tot"]) == (bt["start"][:10], bt["end"][:10])
    assert [r["methode"] for r in s["scores"]] == ["model", *BASELINES]
    for row in s["scores"]:
        stored = bt["models"][bt["model"] if row["methode"] == "model" else row["methode"]]
        assert list(row["trefkans"]) == FRACTIONS and list(row["pai"]) == FRACTIONS
        for f in FRACTIONS:
            assert row["trefkans"][f] == pytest.approx(stored["hit_rate"][f])
            assert row["pai"][f] == pytest.approx(stored["pai"][f])
    assert [r["methode"] for r in s["scores"] if r["beste_baseline"]] == [bt["best_baseline"]]
    assert s["model_wint"] is bt["model_beats_best_baseline"]
    # the per-period series for the chart: model and best baseline at 3 % per period
    assert len(s["per_periode"]) == 2 * bt["periods"]
    model_pp = [p["trefkans"] for p in s["per_periode"] if p["methode"] == "model"]
    assert np.nanmean(model_pp) == pytest.approx(bt["models"][bt["model"]]["hit_rate"]["0.03"])
    assert s["bron"]["datasets"][0]["dataset"] == DS
    assert s["bron"]["datasets"][0]["versie"] == 1 and "LightGBM" in s["bron"]["methode"]
    assert s["bron"]["filters"]["perioden"] == 6 and s["bron"]["berekend_op"]


def test_verdict_and_default_map_follow_the_backtest(risk_ws, made, analist_c):
    _, bt = risk_ws
    best, wins = bt["best_baseline"], bt["model_beats_best_baseline"]
    o = made["oordeel"]
    m3, b3 = bt["models"][bt["model"]]["hit_rate"]["0.03"], bt["models"][best]["hit_rate"]["0.03"]
    # the one verdict (stadslab.analyses.risk.verdict) decides text and default map
    from stadslab.analyses.risk.verdict import verdict as one_verdict
    v = one_verdict(bt)
    assert o["tekst"] == v.sentence and made["standaard"] == v.default_map
    assert o["model_wint"] is (v.level == "wint")
    if wins and v.level == "wint":
        assert f"bij 3 %: {pct(m3)} tegen {pct(b3)}" in o["tekst"]
    assert made["score"] == made["standaard"]
    html = analist_c.get(f"/risico?dataset={DS}").text
    assert o["tekst"].replace("'", "&#39;") in html
    assert re.search(rf'value="{made["standaard"]}" checked', html)


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def _num(s: str) -> float:
    return float(s.replace(",", ".")) if s else math.nan


def test_geojson_has_exactly_the_top_share_ranked_like_the_backtest(risk_server, made):
    pred = made["voorspelling"]
    k = pred["aangewezen"]
    assert k == math.floor(0.03 * pred["oppervlak_cellen"] + 0.5)          # 3 % of the municipality's land area
    everything = _csv(httpx.get(f"{risk_server}/api/risico/{DS}/cellen.csv?score=model&alle=true", timeout=60).text)
    df = pd.DataFrame(everything)
    assert len(df) == pred["kandidaatcellen"]
    for col in ("verwacht_model", "score_last_period", "score_last_365d", "score_kde"):
        df[col] = df[col].map(_num)
    src = {"model": "verwacht_model", **{b: f"score_{b}" for b in BASELINES}}
    for score, col in src.items():
        fc = httpx.get(f"{risk_server}/api/risico/{DS}/cellen.geojson?score={score}", timeout=60).json()
        assert len(fc["features"]) == k and fc["score"] == score
        got = [f["properties"]["cel"] for f in fc["features"]]
        # independent ranking: score desc, last year's count desc, cell id asc
        want = df.assign(neg=-df[col], neg365=-df["score_last_365d"]).sort_values(["neg", "neg365", "cel"])["cel"][:k]
        assert got == want.tolist(), score
        assert [f["properties"]["rang"] for f in fc["features"]] == list(range(1, k + 1))
    model = httpx.get(f"{risk_server}/api/risico/{DS}/cellen.geojson?score=model").json()
    assert {f["properties"]["cel"] for f in model["features"]} == set(df.loc[df["aangewezen_door_model"] == "ja", "cel"])
    ring = np.array(model["features"][0]["geometry"]["coordinates"][0])
    assert ring.shape == (5, 2)
    lat0 = math.radians(ring[0, 1])
    sides = [math.hypot((b[0] - a[0]) * 111_320 * math.cos(lat0), (b[1] - a[1]) * 110_574) for a, b in zip(ring, ring[1:])]
    assert sides == pytest.approx([125] * 4, abs=1.5)                 # a 125 m square (RD cell, in WGS84)
    top = made["top_cellen"]
    assert len(top) == 20 and top[0]["buurt"] and top[0]["toelichting"]
    r = httpx.get(f"{risk_server}/api/risico/{DS}/cellen.csv?score=kde")
    assert r.headers["content-type"].startswith("text/csv") and f"{DS}@v1" in r.headers["x-stadslab-bron"]
    assert len(_csv(r.text)) == k


def test_algoritmeregister_downloads_have_the_register_sections(risk_ws, risk_server, made):
    _, bt = risk_ws
    md = httpx.get(f"{risk_server}/api/risico/{DS}/algoritmeregister.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    for section in ("# Risicokaart fietsdiefstal", "## Organisatie\nGemeente Utrecht", "## Doel", "## Data en bronnen",
                    "## Werking", "## Evaluatie", "## Menselijke tussenkomst", "## Risico's en bias",
                    "## Juridische grondslag", "### Trefkans per methode"):
        assert section in md.text, section
    assert "6 perioden van 14 dagen" in md.text
    entry = httpx.get(f"{risk_server}/api/risico/{DS}/algoritmeregister.json").json()
    assert entry["evaluatie_cijfers"]["model_beats_best_baseline"] is bt["model_beats_best_baseline"]
    assert set(entry["evaluatie_cijfers"]["hit_rate"]) == {"gbm_poisson", *BASELINES}
    assert len(entry["risicos_en_bias"]) >= 4 and "te bevestigen" in entry["juridische_grondslag"].lower()


def test_access_as_on_the_incident_map(risk_server, analist_c, made):
    with httpx.Client(base_url=risk_server, timeout=60) as anon:
        ids = [d["id"] for d in anon.get("/api/risico").json()["datasets"]]
        assert DS in ids and INTERN not in ids
        assert anon.get(f"/api/risico/{INTERN}").status_code == 401
        assert anon.get(f"/api/risico/{INTERN}/algoritmeregister.md").status_code == 401
        spec = anon.get("/openapi.json").json()
        assert "risico" in {t["name"] for t in spec["tags"]}
        for p in ("/api/risico/{dataset}", "/api/risico/{dataset}/cellen.geojson", "/api/risico/{dataset}/cellen.csv",
                  "/api/risico/{dataset}/algoritmeregister.md", "/api/risico/{dataset}/algoritmeregister.json"):
            assert spec["paths"][p]["get"]["tags"] == ["risico"], p
        assert anon.get(f"/api/risico/{DS}/cellen.geojson?score=onzin").status_code == 422
        assert 'href="/risico"' in anon.get("/").text
    s = analist_c.get(f"/api/risico/{INTERN}").json()
    assert s["backtest"] is None and s["voorspelling"] is None and s["oordeel"]["getoetst"] is False
    assert s["opdrachten"]["risk"] == f"stadslab predict risk {INTERN}"
    r = analist_c.get(f"/api/risico/{INTERN}/cellen.geojson")
    assert r.status_code == 404 and f"stadslab predict risk {INTERN}" in r.json()["hint"]
    assert analist_c.get("/api/risico/sociaal_uitkeringen").status_code == 404     # personal data: never a map


# ---- the other branch: a doctored backtest in which the model loses (in-process app, own workspace) ------

def _doctored(bt: dict) -> dict:
    out = copy.deepcopy(bt)
    for f in FRACTIONS:
        out["models"][bt["model"]]["hit_rate"][f] = 0.8 * bt["models"][bt["best_baseline"]]["hit_rate"][f]
    out["models"][bt["model"]]["hit_rate_mean_over_fractions"] = 0.8 * bt["models"][bt["best_baseline"]]["hit_rate_mean_over_fractions"]
    out["model_beats_best_baseline"] = False
    out.pop("per_period", None)
    return out


def _synthetic_prediction(wh) -> tuple[pd.DataFrame, dict]:
    """A stored-prediction table with the columns ``predict_risk`` writes, from plain counts in SQL."""
    from stadslab.analyses.hotspots.lattice import parse_cells

    df = wh.con.execute(f"""
        SELECT grid_125m AS cell_id, any_value(buurt_code) AS buurt_code,
               count(*) FILTER (WHERE begin_tijd >= TIMESTAMP '2017-09-07') AS score_last_period,
               count(*) FILTER (WHERE begin_tijd >= TIMESTAMP '2016-09-21') AS score_last_365d,
               count(*) FILTER (WHERE begin_tijd >= TIMESTAMP '2017-06-21') / 7.0 AS score_kde,
               count(*) / 250.0 AS expected
        FROM {DS} WHERE grid_125m IS NOT NULL GROUP BY 1 ORDER BY 1""").df()
    ix, iy = parse_cells(df["cell_id"].to_numpy())
    df["x_rd"], df["y_rd"] = (ix + 0.5) * 125, (iy + 0.5) * 125
    k = math.floor(0.03 * len(df) + 0.5)
    df["rank"] = df["expected"].rank(method="first", ascending=False).astype(int)
    df["flagged"] = df["rank"] <= k
    df["toelichting"] = "synthetisch"
    return df, {"at": "2017-09-21T00:00:00", "period_days": 14, "top": 0.03, "flagged_cells": k,
                "n_area_cells": float(len(df))}


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_when_the_model_loses_the_best_baseline_is_the_default(demo_ws, risk_ws, tmp_path):
    from fastapi.testclient import TestClient

    from stadslab.analyses.risk.backtest import backtest_table
    from stadslab.web.app import create_app
    from stadslab.workspace import Workspace

    _, bt = risk_ws
    root = tmp_path / "ws"
    shutil.copytree(demo_ws, root)
    with TestClient(create_app(Workspace(root), warm=False)) as client:
        html = client.get("/risico").text      # nothing stored: both commands, no button for the public
        assert f"stadslab predict backtest {DS}" in html and f"stadslab predict risk {DS}" in html
        assert 'id="maak-kaart"' not in html
        state = client.app.state.stadslab
        bad = _doctored(bt)
        with state.writer() as wh:
            wh.save_result(f"backtest_risico_{DS}", backtest_table(bt), kind="backtest",
                           inputs=[(DS, 1)], params=bad, method="test: gedokterde toets")
            table, params = _synthetic_prediction(wh)
            wh.save_result(f"risico_{DS}", table, kind="risk_prediction", inputs=[(DS, 1)], params=params,
                           method="test: tellingen")
        best = bt["best_baseline"]
        s = client.get(f"/api/risico/{DS}").json()
        m3, b3 = bad["models"][bad["model"]]["hit_rate"]["0.03"], bad["models"][best]["hit_rate"]["0.03"]
        from stadslab.analyses.risk.verdict import verdict as one_verdict
        assert one_verdict(bad).level == "verliest"
        assert s["oordeel"]["tekst"] == one_verdict(bad).sentence
        assert f"bij 3 %: {pct(m3)} tegen {pct(b3)}" in s["oordeel"]["tekst"]
        assert s["standaard"] == s["score"] == best and s["voorspelling"]["score"] == best
        fc = client.get(f"/api/risico/{DS}/cellen.geojson").json()           # no score asked: the verdict's choice
        assert fc["score"] == best and len(fc["features"]) == params["flagged_cells"]
        col = f"score_{best}"
        want = table.assign(a=-table[col], b=-table["score_last_365d"]).sort_values(["a", "b", "cell_id"])["cell_id"]
        assert [f["properties"]["cel"] for f in fc["features"]] == want[: params["flagged_cells"]].tolist()
        html = client.get("/risico").text
        assert "Het model wint de toets niet" in html
        assert re.search(rf'value="{best}" checked> [^<]+ <span class="aanbevolen">\(aanbevolen door de toets\)', html)


def test_verdict_when_the_model_clearly_wins_says_by_how_much(risk_ws):
    from stadslab.web.data.risk import default_score, verdict

    _, bt = risk_ws
    good = copy.deepcopy(bt)
    best = bt["best_baseline"]
    for f in FRACTIONS:
        good["models"][bt["model"]]["hit_rate"][f] = 1.25 * bt["models"][best]["hit_rate"][f]
        good["comparison"][f].update(ratio=1.25, sign_test_p=0.01, periods_won=6, periods_lost=0)
    good["models"][bt["model"]]["hit_rate_mean_over_fractions"] = 1.25 * bt["models"][best]["hit_rate_mean_over_fractions"]
    good["model_beats_best_baseline"] = True
    v = verdict(good)
    assert v["model_wint"] and default_score(good) == v["standaard"] == "model" and v["niveau"] == "info"
    assert "×1,25" in v["tekst"] and "procentpunt" in v["tekst"] and "Het verschil is klein" not in v["tekst"]
    good["comparison"]["0.03"]["sign_test_p"] = 0.4                     # better on average, but not beyond chance
    assert "Het verschil is klein" in verdict(good)["tekst"] and verdict(good)["niveau"] == "waarschuwing"
    assert default_score(None) == "model" and verdict(None)["getoetst"] is False


# ---- in Chromium --------------------------------------------------------------------------------------------

READY = "document.body.dataset.kaartKlaar === '1'"


@pytest.mark.browser
def test_risk_page_in_the_browser(page, risk_server, made, shot):
    page.goto(f"{risk_server}/risico")
    page.wait_for_function(READY)
    assert page.evaluate("document.body.dataset.score") == made["standaard"]
    assert page.locator("#scores tbody tr").count() == 4
    assert made["oordeel"]["tekst"][:60] in page.locator("#oordeel").inner_text()
    assert page.locator("#top-tabel tbody tr").count() == 20
    page.wait_for_selector("#grafiek-perioden svg")
    shot("risico")                                                     # the page as it opens: verdict, scores, map
    other = "last_period" if made["standaard"] != "last_period" else "kde"
    first_before = page.locator("#top-tabel tbody tr").first.inner_text()
    old = {f["properties"]["cel"] for f in
           httpx.get(f"{risk_server}/api/risico/{DS}/cellen.geojson?score={made['standaard']}").json()["features"]}
    new_fc = httpx.get(f"{risk_server}/api/risico/{DS}/cellen.geojson?score={other}").json()
    new = {f["properties"]["cel"] for f in new_fc["features"]}
    page.check(f"input[name=score][value={other}]")
    page.wait_for_function(f"document.body.dataset.score === '{other}' && {READY}")
    assert SCORE_LEGEND[other] in page.locator("#legenda").inner_text()
    assert page.locator("#top-tabel tbody tr").first.inner_text() != first_before
    shown = set(page.evaluate("window.__stadslabMap.queryRenderedFeatures({layers: ['cel-vlak']}).map((f) => f.properties.cel)"))
    assert shown and shown <= new and shown - old                       # the map now draws the other top cells
    assert f"score={other}" in page.url
    # keyboard: the first cell in the table, Enter → popup on the map, reasons and buurt in the panel below it
    page.focus("#top-tabel tbody button.cel")
    page.keyboard.press("Enter")
    cel = page.locator("#top-tabel tbody button.cel").first.inner_text()
    page.locator(".maplibregl-popup-content").wait_for()
    assert cel in page.locator(".maplibregl-popup-content").inner_text()
    info = page.locator("#vak-info").inner_text()
    first = next(f["properties"] for f in new_fc["features"] if f["properties"]["cel"] == cel)
    assert "Waarom:" in info and first["toelichting"] in info and (first["buurt"] or "onbekend") in info
    assert page.evaluate("document.body.dataset.gekozenVak") == cel
    # mouse: click the second cell on the map
    fc = new_fc
    ring = fc["features"][1]["geometry"]["coordinates"][0]
    lon, lat = (ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2
    page.click(".maplibregl-popup-close-button")                 # the open popup may cover the cell
    page.locator("#kaart").scroll_into_view_if_needed()
    x, y = page.evaluate("""([lon, lat]) => { const m = window.__stadslabMap; m.jumpTo({ center: [lon, lat] });
        const p = m.project([lon, lat]);
        const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""", [lon, lat])
    page.mouse.click(x, y)
    page.wait_for_function(f"document.body.dataset.gekozenVak === '{fc['features'][1]['properties']['cel']}'")
    page.click("#bron-kaart summary")
    assert DS in page.locator("#bron-kaart").inner_text() and "versie 1" in page.locator("#bron-kaart").inner_text()
    shot("risico_vak")                                                 # a baseline's map, one cell chosen
    page.check(f"input[name=score][value={made['standaard']}]")
    page.wait_for_function(f"document.body.dataset.score === '{made['standaard']}' && {READY}")


SCORE_LEGEND = {"model": "Verwacht aantal (model)", "last_period": "Incidenten vorige periode",
                "last_365d": "Incidenten afgelopen jaar", "kde": "Kerndichtheid"}
