"""Dutch portal pages under /open: the catalogue (search + facets) and a page per dataset.

Everything works without JavaScript: search, facets and preview filters are GET forms and links, so
they are keyboard-usable and every state has a URL. JavaScript adds only the map (MapLibre, loaded
from /static/vendor/maplibre/ when the web app provides it; without it the page says so and shows the
rest). Each page has a JSON twin in the CKAN API (package_search, package_show, datastore_search).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow.csv as pacsv
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask

from stadslab.portal import metadata as md
from stadslab.portal.dcat import municipality
from stadslab.portal.hygiene import SHORT, cached
from stadslab.portal.query import Engine, Query, QueryError, make_query
from stadslab.portal.registry import Item, NotPublished, Portal
from stadslab.warehouse.store import qident
from stadslab.web.formatting import nl_number

HERE = Path(__file__).parent
STATIC = {"portal.css": "text/css", "portal.js": "text/javascript"}
PAGE_ROWS = 25
MAX_FACETS = 6
MAP_FEATURES = 5000
CATALOGUE_FACETS = (("thema", "Thema"), ("eigenaar", "Eigenaar"), ("formaat", "Formaat"), ("licentie", "Licentie"),
                    ("wijk", "Wijk"))

env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


def nl_date(value: Any) -> str:
    return value.strftime("%d-%m-%Y %H:%M") if hasattr(value, "strftime") else (str(value) if value else "–")


SOORTEN = {"VARCHAR": "tekst", "BIGINT": "geheel getal", "INTEGER": "geheel getal", "DOUBLE": "getal",
           "DATE": "datum", "TIMESTAMP": "datum en tijd", "BOOLEAN": "ja/nee", "GEOMETRY": "geometrie (WGS84 in downloads)"}

env.filters["nl"] = nl_number
env.filters["datum"] = nl_date
env.filters["soort"] = lambda t: SOORTEN.get(t, t.lower())


def _facet_values(item: Item, portal: Portal, facet: str) -> list[tuple[str, str]]:
    """(value, label) of one catalogue facet for an item."""
    if facet == "thema":
        return [(item.theme, item.theme)]
    if facet == "eigenaar":
        return [(item.owner, item.owner)]
    if facet == "formaat":
        return [(f.name, f.name) for f in md.formats_of(item)]
    if facet == "licentie":
        lic = md.licence(item.licence)
        return [(lic.id, lic.title if lic.id != "notspecified" else "niet opgegeven")]
    return [(w, portal.area_names.get(w, w)) for w in item.wijken]


def catalogue(portal: Portal, q: str, chosen: dict[str, str]) -> tuple[list[Item], dict[str, list[dict]]]:
    words = [w.lower() for w in q.split()]
    hits = []
    for item in sorted(portal.items().values(), key=lambda i: i.title.lower()):
        hay = " ".join([item.id, item.title, item.description, item.owner, item.theme, *item.keywords,
                        *[c.name for c in item.columns]]).lower()
        if not all(w in hay for w in words):
            continue
        if all(v in {val for val, _ in _facet_values(item, portal, f)} for f, v in chosen.items()):
            hits.append(item)
    facets = {}
    for key, _label in CATALOGUE_FACETS:
        counts: dict[str, list] = {}
        for item in hits:
            for value, label in dict(_facet_values(item, portal, key)).items():
                counts.setdefault(value, [label, 0])[1] += 1
        facets[key] = [{"value": v, "label": lab, "count": n, "chosen": chosen.get(key) == v,
                        "url": "/open?" + urlencode({**({"q": q} if q else {}),
                                                     **{k: x for k, x in chosen.items() if k != key},
                                                     **({} if chosen.get(key) == v else {key: v})})}
                       for v, (lab, n) in sorted(counts.items(), key=lambda kv: (-kv[1][1], kv[1][0]))]
    return hits, facets


def preview_filters(request: Request) -> dict[str, str]:
    return {k[2:]: v for k, v in request.query_params.items() if k.startswith("f.") and v != ""}


def preview_query(engine: Engine, item: Item, request: Request, *, limit: int = PAGE_ROWS) -> tuple[Query, list[str]]:
    version = item.version(request.query_params.get("versie", "latest"))
    chosen = [c for c in preview_filters(request) if c in {col.name for col in item.data_columns}]
    facets = list(dict.fromkeys(chosen + engine.facetable(item, version)))[:max(MAX_FACETS, len(chosen))]
    try:
        page = max(1, int(request.query_params.get("pagina", "1")))
    except ValueError:
        page = 1
    query = make_query(item, filters=preview_filters(request), q=request.query_params.get("q"),
                       sort=request.query_params.get("sorteer"), limit=limit, offset=(page - 1) * limit,
                       facets=facets)
    return query, facets


def api_examples(item: Item, base: str) -> dict[str, str]:
    rid = f"{item.id}--csv"
    col = next((c.name for c in item.data_columns if c.is_text), None)
    flt = json.dumps({col: "…"}, ensure_ascii=False) if col else "{}"
    return {
        "curl": f"curl '{base}/api/3/action/datastore_search?resource_id={rid}&limit=5'",
        "ckanapi": (f"from ckanapi import RemoteCKAN\nportaal = RemoteCKAN('{base}')\n"
                    f"res = portaal.action.datastore_search(resource_id='{rid}', filters={flt}, limit=100)\n"
                    "print(res['total'], res['records'][:3])"),
        "pandas": (f"import pandas as pd\n# vaste URL van versie {item.latest.number}; 'latest' volgt de nieuwste versie\n"
                   f"df = pd.read_csv('{base}{md.download_path(item.id, item.latest.number, 'csv')}')"),
    }


def build(portal: Portal, engine: Engine) -> APIRouter:
    router = APIRouter(tags=["open data (pagina's)"], include_in_schema=False)

    base_of = portal.base_url

    def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        gemeente, _ = municipality(portal)
        html = env.get_template(name).render(gemeente=gemeente, path=request.url.path, **ctx)
        return cached(request, html, "text/html; charset=utf-8", status_code=status_code)

    def item_or_404(request: Request, item_id: str) -> Item:
        try:
            return portal.item(item_id)
        except NotPublished as exc:
            raise HTTPException(404, detail=exc.message) from None

    def selected(request: Request, item: Item):
        """The requested version and the preview's filters as a parameterised WHERE clause."""
        try:
            version = item.version(request.query_params.get("versie", "latest"))
            query, _ = preview_query(engine, item, request, limit=0)
        except (QueryError, NotPublished) as exc:
            raise HTTPException(400, detail=str(exc)) from None
        where, params = engine.where(item, query)
        return version, where, params

    @router.get("/open")
    def home(request: Request):
        q = request.query_params.get("q", "").strip()[:200]
        chosen = {k: v for k, v in request.query_params.items() if k in dict(CATALOGUE_FACETS) and v}
        hits, facets = catalogue(portal, q, chosen)
        return render(request, "catalogus.html", q=q, hits=hits, facets=facets, facet_labels=dict(CATALOGUE_FACETS),
                      chosen=chosen, formats_of=md.formats_of, area_names=portal.area_names)

    @router.get("/open/organisaties/{slug}")
    def organisation(slug: str):
        owners = {md.slug(i.owner): i.owner for i in portal.items().values()}
        if slug not in owners:
            raise HTTPException(404, detail="onbekende organisatie")
        return RedirectResponse("/open?" + urlencode({"eigenaar": owners[slug]}), status_code=302)

    @router.get("/open/datasets/{item_id}")
    def dataset(request: Request, item_id: str):
        item = item_or_404(request, item_id)
        try:
            version = item.version(request.query_params.get("versie", "latest"))
            query, facet_cols = preview_query(engine, item, request)
            result = engine.search(item, version, query)
            error = None
        except (QueryError, NotPublished) as exc:
            version, query, facet_cols = item.latest, Query(limit=PAGE_ROWS), []
            result, error = engine.search(item, item.latest, query), str(exc)
        filters = preview_filters(request)
        pages = max(1, -(-result["total"] // PAGE_ROWS))
        page = query.offset // PAGE_ROWS + 1
        keep = {k: v for k, v in request.query_params.items() if k != "pagina"}
        base = base_of(request)
        lic = md.licence(item.licence)
        return render(request, "dataset.html", item=item, version=version, result=result, facet_cols=facet_cols,
                      filters=filters, q=query.q, error=error, page=page, pages=pages,
                      page_url=lambda n: f"/open/datasets/{item.id}?" + urlencode({**keep, "pagina": n}),
                      selection_url=f"/open/datasets/{item.id}/selectie.csv?" + urlencode(
                          {k: v for k, v in request.query_params.items() if k != "pagina"}),
                      map_url=(f"/open/datasets/{item.id}/kaart.geojson?" + urlencode(
                          {k: v for k, v in request.query_params.items() if k != "pagina"})) if item.geo else None,
                      formats=md.formats_of(item), download_path=md.download_path, licence=lic, base=base,
                      examples=api_examples(item, base), area_names=portal.area_names,
                      frequency=item.source.update_frequency, theme_uri=md.eu_theme(item.theme))

    @router.get("/open/datasets/{item_id}/selectie.csv")
    def selection(request: Request, item_id: str):
        """The filtered preview as CSV (all matching rows), streamed from DuckDB through Arrow."""
        item = item_or_404(request, item_id)
        version, where, params = selected(request, item)
        cols = ", ".join(qident(c.name) for c in item.data_columns)
        reader = portal.state.warehouse().con.execute(f"SELECT {cols} FROM {version.table}{where}", params) \
            .fetch_record_batch(100_000)
        tmp = Path(tempfile.mkstemp(suffix=".csv")[1])
        with pacsv.CSVWriter(tmp, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
        return FileResponse(tmp, media_type="text/csv", filename=f"{item.id}-v{version.number}-selectie.csv",
                            headers={"Cache-Control": SHORT}, background=BackgroundTask(tmp.unlink))

    @router.get("/open/datasets/{item_id}/kaart.geojson")
    def map_layer(request: Request, item_id: str):
        """At most 5,000 features of the filtered selection in WGS84, for the page's map."""
        item = item_or_404(request, item_id)
        if not item.geo:
            raise HTTPException(404, detail="deze dataset heeft geen geometrie")
        version, where, params = selected(request, item)
        props = [c.name for c in item.data_columns if c.is_text][:2]
        obj = ", ".join(f"'{p}', {qident(p)}" for p in props)
        if item.geo == "point":
            geom = "ST_AsGeoJSON(ST_Point(lon, lat))"
            where = (where + " AND" if where else " WHERE") + " lon IS NOT NULL AND lat IS NOT NULL"
        else:
            g = qident(next(c.name for c in item.columns if c.is_geometry))
            geom = (f"ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology({g}, 2), 'EPSG:28992', 'EPSG:4326', "
                    "always_xy := true))")
        # USING SAMPLE applies before WHERE in its own SELECT: filter in a subquery, sample outside
        sql = (f"SELECT {geom}, json_object({obj}) FROM (SELECT * FROM {version.table}{where}) "
               f"USING SAMPLE reservoir({MAP_FEATURES} ROWS) REPEATABLE (7)")
        rows = portal.state.warehouse().con.execute(sql, params).fetchall()
        features = ",".join(f'{{"type":"Feature","geometry":{g},"properties":{p}}}' for g, p in rows if g)
        body = f'{{"type":"FeatureCollection","features":[{features}]}}'
        return cached(request, body, "application/geo+json")

    @router.get("/open/static/{name}")
    def static(request: Request, name: str):
        if name not in STATIC:
            raise HTTPException(404)
        return cached(request, (HERE / "static" / name).read_bytes(), STATIC[name])

    return router
