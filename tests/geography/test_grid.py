"""RD grid ids, RD → WGS84 formulas and the H3 UDF."""

from __future__ import annotations

import h3
import pytest

from stadslab.errors import GeographyError
from stadslab.geography.grid import (cell_bounds, grid_cell_id_sql, h3_cell_sql, rd_reduced_sql, rd_to_wgs84_sql,
                                     register_h3)


def test_grid_cell_id_and_bounds_round_trip(con):
    rows = con.execute(f"""SELECT {grid_cell_id_sql('x', 'y')} FROM (VALUES (136859.0, 455900.0), (136750.0, 455875.0),
        (-0.5, 0.0), (NULL, 1.0), ('nan'::DOUBLE, 1.0)) t(x, y)""").fetchall()
    assert [r[0] for r in rows] == ["E1094N3647", "E1094N3647", "E-1N0", None, None]
    assert cell_bounds("E1094N3647") == (136750.0, 455875.0, 136875.0, 456000.0)
    assert cell_bounds("E-1N0") == (-125.0, 0.0, 0.0, 125.0)
    assert con.execute(f"SELECT {grid_cell_id_sql('x', 'y', size=1000)} FROM (SELECT 136859.0 x, 455900.0 y)").fetchone()[0] == "E136N455"
    with pytest.raises(GeographyError):
        cell_bounds("1094N3647")


def rd_to_wgs84(con, x: float, y: float) -> tuple[float, float]:
    dx, dy = rd_reduced_sql("x", "y")
    lon, lat = rd_to_wgs84_sql("__dx", "__dy")
    return con.execute(f"SELECT {lon}, {lat} FROM (SELECT {dx} AS __dx, {dy} AS __dy FROM (SELECT {x} AS x, {y} AS y))").fetchone()


def test_rd_to_wgs84_reference_point_and_proj(con):
    """Schreutelkamp & Strang van Hees (2001): the Amersfoort origin maps to (52.15517440, 5.38720621)
    exactly; elsewhere the formulas agree with PROJ within 0.5 m."""
    assert rd_to_wgs84(con, 155000, 463000) == pytest.approx((5.38720621, 52.15517440), abs=1e-12)
    for x, y in [(136859, 455900), (233883, 582065), (121000, 487000), (13000, 375000), (257000, 470000)]:
        lon, lat = rd_to_wgs84(con, x, y)
        plon, plat = con.execute(f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Point({x}, {y}), "
                                 f"'EPSG:28992', 'EPSG:4326', always_xy := true) p)").fetchone()
        assert abs(lon - plon) * 68_000 < 0.5 and abs(lat - plat) * 111_000 < 0.5
    assert rd_to_wgs84(con, 0, 0) == (None, None)                    # outside the RD domain: no answer


def test_h3_udf(con):
    register_h3(con)
    register_h3(con)                                                  # idempotent
    rows = con.execute(f"SELECT lat, lon, {h3_cell_sql('lat', 'lon', 8)} FROM (VALUES (52.0907, 5.1214), "
                       f"(53.2194, 6.5665), (NULL, 5.0), ('nan'::DOUBLE, 5.0)) t(lat, lon)").fetchall()
    assert rows[0][2] == h3.latlng_to_cell(52.0907, 5.1214, 8) and h3.is_valid_cell(rows[1][2])
    assert rows[2][2] is None and rows[3][2] is None
    with pytest.raises(GeographyError):
        h3_cell_sql("lat", "lon", 16)
