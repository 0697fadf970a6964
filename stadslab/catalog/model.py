"""The catalog's data model: what a dataset description says, as typed objects.

Built from YAML that passed the meta-schema (see ``metaschema.yaml``); the rest of Stadslab reads
these objects, never the raw YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any

CLASSIFICATIONS = ("open", "intern", "vertrouwelijk", "persoonsgegevens")
PHASES = ("onderzoekskader", "dataverzameling", "duiding", "gebruik")
GEOMETRY_ROLES = ("x", "y", "lon", "lat", "wkt", "geometry")
DEFAULT_NULL_MARKERS = ("", ".")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    source: str
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    description: str = ""
    nullable: bool = True
    unique: bool = False
    codes: tuple[Any, ...] | None = None
    code_labels: dict[str, str] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    format: str | None = None
    role: str | None = None
    privacy: dict[str, Any] = dc_field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Field":
        codes = d.get("codes")
        labels = None
        if isinstance(codes, dict):
            labels = {str(k): str(v) for k, v in codes.items()}
            codes = tuple(codes.keys())
        elif codes is not None:
            codes = tuple(codes)
        rng = d.get("range") or {}
        return cls(
            name=d["name"], type=d["type"], source=d.get("source", d["name"]),
            aliases=tuple(d.get("aliases", ())), unit=d.get("unit"),
            description=d.get("description", ""), nullable=d.get("nullable", True),
            unique=d.get("unique", False), codes=codes, code_labels=labels,
            min=rng.get("min"), max=rng.get("max"), pattern=d.get("pattern"),
            format=d.get("format"), role=d.get("role"), privacy=d.get("privacy", {}),
        )


@dataclass(frozen=True)
class Source:
    path: str
    reader: str | None
    options: dict[str, Any]

    @property
    def null_markers(self) -> tuple[str, ...]:
        return tuple(self.options.get("null_markers", DEFAULT_NULL_MARKERS))


@dataclass(frozen=True)
class Geography:
    level: str = "none"
    division_year: int | None = None
    crs: str = "EPSG:28992"
    grid: bool = True
    h3_resolution: int | None = None


@dataclass(frozen=True)
class AreaSpec:
    """Marks a dataset as an area division for the geography registry."""

    level: str
    year: int
    code_field: str
    name_field: str | None = None
    parent_field: str | None = None
    gemeente_field: str | None = None
    land_area_field: str | None = None


@dataclass(frozen=True)
class LoadPolicy:
    on_invalid: str = "fail"          # fail | reject
    on_new_columns: str = "warn"      # fail | warn | ignore
    max_reject_share: float = 0.05    # even in reject mode, refuse a load that rejects more


@dataclass(frozen=True)
class StreamSpec:
    """A realtime dataset: readings appended as they arrive (stadslab/ingest/stream.py, docs/streaming.md)."""

    sensor_field: str
    time_field: str
    value_fields: tuple[str, ...]
    registry_dataset: str | None = None
    registry_field: str | None = None
    stale_after_hours: float = 6.0
    max_future_minutes: float = 10.0
    tokens: str = "workspace"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StreamSpec":
        reg = d.get("registry") or {}
        return cls(sensor_field=d["sensor_field"], time_field=d["time_field"], value_fields=tuple(d["value_fields"]),
                   registry_dataset=reg.get("dataset"), registry_field=reg.get("field"),
                   stale_after_hours=float(d.get("stale_after_hours", 6.0)),
                   max_future_minutes=float(d.get("max_future_minutes", 10.0)), tokens=d.get("tokens", "workspace"))


@dataclass(frozen=True)
class Access:
    roles: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    fields: dict[str, tuple[str, ...]] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    owner: str
    classification: str
    source: Source
    fields: tuple[Field, ...]
    description: str = ""
    contact: str | None = None
    theme: str | None = None
    keywords: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    legal_basis: str | None = None
    licence: str | None = None
    attribution: str | None = None
    update_frequency: str | None = None
    simulated: bool = False
    phases: dict[str, str] = dc_field(default_factory=dict)
    temporal_coverage: dict[str, Any] = dc_field(default_factory=dict)
    geography: Geography = Geography()
    areas: AreaSpec | None = None
    load: LoadPolicy = LoadPolicy()
    privacy: dict[str, Any] = dc_field(default_factory=dict)
    access: Access = Access()
    publications: tuple[dict[str, Any], ...] = ()
    release: dict[str, Any] = dc_field(default_factory=dict)  # personal data: dimensions, structures (catalog/release_rules.py)
    governance: dict[str, Any] = dc_field(default_factory=dict)  # convenant, bewaartermijn, dpia (ingest/retention.py)
    stream: StreamSpec | None = None  # set for update_frequency: realtime datasets
    file: Path | None = None          # the YAML it came from
    sha256: str = ""                  # hash of that YAML: the catalog version of this entry

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def field_with_role(self, role: str) -> Field | None:
        return next((f for f in self.fields if f.role == role), None)

    @property
    def is_personal(self) -> bool:
        return self.classification == "persoonsgegevens"

    @property
    def is_point(self) -> bool:
        return self.geography.level == "point"

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, file: Path | None = None, sha256: str = "") -> "Dataset":
        src = d.get("source") or {"path": "", "reader": "stream"}  # a stream has no file
        geo = d.get("geography") or {}
        access = d.get("access") or {}
        return cls(
            id=d["id"], title=d["title"], owner=d["owner"], classification=d["classification"],
            source=Source(path=src["path"], reader=src.get("reader"), options=dict(src.get("options") or {})),
            fields=tuple(Field.from_dict(f) for f in d["fields"]),
            description=d.get("description", ""), contact=d.get("contact"), theme=d.get("theme"),
            keywords=tuple(d.get("keywords", ())), purposes=tuple(d.get("purposes", ())),
            legal_basis=d.get("legal_basis"), licence=d.get("licence"), attribution=d.get("attribution"),
            update_frequency=d.get("update_frequency"), simulated=bool(d.get("simulated", False)),
            phases=dict(d.get("phases") or {}), temporal_coverage=dict(d.get("temporal_coverage") or {}),
            geography=Geography(
                level=geo.get("level", "none"), division_year=geo.get("division_year"),
                crs=geo.get("crs", "EPSG:28992"), grid=geo.get("grid", True),
                h3_resolution=geo.get("h3_resolution")),
            areas=AreaSpec(**d["areas"]) if d.get("areas") else None,
            load=LoadPolicy(**(d.get("load") or {})),
            privacy=dict(d.get("privacy") or {}),
            access=Access(roles=tuple(access.get("roles", ())), purposes=tuple(access.get("purposes", ())),
                          fields={k: tuple(v) for k, v in (access.get("fields") or {}).items()}),
            publications=tuple(d.get("publications") or ()),
            release=dict(d.get("release") or {}),
            governance=dict(d.get("governance") or {}),
            stream=StreamSpec.from_dict(d["stream"]) if d.get("stream") else None,
            file=file, sha256=sha256,
        )
