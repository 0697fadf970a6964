"""The API behind every page, against a real server over the demo workspace (httpx)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.web.synthetic import BURST_BUURT

G = "/api/incidenten/groningen_fietsdiefstal"
U = "/api/incidenten/utrecht_incidenten_test"


def test_openapi_lists_every_view_and_docs_work_offline(anon):
    spec = anon.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/api/datasets", "/api/monitor", "/api/monitor/kaart.geojson", "/api/monitor/tabel",
              "/api/incidenten/{dataset}/buurten.geojson", "/api/incidenten/{dataset}/raster.geojson",
              "/api/incidenten/{dataset}/punten.geojson", "/api/incidenten/{dataset}/tabel",
              "/api/overleg/{dataset}/briefing", "/api/overleg/{dataset}/acties"):
        assert p in paths, p
    docs = anon.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn.jsdelivr" not in docs
    assert anon.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    for f in ("maplibre/maplibre-gl.mjs", "maplibre/maplibre-gl-worker.mjs", "maplibre/maplibre-gl.css",
              "vega/vega.min.js", "vega/vega-lite.min.js", "vega/vega-embed.min.js"):
        assert anon.get(f"/static/vendor/{f}").status_code == 200, f


def test_start_page_and_dataset_list(anon):
    html = anon.get("/").text
    assert "Fietsdiefstallen stad Groningen" in html and "Kerncijfers wijken en buurten 2024" in html
    data = anon.get("/api/datasets").json()
    ids = {d["id"] for d in data["datasets"]}
    assert "cbs_kwb_utrecht_2024" in ids and "sociaal_uitkeringen" not in ids
    assert data["niet_getoond"] >= 3
    kwb = next(d for d in data["datasets"] if d["id"] == "cbs_kwb_utrecht_2024")
    assert kwb["eigenaar"].startswith("Centraal Bureau") and kwb["classificatie"] == "open"
    assert kwb["versheid"]["geladen_op"] and kwb["versheid"]["status"] in ("actueel", "verouderd")


def test_monitor_utrecht_2024_population_as_cbs_publishes(anon):
    d = anon.get("/api/monitor", params={"jaar": 2024}).json()
    inw = next(r for r in d["profiel"] if r["veld"] == "a_inw")
    assert inw["waarde"] == 374238
    assert d["vorig_jaar"] == 2023 and inw["vorige_waarde"] == 367947
    assert len(d["kinderen"]) == 10
    wijk_sum = sum(k["inwoners"] for k in d["kinderen"])
    assert abs(wijk_sum - 374238) <= 5 * 10          # CBS rounds wijk counts to fives
    assert "374.238" in anon.get("/monitor?jaar=2024").text     # Dutch thousands separator (default year: 2023)
    # a wijk: its buurten add up to it within CBS rounding
    wk = d["kinderen"][5]["code"]
    w = anon.get("/api/monitor", params={"gebied": wk, "jaar": 2024}).json()
    w_inw = next(r for r in w["profiel"] if r["veld"] == "a_inw")["waarde"]
    assert abs(sum(k["inwoners"] or 0 for k in w["kinderen"]) - w_inw) <= 5 * len(w["kinderen"])


def test_monitor_unpublished_values_are_missing_not_zero(anon):
    d = anon.get("/api/monitor", params={"jaar": 2024}).json()
    ink = next(r for r in d["profiel"] if r["veld"] == "g_ink_pi")
    assert ink["waarde"] is None and ink["score"] is None and ink["gepubliceerd"] is False
    kaart = anon.get("/api/monitor/kaart.geojson", params={"jaar": 2024}).json()
    assert all(f["properties"]["s_g_ink_pi"] is None for f in kaart["features"])
    rows = list(csv.reader(io.StringIO(anon.get("/api/monitor/tabel", params={"format": "csv"}).text.lstrip("\ufeff")),
                           delimiter=";"))
    col = rows[0].index("g_ink_pi")
    assert all(r[col] == "" for r in rows[1:])        # empty, never "0"


def test_monitor_z_scores_against_the_city(anon):
    d = anon.get("/api/monitor", params={"jaar": 2023}).json()
    per = [k["score"]["a_soz_wb"] for k in d["kinderen"]]
    city = next(r for r in d["profiel"] if r["veld"] == "a_soz_wb")["score"]
    n = len(per)
    mean = sum(per) / n
    sd = (sum((x - mean) ** 2 for x in per) / (n - 1)) ** 0.5
    for k, x in zip(d["kinderen"], per):
        assert k["z"]["a_soz_wb"] == pytest.approx((x - city) / sd, rel=1e-9)
    # per 1,000 inhabitants: bijstand / inwoners × 1000 for the city
    assert city == pytest.approx(10410 / 367947 * 1000)


def test_incident_filters_type_period_daypart_wijk(anon):
    base = anon.get(f"{U}/samenvatting", params={"periode": "jaar"}).json()
    total = base["totaal"]["aantal"]
    by_type = sum(anon.get(f"{U}/samenvatting", params={"periode": "jaar", "soort": s}).json()["totaal"]["aantal"]
                  for s in ("woninginbraak", "autokraak", "fietsdiefstal", "vernieling"))
    assert by_type == total and total > 2000
    two = anon.get(f"{U}/samenvatting", params=[("periode", "jaar"), ("soort", "autokraak"), ("soort", "vernieling")]).json()
    assert 0 < two["totaal"]["aantal"] < total
    parts = sum(anon.get(f"{U}/samenvatting", params={"periode": "jaar", "dagdeel": p}).json()["totaal"]["aantal"]
                for p in ("nacht", "ochtend", "middag", "avond"))
    assert parts == total
    days = anon.get(f"{U}/samenvatting", params=[("periode", "jaar"), ("dag", 6), ("dag", 7)]).json()
    assert days["totaal"]["aantal"] == sum(x["aantal"] for x in base["per_dag"][5:])
    short = anon.get(f"{U}/samenvatting", params={"periode": "14d"}).json()
    assert short["periode"]["dagen"] == 14 and short["totaal"]["aantal"] < total
    custom = anon.get(f"{U}/samenvatting", params={"periode": "aangepast", "van": "2024-03-01", "tot": "2024-03-31"}).json()
    assert custom["periode"]["dagen"] == 31 and custom["periode"]["vorige_van"] == "2024-01-30"
    wijk = anon.get(f"{U}/tabel", params={"periode": "jaar", "wijk": "WK034406"}).json()
    assert wijk["rijen"] and all(r["wijk_code"] == "WK034406" for r in wijk["rijen"])
    assert anon.get(f"{U}/samenvatting", params={"periode": "eeuw"}).status_code == 400


def test_change_against_previous_period_is_tested(anon):
    t = anon.get(f"{U}/tabel", params={"periode": "28d"}).json()
    burst = next(r for r in t["rijen"] if r["code"] == BURST_BUURT)
    assert burst["aantal"] >= 40 and burst["verandering_label"] == "significant gestegen" and burst["p_verandering"] < 0.001
    quiet = [r for r in t["rijen"] if r["aantal"] + r["vorige_periode"] <= 3]
    assert quiet and all(r["verandering_label"] == "binnen toeval" for r in quiet)
    # a year back reaches before the data: no fake "increase"
    year = anon.get(f"{U}/samenvatting", params={"periode": "jaar"}).json()
    assert year["totaal"]["label"] == "vorige periode onvolledig" and year["totaal"]["p"] is None


def test_rates_per_1000_from_cbs_or_missing_with_a_note(anon):
    t = anon.get(f"{U}/tabel", params={"periode": "jaar"}).json()
    r = next(r for r in t["rijen"] if r["inwoners"])
    assert r["per_1000"] == pytest.approx(r["aantal"] / r["inwoners"] * 1000)
    assert any("cbs_kwb_utrecht_2024" == d["dataset"] for d in t["bron"]["datasets"])
    old = anon.get("/api/incidenten/utrecht_incidenten_test_2013/samenvatting", params={"periode": "jaar"}).json()
    assert old["heeft_inwoners"] is False
    assert all(r["per_1000"] is None for r in old["top_buurten"])
    assert any(n.startswith("Per 1.000 inwoners is niet te berekenen") for n in old["opmerkingen"])
    # Groningen: CBS buurtkaart 2017 carries aant_inw
    g = anon.get(f"{G}/samenvatting", params={"periode": "jaar"}).json()
    assert g["heeft_inwoners"] is True


def test_hotspots_per_buurt_and_per_cell(anon):
    t = anon.get(f"{U}/tabel", params={"periode": "kwartaal"}).json()
    hot = [r for r in t["rijen"] if r["hotspot"] == "hotspot"]
    assert any(r["code"].startswith("BU034406") for r in hot)      # the station cluster
    assert all(r["q"] < 0.05 and r["gi_z"] > 0 for r in hot)
    raster = anon.get(f"{U}/raster.geojson", params={"periode": "kwartaal"})
    assert raster.headers["content-type"].startswith("application/geo+json")
    cells = raster.json()["features"]
    hot_cells = [f for f in cells if f["properties"]["hotspot"] == "hotspot"]
    assert hot_cells and all(f["properties"]["q"] < 0.05 for f in hot_cells)
    assert hot_cells[0]["geometry"]["type"] == "Polygon"
    pts = anon.get(f"{U}/punten.geojson", params={"periode": "kwartaal"}).json()
    assert len(pts["features"]) == t["totaal"]["aantal"]


def test_every_answer_carries_its_source(anon):
    for url, params in ((f"{U}/tabel", {"periode": "28d"}), ("/api/monitor", {}), ("/api/gebieden.geojson", {}),
                        (f"{G}/buurten.geojson", {"periode": "kwartaal"})):
        body = anon.get(url, params=params).json()
        b = body["bron"]
        assert b["datasets"] and all("versie" in d and "geladen_op" in d for d in b["datasets"]), url
        assert b["methode"] and b["ververst_op"]
    csvr = anon.get(f"{G}/tabel", params={"periode": "28d", "format": "csv"})
    assert csvr.headers["content-type"].startswith("text/csv")
    bron = json.loads(csvr.headers["x-stadslab-bron"])
    assert "groningen_fietsdiefstal@v1" in bron["datasets"]
    header = csvr.text.lstrip("\ufeff").splitlines()[0].split(";")
    assert {"code", "naam", "aantal", "vorige_periode", "per_1000", "hotspot"} <= set(header)


def test_unknown_things_give_clear_errors(anon):
    r = anon.get("/api/incidenten/bestaat_niet/samenvatting")
    assert r.status_code == 404 and "onbekende dataset" in r.json()["fout"]
    r = anon.get("/api/monitor", params={"gebied": "BU99999999"})
    assert r.status_code == 400 and "bestaat niet" in r.json()["fout"]
    assert anon.get("/api/incidenten/cbs_kwb_utrecht_2024/opties").status_code == 404
