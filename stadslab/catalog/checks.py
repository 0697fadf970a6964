"""Semantic checks on a dataset description, after the meta-schema passed.

Each check yields ``(key_path, message)``; messages say what to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stadslab.catalog.governance import governance_problems
from stadslab.catalog.release_rules import release_problems

_ROLE_TYPES = {
    "x": {"number", "integer"}, "y": {"number", "integer"}, "lon": {"number"}, "lat": {"number"},
    "wkt": {"string", "geometry"}, "geometry": {"geometry"}, "time": {"date", "datetime"},
}


def semantic_problems(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    fields = d["fields"]
    names = [f["name"] for f in fields]
    for i, f in enumerate(fields):
        if names.count(f["name"]) > 1:
            yield f"fields[{i}].name", f"veldnaam '{f['name']}' komt vaker voor"
        role = f.get("role")
        if role in _ROLE_TYPES and f["type"] not in _ROLE_TYPES[role]:
            yield (f"fields[{i}].type", f"rol '{role}' verwacht type {' of '.join(sorted(_ROLE_TYPES[role]))}, "
                   f"niet '{f['type']}'")
        rng = f.get("range") or {}
        if rng and f["type"] not in ("integer", "number"):
            yield f"fields[{i}].range", "een bereik (range) kan alleen bij integer of number"
        if "min" in rng and "max" in rng and rng["min"] > rng["max"]:
            yield f"fields[{i}].range", f"min {rng['min']} is groter dan max {rng['max']}"
        if f.get("format") and f["type"] not in ("date", "datetime", "time"):
            yield f"fields[{i}].format", "een formaat (format) hoort bij date, datetime of time"
    roles = [f.get("role") for f in fields]
    geo = (d.get("geography") or {}).get("level", "none")
    if geo == "point":
        has_xy = "x" in roles and "y" in roles
        has_ll = "lon" in roles and "lat" in roles
        if not (has_xy or has_ll or "geometry" in roles or "wkt" in roles):
            yield "geography.level", ("puntdata hebben velden met rol x en y (RD), lon en lat (WGS84), "
                                      "wkt of geometry nodig")
        if not (d.get("geography") or {}).get("division_year"):
            yield "geography.division_year", "puntdata hebben een jaar van de gebiedsindeling nodig (bijv. 2024)"
    if d.get("areas"):
        a = d["areas"]
        for key in ("code_field", "name_field", "parent_field", "gemeente_field", "land_area_field"):
            if a.get(key) and a[key] not in names:
                yield f"areas.{key}", f"veld '{a[key]}' staat niet in fields"
        if not ({"geometry", "wkt"} & set(roles)):
            yield "areas", "een gebiedsindeling heeft een veld met rol geometry of wkt nodig"
    yield from _stream_problems(d, fields, names)
    yield from release_problems(d)   # personal data: declared dimensions and structures
    yield from governance_problems(d)   # convenant, bewaartermijn (issue 13)
    access = d.get("access") or {}
    for role_name, allowed in (access.get("fields") or {}).items():
        for fname in allowed:
            if fname not in names:
                yield f"access.fields.{role_name}", f"veld '{fname}' staat niet in fields"
    if d.get("classification") == "persoonsgegevens" and not d.get("purposes"):
        yield "purposes", "persoonsgegevens vragen om doelbinding: noem de toegestane doelen (purposes)"
    for i, f in enumerate(fields):
        if f.get("role") in ("name", "address", "birth_date") and d.get("classification") == "persoonsgegevens":
            yield (f"fields[{i}].role", f"direct identificerend veld '{f['name']}' hoort niet in het warehouse: "
                   "laat de bronhouder het verwijderen of vergroven (stadslab source pseudonymise)")


def _stream_problems(d: dict[str, Any], fields: list[dict[str, Any]], names: list[str]) -> Iterator[tuple[str, str]]:
    """A realtime dataset: its stream block names existing fields of the right types (docs/streaming.md)."""
    st = d.get("stream")
    if not st:
        if d.get("update_frequency") == "realtime" and not d.get("source"):
            yield "stream", "een realtime dataset zonder bronbestand heeft een stream-blok nodig"
        return
    if d.get("update_frequency") != "realtime":
        yield "update_frequency", "een dataset met een stream-blok heeft update_frequency: realtime"
    types = {f["name"]: f["type"] for f in fields}
    wanted = [("sensor_field", st["sensor_field"], {"string", "integer"}),
              ("time_field", st["time_field"], {"datetime"})]
    wanted += [(f"value_fields[{i}]", v, {"number", "integer", "boolean"}) for i, v in enumerate(st["value_fields"])]
    for key, name, ok in wanted:
        if name not in names:
            yield f"stream.{key}", f"veld '{name}' staat niet in fields"
        elif types[name] not in ok:
            yield f"stream.{key}", f"veld '{name}' heeft type {types[name]}, verwacht {' of '.join(sorted(ok))}"
