"""Downloads: CSV, JSON, GeoJSON (geo data), Parquet and Excel, with a stable URL per version.

    /open/download/<id>/v<n>/<id>-v<n>.<ext>    one version, never changes (Cache-Control: immutable)
    /open/download/<id>/latest/<id>.<ext>       302 to the newest version

Files are written once per (item, version, format) into ``<workspace>/portal/downloads/`` by DuckDB
(``COPY``; GeoJSON through the spatial extension's GDAL writer) and then served from disk. Geometry is
given in WGS84 (GeoJSON, GeoParquet, WKT in CSV/JSON); Excel leaves geometry out (cells hold at most
32,767 characters) and is offered up to Excel's 1,048,575 data rows. Excel is the one format written
row by row in Python (xlsxwriter, constant memory): DuckDB has no offline XLSX writer.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from stadslab.portal.hygiene import IMMUTABLE, SHORT
from stadslab.portal.metadata import FORMATS, download_path, formats_of
from stadslab.portal.registry import Item, NotPublished, Portal, Version
from stadslab.warehouse.store import qident

TO_WGS84 = "ST_Transform({g}, 'EPSG:28992', 'EPSG:4326', always_xy := true)"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _select(item: Item, *, geometry: str) -> str:
    """SELECT list: ``wkt`` → geometry as WKT text, ``native`` → GEOMETRY, ``none`` → left out."""
    parts = []
    for c in item.columns:
        q = qident(c.name)
        if c.is_geometry:
            if geometry == "wkt":
                parts.append(f"ST_AsText({TO_WGS84.format(g=q)}) AS {q}")
            elif geometry == "native":
                parts.append(f"{TO_WGS84.format(g=q)} AS {q}")
        else:
            parts.append(q)
    return ", ".join(parts)


def _geojson_select(item: Item) -> str:
    props = []
    for c in item.columns:
        if c.is_geometry:
            continue
        q = qident(c.name)
        # GDAL's GeoJSON writer wants plain types
        props.append(f"CAST({q} AS VARCHAR) AS {q}" if c.type.startswith(("TIMESTAMP", "DATE", "TIME")) else q)
    geom = next((c for c in item.columns if c.is_geometry), None)
    g = TO_WGS84.format(g=qident(geom.name)) if geom else "ST_Point(lon, lat)"
    return ", ".join([*props, f"{g} AS geometry"])


def write_file(con: Any, item: Item, version: Version, ext: str, path: Path) -> None:
    """Write one download to ``path`` (atomically: a temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, suffix="." + ext)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = version.table
        if ext == "csv":
            con.execute(f"COPY (SELECT {_select(item, geometry='wkt')} FROM {src}) TO '{tmp}' (HEADER, DELIMITER ',')")
        elif ext == "json":
            con.execute(f"COPY (SELECT {_select(item, geometry='wkt')} FROM {src}) TO '{tmp}' (FORMAT JSON, ARRAY true)")
        elif ext == "parquet":
            con.execute(f"COPY (SELECT {_select(item, geometry='native')} FROM {src}) TO '{tmp}' (FORMAT PARQUET)")
        elif ext == "geojson":
            tmp.unlink()  # GDAL refuses to overwrite
            con.execute(f"COPY (SELECT {_geojson_select(item)} FROM {src} "
                        f"{'WHERE lon IS NOT NULL AND lat IS NOT NULL' if item.geo == 'point' else ''}) "
                        f"TO '{tmp}' WITH (FORMAT GDAL, DRIVER 'GeoJSON')")
        elif ext == "xlsx":
            _write_xlsx(con, item, version, tmp)
        else:  # pragma: no cover — callers check FORMATS
            raise ValueError(ext)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_xlsx(con: Any, item: Item, version: Version, path: Path) -> None:
    import xlsxwriter

    cols = [c for c in item.columns if not c.is_geometry]
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_urls": False, "strings_to_formulas": False})
    ws = wb.add_worksheet(item.id[:31])
    bold = wb.add_format({"bold": True})
    date_f = wb.add_format({"num_format": "yyyy-mm-dd"})
    ts_f = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for j, c in enumerate(cols):
        ws.write_string(0, j, c.name, bold)
    cur = con.execute(f"SELECT {', '.join(qident(c.name) for c in cols)} FROM {version.table}")
    i = 1
    while batch := cur.fetchmany(10_000):
        for row in batch:
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, dt.datetime):
                    ws.write_datetime(i, j, v.replace(tzinfo=None), ts_f)
                elif isinstance(v, dt.date):
                    ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_f)
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v)[:32767])
            i += 1
    ws.freeze_panes(1, 0)
    wb.close()


def ensure_file(portal: Portal, item: Item, version: Version, ext: str) -> Path:
    """The download file of (item, version, format), written on first request."""
    name = download_path(item.id, version.number, ext).rsplit("/", 1)[1]
    folder = f"v{version.number}" + (f"-regels-{version.rules}" if version.rules else "")   # new rules, new file
    path = portal.state.workspace.root / "portal" / "downloads" / item.id / folder / name
    if path.exists():
        return path
    with _locks_guard:
        lock = _locks.setdefault(str(path), threading.Lock())
    with lock:
        if not path.exists():
            write_file(portal.state.warehouse().con, item, version, ext, path)
    return path


def build(portal: Portal) -> APIRouter:
    router = APIRouter(tags=["open data"])

    @router.get("/open/download/{item_id}/{ref}/{filename}", summary="Download een versie van een dataset")
    def download(request: Request, item_id: str, ref: str, filename: str):
        try:
            item = portal.item(item_id)
            version = item.version(ref)
        except NotPublished as exc:
            raise HTTPException(404, detail=exc.message) from None
        ext = filename.rpartition(".")[2]
        fmt = FORMATS.get(ext)
        if fmt is None or fmt not in formats_of(item, version):
            raise HTTPException(404, detail=f"formaat '.{ext}' is er niet voor '{item.id}'")
        if ref in ("latest", "laatste"):
            return RedirectResponse(download_path(item.id, version.number, ext), status_code=302,
                                    headers={"Cache-Control": SHORT})
        if filename != download_path(item.id, version.number, ext).rsplit("/", 1)[1]:
            raise HTTPException(404, detail="onbekende bestandsnaam")
        path = ensure_file(portal, item, version, ext)
        # a version's file never changes, so its name and size identify it
        tag = f'"{item.id}-v{version.number}-{ext}-{path.stat().st_size}"'
        headers = {"Cache-Control": IMMUTABLE, "ETag": tag}
        if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=fmt.media_type, filename=filename, headers=headers)

    return router
