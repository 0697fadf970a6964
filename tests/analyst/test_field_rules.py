"""Issue 10, item 8: field-level publication rules for open datasets, tried through every portal route.

The Groningen bicycle thefts are open, but their catalog entry says (privacy.publish): street and house
number left out, postcode to PC4, coordinates to the centre of their 125 m cell. A real ``stadslab serve``
is asked for the dataset through the portal pages, the selection CSV and map layer, every download format
and version alias, the CKAN Action API (package, resource, datastore with q/filters/fields/sort) and DCAT,
and the web API's incident points; no answer may carry a house number, a street, a full postcode or an
exact coordinate.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from stadslab.portal.field_rules import FieldRules, column_sql, rules_of
from stadslab.web.launch import running_server

DS = "groningen_fietsdiefstal"
FORMATS = ("csv", "json", "geojson", "parquet", "xlsx")


@pytest.fixture(scope="module")
def truth(demo_ws) -> dict:
    """What must not leave: full postcodes, street + house number pairs, exact RD coordinates."""
    from stadslab.workspace import Workspace

    with Workspace(demo_ws).warehouse(read_only=True) as wh:
        df = wh.con.execute(f"SELECT straat, huisnummer, postcode, x, y, x_rd, y_rd, lon, lat FROM {DS}").df()
    pc6 = sorted({p for p in df.postcode.dropna() if re.fullmatch(r"\d{4}[A-Z]{2}", p)})
    # streets that are not also a buurt or wijk name (those may appear legitimately)
    streets = sorted(set(df.straat.dropna()))
    exact = df[(df.x_rd % 125 != 62.5) | (df.y_rd % 125 != 62.5)]
    return {"pc6": pc6, "streets": streets, "house": df.dropna(subset=["huisnummer"]),
            "xy": set(zip(exact.x_rd.round(0), exact.y_rd.round(0))),
            "lonlat": set(zip(exact.lon.round(6), exact.lat.round(6)))}


@pytest.fixture(scope="module")
def base(demo_ws, tmp_path_factory):
    root = tmp_path_factory.mktemp("rules") / "ws"
    shutil.copytree(demo_ws, root)
    with running_server(root, ready="/open") as url:
        yield url


def _leaks(text: str, truth: dict) -> list[str]:
    found = [p for p in truth["pc6"][:400] if p in text]
    # an address as it reads: street, space, house number
    sample = truth["house"].head(300)
    found += [f"{s} {h}" for s, h in zip(sample.straat, sample.huisnummer) if f"{s} {h}" in text]
    return found


def _columns_ok(cols: list[str]) -> None:
    assert "huisnummer" not in cols and "straat" not in cols, cols


def _coords_ok(df: pd.DataFrame) -> None:
    for c in ("x_rd", "y_rd", "x", "y"):
        if c in df.columns:
            v = pd.to_numeric(df[c], errors="coerce").dropna()
            assert len(v) and ((v - 62.5) % 125 == 0).all(), f"{c} is not a 125 m cell centre"


def test_rules_are_read_from_the_catalog(demo_ws):
    from stadslab.workspace import Workspace

    rules = rules_of(Workspace(demo_ws).catalog().get(DS))
    assert rules.location == "grid_125m" and rules.fields["huisnummer"] == "leave_out"
    assert rules.rule("lon") == "cell_lon" and rules.rule("x") == "cell_x" and rules.rule("grid_125m") == "publish"
    assert FieldRules(location="buurt").rule("grid_125m") == "leave_out"
    assert FieldRules(location="wijk").rule("buurt_code") == "leave_out"
    assert column_sql(FieldRules(fields={"postcode": "pc4"}), "postcode", "VARCHAR", set()) == \
        'left(CAST("postcode" AS VARCHAR), 4) AS "postcode"'


def test_bad_rules_fail_closed(demo_ws, tmp_path):
    from stadslab.errors import CatalogError
    from stadslab.workspace import Workspace

    root = tmp_path / "ws"
    shutil.copytree(demo_ws / "catalog", root / "catalog")
    shutil.copy(demo_ws / "stadslab.yaml", root / "stadslab.yaml")
    path = root / "catalog" / f"{DS}.yaml"
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry["privacy"]["publish"]["fields"]["huisnummer"] = "vaag"
    path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match="vaag"):
        rules_of(Workspace(root).catalog().get(DS))


def test_every_portal_route_and_format_holds_back_addresses_and_exact_coordinates(base, truth):
    c = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    texts: dict[str, str] = {}

    page = c.get(f"/open/datasets/{DS}")
    assert page.status_code == 200 and "Publicatieregels" in page.text
    texts["pagina"] = page.text
    for q in ("", "?q=Schoolholm", "?pagina=3"):
        texts[f"pagina{q}"] = c.get(f"/open/datasets/{DS}{q}").text
    sel = c.get(f"/open/datasets/{DS}/selectie.csv")
    assert sel.status_code == 200
    df = pd.read_csv(io.StringIO(sel.text), dtype=str)
    _columns_ok(list(df.columns)), _coords_ok(df)
    texts["selectie"] = sel.text
    kaart = c.get(f"/open/datasets/{DS}/kaart.geojson").json()
    assert kaart["features"]
    for f in kaart["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert (round(lon, 6), round(lat, 6)) not in truth["lonlat"]
    texts["kaart"] = json.dumps(kaart)

    for ref in ("latest", "v1"):
        for ext in FORMATS:
            name = f"{DS}.{ext}" if ref == "latest" else f"{DS}-v1.{ext}"
            r = c.get(f"/open/download/{DS}/{ref}/{name}")
            assert r.status_code == 200, (ref, ext, r.text[:200])
            if ext == "csv":
                d = pd.read_csv(io.BytesIO(r.content), dtype=str)
            elif ext == "json":
                d = pd.DataFrame(json.loads(r.content))
            elif ext == "parquet":
                d = pd.read_parquet(io.BytesIO(r.content))
            elif ext == "xlsx":
                d = pd.read_excel(io.BytesIO(r.content), dtype=str)
            else:
                gj = json.loads(r.content)
                d = pd.DataFrame([f["properties"] for f in gj["features"]])
                pts = {(round(f["geometry"]["coordinates"][0], 6), round(f["geometry"]["coordinates"][1], 6))
                       for f in gj["features"] if f["geometry"]}
                assert not pts & truth["lonlat"], "exact point in GeoJSON"
            _columns_ok(list(d.columns)), _coords_ok(d)
            if "postcode" in d.columns:
                assert d["postcode"].dropna().astype(str).str.len().max() <= 4
            if ext in ("csv", "json", "geojson"):
                texts[f"{ref}.{ext}"] = r.content.decode("utf-8")

    api = "/api/3/action/"
    pkg = c.get(api + "package_show", params={"id": DS}).json()["result"]
    texts["package_show"] = json.dumps(pkg, ensure_ascii=False)
    for res in pkg["resources"]:
        texts["resource_show " + res["id"]] = c.get(api + "resource_show", params={"id": res["id"]}).text
    texts["package_search"] = c.get(api + "package_search", params={"q": "Groningen"}).text
    ds = c.get(api + "datastore_search", params={"resource_id": DS, "limit": 500}).json()["result"]
    _columns_ok([f["id"] for f in ds["fields"]])
    _coords_ok(pd.DataFrame(ds["records"]))
    texts["datastore"] = json.dumps(ds, ensure_ascii=False)
    # asking for the held-back fields by name: an error, never the values
    for params in ({"fields": "huisnummer,straat"}, {"filters": json.dumps({"huisnummer": "1"})},
                   {"sort": "huisnummer asc"}, {"q": "Schoolholm"}, {"distinct": "true", "fields": "postcode"}):
        r = c.get(api + "datastore_search", params={"resource_id": DS, **params})
        texts[f"datastore {params}"] = r.text
        if r.status_code == 200 and "fields" in params:
            cols = [f["id"] for f in r.json()["result"]["fields"]]
            _columns_ok(cols)
    for path in ("/dcat/catalog.ttl", "/dcat/catalog.jsonld"):
        texts[path] = c.get(path).text

    # the web API's single incidents: cell centres only
    pts = c.get(f"/api/incidenten/{DS}/punten.geojson", params={"periode": "jaar"}).json()
    assert pts["features"]
    got = {(round(f["geometry"]["coordinates"][0], 6), round(f["geometry"]["coordinates"][1], 6)) for f in pts["features"]}
    assert not got & truth["lonlat"]
    assert len(got) < len(pts["features"])                # many incidents share a cell centre
    texts["punten"] = json.dumps(pts)

    for route, text in texts.items():
        assert not _leaks(text, truth), f"{route}: {_leaks(text, truth)[:5]}"
