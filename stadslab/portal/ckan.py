"""The read side of the CKAN Action API (shaped as CKAN 2.10), so CKAN clients and harvesters work.

    /api/3/action/<action>   and   /api/action/<action>   (ckanapi uses the latter), GET or POST (JSON)

Actions: package_list, package_show, package_search (q, fq, rows, start, facet.field, facet.limit,
sort), organization_list, resource_show, datastore_search (resource_id, filters, q, limit, offset,
sort, plus the Stadslab extras ``facet.field`` and ``version``), status_show and help_show. Every
answer is ``{"help": ..., "success": true, "result": ...}``; errors are CKAN's (``Not Found Error``
404, ``Validation Error`` 409, ``Search Query Error`` 409, ``Bad Request`` 400).

Only published items exist here (registry.py): a dataset that is not open is "Not found", the same as
an id that never existed.

Every parameter is bounded and checked before work starts (a 409 ``Validation Error`` with a Dutch
message otherwise); search is plain substring matching over a linear tokenizer — no regular
expression ever runs over request input (a backtracking regex once let one long ``q`` freeze the server).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from stadslab.errors import StadslabError
from stadslab.portal import metadata as md
from stadslab.portal.hygiene import cached
from stadslab.portal.query import Engine, QueryError, make_query
from stadslab.portal.registry import Item, NotPublished, Portal

CKAN_VERSION = "2.10.0"
MAX_SEARCH = 500          # characters of q / fq
MAX_TERMS = 20            # words and field:value terms in one search
MAX_START = 100_000
FIELD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")
SEARCH_FACETS = ("organization", "groups", "tags", "res_format", "license_id", "wijk")


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str | None = None, fields: dict | None = None) -> None:
        self.status, self.kind, self.message, self.fields = status, kind, message, fields or {}


def _iso(value: Any) -> str | None:
    return value.replace(tzinfo=None).isoformat() if value is not None else None


def resource_dicts(item: Item, base: str) -> list[dict[str, Any]]:
    out = []
    for i, fmt in enumerate(md.formats_of(item)):
        out.append({
            "id": f"{item.id}--{fmt.ext}", "package_id": item.id, "position": i, "state": "active",
            "name": f"{item.title} ({fmt.name})", "description": f"Laatste versie (v{item.latest.number}) als {fmt.label}. "
            f"Vaste URL per versie: {base}{md.download_path(item.id, item.latest.number, fmt.ext)}",
            "format": fmt.name, "mimetype": fmt.media_type, "url": base + md.download_path(item.id, "latest", fmt.ext),
            "url_type": None, "datastore_active": fmt.ext == "csv", "size": None, "hash": "", "cache_url": None,
            "resource_type": None, "created": _iso(item.versions[0].created), "last_modified": _iso(item.latest.created),
        })
    return out


def package_dict(item: Item, portal: Portal, base: str) -> dict[str, Any]:
    lic = md.licence(item.licence)
    org = md.organisation(item)
    theme = item.theme
    tags = [{"name": k, "display_name": k, "id": md.slug(k), "state": "active", "vocabulary_id": None}
            for k in item.keywords]
    extras = {"stadslab_soort": item.kind, "versies": ",".join(str(v.number) for v in item.versions),
              "wijken": ",".join(item.wijken), "frequentie": item.source.update_frequency or "",
              "licentie_tekst": lic.text, "naamsvermelding": item.source.attribution or "",
              "gesimuleerd": "ja" if item.source.simulated else "nee"}
    if item.publication:
        extras.update({"bron_dataset": item.source.title, "bron_versie": str(item.latest.input_version),
                       "groepering": ",".join(item.publication.by),
                       "publicatiepoort": f"minimaal {item.gate.get('min_cell')} per cel; "
                                          f"{item.gate.get('suppressed', 0)} cellen onderdrukt" if item.gate else ""})
    tc = item.source.temporal_coverage or {}
    extras.update({"periode_begin": str(tc.get("start") or ""), "periode_eind": str(tc.get("end") or "")})
    resources = resource_dicts(item, base)
    return {
        "id": item.id, "name": item.id, "title": item.title, "notes": item.description, "type": "dataset",
        "state": "active", "private": False, "version": str(item.latest.number),
        "license_id": lic.id, "license_title": lic.title, "license_url": lic.url, "isopen": lic.open,
        "author": item.owner, "author_email": None, "maintainer": item.owner,
        "maintainer_email": None, "url": f"{base}/open/datasets/{item.id}",
        "owner_org": org["name"], "organization": {
            "id": org["name"], "name": org["name"], "title": org["title"], "type": "organization",
            "description": "", "image_url": "", "is_organization": True, "approval_status": "approved",
            "state": "active"},
        "metadata_created": _iso(item.versions[0].created), "metadata_modified": _iso(item.latest.created),
        "tags": tags, "num_tags": len(tags),
        "groups": [{"id": md.slug(theme), "name": md.slug(theme), "title": theme, "display_name": theme,
                    "description": "", "image_display_url": ""}],
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "resources": resources, "num_resources": len(resources),
        "relationships_as_object": [], "relationships_as_subject": [],
    }


def _facet_values(pkg: dict[str, Any], field: str) -> list[tuple[str, str]]:
    """(name, display name) of one package for a search facet."""
    if field == "organization":
        return [(pkg["organization"]["name"], pkg["organization"]["title"])]
    if field == "groups":
        return [(g["name"], g["title"]) for g in pkg["groups"]]
    if field == "tags":
        return [(t["name"], t["name"]) for t in pkg["tags"]]
    if field == "res_format":
        return [(r["format"], r["format"]) for r in pkg["resources"]]
    if field == "license_id":
        return [(pkg["license_id"], pkg["license_title"])]
    if field == "wijk":
        extras = {e["key"]: e["value"] for e in pkg["extras"]}
        return [(w, w) for w in extras.get("wijken", "").split(",") if w]
    if field == "name":
        return [(pkg["name"], pkg["title"])]
    raise CkanError(409, "Search Query Error", f"onbekend zoekveld '{field}'")


def _tokens(text: str) -> list[str]:
    """Split on whitespace, keeping "quoted phrases" together; one pass over the text."""
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch.isspace() and not quoted:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def _split_search(text: str) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Solr-like ``[-]field:value`` / ``field:"two words"`` terms, and the remaining free words."""
    terms, words = [], []
    for tok in _tokens(text):
        neg = tok.startswith("-")
        field, sep, value = (tok[1:] if neg else tok).partition(":")
        if sep and field and value and set(field) <= FIELD_CHARS:
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            terms.append((field, value, neg))
        elif tok not in ("*:*", "AND"):
            words.append(tok.strip('"').lower())
    return terms, words


def _text(data: dict[str, Any], key: str, limit: int = MAX_SEARCH) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise CkanError(409, "Validation Error", fields={key: ["Verwacht tekst"]})
    text = str(value).strip()
    if len(text) > limit:
        raise CkanError(409, "Validation Error", fields={key: [f"Te lang: hoogstens {limit} tekens"]})
    return text


def _int(data: dict[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    """An integer parameter within [lo, hi], or a Dutch validation error (never a 500)."""
    value = data.get(key)
    if value in (None, ""):
        return default
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        n = int(value) if not isinstance(value, str) or len(value) <= 12 else None
        if n is None:
            raise ValueError
    except (TypeError, ValueError):
        raise CkanError(409, "Validation Error", fields={key: ["Geen geheel getal"]}) from None
    if not lo <= n <= hi:
        raise CkanError(409, "Validation Error", fields={key: [f"Moet tussen {lo} en {hi} liggen"]})
    return n


def search(portal: Portal, base: str, data: dict[str, Any]) -> dict[str, Any]:
    q = _text(data, "q")
    fq_terms, _ = _split_search(_text(data, "fq"))
    q_terms, words = _split_search(q)
    terms = fq_terms + q_terms
    if len(terms) + len(words) > MAX_TERMS:
        raise CkanError(409, "Search Query Error", f"te veel zoektermen (hoogstens {MAX_TERMS})")
    rows = _int(data, "rows", 10, 0, 1000)
    start = _int(data, "start", 0, 0, MAX_START)
    facet_limit = _int(data, "facet.limit", 50, -1, 1000)
    if facet_limit == -1:
        facet_limit = 1000
    fields = _json_list(data.get("facet.field"), "facet.field")
    packages = [package_dict(i, portal, base) for i in portal.items().values()]
    hits = []
    for pkg in packages:
        hay = " ".join([pkg["name"], pkg["title"], pkg["notes"] or "", pkg["organization"]["title"],
                        *[t["name"] for t in pkg["tags"]], *[g["title"] for g in pkg["groups"]]]).lower()
        if not all(w in hay for w in words):
            continue
        ok = True
        for field, value, neg in terms:
            names = {n for n, _ in _facet_values(pkg, field)} | {d for _, d in _facet_values(pkg, field)}
            if (value in names) == neg:
                ok = False
        if ok:
            hits.append(pkg)
    sort = _text(data, "sort", 100) or "title_string asc"
    key, _, direction = sort.partition(" ")
    keyf = {"title_string": lambda p: p["title"].lower(), "name": lambda p: p["name"],
            "metadata_modified": lambda p: p["metadata_modified"] or ""}.get(key, lambda p: p["title"].lower())
    hits.sort(key=keyf, reverse=direction.strip() == "desc")
    facets, search_facets = {}, {}
    for field in fields:
        counts: dict[str, list] = {}
        for pkg in hits:
            for name, display in dict(_facet_values(pkg, field)).items():
                counts.setdefault(name, [display, 0])[1] += 1
        if field == "wijk":
            counts = {k: [portal.area_names.get(k, k), n] for k, (_, n) in counts.items()}
        top = sorted(counts.items(), key=lambda kv: (-kv[1][1], kv[0]))[:facet_limit]
        facets[field] = {n: c for n, (_, c) in top}
        search_facets[field] = {"title": field, "items": [{"name": n, "display_name": d, "count": c}
                                                          for n, (d, c) in top]}
    return {"count": len(hits), "facets": facets, "search_facets": search_facets, "sort": sort,
            "results": hits[start:start + rows]}


def _json_list(value: Any, name: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        if len(value) > 2000:
            raise CkanError(409, "Validation Error", fields={name: ["Te lang"]})
        try:
            value = json.loads(value)
        except ValueError:
            value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 100 for v in value) or len(value) > 20:
        raise CkanError(409, "Validation Error", fields={name: ["Verwacht een lijst van hoogstens 20 namen (JSON)"]})
    return value


def _required(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value in (None, ""):
        raise CkanError(409, "Validation Error", fields={key: ["Ontbreekt"]})
    if not isinstance(value, (str, int)) or len(str(value)) > 200:
        raise CkanError(409, "Validation Error", fields={key: ["Verwacht een korte naam"]})
    return str(value)


def datastore(portal: Portal, engine: Engine, data: dict[str, Any]) -> dict[str, Any]:
    rid = _required(data, "resource_id")
    item, _fmt = portal.resource(rid)
    version = item.version(_text(data, "version", 20) or "latest")
    filters = data.get("filters") or {}
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except ValueError:
            raise CkanError(409, "Validation Error", fields={"filters": ["Geen geldige JSON"]}) from None
    if not isinstance(filters, dict):
        raise CkanError(409, "Validation Error", fields={"filters": ["Verwacht een object {kolom: waarde}"]})
    query = make_query(item, filters=filters, q=_text(data, "q"), sort=_text(data, "sort", 500),
                       limit=data.get("limit", 100), offset=data.get("offset", 0), facets=_json_list(data.get("facet.field"), "facet.field"))
    res = engine.search(item, version, query)
    url = f"/api/3/action/datastore_search?resource_id={rid}"
    out = {"include_total": True, "resource_id": rid, "records_format": "objects", "fields": res["fields"],
           "records": res["records"], "total": res["total"], "limit": query.limit, "offset": query.offset,
           "filters": filters, "total_estimation_threshold": None, "version": version.number,
           "_links": {"start": url, "next": f"{url}&offset={query.offset + query.limit}"}}
    if query.q:
        out["q"] = query.q
    if data.get("sort"):
        out["sort"] = data["sort"]
    if query.facets:
        out["facets"] = {f: [{"value": v, "count": n} for v, n in vals] for f, vals in res["facets"].items()}
    return out


def build(portal: Portal, engine: Engine) -> APIRouter:
    router = APIRouter(tags=["CKAN API"])

    base_of = portal.base_url

    def run(action: str, data: dict[str, Any], request: Request) -> Any:
        base = base_of(request)
        if action == "package_list":
            names = sorted(portal.items())
            offset, limit = _int(data, "offset", 0, 0, MAX_START), _int(data, "limit", None, 0, 100_000)
            return names[offset:offset + limit] if limit is not None else names[offset:]
        if action == "package_show":
            return package_dict(portal.item(_required(data, "id")), portal, base)
        if action == "package_search":
            return search(portal, base, data)
        if action == "organization_list":
            orgs: dict[str, dict] = {}
            for item in portal.items().values():
                org = md.organisation(item)
                o = orgs.setdefault(org["name"], {"id": org["name"], "name": org["name"], "title": org["title"],
                                                  "display_name": org["title"], "type": "organization",
                                                  "is_organization": True, "state": "active", "package_count": 0})
                o["package_count"] += 1
            rows = [orgs[k] for k in sorted(orgs)]
            all_fields = _text(data, "all_fields", 10).lower() in ("true", "1")
            return rows if all_fields else [o["name"] for o in rows]
        if action == "resource_show":
            rid = _required(data, "id")
            item, fmt = portal.resource(rid)
            match = [r for r in resource_dicts(item, base) if r["id"] == rid]
            if not match:
                raise NotPublished(f"resource '{rid}' bestaat niet")
            return match[0]
        if action == "datastore_search":
            return datastore(portal, engine, data)
        if action == "status_show":
            return {"ckan_version": CKAN_VERSION, "site_title": "Stadslab open data", "site_url": base,
                    "site_description": "Open data en beveiligde aggregaten van de gemeente", "locale_default": "nl",
                    "extensions": ["datastore", "stadslab"]}
        if action == "help_show":
            return (__doc__ or "").strip()
        raise CkanError(400, "Bad Request", f"Bad request - Action name not known: {action}")

    async def handle(action: str, request: Request) -> Response:
        help_url = f"{base_of(request)}/api/3/action/help_show?name={action}"
        data: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            raw = await request.body()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return JSONResponse({"help": help_url, "success": False, "error": {
                        "__type": "Bad Request", "message": "Bad request - JSON Error: verwacht een JSON-object"}}, 400)
                data.update(body)
        try:
            # DuckDB work runs in the thread pool: on the event loop it would serve one request at a time
            result = await run_in_threadpool(run, action, data, request)
        except NotPublished as exc:
            return JSONResponse({"help": help_url, "success": False,
                                 "error": {"__type": "Not Found Error", "message": f"Not found: {exc.message}"}}, 404)
        except QueryError as exc:
            return JSONResponse({"help": help_url, "success": False, "error": {
                "__type": "Validation Error", exc.field: [str(exc)]}}, 409)
        except StadslabError as exc:   # e.g. a version that does not exist: the user's message, a 4xx
            return JSONResponse({"help": help_url, "success": False,
                                 "error": {"__type": "Validation Error", "message": exc.message}}, 409)
        except CkanError as exc:
            err: dict[str, Any] = {"__type": exc.kind, **exc.fields}
            if exc.message:
                err["message"] = exc.message
            return JSONResponse({"help": help_url, "success": False, "error": err}, exc.status)
        body = json.dumps({"help": help_url, "success": True, "result": result}, ensure_ascii=False, default=str)
        return cached(request, body, "application/json")

    for prefix in ("/api/3/action", "/api/action"):
        router.add_api_route(prefix + "/{action}", handle, methods=["GET", "POST"], include_in_schema=prefix == "/api/3/action",
                             summary="CKAN Action API (alleen lezen)")
    return router
