"""What the portal publishes, and nothing else: the one place every portal route looks items up.

An *item* (a CKAN package, a DCAT dataset) is either an ``open`` dataset as it is, or a stored
publication (an aggregate declared in the catalog and computed through the release path; see
publications.py). Datasets of any other classification are not items, so no route can find them:
``Portal.item(id)`` raises ``NotPublished`` for them exactly as for ids that do not exist.

The registry is rebuilt when the serving state's generation changes (a refresh from the app); within
one process dataset versions change only through ``state.writer()``, which bumps the generation.
Publications whose input version or declaration changed are recomputed and stored first.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from stadslab.catalog.model import Dataset
from stadslab.errors import CatalogError, StadslabError
from stadslab.portal import field_rules
from stadslab.portal import publications as pubs
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import suppression_store_path
from stadslab.warehouse.store import qident

log = logging.getLogger("stadslab.portal")

INTERNAL = ("__row", "__file")
DERIVED = {
    "x_rd": "X-coördinaat in Rijksdriehoek (EPSG:28992), afgeleid bij het laden",
    "y_rd": "Y-coördinaat in Rijksdriehoek (EPSG:28992), afgeleid bij het laden",
    "lon": "Lengtegraad (WGS84), afgeleid bij het laden", "lat": "Breedtegraad (WGS84), afgeleid bij het laden",
    "buurt_code": "CBS-buurtcode van de locatie, toegekend bij het laden",
    "wijk_code": "CBS-wijkcode, toegekend bij het laden", "gemeente_code": "CBS-gemeentecode, toegekend bij het laden",
    "grid_125m": "Vak van 125 m in Rijksdriehoek (E<x/125>N<y/125>)",
    "n": "Aantal (na de publicatiepoort; leeg als de cel onderdrukt is)",
    "suppressed": "'onderdrukt' als de publicatiepoort deze cel niet publiceert",
    "periode": "Periode",
}


class NotPublished(StadslabError):
    """Not on the portal (does not exist, or is not open): always the same answer."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str            # DuckDB type of the stored version
    description: str = ""
    unit: str | None = None

    @property
    def is_geometry(self) -> bool:
        return self.type.startswith("GEOMETRY")

    @property
    def is_text(self) -> bool:
        return self.type == "VARCHAR"


@dataclass(frozen=True)
class Version:
    number: int
    table: str                       # fully qualified, quoted SQL name
    created: datetime | None
    rows: int | None
    input_version: int | None = None  # publications: the dataset version it was computed from
    note: str = ""
    rules: str = ""                  # fingerprint of the field rules the table obeys (field_rules.py)


@dataclass
class Item:
    id: str
    kind: str                        # "dataset" | "publicatie"
    title: str
    description: str
    source: Dataset                  # catalog entry (for a publication: its input; only metadata is used)
    versions: list[Version]
    columns: list[Column]
    publication: pubs.Publication | None = None
    geo: str | None = None           # "point" (lon/lat) | "geometry" | None
    wijken: tuple[str, ...] = ()
    single_file: bool = True
    gate: dict[str, Any] = field(default_factory=dict)

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    @property
    def owner(self) -> str:
        return self.source.owner

    @property
    def theme(self) -> str:
        return (self.publication.theme if self.publication else self.source.theme) or "overig"

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.publication.keywords if self.publication else self.source.keywords

    @property
    def licence(self) -> str:
        return self.publication.licence if self.publication else (self.source.licence or "onbekend")

    @property
    def data_columns(self) -> list[Column]:
        """Columns shown in previews and the datastore (geometry only in downloads)."""
        return [c for c in self.columns if not c.is_geometry]

    def version(self, ref: str | int) -> Version:
        if ref in ("latest", "laatste"):
            return self.latest
        try:
            n = int(str(ref).lstrip("v"))
        except ValueError:
            raise NotPublished(f"versie '{ref}' bestaat niet") from None
        for v in self.versions:
            if v.number == n:
                return v
        raise NotPublished(f"'{self.id}' heeft geen versie {n}",
                           hint="versies: " + ", ".join(str(v.number) for v in self.versions))


class Portal:
    """The published items of one serving state, rebuilt per generation."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._items: dict[str, Item] | None = None
        self._generation: int | None = None
        self.refusals: dict[str, str] = {}     # publication id -> why it is not (re)published
        self.area_names: dict[str, str] = {}
        config = state.workspace.config        # read once: the property re-reads stadslab.yaml
        self.settings: dict[str, Any] = dict(config.get("portal") or {})
        self.municipality: dict[str, Any] = dict(config.get("municipality") or {})

    def base_url(self, request: Any) -> str:
        """Absolute base for links in the API and DCAT: ``portal.base_url`` in stadslab.yaml, else the request's."""
        return str(self.settings.get("base_url") or request.base_url).rstrip("/")

    # ---- lookup ---------------------------------------------------------------------------

    def items(self) -> dict[str, Item]:
        if self._items is None or self._generation != self.state.generation:
            with self._lock:
                if self._items is None or self._generation != self.state.generation:
                    self._rebuild()
        return self._items  # type: ignore[return-value]

    def item(self, item_id: str) -> Item:
        try:
            return self.items()[item_id]
        except KeyError:
            raise NotPublished(f"'{item_id}' staat niet op het open-dataportaal") from None

    def resource(self, resource_id: str) -> tuple[Item, str | None]:
        """A CKAN resource id ``<item>`` or ``<item>--<format>`` → (item, format)."""
        item_id, _, fmt = resource_id.partition("--")
        return self.item(item_id), (fmt or None)

    # ---- building -------------------------------------------------------------------------

    def _rebuild(self) -> None:
        self._publish()
        generation = self.state.generation
        wh = self.state.warehouse()
        catalog = self.state.catalog
        loaded = set(wh.datasets())
        self.area_names = _area_names(wh.con)
        items: dict[str, Item] = {}
        for ds in catalog:
            if ds.classification == "open" and ds.id in loaded:
                try:
                    items[ds.id] = _dataset_item(wh, ds)
                except CatalogError as exc:   # unreadable field rules: not published at all (fail closed)
                    self.refusals[ds.id] = exc.message
                    log.warning("dataset %s niet gepubliceerd: %s", ds.id, exc)
        for pub in pubs.declared(catalog):
            stored = pubs.stored_versions(wh, pub.id)
            if stored and pub.id not in items:
                items[pub.id] = _publication_item(wh, catalog.get(pub.dataset), pub, stored)
        self._items, self._generation = items, generation

    def _publish(self) -> None:
        """Compute and store publications whose input version or declaration changed."""
        catalog = self.state.catalog
        wh = self.state.warehouse()
        todo = []
        for pub in pubs.declared(catalog):
            ds = catalog.get(pub.dataset)
            current = wh.current_version(ds.id)
            if current is None:
                self.refusals[pub.id] = f"dataset '{ds.id}' is nog niet geladen"
                continue
            if not pubs.is_current(pubs.stored_versions(wh, pub.id), pub, current):
                todo.append((pub, ds))
        if not todo:
            return
        if wh.read_only:
            for pub, _ in todo:
                self.refusals[pub.id] = "warehouse alleen-lezen: nieuwe versie niet opgeslagen"
            return
        store = SuppressionStore(suppression_store_path(self.state.workspace.root))
        with self.state.writer() as writer:
            for pub, ds in todo:
                try:
                    release = pubs.compute(writer, ds, pub, audit=self.state.audit, store=store)
                    pubs.store_version(writer, pub, release)
                    self.refusals.pop(pub.id, None)
                except StadslabError as exc:   # refused: doelbinding, gate, declaration — logged, never silent
                    self.refusals[pub.id] = exc.message
                    log.warning("publicatie %s niet gepubliceerd: %s", pub.id, exc)


def _columns(con: Any, table: str, describe: dict[str, tuple[str, str | None]]) -> list[Column]:
    out = []
    for name, typ, *_ in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall():
        if name in INTERNAL:
            continue
        desc, unit = describe.get(name, (DERIVED.get(name, ""), None))
        out.append(Column(name, typ, desc, unit))
    return out


def _dataset_item(wh: Any, ds: Dataset) -> Item:
    # every route reads Version.table: with field rules it is a view that holds back what may not leave
    rules = field_rules.rules_of(ds)
    versions = []
    for v in wh.versions(ds.id):
        table = field_rules.published_select(wh.con, rules, f"v.{qident(v['table_name'])}")
        versions.append(Version(v["version"], table, v.get("finished_at"), v.get("rows_loaded"),
                                rules=rules.fingerprint if rules.active else ""))
    latest = versions[-1].table
    describe = {f.name: (f.description, f.unit) for f in ds.fields}
    columns = _columns(wh.con, latest, describe)
    names = {c.name for c in columns}
    geo = "point" if {"lon", "lat"} <= names else ("geometry" if any(c.is_geometry for c in columns) else None)
    wijken: tuple[str, ...] = ()
    if "wijk_code" in names:
        wijken = tuple(r[0] for r in wh.con.execute(
            f"SELECT DISTINCT wijk_code FROM {latest} WHERE wijk_code IS NOT NULL ORDER BY 1").fetchall())
    single = wh.con.execute(f"SELECT count(DISTINCT __file) <= 1 FROM {latest}").fetchone()[0]
    description = "\n\n".join(t for t in (ds.description, field_rules.describe(rules)) if t)
    return Item(ds.id, "dataset", ds.title, description, ds, versions, columns, geo=geo, wijken=wijken,
                single_file=bool(single))


def _publication_item(wh: Any, ds: Dataset, pub: pubs.Publication, stored: list[dict[str, Any]]) -> Item:
    versions = [Version(s["version"], f"results.{qident(s['table_name'])}", s["created_at"], s["rows"],
                        s["params"].get("input_version"), s.get("method") or "") for s in stored]
    describe = {f.name: (f.description, f.unit) for f in ds.fields}
    unit = (ds.privacy or {}).get("unit")
    describe["n"] = (DERIVED["n"] + (f"; eenheid: {unit}" if unit else ""), unit)
    if pub.period:
        describe[pubs.PERIOD] = (f"{pub.period['field']} per {pub.period['grain']}", None)
    columns = _columns(wh.con, versions[-1].table, describe)
    wijken: tuple[str, ...] = ()
    if "wijk_code" in pub.by:
        wijken = tuple(r[0] for r in wh.con.execute(
            f"SELECT DISTINCT wijk_code FROM {versions[-1].table} WHERE wijk_code LIKE 'WK%' ORDER BY 1").fetchall())
    return Item(pub.id, "publicatie", pub.title, pub.description, ds, versions, columns, publication=pub,
                wijken=wijken, gate=stored[-1]["params"].get("gate") or {})


def _area_names(con: Any) -> dict[str, str]:
    """Area code → name (newest division year), for facets; empty when there is no area registry."""
    try:
        rows = con.execute("SELECT code, arg_max(name, year) FROM stadslab.areas GROUP BY code").fetchall()
    except duckdb.Error:  # no area datasets loaded: the view does not exist
        return {}
    return {c: n for c, n in rows if n}
