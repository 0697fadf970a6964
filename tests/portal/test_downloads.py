"""Downloads in every format open with pandas, pyarrow and openpyxl; version URLs are stable, `latest` follows."""

from __future__ import annotations

import io
import json

import httpx
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest


def get(live, path: str, **kw) -> httpx.Response:
    r = httpx.get(live.url + path, follow_redirects=True, timeout=60, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r


@pytest.fixture(scope="module")
def meldingen(state):
    return state.warehouse().table("meldingen_openbare_ruimte").to_pandas()


@pytest.mark.parametrize("ext", ["csv", "json", "geojson", "parquet", "xlsx"])
def test_every_format_opens_and_holds_every_row(live, meldingen, ext):
    r = get(live, f"/open/download/meldingen_openbare_ruimte/latest/meldingen_openbare_ruimte.{ext}")
    body = io.BytesIO(r.content)
    if ext == "csv":
        df = pd.read_csv(body)
    elif ext == "json":
        df = pd.read_json(body)
    elif ext == "parquet":
        df = pq.read_table(body).to_pandas()
    elif ext == "xlsx":
        ws = openpyxl.load_workbook(body, read_only=True).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        df = pd.DataFrame(rows[1:], columns=rows[0])
    else:
        fc = json.loads(r.content)
        assert fc["type"] == "FeatureCollection"
        lon, lat = zip(*[f["geometry"]["coordinates"] for f in fc["features"]])
        assert 4.9 < min(lon) < max(lon) < 5.3 and 51.9 < min(lat) < max(lat) < 52.2   # WGS84, Utrecht
        df = pd.DataFrame([f["properties"] for f in fc["features"]])
    assert len(df) == len(meldingen)
    assert {"melding_id", "categorie", "datum", "x_rd", "lon", "wijk_code"} <= set(df.columns)
    assert "__row" not in df.columns and "__file" not in df.columns
    assert sorted(df.melding_id) == sorted(meldingen.melding_id)
    assert (df.categorie.value_counts().sort_index() == meldingen.categorie.value_counts().sort_index()).all()


def test_polygons_come_as_wgs84_geojson_and_geoparquet(live):
    fc = get(live, "/open/download/buurten_2024/latest/buurten_2024.geojson").json()
    assert len(fc["features"]) == 111
    assert {f["geometry"]["type"] for f in fc["features"]} <= {"Polygon", "MultiPolygon"}
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert 4.9 < ring[0][0] < 5.3 and 51.9 < ring[0][1] < 52.2
    table = pq.read_table(io.BytesIO(get(live, "/open/download/buurten_2024/latest/buurten_2024.parquet").content))
    assert b"geo" in table.schema.metadata and table.num_rows == 111
    csv = pd.read_csv(io.StringIO(get(live, "/open/download/buurten_2024/latest/buurten_2024.csv").text))
    assert csv.geom.str.startswith(("POLYGON", "MULTIPOLYGON")).all()


def test_publication_downloads_have_no_geojson(live):
    names = {r["format"] for r in httpx.get(f"{live.url}/api/3/action/package_show?id=hulp_per_wijk").json()["result"]["resources"]}
    assert names == {"CSV", "JSON", "Parquet", "XLSX"}
    assert httpx.get(f"{live.url}/open/download/hulp_per_wijk/latest/hulp_per_wijk.geojson").status_code == 404
    xl = openpyxl.load_workbook(io.BytesIO(get(live, "/open/download/hulp_per_wijk/latest/hulp_per_wijk.xlsx").content))
    assert [c.value for c in xl.worksheets[0][1]] == ["wijk_code", "regeling", "n", "suppressed"]


def test_latest_alias_equals_the_newest_version(live, state):
    n = state.warehouse().current_version("meldingen_openbare_ruimte")
    alias = httpx.get(f"{live.url}/open/download/meldingen_openbare_ruimte/latest/meldingen_openbare_ruimte.csv")
    assert alias.status_code == 302
    assert alias.headers["location"] == f"/open/download/meldingen_openbare_ruimte/v{n}/meldingen_openbare_ruimte-v{n}.csv"
    assert "max-age=60" in alias.headers["cache-control"]
    fixed = httpx.get(live.url + alias.headers["location"])
    assert fixed.content == get(live, "/open/download/meldingen_openbare_ruimte/latest/meldingen_openbare_ruimte.csv").content
    assert "immutable" in fixed.headers["cache-control"] and fixed.headers["etag"]
    again = httpx.get(live.url + alias.headers["location"], headers={"If-None-Match": fixed.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("path", ["/open/download/meldingen_openbare_ruimte/v99/meldingen_openbare_ruimte-v99.csv",
                                  "/open/download/meldingen_openbare_ruimte/latest/meldingen_openbare_ruimte.exe",
                                  "/open/download/bezoekers_per_maand/latest/bezoekers_per_maand.geojson",
                                  "/open/download/meldingen_openbare_ruimte/v1/andere-naam.csv"])
def test_unknown_versions_formats_and_names_are_404(live, path):
    assert httpx.get(live.url + path).status_code == 404


def test_selection_csv_is_the_filtered_preview(live, meldingen):
    r = get(live, "/open/datasets/meldingen_openbare_ruimte/selectie.csv?f.categorie=groen&f.status=open")
    df = pd.read_csv(io.StringIO(r.text))
    assert len(df) == int(((meldingen.categorie == "groen") & (meldingen.status == "open")).sum())
    assert set(df.categorie) == {"groen"}
