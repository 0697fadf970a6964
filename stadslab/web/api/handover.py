"""CLI commands handed to a running ``stadslab serve`` (issue 10, item 1).

A running server owns the warehouse files (it writes: refreshes, realtime readings, stored results), and
DuckDB lets no other process open a file that one process has open for writing. So while the server runs,
``stadslab status | versions | query | aggregate | refresh | profiel tel | effect`` in another shell send their request here
instead, over loopback, with the workspace-local secret the server wrote at start
(``<workspace>/.stadslab-serve.json``, mode 0600; see stadslab/cli/handover.py). The user notices nothing.

The same guarantees hold as without a server:

- ``query`` runs in a fresh in-memory DuckDB that receives copies of only the open and intern tables
  the SQL names, and then loses all file access (``enable_external_access = false``, configuration
  locked) — personal and confidential data are never in it (warehouse/sqlpath.py);
- ``aggregate`` checks the password and goes through ``release_aggregate`` (access, gate, audit);
- nothing here is in the OpenAPI schema; a request without the secret, or not from loopback, gets 404.
"""

from __future__ import annotations

import hmac
import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from stadslab.errors import AccessDenied, StadslabError
from stadslab.web.api.render import json_response

router = APIRouter(include_in_schema=False)
TOKEN_HEADER = "x-stadslab-cli-token"
_GATE_LOCK = threading.Lock()
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _state(request: Request):
    state = request.app.state.stadslab
    expected = getattr(request.app.state, "cli_token", None)
    given = request.headers.get(TOKEN_HEADER, "")
    host = request.client.host if request.client else ""
    if not expected or host not in LOOPBACK or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(404)
    return state


def _error(exc: StadslabError) -> dict[str, Any]:
    return {"fout": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}


async def _run(fn, *args) -> Any:
    try:
        return json_response(await run_in_threadpool(fn, *args))
    except StadslabError as exc:
        return json_response(_error(exc), status_code=409)


@router.post("/intern/cli/status")
async def status(request: Request):
    from stadslab import operations as ops

    state = _state(request)
    return await _run(lambda: {"rows": ops.status(state.workspace, state.warehouse(), state.workspace.catalog())})


@router.post("/intern/cli/versions")
async def versions(request: Request):
    state = _state(request)
    body = await request.json()

    def run() -> dict[str, Any]:
        from stadslab import operations as ops

        wh, dataset = state.warehouse(), str(body["dataset"])
        try:       # does the source on disk still differ from the latest version (a failed load still matters)?
            changed = any(d.reason for d in ops.changed_datasets(state.workspace, wh, state.workspace.catalog(),
                                                                 only=[dataset]))
        except StadslabError:
            changed = True
        return {"versions": wh.versions(dataset), "loads": wh.loads(dataset, limit=10), "changed": changed}
    return await _run(run)


@router.post("/intern/cli/refresh")
async def refresh(request: Request):
    state = _state(request)
    body = await request.json()
    only = [str(d) for d in body.get("datasets") or []] or None

    def run() -> dict[str, Any]:
        from stadslab import operations as ops

        with state.writer() as wh:
            done = ops.refresh_changed(state.workspace, wh, state.workspace.catalog(), only,
                                       dry_run=bool(body.get("dry_run")))
        return {"reloaded": done}
    return await _run(run)


@router.post("/intern/cli/query")
async def query(request: Request):
    state = _state(request)
    body = await request.json()
    return await _run(run_query, state, str(body.get("sql", "")), int(body.get("limit", 1000)))


@router.post("/intern/cli/aggregate")
async def aggregate(request: Request):
    state = _state(request)
    body = await request.json()
    return await _run(run_aggregate, state, body)


def run_query(state, sql: str, limit: int) -> dict[str, Any]:
    """Free SQL on copies of the open and intern tables it names, in a connection without file access."""
    import duckdb

    from stadslab.errors import WarehouseError
    from stadslab.warehouse.connection import connect
    from stadslab.warehouse.store import RESTRICTED_CLASSES, qident

    catalog = state.workspace.catalog(strict=False)
    restricted = state.workspace.restricted_ids() | {d.id for d in catalog if d.classification in RESTRICTED_CLASSES}
    wh = state.warehouse()
    qcon = connect(":memory:")
    try:
        for schema, name, source in _tables_named(sql, wh, restricted):
            arrow = wh.con.execute(f"SELECT * FROM {source}").arrow()
            qcon.execute(f"CREATE SCHEMA IF NOT EXISTS {qident(schema)}")
            qcon.register("__copy", arrow)
            qcon.execute(f"CREATE TABLE {qident(schema)}.{qident(name)} AS SELECT * FROM __copy")
            qcon.unregister("__copy")
        qcon.execute("SET enable_external_access = false")
        qcon.execute("SET lock_configuration = true")
        try:
            rel = qcon.sql(sql)
            if rel is None:
                raise WarehouseError("de opdracht gaf geen resultaat (alleen SELECT-query's)")
            cols = rel.columns
            rows = rel.limit(limit).fetchall()
        except duckdb.PermissionException as exc:
            from stadslab.privacy.audit import AuditEntry
            from stadslab.warehouse.store import current_user

            state.audit.append(AuditEntry(current_user(), "", None, "(vrije SQL)", None, "cli:query",
                                          {"sql": sql[:2000]}, None, allowed=False, reason="bestandstoegang geweigerd"))
            raise WarehouseError(f"query geweigerd: {str(exc).splitlines()[0]}",
                                 hint="vrije SQL leest alleen de open en interne datasets") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"query mislukt: {str(exc).splitlines()[0]}") from None
    finally:
        qcon.close()
    return {"columns": cols, "rows": [list(r) for r in rows]}


def _tables_named(sql: str, wh, restricted: set[str]) -> list[tuple[str, str, str]]:
    """(schema, name, source in the warehouse) for every open/intern table the SQL names. A name that is
    not found is simply not copied (the query then says the table does not exist)."""
    import sqlglot
    from sqlglot import exp

    from stadslab.warehouse.store import qident

    try:
        trees = sqlglot.parse(sql, dialect="duckdb")
    except sqlglot.errors.ParseError:
        return []
    loaded = {d for d in wh.datasets() if d not in restricted}
    out: dict[tuple[str, str], str] = {}
    for tree in trees:
        if tree is None:
            continue
        for t in tree.find_all(exp.Table):
            schema, name = (t.db or "main").lower(), t.name
            if schema == "main" and name in loaded:
                out[("main", name)] = f"main.{qident(name)}"
            elif schema == "v" and "__" in name and name.rsplit("__", 1)[0] in loaded:
                out[("v", name)] = f"v.{qident(name)}"
            elif schema == "stadslab" and name in ("areas",):
                out[("stadslab", name)] = f"stadslab.{qident(name)}"
            elif schema == "results" and not name.startswith("_"):
                out[("results", name)] = f"results.{qident(name)}"
    return [(s, n, src) for (s, n), src in out.items()]


def _login(state, body: dict[str, Any]):
    """The CLI's user, whose password the server checks again itself."""
    from stadslab.privacy.passwords import verify_password

    user_id = body.get("user")
    user = state.access.user(user_id)
    if user_id and user.password_hash and not verify_password(str(body.get("password") or ""), user.password_hash):
        raise AccessDenied(f"wachtwoord van '{user_id}' klopt niet")
    return user


@router.post("/intern/cli/profiel")
async def profiel(request: Request):
    state = _state(request)
    body = await request.json()
    return await _run(run_profiel, state, body)


@router.post("/intern/cli/effect")
async def effect(request: Request):
    state = _state(request)
    body = await request.json()
    return await _run(run_effect, state, body)


def run_profiel(state, body: dict[str, Any]) -> dict[str, Any]:
    """``stadslab profiel tel``: the same profile_view the page calls (gate, scope, audit)."""
    from stadslab.analyses.sociaal.profiles import profile_view

    user = _login(state, body)
    with _GATE_LOCK:
        rel = profile_view(state.warehouse(), state.workspace.catalog(), state.workspace.root, user=user,
                           purpose=body.get("purpose"), audit=state.audit, profile_id=str(body.get("profile_id")),
                           level=str(body.get("level") or "wijk_code"), schooljaar=body.get("schooljaar"),
                           route="cli:profiel")
    return {"provenance": rel.provenance, "rows": rel.records(), "gated": rel.gated}


def run_effect(state, body: dict[str, Any]) -> dict[str, Any]:
    """``stadslab effect``: estimate_effect as the page calls it (access per source, gate, audit)."""
    from stadslab.analyses.sociaal.effect import estimate_effect

    user = _login(state, body)
    with _GATE_LOCK:
        result = estimate_effect(state.warehouse(), state.workspace.catalog(), user=user, purpose=body.get("purpose"),
                                 audit=state.audit, outcome=str(body.get("outcome")),
                                 treatment=str(body.get("treatment")), confounders=list(body.get("confounders") or []),
                                 by=body.get("by"), route="cli:effect", dataset=str(body.get("dataset")))
    return result.to_dict()


def run_aggregate(state, body: dict[str, Any]) -> dict[str, Any]:
    from stadslab.privacy.gate import SuppressionStore
    from stadslab.privacy.release import release_aggregate, suppression_store_path

    user = _login(state, body)
    catalog = state.workspace.catalog()
    entry = catalog.get(str(body["dataset"]))
    links = [catalog.get(d.split(":")[0]) for d in body.get("link") or []]
    link_on = {d.split(":")[0]: d.split(":", 1)[1] for d in body.get("link") or [] if ":" in d}
    with _GATE_LOCK:
        store = SuppressionStore(suppression_store_path(state.workspace.root)) if entry.is_personal else None
        rel = release_aggregate(state.warehouse(), entry, user=user, purpose=body.get("purpose"),
                                by=list(body.get("by") or []), filters=body.get("filters") or {},
                                hierarchy=body.get("hierarchy"), audit=state.audit, store=store,
                                route="cli:aggregate", link=links, link_on=link_on)
    return {"provenance": rel.provenance, "rows": rel.records(), "gated": rel.gated}
