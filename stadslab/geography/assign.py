"""Assign points to buurt/wijk/gemeente at ingest, fast and exactly, inside DuckDB.

Rule (the same as the exact join ``min(code) over areas WHERE ST_Intersects(area.geom, point)``):
a point gets the area whose closed polygon contains it; a point exactly on a border shared by two
areas gets the *smallest code*; points on the outer border count as inside. Points outside every
area of the year, or without coordinates, get NULL codes and are counted — never dropped.

Method (exact, not approximate): a quadtree over the areas of one division year, from 1000 m cells
down to 125 m and then to 7.8 m (coarser for very large divisions), is flattened into two integer
lookup arrays held in one row of a raster table:
- ``coarse``: per 125 m cell of the bounding box: area id if the cell lies wholly in one area
  (more precisely: the smallest-code area touching the cell covers it), 0 if it touches no area,
  else a negative slot number pointing into ``fine``;
- ``fine``: per 7.8 m sub-cell of those boundary cells: area id, 0, or a negative candidate-set id;
- ``candidates``: per candidate set, the (id, geometry) of the areas touching such a sub-cell,
  sorted by code, on which ST_Intersects decides the few points left.
Cells are classified with boxes enlarged by 1 mm, so floating-point rounding of ``floor(x/size)``
cannot put a point outside the box that was tested. Below the 1000 m level each cell is tested
against its parent's pieces (the areas clipped to the parent cell), so full-resolution boundaries
stay cheap. A point then costs one or two array look-ups: no join, no sort, row order kept.
At ingest the arrays are read as plain lists: a struct per point cost more than the look-up itself
(issue 16, docs/scale.md section 5); the ingest writes only the area id (geography/points.py).
Measured (bench/geo_assign.py, 5 M points over Utrecht's bounding box, 2 cores): 1.1 % of the
points need the exact test; see the bench for times.
The raster is cached as ``stadslab.area_raster_<year>_<level>_<hash>``,
the hash over the datasets and versions of those areas and a geometry fingerprint (versions never
change after commit); on a read-only connection it is built as a TEMP table (≈ 1 s for Utrecht).

Coordinates: RD input is used as is; lon/lat for maps come from the Schreutelkamp & Strang van Hees
formulas (≈ 0.25 m from PROJ), computed by the version's view when a query reads them. WGS84
input is converted to RD with PROJ's ST_Transform, the same conversion the ingest applies to area
geometries from WGS84 files (≈ 1 µs per point: 5 M points cost seconds).

The ingest writes the compact layout of :func:`points.point_layout` (area id only, the rest a view);
:func:`enrich_points_sql` is the same in one statement; :func:`assign_stats` gives the counts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import duckdb

from stadslab.errors import GeographyError
from stadslab.geography.registry import (AREAS_VIEW, LEVELS, RASTER_PREFIX, SCHEMA, division_years, levels_for_year,
                                         qualified)

RASTER_FORMAT = 2                 # bump when the raster layout changes: old caches are then ignored
TOP_CELL_M = 1000.0               # quadtree root cells
COARSE_LEVEL = 3                  # 1000 / 2**3 = 125 m
MAX_FINE_DEPTH = 4                # 125 / 2**4 = 7.8125 m
FINE_BUDGET = 4_000_000           # max entries of the fine array; decides the fine depth
EPS_M = 0.001                     # box enlargement guarding against rounding
RD_CRS = ("EPSG:28992", "RD", "RD NEW", "AMERSFOORT / RD NEW")
WGS84_CRS = ("EPSG:4326", "WGS84", "WGS 84", "CRS84", "OGC:CRS84")
SAMPLE_SIZE = 20


@dataclass
class AssignStats:
    rows: int
    assigned: int
    outside: int
    no_coordinates: int
    outside_sample: list[dict] = field(default_factory=list)   # {'__row', 'x_rd', 'y_rd'}, at most 20
    year: int | None = None
    level: str = "buurt"              # the level points were assigned at (finest present that year)
    note: str | None = None           # Dutch remark, e.g. when a year has no buurten

    @property
    def assigned_share(self) -> float:
        with_coords = self.rows - self.no_coordinates
        return self.assigned / with_coords if with_coords else 0.0


@dataclass(frozen=True)
class Raster:
    table: str
    year: int
    level: str
    n_areas: int
    gx0: int
    gy0: int
    width: int
    height: int
    depth: int                     # fine cells are 125 / 2**depth m


def assignment_level(con: duckdb.DuckDBPyConnection, year: int) -> tuple[str, str | None]:
    """The finest level with areas in ``year`` and a Dutch note when it is not 'buurt'.
    Raises GeographyError, listing the years there are, when the year has no areas at all."""
    levels = levels_for_year(con, year)
    if not levels:
        years = division_years(con)
        raise GeographyError(
            f"er is geen gebiedsindeling (buurten, wijken of gemeenten) voor het jaar {year}",
            hint=(f"beschikbare indelingsjaren: {', '.join(map(str, years))}; zet geography.division_year in "
                  f"de catalogus op een van deze jaren of laad eerst een gebiedsindeling voor {year}")
            if years else "laad eerst een gebiedsindeling (dataset met 'areas:' in de catalogus)")
    level = next(lvl for lvl in reversed(LEVELS) if levels.get(lvl))
    note = None
    if level != "buurt":
        note = (f"de indeling van {year} heeft geen buurten; punten zijn ingedeeld op {level}niveau "
                f"(buurt_code blijft leeg)")
    return level, note


def _fingerprint(con: duckdb.DuckDBPyConnection, year: int, level: str) -> str:
    row = con.execute(
        f"SELECT count(*), sum(ST_NPoints(geom)), round(sum(ST_Area(geom)), 3), min(code), max(code), "
        f"string_agg(DISTINCT coalesce(dataset, '?') || ':' || coalesce(dataset_version, -1), ',' "
        f"ORDER BY coalesce(dataset, '?') || ':' || coalesce(dataset_version, -1)) "
        f"FROM {AREAS_VIEW} WHERE year = ? AND level = ?", [year, level]).fetchone()
    text = f"{RASTER_FORMAT}|{TOP_CELL_M}|{MAX_FINE_DEPTH}|{FINE_BUDGET}|{row!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str | None, name: str, temp: bool) -> bool:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary = ?"
    params: list = [name, temp]
    if schema:
        sql += " AND schema_name = ?"
        params.append(schema)
    return bool(con.execute(sql, params).fetchone()[0])


def lookup_raster(con: duckdb.DuckDBPyConnection, year: int, level: str) -> Raster:
    """The lookup raster for (year, level): cached in the warehouse, else built now."""
    name = f"{RASTER_PREFIX}{int(year)}_{level}_{_fingerprint(con, year, level)}"
    if _table_exists(con, SCHEMA, name, temp=False):
        return _raster_meta(con, f"{SCHEMA}.{name}")
    if _table_exists(con, None, name, temp=True):
        return _raster_meta(con, f"temp.main.{name}")
    read_only = con.execute("SELECT readonly FROM duckdb_databases() "
                            "WHERE database_name = current_database()").fetchone()[0]
    if read_only:
        table, target = f"temp.main.{name}", name   # read-only warehouse: keep it for this connection only
    else:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        table = target = f"{SCHEMA}.{name}"
    try:
        _build_raster(con, year, level, target, temp=bool(read_only))
    except duckdb.Error as e:
        raise GeographyError(f"de opzoekraster voor de {level}en van {year} kan niet worden gebouwd: "
                             f"{str(e).splitlines()[0]}",
                             hint=f"controleer de indeling met check_division({year})") from e
    return _raster_meta(con, table)


def _raster_meta(con: duckdb.DuckDBPyConnection, table: str) -> Raster:
    r = con.execute(f"SELECT year, level, n_areas, gx0, gy0, width, height, depth FROM {table}").fetchone()
    return Raster(table, *r)


def _build_raster(con: duckdb.DuckDBPyConnection, year: int, level: str, table: str, temp: bool) -> None:
    """Classify quadtree cells level by level (one SQL statement per level, whole tables at a time)
    and store the flattened arrays in one row of ``table``."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __geo_ar AS
        SELECT dense_rank() OVER (ORDER BY code)::INTEGER AS id, code, parent_code, gemeente_code,
               CASE WHEN ST_IsValid(geom) THEN geom ELSE ST_MakeValid(geom) END AS geom
        FROM {AREAS_VIEW} WHERE year = ? AND level = ? AND code IS NOT NULL AND geom IS NOT NULL
          AND NOT ST_IsEmpty(geom)""", [year, level])
    n, xmin, ymin, xmax, ymax = con.execute(
        "SELECT count(*), min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) "
        "FROM __geo_ar").fetchone()
    if not n:
        raise GeographyError(f"de {level}en van {year} hebben geen geometrie", hint="controleer de gebiedsindeling")
    s0 = TOP_CELL_M
    ix0, iy0 = math.floor((xmin - EPS_M) / s0), math.floor((ymin - EPS_M) / s0)
    ix1, iy1 = math.floor((xmax + EPS_M) / s0), math.floor((ymax + EPS_M) / s0)
    def box(s: float) -> str:
        return (f"ST_MakeEnvelope(ix * {s!r} - {EPS_M}, iy * {s!r} - {EPS_M}, "
                f"(ix + 1) * {s!r} + {EPS_M}, (iy + 1) * {s!r} + {EPS_M})")

    con.execute("CREATE OR REPLACE TEMP TABLE __geo_leaf (lvl INTEGER, ix BIGINT, iy BIGINT, v INTEGER)")
    con.execute("CREATE OR REPLACE TEMP TABLE __geo_sets (ids INTEGER[], cs INTEGER)")
    # Level 0: root cells against whole areas (spatial join). Deeper levels test each child cell
    # only against its parent's pieces: the areas clipped to the parent's box (a few vertices
    # instead of thousands). Clipping is exact up to ~1e-10 m, far inside the 1 mm box margin.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __geo_hit AS
        WITH c AS (SELECT ix::BIGINT AS ix, iy::BIGINT AS iy, {box(s0)} AS box
                   FROM range({ix0}, {ix1 + 1}) a(ix), range({iy0}, {iy1 + 1}) b(iy))
        SELECT c.ix, c.iy, a.id, a.geom AS piece, c.box, ST_Covers(a.geom, c.box) AS cov
        FROM c JOIN __geo_ar a ON ST_Intersects(a.geom, c.box)""")
    lvl, depth = 0, None
    while True:
        s = s0 / 2 ** lvl
        con.execute("""CREATE OR REPLACE TEMP TABLE __geo_cls AS SELECT ix, iy, min(id) AS id,
                       arg_min(cov, id) AS cov, list(id ORDER BY id) AS ids FROM __geo_hit GROUP BY ix, iy""")
        con.execute(f"INSERT INTO __geo_leaf SELECT {lvl}, ix, iy, id FROM __geo_cls WHERE cov")
        if lvl == COARSE_LEVEL:
            # The fine depth follows from how many 125 m cells are on a border.
            nb = con.execute("SELECT count(*) FROM __geo_cls WHERE NOT cov").fetchone()[0]
            depth = next((d for d in range(MAX_FINE_DEPTH, 1, -1) if nb * 4 ** d <= FINE_BUDGET), 1)
        if depth is not None and lvl == COARSE_LEVEL + depth:
            con.execute("INSERT INTO __geo_sets SELECT ids, row_number() OVER (ORDER BY ids)::INTEGER "
                        "FROM (SELECT DISTINCT ids FROM __geo_cls WHERE NOT cov)")
            con.execute(f"INSERT INTO __geo_leaf SELECT {lvl}, c.ix, c.iy, -s.cs FROM __geo_cls c "
                        f"JOIN __geo_sets s ON s.ids = c.ids WHERE NOT c.cov")
            break
        child = s / 2
        con.execute(f"""CREATE OR REPLACE TEMP TABLE __geo_hit AS
            WITH p AS (SELECT h.ix, h.iy, h.id, ST_Intersection(h.piece, h.box) AS piece
                       FROM __geo_hit h SEMI JOIN __geo_cls c ON c.ix = h.ix AND c.iy = h.iy AND NOT c.cov),
                 k AS (SELECT p.ix * 2 + dx AS ix, p.iy * 2 + dy AS iy, p.id, p.piece
                       FROM p, range(2) a(dx), range(2) b(dy)),
                 kb AS (SELECT *, {box(child)} AS box FROM k)
            SELECT ix, iy, id, piece, box, ST_Covers(piece, box) AS cov FROM kb WHERE ST_Intersects(piece, box)""")
        lvl += 1
    _flatten(con, year, level, table, temp, n, depth)
    for t in ("__geo_ar", "__geo_hit", "__geo_leaf", "__geo_sets", "__geo_cls", "__geo_coarse"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _flatten(con: duckdb.DuckDBPyConnection, year: int, level: str, table: str, temp: bool, n: int,
             depth: int) -> None:
    """Turn the quadtree leaves into the dense ``coarse`` and ``fine`` arrays (see module doc)."""
    c, f = COARSE_LEVEL, COARSE_LEVEL + depth
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __geo_coarse AS
        SELECT ix * (1 << ({c} - lvl)) + dx AS cx, iy * (1 << ({c} - lvl)) + dy AS cy, v
        FROM __geo_leaf, LATERAL (SELECT * FROM range(1 << ({c} - lvl)) a(dx), range(1 << ({c} - lvl)) b(dy))
        WHERE lvl <= {c}
        UNION ALL
        SELECT cx, cy, -(row_number() OVER (ORDER BY cx, cy))::INTEGER FROM
          (SELECT DISTINCT ix >> (lvl - {c}) AS cx, iy >> (lvl - {c}) AS cy FROM __geo_leaf WHERE lvl > {c})""")
    gx0, gy0, gx1, gy1 = con.execute("SELECT min(cx), min(cy), max(cx) + 1, max(cy) + 1 FROM __geo_coarse").fetchone()
    w, h, k = gx1 - gx0, gy1 - gy0, 1 << depth
    temp_kw = "TEMP " if temp else ""
    con.execute(f"""CREATE OR REPLACE {temp_kw}TABLE {table} AS SELECT
        {int(year)}::INTEGER AS year, {level!r} AS level, {n}::INTEGER AS n_areas, {gx0}::BIGINT AS gx0,
        {gy0}::BIGINT AS gy0, {w}::BIGINT AS width, {h}::BIGINT AS height, {depth}::INTEGER AS depth,
        (SELECT list(coalesce(c.v, 0)::INTEGER ORDER BY r.i) FROM range({w * h}) r(i)
           LEFT JOIN __geo_coarse c ON (c.cx - {gx0}) * {h} + (c.cy - {gy0}) = r.i) AS coarse,
        (SELECT coalesce(list(coalesce(l.v, 0) ORDER BY r.i), []::INTEGER[])
           FROM range((SELECT count(*) FROM __geo_coarse WHERE v < 0) * {k * k}) r(i)
           LEFT JOIN (SELECT (-b.v - 1) * {k * k} + (fx - b.cx * {k}) * {k} + (fy - b.cy * {k}) AS slot, e.v
                      FROM (SELECT ix * (1 << ({f} - lvl)) + dx AS fx, iy * (1 << ({f} - lvl)) + dy AS fy, v
                            FROM __geo_leaf, LATERAL (SELECT * FROM range(1 << ({f} - lvl)) a(dx),
                                                                   range(1 << ({f} - lvl)) b(dy))
                            WHERE lvl > {c}) e
                      JOIN __geo_coarse b ON b.v < 0 AND b.cx = e.fx >> {depth} AND b.cy = e.fy >> {depth}) l
           ON l.slot = r.i) AS fine,
        (SELECT coalesce(list((SELECT list({{'id': a.id, 'geom': a.geom}} ORDER BY a.id) FROM __geo_ar a
                               WHERE list_contains(s.ids, a.id)) ORDER BY s.cs), [])
           FROM __geo_sets s) AS candidates,
        (SELECT list({{'buurt': {'code' if level == 'buurt' else 'NULL::VARCHAR'}, 'wijk': {_wijk_of(level)},
                       'gemeente': {'code' if level == 'gemeente' else 'gemeente_code'}}} ORDER BY id)
         FROM (SELECT id, any_value(code) AS code, any_value(parent_code) AS parent_code,
                      any_value(gemeente_code) AS gemeente_code FROM __geo_ar GROUP BY id)) AS codes""")


def _wijk_of(level: str) -> str:
    return {"buurt": "parent_code", "wijk": "code"}.get(level, "NULL::VARCHAR")


def _normalise_crs(crs: str) -> str:
    c = (crs or "").strip().upper()
    if c in RD_CRS:
        return "EPSG:28992"
    if c in WGS84_CRS:
        return "EPSG:4326"
    raise GeographyError(f"coördinatenstelsel '{crs}' wordt niet ondersteund voor puntdata",
                         hint="gebruik EPSG:28992 (RD New, x/y in meters) of EPSG:4326 (WGS84, lengte-/breedtegraad)")


def _source_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    try:
        return [r[0] for r in con.execute(f"DESCRIBE {qualified(source)}").fetchall()]
    except duckdb.CatalogException as e:
        raise GeographyError(f"tabel '{source}' bestaat niet", hint=str(e).splitlines()[0]) from None


def enrich_points_sql(con: duckdb.DuckDBPyConnection, source: str, *, x: str, y: str, crs: str, year: int,
                      grid: bool = True, h3_resolution: int | None = None) -> str:
    """A SELECT over ``source`` giving all its columns (in order) plus x_rd, y_rd, lon, lat,
    buurt_code, wijk_code, gemeente_code, grid_125m (if ``grid``) and h3 (if ``h3_resolution``), in
    one statement. The ingest writes the compact form instead (:func:`points.point_layout`)."""
    from stadslab.geography.points import point_layout

    return point_layout(con, source, x=x, y=y, crs=crs, year=year, grid=grid,
                        h3_resolution=h3_resolution).single_statement()


def enrich_points(con: duckdb.DuckDBPyConnection, source: str, target: str, *, x: str, y: str, crs: str,
                  year: int, grid: bool = True, h3_resolution: int | None = None) -> AssignStats:
    """Create TEMP table ``target`` = ``source`` + x_rd, y_rd, lon, lat, buurt_code, wijk_code,
    gemeente_code, grid_125m [, h3], with exactly as many rows as ``source``; return counts."""
    sql = enrich_points_sql(con, source, x=x, y=y, crs=crs, year=year, grid=grid, h3_resolution=h3_resolution)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {qualified(target)} AS {sql}")
    level, note = assignment_level(con, year)
    return assign_stats(con, target, year=year, level=level, note=note)


def assign_stats(con: duckdb.DuckDBPyConnection, target: str, *, year: int | None = None, level: str = "buurt",
                 note: str | None = None) -> AssignStats:
    """Counts over an enriched table: rows, assigned (got a code at ``level``), outside, no coordinates,
    and up to 20 outside points (``__row`` from the table when it has one, else the row position)."""
    code = {"buurt": "buurt_code", "wijk": "wijk_code", "gemeente": "gemeente_code"}[level]
    t = qualified(target)
    cols = {c.lower() for c in _source_columns(con, target)}
    # a version is a view (no rowid) and always has __row; a TEMP table of enrich_points has rowid.
    # One scan: inside the load's transaction the new rows are read by one thread.
    row_expr = '"__row"' if "__row" in cols else "rowid + 1"
    rows, assigned, no_xy, outside = con.execute(
        f"SELECT count(*), count({code}), count(*) FILTER (WHERE x_rd IS NULL OR y_rd IS NULL), "
        f"arg_min([{row_expr}, x_rd, y_rd], {row_expr}, {SAMPLE_SIZE}) FILTER (WHERE {code} IS NULL AND x_rd IS NOT NULL) "
        f"FROM {t}").fetchone()
    sample = [{"__row": int(r), "x_rd": xr, "y_rd": yr} for r, xr, yr in sorted(outside or [])]
    return AssignStats(rows=rows, assigned=assigned, outside=rows - assigned - no_xy, no_coordinates=no_xy,
                       outside_sample=sample, year=year, level=level, note=note)
