"""Geo reader (.geojson .gpkg .shp, a .zip holding a shapefile) with DuckDB spatial's ``ST_Read``.

- layer: ``options['layer']``, else the first layer with a geometry (others are named in the notes).
- attributes keep their native types; GDAL's ``OGC_FID`` is dropped; the geometry becomes
  ``__geom`` (plain GEOMETRY, the CRS is in ``ReadResult.crs``); ``__row`` is the feature number.
- CRS: ``options['crs']`` overrides; else what GDAL reports (``ST_Read_Meta``): the GeoJSON legacy
  ``"crs"`` member (``urn:ogc:def:crs:EPSG::28992``), a GeoPackage's SRS, a shapefile's ``.prj``
  (ESRI 'RD_New'/'Amersfoort' → EPSG:28992, 'GCS_WGS_1984' → EPSG:4326). A GeoJSON without a ``crs``
  member is EPSG:4326 (RFC 7946).
- the coordinates must fit that CRS: RD New numbers (x 0–300 000, y 289 000–629 000) labelled as
  degrees, degrees labelled as RD, or lat/lon swapped in WGS84 raise ``ReaderError`` with the fix.
  A file without any CRS gets the one its coordinates clearly fit, with a note.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb

from stadslab.errors import ReaderError
from stadslab.ingest.readers.base import (GEOM_COLUMN, ROW_COLUMN, ReadResult, quote_ident, register_reader)

RD, WGS84 = "EPSG:28992", "EPSG:4326"
GEOGRAPHIC = {"EPSG:4326", "EPSG:4258", "EPSG:4289", "EPSG:4979", "OGC:CRS84"}
MEMBERS = (".shp", ".gpkg", ".geojson", ".json")


@register_reader("geo", (".geojson", ".gpkg", ".shp", ".zip"),
                 "GeoJSON, GeoPackage, Shapefile (ook in .zip): attributen met eigen types, geometrie als __geom")
def read_geo(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any], table: str) -> ReadResult:
    """Features into a TEMP table: attribute columns, ``__geom`` and ``__row`` (1-based feature number)."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError("bestand niet gevonden", file=str(path))
    notes: list[str] = []
    src = _source(path, options, notes)
    try:
        meta = con.execute("SELECT layers FROM ST_Read_Meta(?)", [src]).fetchone()
    except duckdb.Error as exc:
        raise ReaderError(f"geen leesbaar geobestand: {_first_line(exc)}", file=str(path)) from None
    layer = _choose_layer(meta[0] if meta else [], options, path, notes)
    name, geom_fields = layer["name"], layer["geometry_fields"]
    if not geom_fields:
        raise ReaderError(f"laag '{name}' heeft geen geometrie", file=str(path),
                          hint="gebruik de csv- of json-reader voor tabellen zonder geometrie")
    geom = geom_fields[0]["name"]
    declared = _declared_crs(geom_fields[0].get("crs"), path)
    args = f"{_lit(src)}, layer := {_lit(name)}"
    try:
        cols = [d[0] for d in con.execute(f"SELECT * FROM ST_Read({args}) LIMIT 0").description]
    except duckdb.Error as exc:
        raise ReaderError(f"laag '{name}' kan niet gelezen worden: {_first_line(exc)}", file=str(path)) from None
    fields = {f["name"] for f in layer["fields"]}
    attrs = [c for c in cols if c != geom and (c != "OGC_FID" or c in fields)]
    t = quote_ident(table)
    select = ", ".join([quote_ident(c) for c in attrs] + [f"{quote_ident(geom)}::GEOMETRY AS {GEOM_COLUMN}"])
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {t} AS SELECT {select}, NULL::BIGINT AS {ROW_COLUMN} "
                    f"FROM ST_Read({args})")
    except duckdb.Error as exc:
        raise ReaderError(f"laag '{name}' kan niet gelezen worden: {_first_line(exc)}", file=str(path)) from None
    con.execute(f"UPDATE {t} SET {ROW_COLUMN} = rowid + 1")   # insertion order is file order
    rows, xmin, ymin, xmax, ymax = con.execute(
        f"SELECT count(*), min(ST_XMin({GEOM_COLUMN})), min(ST_YMin({GEOM_COLUMN})), max(ST_XMax({GEOM_COLUMN})), "
        f"max(ST_YMax({GEOM_COLUMN})) FROM {t}").fetchone()
    implicit = path.suffix.lower() == ".geojson" and not _has_crs_member(path)
    crs = _decide_crs(options, declared, implicit, path, (xmin, ymin, xmax, ymax), notes)
    used = {"layer": name, "crs": crs, "crs_in_file": declared, "geometry_column": geom}
    return ReadResult(table=table, columns=attrs, rows=rows, typed=True, crs=crs, options_used=used, notes=notes)


def _source(path: Path, options: dict[str, Any], notes: list[str]) -> str:
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.namelist() if m.lower().endswith(MEMBERS) and "__MACOSX" not in m]
    except zipfile.BadZipFile:
        raise ReaderError("geen geldig zip-bestand", file=str(path)) from None
    if not members:
        raise ReaderError("het zip-bestand bevat geen shapefile, GeoPackage of GeoJSON", file=str(path))
    wanted = options.get("layer")
    pick = next((m for m in members if wanted and Path(m).stem == wanted), members[0])
    if len(members) > 1:
        notes.append(f"uit het zip-bestand gelezen: '{pick}'; ook aanwezig: " +
                     ", ".join(f"'{m}'" for m in members if m != pick))
    return f"/vsizip/{path.resolve()}/{pick}"


def _choose_layer(layers: list[dict[str, Any]], options: dict[str, Any], path: Path,
                  notes: list[str]) -> dict[str, Any]:
    names = [layer["name"] for layer in layers]
    wanted = options.get("layer")
    if wanted and path.suffix.lower() != ".zip":
        if wanted not in names:
            raise ReaderError(f"laag '{wanted}' bestaat niet", file=str(path),
                              hint="lagen in dit bestand: " + ", ".join(f"'{n}'" for n in names))
        return layers[names.index(wanted)]
    if not layers:
        raise ReaderError("het bestand bevat geen lagen", file=str(path))
    with_geom = [layer for layer in layers if layer["geometry_fields"]]
    pick = with_geom[0] if with_geom else layers[0]
    if len(layers) > 1:
        notes.append(f"laag '{pick['name']}' gelezen; andere lagen: "
                     + ", ".join(f"'{n}'" for n in names if n != pick["name"]))
    return pick


def _declared_crs(crs: dict[str, Any] | None, path: Path) -> str | None:
    """The CRS the file states, as 'EPSG:<code>'; None when it states none."""
    if not crs:
        return None
    if crs.get("auth_name") and crs.get("auth_code"):
        return f"{crs['auth_name'].upper()}:{crs['auth_code']}"
    text = f"{crs.get('name') or ''} {crs.get('wkt') or ''}"
    if re.search(r"amersfoort|rd[_ ]new", text, re.IGNORECASE):
        return RD
    if re.search(r"wgs[_ ]?(19)?84", text, re.IGNORECASE) and not text.lstrip().upper().startswith("PROJCS"):
        return WGS84
    return f"onbekend ({crs.get('name') or 'zonder naam'})" if text.strip() else None


def normalise_crs(value: str) -> str:
    """'28992', 'epsg:28992', 'urn:ogc:def:crs:EPSG::28992' → 'EPSG:28992'."""
    m = re.search(r"(\d{4,6})\s*$", str(value))
    return f"EPSG:{m.group(1)}" if m else str(value).strip().upper()


def _has_crs_member(path: Path) -> bool:
    """Does the GeoJSON name a CRS (legacy ``"crs"`` member)? GDAL reports EPSG:4326 either way."""
    with open(path, "rb") as fh:
        return b'"crs"' in fh.read(1 << 16)


def _decide_crs(options: dict[str, Any], declared: str | None, implicit: bool, path: Path,
                box: tuple[float | None, ...], notes: list[str]) -> str:
    crs = normalise_crs(options["crs"]) if options.get("crs") else declared
    if options.get("crs") and declared and crs != declared:
        notes.append(f"CRS {'volgens de GeoJSON-standaard' if implicit else 'uit het bestand'} ({declared}) "
                     f"vervangen door source.options.crs {crs}")
    xmin, ymin, xmax, ymax = box
    if xmin is None:
        return crs or WGS84
    rd = 0 <= xmin and xmax <= 300_000 and 289_000 <= ymin and ymax <= 629_000
    degrees = -180 <= xmin and xmax <= 180 and -90 <= ymin and ymax <= 90
    swapped = 50 <= xmin and xmax <= 54 and 3 <= ymin and ymax <= 8
    bbox = f"x {xmin:.6g}…{xmax:.6g}, y {ymin:.6g}…{ymax:.6g}"
    said = ("source.options.crs" if options.get("crs") else
            "de GeoJSON-standaard (het bestand heeft geen 'crs')" if implicit else "het bestand")
    if crs is None or crs.startswith("onbekend"):
        if rd or degrees:
            guess = RD if rd else WGS84
            notes.append(f"het bestand noemt geen CRS; de coördinaten ({bbox}) passen bij {guess}. "
                         f"Leg dit vast met source.options.crs: {guess}")
            return guess
        raise ReaderError(f"het bestand noemt geen (bekend) coördinatenstelsel ({crs or 'geen'}) en de coördinaten "
                          f"({bbox}) zijn niet als RD of WGS84 te herkennen", file=str(path),
                          hint="zet source.options.crs, bijv. EPSG:28992")
    if crs in GEOGRAPHIC and rd and not degrees:
        raise ReaderError(f"de coördinaten ({bbox}) zijn RD-meters (EPSG:28992), maar volgens {said} zijn het "
                          f"graden ({crs})", file=str(path), expected="lengte/breedte in graden",
                          hint="zet source.options.crs: EPSG:28992 als het bestand RD bevat")
    if crs in GEOGRAPHIC and swapped:
        raise ReaderError(f"breedte en lengte lijken verwisseld ({bbox}): x moet de lengtegraad zijn (3–8 in "
                          f"Nederland), y de breedtegraad", file=str(path), hint="draai x en y om in de bron")
    if crs == RD and degrees:
        raise ReaderError(f"de coördinaten ({bbox}) zijn graden, maar volgens {said} is het RD (EPSG:28992)",
                          file=str(path), expected="RD-meters (x 0–300 000, y 289 000–629 000)",
                          hint="zet source.options.crs: EPSG:4326 als het bestand lengte/breedte bevat")
    return crs


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
