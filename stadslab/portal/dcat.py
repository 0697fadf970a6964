"""DCAT-AP-NL 3.0 catalogue of everything on the portal: ``/dcat/catalog.ttl`` and ``/dcat/catalog.jsonld``.

Mandatory properties of the profile (DCAT-AP 3.0 plus the Dutch tightening, Geonovum 2024):

- Catalog: dct:title, dct:description, dct:publisher, exactly one dcat:contactPoint, ≥ 1 dcat:dataset;
- Dataset: dct:title, dct:description, one dct:identifier, dct:publisher, dct:creator, one
  dcat:contactPoint, dct:accessRights (EU access-right list), dcat:theme (EU data-theme list);
- Distribution: one dcat:accessURL, dct:license (EU licence list where it has the licence), at most
  one dcat:downloadURL and dct:format (EU file-type list);
- Agent: foaf:name.

The publisher of every dataset is the municipality (TOOI identifier ``gemeente/gm<code>``); the source
holder (bronhouder) is the creator. Publications carry their provenance (input dataset and version,
the gate's minimum cell size and number of suppressed cells) in dct:provenance. Distributions point
to the ``latest`` alias; ``adms:versionNotes`` lists the stable URL of every version.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT, FOAF, RDF, RDFS, XSD

from stadslab.portal import metadata as md
from stadslab.portal.hygiene import cached
from stadslab.portal.query import LRU
from stadslab.portal.registry import Item, Portal

DCAT = Namespace("http://www.w3.org/ns/dcat#")   # open namespace: DCAT 3 terms (dcat:version) too
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
EU = Namespace(md.EU)
NL = "nl"
CONTEXT = {"dcat": str(DCAT), "dct": str(DCT), "foaf": str(FOAF), "vcard": str(VCARD), "adms": str(ADMS),
           "dcatap": str(DCATAP), "rdfs": str(RDFS), "xsd": str(XSD)}


def _dt(value: Any) -> Literal | None:
    return Literal(value.replace(tzinfo=None).isoformat(timespec="seconds"), datatype=XSD.dateTime) if value else None


def municipality(portal: Portal) -> tuple[str, str]:
    m = portal.municipality
    return str(m.get("name") or "Gemeente"), str(m.get("gemeente_code") or "GM0000")


def _contact(g: Graph, name: str, url: str | None) -> BNode:
    node = BNode()
    g.add((node, RDF.type, VCARD.Organization))
    g.add((node, VCARD.fn, Literal(name, lang=NL)))
    if url and url.startswith("http"):
        g.add((node, VCARD.hasURL, URIRef(url)))
    return node


def _agent(g: Graph, uri: URIRef | None, name: str) -> URIRef | BNode:
    node = uri or BNode()
    g.add((node, RDF.type, FOAF.Agent))
    g.add((node, FOAF.name, Literal(name, lang=NL)))
    return node


def build_graph(portal: Portal, base: str) -> Graph:
    g = Graph()
    for prefix, ns in CONTEXT.items():
        g.bind(prefix, ns)
    name, code = municipality(portal)
    publisher = _agent(g, URIRef(f"https://identifier.overheid.nl/tooi/id/gemeente/{code.lower()}"), f"Gemeente {name}"
                       if not name.lower().startswith("gemeente") else name)
    cat = URIRef(f"{base}/dcat/catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCT.title, Literal(f"Open data {name}", lang=NL)))
    g.add((cat, DCT.description, Literal(
        f"Open datasets en beveiligde aggregaten van gemeente {name}, gepubliceerd met Stadslab. Aggregaten van "
        "persoonsgegevens zijn door de publicatiepoort gegaan (minimaal 15 personen per cel).", lang=NL)))
    g.add((cat, DCT.publisher, publisher))
    g.add((cat, DCAT.contactPoint, _contact(g, f"Datalab gemeente {name}", f"{base}/open")))
    g.add((cat, FOAF.homepage, URIRef(f"{base}/open")))
    g.add((cat, DCT.language, EU["language/NLD"]))
    items = list(portal.items().values())
    modified = max((i.latest.created for i in items if i.latest.created), default=None)
    if modified:
        g.add((cat, DCT.modified, _dt(modified)))
    creators: dict[str, URIRef | BNode] = {}
    for item in items:
        ds = _dataset(g, item, base, publisher, creators)
        g.add((cat, DCAT.dataset, ds))
    return g


def _dataset(g: Graph, item: Item, base: str, publisher: URIRef, creators: dict) -> URIRef:
    landing = f"{base}/open/datasets/{item.id}"
    ds = URIRef(landing)
    src = item.source
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCT.identifier, Literal(landing)))
    g.add((ds, DCT.title, Literal(item.title, lang=NL)))
    g.add((ds, DCT.description, Literal(item.description or item.title, lang=NL)))
    g.add((ds, DCT.publisher, publisher))
    if item.owner not in creators:
        creators[item.owner] = _agent(g, URIRef(f"{base}/open/organisaties/{md.slug(item.owner)}"), item.owner)
    g.add((ds, DCT.creator, creators[item.owner]))
    g.add((ds, DCAT.contactPoint, _contact(g, src.contact if src.contact and not src.contact.startswith("http")
                                           else item.owner, src.contact)))
    g.add((ds, DCT.accessRights, EU["access-right/PUBLIC"]))
    g.add((ds, DCAT.theme, URIRef(md.eu_theme(item.theme))))
    g.add((ds, DCAT.landingPage, URIRef(landing)))
    g.add((ds, DCT.language, EU["language/NLD"]))
    g.add((ds, DCAT.version, Literal(str(item.latest.number))))
    for kw in item.keywords:
        g.add((ds, DCAT.keyword, Literal(kw, lang=NL)))
    if item.versions[0].created:
        g.add((ds, DCT.issued, _dt(item.versions[0].created)))
    if item.latest.created:
        g.add((ds, DCT.modified, _dt(item.latest.created)))
    freq = md.eu_frequency(src.update_frequency)
    if freq:
        g.add((ds, DCT.accrualPeriodicity, URIRef(freq)))
    tc = src.temporal_coverage or {}
    if tc.get("start") or tc.get("end"):
        period = BNode()
        g.add((period, RDF.type, DCT.PeriodOfTime))
        if tc.get("start"):
            g.add((period, DCAT.startDate, Literal(str(tc["start"]), datatype=XSD.date)))
        if tc.get("end"):
            g.add((period, DCAT.endDate, Literal(str(tc["end"]), datatype=XSD.date)))
        g.add((ds, DCT.temporal, period))
    notes = "; ".join(f"versie {v.number}: {base}{md.download_path(item.id, v.number, 'csv')}" for v in item.versions)
    g.add((ds, ADMS.versionNotes, Literal(f"Vaste URL's per versie (ook .json, .parquet, …): {notes}", lang=NL)))
    if item.publication:
        prov = BNode()
        g.add((prov, RDF.type, DCT.ProvenanceStatement))
        gate = item.gate or {}
        text = (f"Aggregaat van '{src.title}' (versie {item.latest.input_version}), gegroepeerd naar "
                f"{', '.join(item.publication.by)}; telling: {gate.get('measure', 'rijen')}.")
        if gate.get("min_cell"):
            text += (f" Publicatiepoort: minimaal {gate['min_cell']} per cel, {gate.get('suppressed', 0)} cellen "
                     "onderdrukt (primair en secundair).")
        g.add((prov, RDFS.label, Literal(text, lang=NL)))
        g.add((ds, DCT.provenance, prov))
    lic = md.licence(item.licence)
    for fmt in md.formats_of(item):
        dist = URIRef(f"{landing}#{fmt.ext}")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCT.title, Literal(f"{item.title} ({fmt.name})", lang=NL)))
        g.add((dist, DCT.description, Literal(f"Laatste versie als {fmt.label}.", lang=NL)))
        g.add((dist, DCAT.accessURL, URIRef(landing)))
        g.add((dist, DCAT.downloadURL, URIRef(base + md.download_path(item.id, "latest", fmt.ext))))
        g.add((dist, DCT.format, EU[f"file-type/{fmt.eu}"]))
        g.add((dist, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{fmt.media_type}")))
        if lic.uri:
            g.add((dist, DCT.license, URIRef(lic.uri)))
        else:
            doc = BNode()
            g.add((doc, RDF.type, DCT.LicenseDocument))
            g.add((doc, RDFS.label, Literal(lic.text, lang=NL)))
            g.add((dist, DCT.license, doc))
        if item.latest.created:
            g.add((dist, DCT.modified, _dt(item.latest.created)))
    return ds


def build(portal: Portal) -> APIRouter:
    router = APIRouter(tags=["DCAT"])
    cache = LRU(maxsize=16)

    def serialize(request: Request, fmt: str) -> str:
        base = portal.base_url(request)
        portal.items()  # rebuild first if needed, so the key below names the current generation

        def make() -> str:
            graph = build_graph(portal, base)
            if fmt == "json-ld":
                return graph.serialize(format="json-ld", context=CONTEXT, indent=1)
            return graph.serialize(format="turtle")
        return cache.get((portal.state.generation, base, fmt), make)

    @router.get("/dcat/catalog.ttl", summary="DCAT-AP-NL 3.0 catalogus (Turtle)")
    def turtle(request: Request):
        return cached(request, serialize(request, "turtle"), "text/turtle; charset=utf-8")

    @router.get("/dcat/catalog.jsonld", summary="DCAT-AP-NL 3.0 catalogus (JSON-LD)")
    def jsonld(request: Request):
        return cached(request, serialize(request, "json-ld"), "application/ld+json")

    return router
