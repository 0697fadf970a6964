"""Field-level publication rules for open datasets: publish, coarsen or leave out, per field.

An ``open`` dataset is republished row by row on the portal (pages, downloads, CKAN datastore, DCAT)
and shown as points in the web API. Some open sources still point at people — the Groningen bicycle
thefts carry street, house number and postcode of the place of the theft, often a home address, and
their own description says to publish only at buurt or grid level. The catalog declares what may leave:

```yaml
privacy:
  publish:                          # field-level publication rules (docs/portal.md)
    location: grid_125m             # exact (default) | grid_125m | buurt | wijk
    fields:                         # every other field: publish
      huisnummer: leave_out         # publish | leave_out | pc4 | date | month | year | hour
      straat: leave_out
      postcode: pc4                 # 9711JH → 9711
```

``location`` governs every coordinate column at once — the derived ``x_rd, y_rd, lon, lat, h3`` and
``grid_125m``, and the catalog's fields with a coordinate or geometry role:

* ``grid_125m``: coordinates become the centre of their 125 m RD cell (the cell stays); H3 and
  geometries are left out;
* ``buurt``: every coordinate and the cell are left out; ``buurt_code``, ``wijk_code``, ``gemeente_code`` stay;
* ``wijk``: as ``buurt``, and the buurt code is left out too.

How it is enforced: the portal's registry gives every version of such a dataset a SQL *view* (a
sub-select, :func:`published_select`) instead of the warehouse table, and every portal route reads
``Version.table`` — so no route can read a field the rules hold back. Download files are cached per
rules fingerprint. Rules that cannot be read stop the dataset from being published (fail closed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stadslab.errors import CatalogError

LOCATIONS = ("exact", "grid_125m", "buurt", "wijk")
FIELD_RULES = ("publish", "leave_out", "pc4", "date", "month", "year", "hour")
CELL = 125
# derived at ingest (docs/ARCHITECTURE.md, "Columns a dataset gets at ingest")
COORDINATES = ("x_rd", "y_rd", "lon", "lat")
COORD_ROLES = ("x", "y", "lon", "lat", "wkt", "geometry")
INTERNAL = ("__row", "__file")


@dataclass(frozen=True)
class FieldRules:
    location: str = "exact"
    fields: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)     # field name → role (from the catalog)

    @property
    def active(self) -> bool:
        return self.location != "exact" or any(v != "publish" for v in self.fields.values())

    @property
    def fingerprint(self) -> str:
        """Short hash of the rules: part of cached download paths, so a new rule never serves an old file."""
        text = json.dumps({"location": self.location, "fields": dict(sorted(self.fields.items()))}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def rule(self, column: str) -> str:
        """What happens to one column of the warehouse table: publish, leave_out, a coarsening, or a
        location treatment (``cell_x``/``cell_y``/``cell_lon``/``cell_lat``)."""
        if column in INTERNAL:
            return "publish"                       # row number / file name: needed by the datastore's _id
        role = self.roles.get(column)
        is_coord = column in COORDINATES or role in COORD_ROLES or column == "h3"
        if self.location != "exact":
            if column == "h3" or role in ("wkt", "geometry"):
                return "leave_out"
            if is_coord:
                if self.location != "grid_125m":
                    return "leave_out"
                axis = role if role in ("x", "y", "lon", "lat") else {"x_rd": "x", "y_rd": "y"}.get(column, column)
                return f"cell_{axis}"
            if column == "grid_125m" and self.location in ("buurt", "wijk"):
                return "leave_out"
            if column == "buurt_code" and self.location == "wijk":
                return "leave_out"
        return self.fields.get(column, "publish")


def rules_of(ds: Any) -> FieldRules:
    """The dataset's rules (``privacy.publish`` in its catalog entry); raises CatalogError when unreadable."""
    spec = (getattr(ds, "privacy", None) or {}).get("publish")
    roles = {f.name: f.role for f in ds.fields if f.role}
    if spec is None:
        return FieldRules(roles=roles)
    where = str(getattr(ds, "file", None) or ds.id)
    if not isinstance(spec, Mapping):
        raise CatalogError("privacy.publish moet een blok zijn met location en/of fields", file=where)
    unknown_keys = set(spec) - {"location", "fields"}
    if unknown_keys:
        raise CatalogError(f"privacy.publish: onbekende sleutel(s) {', '.join(sorted(unknown_keys))}", file=where,
                           hint="toegestaan: location, fields")
    location = str(spec.get("location", "exact"))
    if location not in LOCATIONS:
        raise CatalogError(f"privacy.publish.location '{location}' is onbekend", file=where,
                           hint="kies uit: " + " | ".join(LOCATIONS))
    fields = {str(k): str(v) for k, v in (spec.get("fields") or {}).items()}
    names = {f.name for f in ds.fields}
    for name, rule in fields.items():
        if name not in names:
            raise CatalogError(f"privacy.publish.fields: '{name}' is geen veld van '{ds.id}'", file=where)
        if rule not in FIELD_RULES:
            raise CatalogError(f"privacy.publish.fields.{name}: '{rule}' is onbekend", file=where,
                               hint="kies uit: " + " | ".join(FIELD_RULES))
    return FieldRules(location=location, fields=fields, roles=roles)


def rule_problems(datasets: Iterable[Any]) -> list[tuple[str, str, str]]:
    """``(file, key_path, message)`` for every dataset whose rules cannot be read (for catalog checks)."""
    out = []
    for ds in datasets:
        try:
            rules_of(ds)
        except CatalogError as exc:
            out.append((str(getattr(ds, "file", "") or ds.id), "privacy.publish", exc.message))
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell_centre(axis_col: str) -> str:
    return f"(floor({axis_col} / {CELL}) * {CELL} + {CELL / 2})"


def column_sql(rules: FieldRules, name: str, typ: str, columns: set[str]) -> str | None:
    """SQL for one published column (``None``: left out)."""
    rule = rules.rule(name)
    q = _q(name)
    if rule == "publish":
        return q
    if rule == "leave_out":
        return None
    if rule.startswith("cell_"):
        if not {"x_rd", "y_rd"} <= columns:
            return None                              # no RD coordinates to snap: never publish the exact value
        cx, cy = _cell_centre('"x_rd"'), _cell_centre('"y_rd"')
        axis = rule[5:]
        if axis == "x":
            return f"{cx} AS {q}"
        if axis == "y":
            return f"{cy} AS {q}"
        point = f"ST_Transform(ST_Point({cx}, {cy}), 'EPSG:28992', 'EPSG:4326', always_xy := true)"
        return f"round(ST_{'X' if axis == 'lon' else 'Y'}({point}), 6) AS {q}"
    if rule == "pc4":
        return f"left(CAST({q} AS VARCHAR), 4) AS {q}"
    if rule in ("date", "month", "year", "hour"):
        if not typ.startswith(("TIMESTAMP", "DATE")):
            return None                              # a coarsening that does not fit the type: leave it out
        if rule == "date":
            return f"CAST({q} AS DATE) AS {q}"
        if rule == "hour":
            return f"date_trunc('hour', {q}) AS {q}"
        return f"CAST(date_trunc('{rule}', {q}) AS DATE) AS {q}"
    return None


def published_select(con: Any, rules: FieldRules, table: str) -> str:
    """``table`` itself when nothing is held back, else ``(SELECT <published columns> FROM table)``."""
    if not rules.active:
        return table
    described = con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()
    names = {r[0] for r in described}
    parts = [sql for name, typ, *_ in described if (sql := column_sql(rules, name, str(typ), names)) is not None]
    return f"(SELECT {', '.join(parts)} FROM {table})"


def published_points(ds: Any, lon: Any, lat: Any, cells: Any) -> tuple[Any, Any] | None:
    """The web API's incident points under the rules: exact, the centres of their 125 m cells (WGS84),
    or ``None`` (no single points at all). Arrays in, arrays out; ``cells`` are ``grid_125m`` ids."""
    import numpy as np

    rules = rules_of(ds)
    if rules.location == "exact":
        return lon, lat
    if rules.location != "grid_125m":
        return None
    from stadslab.analyses.hotspots.lattice import cell_geometry, parse_cells

    ix, iy = parse_cells(np.asarray(cells, dtype=object))
    geo = cell_geometry(ix, iy, CELL, polygons=False)
    return np.round(np.asarray(geo["lon"]), 6), np.round(np.asarray(geo["lat"]), 6)


LOCATION_NL = {"grid_125m": "coördinaten zijn het midden van hun vak van 125 × 125 m (RD)",
               "buurt": "geen coördinaten of rastervakken, alleen buurt-, wijk- en gemeentecode",
               "wijk": "geen coördinaten, rastervakken of buurtcodes, alleen wijk- en gemeentecode"}
FIELD_NL = {"leave_out": "weggelaten", "pc4": "alleen de 4 cijfers van de postcode", "date": "alleen de datum",
            "month": "alleen de maand", "year": "alleen het jaar", "hour": "afgerond op het uur"}


def describe(rules: FieldRules) -> str:
    """One Dutch sentence for the portal, CKAN and DCAT: what the published version holds back."""
    if not rules.active:
        return ""
    parts = [LOCATION_NL[rules.location]] if rules.location != "exact" else []
    parts += [f"{name}: {FIELD_NL[rule]}" for name, rule in sorted(rules.fields.items()) if rule != "publish"]
    return "Publicatieregels (catalogus): " + "; ".join(parts) + "."
