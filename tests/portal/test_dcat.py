"""DCAT-AP-NL 3.0: parses with rdflib, passes the mandatory-property shapes, lists every publication."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyshacl
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT, FOAF, RDF

DCAT = Namespace("http://www.w3.org/ns/dcat#")
SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-nl-verplicht.ttl"


@pytest.fixture(scope="module")
def graphs(live):
    out = {}
    for name, fmt in (("catalog.ttl", "turtle"), ("catalog.jsonld", "json-ld")):
        r = httpx.get(f"{live.url}/dcat/{name}")
        assert r.status_code == 200 and r.headers["etag"] and "max-age" in r.headers["cache-control"]
        out[fmt] = Graph().parse(data=r.text, format=fmt)
    return out


def test_turtle_and_jsonld_hold_the_same_triples(graphs):
    ttl, jsonld = graphs["turtle"], graphs["json-ld"]
    assert len(ttl) > 100
    assert len(ttl) == len(jsonld)
    assert set(ttl.subjects(RDF.type, DCAT.Dataset)) == set(jsonld.subjects(RDF.type, DCAT.Dataset))


def test_every_item_and_publication_has_the_mandatory_properties(graphs, live):
    g = graphs["turtle"]
    names = httpx.get(f"{live.url}/api/3/action/package_list").json()["result"]
    datasets = {str(s).rsplit("/", 1)[1]: s for s in g.subjects(RDF.type, DCAT.Dataset)}
    assert set(datasets) == set(names)
    for pub in ("hulp_per_wijk", "hulp_per_jaar"):
        ds = datasets[pub]
        assert g.value(ds, DCT.title) and g.value(ds, DCT.description)
        publisher = g.value(ds, DCT.publisher)
        assert publisher == URIRef("https://identifier.overheid.nl/tooi/id/gemeente/gm0344")
        assert str(g.value(publisher, FOAF.name)) == "Gemeente Utrecht"
        dists = list(g.objects(ds, DCAT.distribution))
        assert len(dists) == 4                       # CSV, JSON, Parquet, XLSX (no geometry: no GeoJSON)
        for d in dists:
            assert g.value(d, DCT.license) == URIRef("http://publications.europa.eu/resource/authority/licence/CC0")
            assert str(g.value(d, DCAT.downloadURL)).startswith(f"{live.url}/open/download/{pub}/latest/")
        assert "minimaal 15 per cel" in str(g.value(g.value(ds, DCT.provenance), URIRef(
            "http://www.w3.org/2000/01/rdf-schema#label")))
    assert not [s for s in datasets if s.startswith("hulp_persoon") or s == "hulp_zonder_doel"]


def test_catalog_conforms_to_the_mandatory_shapes(graphs):
    shapes = Graph().parse(SHAPES, format="turtle")
    conforms, _, text = pyshacl.validate(graphs["turtle"], shacl_graph=shapes, inference="none")
    assert conforms, text


def test_the_shapes_catch_a_missing_licence(graphs):
    g = Graph()
    for t in graphs["turtle"]:
        g.add(t)
    dist = next(g.subjects(RDF.type, DCAT.Distribution))
    g.remove((dist, DCT.license, None))
    conforms, _, text = pyshacl.validate(g, shacl_graph=Graph().parse(SHAPES, format="turtle"), inference="none")
    assert not conforms and "license" in text
