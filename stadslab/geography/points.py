"""Point enrichment as a compact layout: what the ingest writes, and what a view derives from it.

A point dataset's version used to be written with eight derived columns per row (x_rd, y_rd, lon,
lat, the three area codes, the 125 m cell): writing them cost more than reading the file (issue 16,
docs/scale.md section 5). Now the version table holds the source's columns plus one integer, the
area id from the lookup raster (:mod:`stadslab.geography.assign`), and the version is a view that
derives the rest when a query asks for it:

- ``x_rd``/``y_rd``: the source's RD coordinates (NULL when not finite); for WGS84 input they are
  converted once at ingest with PROJ and stored, as before;
- ``lon``/``lat``: Schreutelkamp & Strang van Hees (grid.rd_to_wgs84_sql) from x_rd/y_rd — the
  formulas the raster's per-cell affine maps reproduced to < 1 mm;
- ``buurt_code``, ``wijk_code``, ``gemeente_code``: by area id from a one-row table of code lists
  stored with the version (the raster itself is a cache and is dropped when the areas change);
- ``grid_125m``: ``E<floor(x/125)>N<floor(y/125)>`` from x_rd/y_rd.

A query that groups by buurt_code reads the integer and one list element per row; a map that reads
lon/lat computes them for the rows it shows. The columns, their order and types are what they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from stadslab.errors import GeographyError
from stadslab.geography import grid as g
from stadslab.geography.registry import areas_view_exists, q, qualified
from stadslab.warehouse.layout import VersionLayout

OUTPUT_COLUMNS = ("x_rd", "y_rd", "lon", "lat", "buurt_code", "wijk_code", "gemeente_code", "grid_125m", "h3")
AREA_ID = "__area"


@dataclass(frozen=True)
class PointLayout:
    """``physical``: SELECT of the rows to write (source columns + ``__area`` [+ x_rd, y_rd, h3]);
    ``codes``: SELECT of one row with the code lists by area id; ``columns``: the version's columns in
    order, each (name, SQL over ``t`` = the written rows and ``c`` = the codes row); ``helpers``: the
    intermediate columns they use (:class:`VersionLayout`)."""

    physical: str
    codes: str
    columns: tuple[tuple[str, str], ...]
    helpers: tuple[tuple[tuple[str, str], ...], ...] = ()

    def single_statement(self) -> str:
        """Everything in one SELECT (a TEMP table or a test): the version's view over the rows and codes
        as sub-queries; the one-row cross join keeps row order."""
        return VersionLayout(self.physical, self.columns, self.codes, self.helpers).view_sql(
            f"({self.physical})", f"({self.codes})")


def point_layout(con: duckdb.DuckDBPyConnection, source: str, *, x: str, y: str, crs: str, year: int,
                 grid: bool = True, h3_resolution: int | None = None) -> PointLayout:
    """The compact layout of ``source`` enriched with the areas of ``year`` (builds or reuses the
    lookup raster; registers the H3 function when asked)."""
    from stadslab.geography.assign import _normalise_crs, _source_columns, assignment_level, lookup_raster

    crs = _normalise_crs(crs)
    cols = _source_columns(con, source)
    lower = {c.lower(): c for c in cols}
    for needed in (x, y):
        if needed.lower() not in lower:
            raise GeographyError(f"kolom '{needed}' ontbreekt in {source}",
                                 hint=f"aanwezige kolommen: {', '.join(cols)}")
    x, y = lower[x.lower()], lower[y.lower()]
    wanted = [c for c in OUTPUT_COLUMNS if (c != "grid_125m" or grid) and (c != "h3" or h3_resolution is not None)]
    # A source column may already *be* one of the outputs (x named x_rd in RD; lon/lat in WGS84).
    same = {"EPSG:28992": {"x_rd": x, "y_rd": y}, "EPSG:4326": {"lon": x, "lat": y}}[crs]
    keep = {c for c in wanted if same.get(c, "").lower() == c}
    clash = [c for c in wanted if c in lower and c not in keep]
    if clash:
        raise GeographyError(f"{source} heeft al kolom(men) {', '.join(clash)} die bij de gebiedsindeling "
                             f"worden berekend", hint="hernoem die kolommen in de catalogus")
    if not areas_view_exists(con):
        raise GeographyError("er is nog geen gebiedsindeling geladen",
                             hint="laad eerst een dataset met 'areas:' in de catalogus (buurten of wijken)")
    level, _ = assignment_level(con, year)
    r = lookup_raster(con, year, level)

    rd = crs == "EPSG:28992"

    def finite(xe: str, ye: str) -> str:   # BETWEEN is false for NULL, NaN and ±inf alike
        lim = ("-1e9", "1e9", "-1e9", "1e9") if rd else ("-180", "180", "-90", "90")
        return f"{xe} BETWEEN {lim[0]} AND {lim[1]} AND {ye} BETWEEN {lim[2]} AND {lim[3]}"

    xs, ys = f"TRY_CAST(s.{q(x)} AS DOUBLE)", f"TRY_CAST(s.{q(y)} AS DOUBLE)"
    if rd:
        base = (f"CASE WHEN {finite(xs, ys)} THEN {xs} END AS __geo_x, "
                f"CASE WHEN {finite(xs, ys)} THEN {ys} END AS __geo_y")
        derived = ""
    else:
        # PROJ (ST_Transform), as used for the area geometries, so that borders are treated alike.
        base = (f"CASE WHEN {finite(xs, ys)} THEN ST_Transform(ST_Point2D({xs}, {ys}), 'EPSG:4326', "
                f"'EPSG:28992', always_xy := true) END AS __geo_pt")
        derived = "SELECT *, ST_X(__geo_pt) AS __geo_x, ST_Y(__geo_pt) AS __geo_y FROM "
    k = 1 << r.depth
    sf = 125.0 / k
    in_box = (f"__geo_cx >= {r.gx0} AND __geo_cx < {r.gx0 + r.width} "
              f"AND __geo_cy >= {r.gy0} AND __geo_cy < {r.gy0 + r.height}")
    cell = f"((__geo_cx - {r.gx0}) * {r.height} + (__geo_cy - {r.gy0}))::BIGINT + 1"
    fine = (f"__r_fine[((-__geo_v - 1) * {k * k} + (floor(__geo_x / {sf!r}) - __geo_cx * {k}) * {k} "
            f"+ (floor(__geo_y / {sf!r}) - __geo_cy * {k}))::BIGINT + 1]")
    exact = ("list_filter(__r_candidates[-__geo_fv], "
             "e -> ST_Intersects(e.geom, ST_Point(__geo_x, __geo_y)))[1].id")

    # what is written: the source's columns, the area id, and what cannot be derived cheaply later
    written = [f"__geo_id::INTEGER AS {AREA_ID}"]
    if not rd:
        written += [f"__geo_x AS {c}" if c == "x_rd" else f"__geo_y AS {c}"
                    for c in ("x_rd", "y_rd") if c in wanted]
    if h3_resolution is not None:
        g.register_h3(con)
        if rd:
            dx, dy = g.rd_reduced_sql("__geo_x", "__geo_y")
            lon_in, lat_in = g.rd_to_wgs84_sql(f"({dx})", f"({dy})")
        else:
            ix, iy = f"TRY_CAST({q(x)} AS DOUBLE)", f"TRY_CAST({q(y)} AS DOUBLE)"
            lon_in, lat_in = f"CASE WHEN {finite(ix, iy)} THEN {ix} END", f"CASE WHEN {finite(ix, iy)} THEN {iy} END"
        written.append(f"{g.h3_cell_sql(f'({lat_in})', f'({lon_in})', h3_resolution)} AS h3")
    # The raster as plain lists (one row, built once per statement): extracting an integer from a
    # plain list costs next to nothing. Layers, inside out: coordinates in RD → 125 m cell → coarse
    # value → fine value → area id (exact test for the few points in a border sub-cell).
    lists = f"SELECT coarse AS __r_v, fine AS __r_fine, candidates AS __r_candidates FROM {r.table}"
    src = ", ".join(f"s.{q(c)}" for c in cols)
    physical = (f"SELECT {', '.join(q(c) for c in cols)}, {', '.join(written)} FROM ("
                f"SELECT *, CASE WHEN __geo_v > 0 THEN __geo_v WHEN __geo_fv > 0 THEN __geo_fv "
                f"WHEN __geo_fv < 0 THEN {exact} END AS __geo_id FROM ("
                f"SELECT *, CASE WHEN __geo_v < 0 THEN {fine} END AS __geo_fv FROM ("
                f"SELECT *, __r_v[__geo_cell] AS __geo_v FROM ("
                f"SELECT *, CASE WHEN {in_box} THEN {cell} END AS __geo_cell FROM ("
                f"SELECT *, floor(__geo_x / 125.0) AS __geo_cx, floor(__geo_y / 125.0) AS __geo_cy FROM ({derived}("
                f"SELECT {src}, {base} FROM {qualified(source)} s)) t CROSS JOIN ({lists}) __r)))))")
    codes = (f"SELECT [e.buurt FOR e IN codes] AS buurt, [e.wijk FOR e IN codes] AS wijk, "
             f"[e.gemeente FOR e IN codes] AS gemeente FROM {r.table}")

    # what the view derives, over t (written rows) and c (codes); the coordinates once, as helpers
    tx, ty = f"TRY_CAST(t.{q(x)} AS DOUBLE)", f"TRY_CAST(t.{q(y)} AS DOUBLE)"
    if rd:
        helpers = ((("__view_x", f"CASE WHEN {finite(tx, ty)} THEN {tx} END"),
                    ("__view_y", f"CASE WHEN {finite(tx, ty)} THEN {ty} END")),
                   tuple(zip(("__view_dx", "__view_dy"), g.rd_reduced_sql("t.__view_x", "t.__view_y"))))
        xr, yr = "t.__view_x", "t.__view_y"
        lon, lat = g.rd_to_wgs84_sql("t.__view_dx", "t.__view_dy")
    else:
        helpers = ()
        xr, yr = "t.x_rd", "t.y_rd"
        lon, lat = f"(CASE WHEN {finite(tx, ty)} THEN {tx} END)", f"(CASE WHEN {finite(tx, ty)} THEN {ty} END)"
    exprs = {"x_rd": xr, "y_rd": yr, "lon": lon, "lat": lat, "buurt_code": f"c.buurt[t.{AREA_ID}]",
             "wijk_code": f"c.wijk[t.{AREA_ID}]", "gemeente_code": f"c.gemeente[t.{AREA_ID}]",
             "grid_125m": f"CASE WHEN {xr} IS NOT NULL THEN concat('E', floor({xr} / 125.0)::BIGINT, "
                          f"'N', floor({yr} / 125.0)::BIGINT) END",
             "h3": "t.h3"}
    columns = [(c, f"t.{q(c)}") for c in cols] + [(c, exprs[c]) for c in wanted if c not in keep]
    return PointLayout(physical, codes, tuple(columns), helpers)
