"""What a version holds beyond the source's columns, decided at ingest (ingest/pipeline.py calls these):
areas for points (the compact layout of geography/points.py), RD geometry for shapes, parent codes for
area-coded records, and which columns are written and which the version's view derives (issue 16).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from stadslab.catalog.model import Dataset
from stadslab.ingest import fastpath
from stadslab.ingest import validate as V
from stadslab.ingest.readers import ROW_COLUMN
from stadslab.ingest.retention import retention_term
from stadslab.warehouse.layout import ROWID, VersionLayout


def assign_points(con, ds: Dataset, crs: str):
    """The compact point layout over ``__clean`` (geography/points.py: the area id is written, codes,
    lon/lat and cell are the version's view) and the function that measures the assignment on it."""
    from stadslab.geography.assign import assign_stats, assignment_level
    from stadslab.geography.points import point_layout

    xf, yf = ds.field_with_role("x"), ds.field_with_role("y")
    if xf is None or yf is None:
        lon, lat = ds.field_with_role("lon"), ds.field_with_role("lat")
        if lon is not None and lat is not None:
            xf, yf, crs = lon, lat, "EPSG:4326"
    source = "__clean"
    if xf is None:  # points as geometry/WKT: take their coordinates
        g = ds.field_with_role("geometry") or ds.field_with_role("wkt")
        con.execute(f"""CREATE OR REPLACE TEMP VIEW __pts AS SELECT * REPLACE (ST_AsText({V.q(g.name)}) AS {V.q(g.name)}),
            ST_X({V.q(g.name)}) AS __x, ST_Y({V.q(g.name)}) AS __y FROM __clean""")
        source, x, y = "__pts", "__x", "__y"
    else:
        x, y = xf.name, yf.name
    year = ds.geography.division_year
    layout = point_layout(con, source, x=x, y=y, crs=crs, year=year, grid=ds.geography.grid,
                          h3_resolution=ds.geography.h3_resolution)
    if source == "__pts":   # the helper coordinates are not part of the version
        layout = replace(layout, columns=tuple((n, e) for n, e in layout.columns if n not in ("__x", "__y")))

    def measure(con, table: str) -> dict[str, Any]:
        level, note = assignment_level(con, year)
        return _stats_dict(assign_stats(con, table, year=year, level=level, note=note))

    return layout, measure


def version_layout(con, ds: Dataset, final: str, points, file_names: list[str], lazy: list) -> str | VersionLayout:
    """What ``commit_version`` writes. Columns that cost more to write than to derive are left to the
    version's view (issue 16): a point dataset's codes, lon/lat and cell (``points``); the file name
    of a one-file load; and the line number of a one-CSV fast load, which is the row's position in the
    written table plus the first data line (DuckDB writes rows in file order and a version table is
    never changed afterwards). A bewaartermijn deletes rows from the new version, so there the line
    number is written (fastpath.number_rows)."""
    one_csv = len(lazy) == 1 and not lazy[0].numbered
    computed: dict[str, str] = {}
    if len(file_names) == 1:
        computed["__file"] = V.lit(file_names[0])
    rows = points.physical if points is not None else f"SELECT * FROM {final}"
    if one_csv and retention_term(ds):
        rows = f"SELECT * FROM {fastpath.number_rows(con, f'({rows})', lazy[0].first_line)}"
    elif one_csv:
        computed[ROW_COLUMN] = f"({ROWID} + {int(lazy[0].first_line)})::BIGINT"
    if points is None and ROW_COLUMN not in computed:     # nothing worth deriving: a plain table
        return f"({rows})"
    names = [r[0] for r in con.execute(f"DESCRIBE ({rows})").fetchall()]
    columns = points.columns if points is not None else tuple((n, f"t.{V.q(n)}") for n in names)
    columns = tuple((n, computed.get(n, e)) for n, e in columns)
    dropped = [n for n in computed if n in names]
    data = f"SELECT * EXCLUDE ({', '.join(V.q(n) for n in dropped)}) FROM ({rows})" if dropped else rows
    if points is None:
        return VersionLayout(data=data, columns=columns)
    return VersionLayout(data=data, columns=columns, codes=points.codes, helpers=points.helpers)


def derive_parent_codes(con, ds: Dataset) -> tuple[dict[str, Any], str]:
    """Area-coded records get ``wijk_code`` and ``gemeente_code`` from the area registry at ingest, so
    analyses roll up by codes without geometry (geometry at the edges). A code may be a buurt, a wijk
    or the gemeente itself (CBS Kerncijfers mix the three levels in one table)."""
    code = ds.field_with_role("area_code")
    wanted = [c for c in ("wijk_code", "gemeente_code") if c not in {f.name for f in ds.fields}]
    registered = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'stadslab' "
                             "AND table_name = 'areas'").fetchone()[0]
    if not wanted or not registered:
        return {}, "__clean"
    year = ds.geography.division_year
    cols = {"wijk_code": "CASE a.level WHEN 'buurt' THEN a.parent_code WHEN 'wijk' THEN a.code END AS wijk_code",
            "gemeente_code": "CASE a.level WHEN 'gemeente' THEN a.code ELSE a.gemeente_code END AS gemeente_code"}
    # the declared division year first; codes are stable across most redivisions, so else the latest
    prefer = f"(year = {int(year)}) DESC, " if year else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __final AS
        SELECT c.*, {', '.join(cols[w] for w in wanted)} FROM __clean c
        LEFT JOIN (SELECT DISTINCT ON (code) code, level, parent_code, gemeente_code FROM stadslab.areas
                   ORDER BY code, {prefer}year DESC) a
          ON a.code = c.{V.q(code.name)}""")
    rows, known = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {V.q(code.name)} IN "
                              "(SELECT code FROM stadslab.areas)) FROM __final").fetchone()
    return {"rows": rows, "assigned": known, "outside": rows - known, "no_coordinates": 0,
            "assigned_share": known / rows if rows else 1.0}, "__final"


def _stats_dict(stats) -> dict[str, Any]:
    d = {k: v for k, v in vars(stats).items() if not k.startswith("_")}
    d["assigned_share"] = stats.assigned_share
    return d


def geometry_to_rd(con, ds: Dataset, crs: str) -> str:
    g = ds.field_with_role("geometry") or ds.field_with_role("wkt")
    expr = V.q(g.name)
    if g.type != "geometry":
        expr = f"ST_GeomFromText({expr})"
    if crs == "EPSG:4326":
        expr = f"ST_Transform({expr}, 'EPSG:4326', 'EPSG:28992', always_xy := true)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE __final AS SELECT * REPLACE ({expr} AS {V.q(g.name)}) FROM __clean")
    return "__final"
