"""The real ckanapi client against the running portal: the acceptance test of the CKAN Action API."""

from __future__ import annotations

import httpx
import pytest
from ckanapi import NotFound, RemoteCKAN, ValidationError

from tests.portal.conftest import CATEGORIES, PERSONAL


@pytest.fixture(scope="module")
def ckan(live):
    with RemoteCKAN(live.url) as client:
        yield client


def test_package_list_holds_open_datasets_and_publications_only(ckan):
    names = ckan.action.package_list()
    assert {"meldingen_openbare_ruimte", "bezoekers_per_maand", "buurten_2024", "hulp_per_wijk", "hulp_per_jaar"} <= set(names)
    assert PERSONAL not in names and "hulp_zonder_doel" not in names
    assert "zonder_doel_per_wijk" not in names          # refused: the dataset lacks the purpose 'publicatie'


def test_package_show_describes_the_dataset_and_its_resources(ckan, state):
    pkg = ckan.action.package_show(id="meldingen_openbare_ruimte")
    assert pkg["name"] == "meldingen_openbare_ruimte" and pkg["title"] == "Meldingen openbare ruimte (test)"
    assert pkg["license_id"] == "CC0-1.0" and pkg["isopen"] is True
    assert pkg["organization"]["title"] == "Gemeente Utrecht"
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "JSON", "GeoJSON", "Parquet", "XLSX"}
    assert pkg["version"] == str(state.warehouse().current_version("meldingen_openbare_ruimte"))
    csv = next(r for r in pkg["resources"] if r["format"] == "CSV")
    assert csv["datastore_active"] is True and csv["url"].endswith("/latest/meldingen_openbare_ruimte.csv")
    assert ckan.action.resource_show(id=csv["id"])["url"] == csv["url"]


def test_package_search_with_a_facet(ckan):
    res = ckan.action.package_search(q="meldingen", **{"facet.field": ["organization", "res_format", "tags"]})
    assert [p["name"] for p in res["results"]] == ["meldingen_openbare_ruimte"] and res["count"] == 1
    assert res["facets"]["organization"] == {"gemeente-utrecht": 1}
    assert res["facets"]["res_format"]["GeoJSON"] == 1
    assert {i["name"] for i in res["search_facets"]["tags"]["items"]} == {"meldingen", "fietswrak", "openbare ruimte"}
    everything = ckan.action.package_search(rows=100, **{"facet.field": ["organization"]})
    assert everything["facets"]["organization"]["gemeente-utrecht"] == 3
    wijken = ckan.action.package_search(**{"facet.field": ["wijk"]})["search_facets"]["wijk"]["items"]
    assert {"name": "WK034401", "display_name": "Wijk 01 West", "count": 2} in wijken   # meldingen + hulp_per_wijk
    only = ckan.action.package_search(fq='organization:gemeente-utrecht', rows=1, start=1)
    assert only["count"] == 3 and len(only["results"]) == 1


def test_datastore_search_with_a_filter_returns_the_right_rows(ckan, state):
    truth = state.warehouse().table("meldingen_openbare_ruimte").to_pandas()
    want = truth[(truth.categorie == "groen") & (truth.status == "open")]
    res = ckan.action.datastore_search(resource_id="meldingen_openbare_ruimte--csv",
                                       filters={"categorie": "groen", "status": "open"}, limit=5, sort="melding_id desc")
    assert res["total"] == len(want) > 0
    assert [r["melding_id"] for r in res["records"]] == sorted(want.melding_id, reverse=True)[:5]
    assert all(r["categorie"] == "groen" for r in res["records"])
    assert {"id": "categorie", "type": "text"}.items() <= res["fields"][2].items() or \
        any(f["id"] == "categorie" and f["type"] == "text" for f in res["fields"])
    two = ckan.action.datastore_search(resource_id="meldingen_openbare_ruimte--csv",
                                       filters={"categorie": ["groen", "afval"]}, limit=0)
    assert two["total"] == int(truth.categorie.isin(["groen", "afval"]).sum())
    page = ckan.action.datastore_search(resource_id="meldingen_openbare_ruimte--csv", q="M0001", limit=100, offset=5)
    assert page["total"] == 10 and len(page["records"]) == 5          # M00010..M00019


def test_datastore_facets_count_like_the_data(live, state):
    truth = state.warehouse().table("meldingen_openbare_ruimte").to_pandas()
    r = httpx.get(f"{live.url}/api/3/action/datastore_search", params={
        "resource_id": "meldingen_openbare_ruimte", "filters": '{"status": "open"}', "limit": 0,
        "facet.field": '["categorie", "wijk_code"]'}).json()["result"]
    counts = {f["value"]: f["count"] for f in r["facets"]["categorie"]}
    assert counts == truth[truth.status == "open"].categorie.value_counts().to_dict()
    assert set(counts) <= set(CATEGORIES)


def test_ckan_errors_are_shaped_as_ckan(ckan, live):
    with pytest.raises(NotFound):
        ckan.action.package_show(id=PERSONAL)
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id=f"{PERSONAL}--csv")
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id="meldingen_openbare_ruimte--csv", filters={"geen_kolom": "x"})
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id="meldingen_openbare_ruimte--csv", sort="categorie; drop table x")
    r = httpx.get(f"{live.url}/api/3/action/package_delete")
    assert r.status_code == 400 and r.json()["success"] is False and "Action name not known" in r.json()["error"]["message"]
    orgs = ckan.action.organization_list(all_fields=True)
    assert {o["name"]: o["package_count"] for o in orgs}["gemeente-utrecht"] == 3
