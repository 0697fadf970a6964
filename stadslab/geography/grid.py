"""Grids and coordinate helpers as SQL snippets for DuckDB: the RD 125 m grid, RD → WGS84 for maps,
and H3 cells through an Arrow UDF.

Everything here produces SQL expressions (or registers a function) so that whole tables are handled
inside DuckDB, never row by row in Python.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pyarrow as pa

from stadslab.errors import GeographyError

GRID_SIZE_M = 125
# Beyond this a coordinate is not a place on earth in metres; floor()/cast would overflow.
_MAX_ABS_COORD = 1e9
_CELL_RE = re.compile(r"^E(-?\d+)N(-?\d+)$")


def finite_sql(*exprs: str) -> str:
    """SQL condition: every expression is a finite number of a sane size (NULL, NaN, inf → false)."""
    return " AND ".join(f"(isfinite({e}) AND abs({e}) < {_MAX_ABS_COORD:.0f})" for e in exprs)


def grid_cell_id_sql(x_expr: str, y_expr: str, size: int = GRID_SIZE_M) -> str:
    """SQL for the RD grid cell id ``E<floor(x/size)>N<floor(y/size)>`` (NULL for missing coordinates).

    The id names the cell's lower-left corner in units of ``size`` metres, so ``E1094N3647`` with
    size 125 is the square 136750..136875 × 455875..456000. Points on a cell edge belong to the
    cell to their upper right (floor)."""
    return (f"CASE WHEN {finite_sql(x_expr, y_expr)} THEN concat('E', floor(({x_expr}) / {size})::BIGINT, "
            f"'N', floor(({y_expr}) / {size})::BIGINT) END")


def cell_bounds(cell_id: str, size: int = GRID_SIZE_M) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) in RD metres of a grid cell id made by :func:`grid_cell_id_sql`."""
    m = _CELL_RE.match(cell_id.strip()) if isinstance(cell_id, str) else None
    if not m:
        raise GeographyError(f"'{cell_id}' is geen geldige rastercel-code",
                             hint="verwacht de vorm E<getal>N<getal>, bijvoorbeeld E1094N3647")
    ix, iy = int(m.group(1)), int(m.group(2))
    return (float(ix * size), float(iy * size), float((ix + 1) * size), float((iy + 1) * size))


# --- RD (EPSG:28992) → WGS84 (EPSG:4326), for maps ---------------------------------------------
# Coefficients K_pq (latitude) and L_pq (longitude), in arc seconds, of
# Schreutelkamp & Strang van Hees (2001), "Benaderingsformules voor de transformatie tussen RD- en
# WGS84-kaartcoördinaten", Geodesia 43(2), 64-69:  φ = 52.15517440 + Σ K_pq dX^p dY^q / 3600,
# λ = 5.38720621 + Σ L_pq dX^p dY^q / 3600 with dX = (X − 155000)·1e-5, dY = (Y − 463000)·1e-5.
# They agree with PROJ's EPSG:28992 → 4326 to about 0.25 m inside the Netherlands (tested), which
# is plenty for maps, at a tenth of the cost of ST_Transform (measured: 0.3 s vs 5 s for 5 M points).
_K = {(0, 1): 3235.65389, (2, 0): -32.58297, (0, 2): -0.24750, (2, 1): -0.84978, (0, 3): -0.06550,
      (2, 2): -0.01709, (1, 0): -0.00738, (4, 0): 0.00530, (2, 3): -0.00039, (4, 1): 0.00033,
      (1, 1): -0.00012}
_L = {(1, 0): 5260.52916, (1, 1): 105.94684, (1, 2): 2.45656, (3, 0): -0.81885, (1, 3): 0.05594,
      (3, 1): -0.05607, (0, 1): 0.01199, (3, 2): -0.00256, (1, 4): 0.00128, (0, 2): 0.00022,
      (2, 0): -0.00022, (5, 0): 0.00026}
RD_LAT0, RD_LON0 = 52.15517440, 5.38720621
# The RD system's domain (with a margin); outside it the formulas (and RD itself) mean nothing.
RD_BOUNDS = (-50_000.0, 250_000.0, 350_000.0, 700_000.0)


def _horner(coefs: dict[tuple[int, int], float], dx: str, dy: str) -> str:
    """Σ c_pq dx^p dy^q written as nested Horner forms (fewer multiplications in SQL)."""
    def in_dx(c: dict[int, float]) -> str:
        top = max(c)
        expr = f"{c[top]!r}::DOUBLE"
        for p in range(top - 1, -1, -1):
            expr = f"({expr}) * {dx}" + (f" + {c[p]!r}::DOUBLE" if p in c else "")
        return expr

    by_q: dict[int, dict[int, float]] = {}
    for (p, q), v in coefs.items():
        by_q.setdefault(q, {})[p] = v
    top = max(by_q)
    expr = in_dx(by_q[top])
    for q in range(top - 1, -1, -1):
        expr = f"({expr}) * {dy}" + (f" + {in_dx(by_q[q])}" if q in by_q else "")
    return expr


def rd_to_wgs84_sql(dx: str = "__dx", dy: str = "__dy") -> tuple[str, str]:
    """SQL for (lon, lat) from the reduced RD coordinates ``dx = (x - 155000) * 1e-5`` and
    ``dy = (y - 463000) * 1e-5`` (compute those once in an inner SELECT: :func:`rd_reduced_sql`)."""
    lat = f"{RD_LAT0!r}::DOUBLE + ({_horner(_K, dx, dy)}) / 3600.0"
    lon = f"{RD_LON0!r}::DOUBLE + ({_horner(_L, dx, dy)}) / 3600.0"
    return lon, lat


def rd_reduced_sql(x_expr: str, y_expr: str) -> tuple[str, str]:
    """SQL for the reduced coordinates used by :func:`rd_to_wgs84_sql`; NULL outside the RD domain."""
    xmin, ymin, xmax, ymax = RD_BOUNDS
    inside = f"{x_expr} BETWEEN {xmin} AND {xmax} AND {y_expr} BETWEEN {ymin} AND {ymax}"
    return (f"CASE WHEN {inside} THEN ({x_expr} - 155000.0) * 1e-5 END",
            f"CASE WHEN {inside} THEN ({y_expr} - 463000.0) * 1e-5 END")


# --- H3 -----------------------------------------------------------------------------------------
H3_FUNCTION = "stadslab_h3_cell"


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SHIFTS = np.arange(56, -4, -4, dtype=np.uint64)          # 15 nibbles, most significant first


def _h3_cells(lat: pa.Array, lon: pa.Array, res: pa.Array) -> pa.Array:
    """Arrow UDF body: H3 cell id (lower-case hex, as h3 writes it) per point; NULL where lat/lon
    is NULL or not a place on earth.

    h3 4.5 has no vectorised latlng_to_cell, so the C function is mapped over the batch (about
    2 M points/s); the hex text is made with numpy (a valid cell id has exactly 15 hex digits:
    bit 63 is 0 and the mode bits make the next digit 8)."""
    from h3.api import basic_int as h3i

    la = lat.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    lo = lon.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    r = res.to_numpy(zero_copy_only=False)
    ok = np.isfinite(la) & np.isfinite(lo) & (np.abs(la) <= 90) & (np.abs(lo) <= 180)
    resolution = int(r[0]) if len(r) else 0
    if not 0 <= resolution <= 15:
        raise GeographyError(f"H3-resolutie {resolution} bestaat niet", hint="kies een resolutie van 0 tot en met 15")
    cells = np.zeros(len(la), dtype=np.uint64)
    idx = np.flatnonzero(ok)
    if len(idx):
        cells[idx] = np.fromiter(map(h3i.latlng_to_cell, la[idx].tolist(), lo[idx].tolist(),
                                     [resolution] * len(idx)), dtype=np.uint64, count=len(idx))
    text = np.ascontiguousarray(_HEX[((cells[:, None] >> _SHIFTS) & np.uint64(15)).astype(np.intp)])
    arr = pa.array(text.view("S15").ravel(), type=pa.binary(15), mask=~ok)
    return arr.cast(pa.string())


def register_h3(con: duckdb.DuckDBPyConnection) -> str:
    """Register ``stadslab_h3_cell(lat DOUBLE, lon DOUBLE, res INTEGER) -> VARCHAR`` on ``con``
    (once per connection) and return its name."""
    exists = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
                         [H3_FUNCTION]).fetchone()[0]
    if not exists:
        t = duckdb.sqltypes
        con.create_function(H3_FUNCTION, _h3_cells, [t.DOUBLE, t.DOUBLE, t.INTEGER], t.VARCHAR,
                            type="arrow", null_handling="special", side_effects=False)
    return H3_FUNCTION


def h3_cell_sql(lat_expr: str, lon_expr: str, resolution: int) -> str:
    """SQL for the H3 cell id (text, as the h3 library writes it) at ``resolution``.
    Call :func:`register_h3` on the connection first."""
    if not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise GeographyError(f"H3-resolutie {resolution!r} bestaat niet",
                             hint="kies een geheel getal van 0 tot en met 15 (stad: 8-10)")
    return f"{H3_FUNCTION}({lat_expr}, {lon_expr}, {resolution})"
