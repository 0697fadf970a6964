"""Filtering, search, sorting and facet counts over one published version, in DuckDB SQL.

User input never becomes SQL text: column names are checked against the item's columns (which come
from the catalog and the stored table), values are bound parameters cast to the column's type, and
sort directions are a closed set. Results are cached per (item, version table, query); versions never
change after they are written, so a cache entry can only expire by age (LRU).

One scan answers total and facets together (``GROUP BY GROUPING SETS``), a second returns the page. When
the filters and facets are all on low-cardinality columns, the first scan runs on a per-version *cube*
(counts per combination of those columns, computed once) instead of the table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import duckdb

from stadslab.errors import StadslabError
from stadslab.portal.registry import Item, Version
from stadslab.warehouse.store import qident

log = logging.getLogger("stadslab.portal")

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000
MAX_VALUE = 1000          # characters of one filter value
SCALARS = (str, int, float, bool, type(None))
FACET_LIMIT = 50
FACETABLE_MAX_DISTINCT = 200
CUBE_MAX_ROWS = 200_000

CKAN_TYPES = {"VARCHAR": "text", "BIGINT": "int", "INTEGER": "int", "DOUBLE": "numeric", "FLOAT": "numeric",
              "DATE": "date", "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamp",
              "BOOLEAN": "bool", "TIME": "time", "HUGEINT": "int", "SMALLINT": "int"}


class QueryError(StadslabError):
    """A request that names an unknown column, a bad sort, or a value of the wrong type."""

    def __init__(self, message: str, *, field: str = "query", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


@dataclass(frozen=True)
class Query:
    filters: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    q: str = ""
    sort: tuple[tuple[str, bool], ...] = ()        # (column, descending)
    limit: int = 100
    offset: int = 0
    facets: tuple[str, ...] = ()


def make_query(item: Item, *, filters: dict[str, Any] | None = None, q: str | None = None, sort: str | None = None,
               limit: Any = 100, offset: Any = 0, facets: list[str] | tuple[str, ...] = ()) -> Query:
    """Validate a request against the item's columns; raises QueryError with a Dutch message."""
    if not isinstance(q, (str, type(None))) or not isinstance(sort, (str, type(None))) or len(sort or "") > 500:
        raise QueryError("q en sort zijn (korte) tekst", field="q")
    cols = {c.name: c for c in item.data_columns}

    def known(name: str, what: str) -> str:
        if name not in cols:
            raise QueryError(f"'{name}' is geen kolom van '{item.id}'", field=what,
                             hint="kolommen: " + ", ".join(cols))
        return name

    norm = []
    if len(filters or {}) > 50:
        raise QueryError("te veel filters (hoogstens 50)", field="filters")
    for name, value in sorted((filters or {}).items(), key=lambda kv: str(kv[0])):
        values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        if not values or len(values) > 100:
            raise QueryError(f"filter op '{name}': 1 tot 100 waarden", field="filters")
        if not all(isinstance(v, SCALARS) and (not isinstance(v, str) or len(v) <= MAX_VALUE) for v in values):
            raise QueryError(f"filter op '{name}': verwacht tekst, een getal of een lijst daarvan", field="filters")
        norm.append((known(str(name), "filters"), values))
    order = []
    for part in (sort or "").split(","):
        bits = part.strip().split()
        if not bits:
            continue
        name = bits[0].strip('"')
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if direction not in ("asc", "desc") or len(bits) > 2:
            raise QueryError(f"sorteren op '{part.strip()}': gebruik 'kolom asc' of 'kolom desc'", field="sort")
        order.append((known(name, "sort"), direction == "desc"))
    try:
        if any(isinstance(x, bool) or isinstance(x, str) and len(x) > 12 for x in (limit, offset)):
            raise ValueError
        limit_i, offset_i = int(limit), int(offset)
    except (TypeError, ValueError, OverflowError):
        raise QueryError("limit en offset zijn gehele getallen", field="limit") from None
    if not 0 <= limit_i <= MAX_LIMIT or not 0 <= offset_i <= MAX_OFFSET:
        raise QueryError(f"limit moet tussen 0 en {MAX_LIMIT} liggen en offset ≥ 0 zijn", field="limit",
                         hint="download het hele bestand voor meer rijen")
    return Query(tuple(norm), (q or "").strip()[:200], tuple(order), limit_i, offset_i,
                 tuple(known(f, "facet.field") for f in dict.fromkeys(facets)))


class LRU:
    """Thread-safe LRU cache; one computation per key at a time."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize, self._data, self._lock = maxsize, OrderedDict(), threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            lock = self._pending.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._data:
                    return self._data[key]
            value = compute()
            with self._lock:
                self._data[key] = value
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
                self._pending.pop(key, None)
            return value


def _plain(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, float) and v != v:
        return None
    return v


class Engine:
    def __init__(self, connect: Callable[[], duckdb.DuckDBPyConnection]) -> None:
        self.connect = connect          # this thread's cursor on the serving warehouse
        self.cache = LRU()

    def facetable(self, item: Item, version: Version) -> list[str]:
        """Columns worth a facet: text/boolean/integer columns with few distinct values."""
        def compute() -> list[str]:
            cands = [c for c in item.data_columns if c.type in ("VARCHAR", "BOOLEAN", "BIGINT", "INTEGER")
                     and c.name not in ("n",)]
            if not cands:
                return []
            sql = ", ".join(f"approx_count_distinct({qident(c.name)})" for c in cands)
            counts = self.connect().execute(f"SELECT {sql} FROM {version.table}").fetchone()
            keep = [(c.name, k) for c, k in zip(cands, counts) if 1 < k <= FACETABLE_MAX_DISTINCT]
            coded = {f.name for f in item.source.fields if f.codes} if item.kind == "dataset" else set()
            # areas first, then the catalog's code lists, then by how few values a column has
            rank = {"wijk_code": 0, "buurt_code": 1, "suppressed": 9}
            keep.sort(key=lambda nk: (rank.get(nk[0], 2), nk[0] not in coded, nk[1]))
            return [n for n, _ in keep]
        return self.cache.get(("facetable", version.table), compute)

    def cube(self, item: Item, version: Version) -> Any:
        """Counts per combination of all facetable columns (an Arrow table), or None when that is not much
        smaller than the table. Totals and facet counts for filters on these columns come from here:
        thousands of rows instead of millions."""
        def compute() -> Any:
            cols = self.facetable(item, version)
            if not cols:
                return None
            sel = ", ".join(qident(c) for c in cols)
            cube = self.connect().execute(f"SELECT {sel}, count(*) AS __n FROM {version.table} GROUP BY ALL") \
                .fetch_arrow_table()
            rows = version.rows or 0
            return cube if cube.num_rows <= min(CUBE_MAX_ROWS, rows / 4) else None
        return self.cache.get(("cube", version.table), compute)

    def search(self, item: Item, version: Version, query: Query) -> dict[str, Any]:
        return self.cache.get(("search", version.table, query), lambda: self._search(item, version, query))

    def where(self, item: Item, query: Query) -> tuple[str, list[Any]]:
        """The WHERE clause (with a leading space, or empty) and its parameters."""
        cols = {c.name: c for c in item.data_columns}
        clauses, params = [], []
        for name, values in query.filters:
            col = cols[name]
            parts = []
            real = [v for v in values if v is not None]
            if real:
                parts.append(f"{qident(name)} IN ({', '.join(f'CAST(? AS {col.type})' for _ in real)})")
                params.extend(str(v) if col.is_text else v for v in real)
            if len(real) < len(values):
                parts.append(f"{qident(name)} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")")
        if query.q:
            text = [c for c in item.data_columns if c.is_text]
            if text:
                clauses.append("(" + " OR ".join(f"contains(lower({qident(c.name)}), ?)" for c in text) + ")")
                params.extend([query.q.lower()] * len(text))
            else:
                clauses.append("FALSE")
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _search(self, item: Item, version: Version, query: Query) -> dict[str, Any]:
        con = self.connect()
        where, params = self.where(item, query)
        cols = item.data_columns
        try:
            facets: dict[str, list[tuple[Any, int]]] = {f: [] for f in query.facets}
            source, count = version.table, "count(*)"
            cube = self.cube(item, version) if not query.q else None
            if cube is not None and {f for f, _ in query.filters} | set(query.facets) <= set(cube.column_names):
                con.register("__portal_cube", cube)   # this thread's cursor: no clash with other requests
                source, count = "__portal_cube", "sum(__n)::BIGINT"
            if query.facets:
                sets = ", ".join(f"({qident(f)})" for f in query.facets)
                grouping = ", ".join(f"GROUPING({qident(f)})" for f in query.facets)
                fsel = ", ".join(qident(f) for f in query.facets)
                rows = con.execute(f"SELECT [{grouping}], {fsel}, {count} FROM {source}{where} "
                                   f"GROUP BY GROUPING SETS ({sets}, ())", params).fetchall()
                total = 0
                for flags, *vals, n in rows:
                    if all(flags):
                        total = n
                        continue
                    i = flags.index(0)
                    facets[query.facets[i]].append((_plain(vals[i]), n))
                for f in facets:
                    facets[f] = sorted(facets[f], key=lambda kv: (-kv[1], str(kv[0])))[:FACET_LIMIT]
            else:
                total = con.execute(f"SELECT coalesce({count}, 0) FROM {source}{where}", params).fetchone()[0]
            if source != version.table:
                con.unregister("__portal_cube")
            order = ""
            if query.sort:
                order = " ORDER BY " + ", ".join(f"{qident(c)} {'DESC' if d else 'ASC'} NULLS LAST" for c, d in query.sort)
            id_col = ', "__row" AS _id' if item.kind == "dataset" and item.single_file else ""
            sel = ", ".join(qident(c.name) for c in cols)
            cur = con.execute(f"SELECT {sel}{id_col} FROM {version.table}{where}{order} LIMIT ? OFFSET ?",
                              [*params, query.limit, query.offset])
            names = [d[0] for d in cur.description]
            records = [{k: _plain(v) for k, v in zip(names, row)} for row in cur.fetchall()]
        except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException) as exc:
            # the engine's own text stays in the server log: it names internal tables and values
            log.info("filterwaarde past niet (%s): %s", item.id, exc)
            raise QueryError("een filterwaarde past niet bij het type van de kolom", field="filters") from None
        fields = ([{"id": "_id", "type": "int"}] if id_col else []) + \
                 [{"id": c.name, "type": CKAN_TYPES.get(c.type, "text"), "info": {"notes": c.description}} for c in cols]
        return {"fields": fields, "records": records, "total": total, "facets": facets}
