"""Point → buurt/wijk/gemeente assignment: exact against the spatial join, never drops rows."""

from __future__ import annotations

import h3
import pytest

from stadslab.errors import GeographyError
from stadslab.geography import AREAS_VIEW, enrich_points, enrich_points_sql, rebuild_areas_view
from stadslab.geography.assign import lookup_raster
from stadslab.warehouse.connection import connect

from .conftest import DOMTOREN_RD, GRONINGEN_INCIDENTS, data_path


def make_points(con, name: str, year: int, n: int, seed: float, margin: float = 500.0,
                max_vertices: int = 20_000) -> None:
    """``n`` random points over the bounding box of the year's areas, plus every vertex of every
    area (points exactly on shared borders; at most ``max_vertices``), plus those vertices snapped to the 7.8125 m and 125 m
    raster (points exactly on cell edges). Column ``pid`` identifies a point."""
    xmin, ymin, xmax, ymax = con.execute(
        f"SELECT min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) FROM {AREAS_VIEW} "
        f"WHERE year = ?", [year]).fetchone()
    con.execute(f"SELECT setseed({seed})")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __vertices AS SELECT * FROM (SELECT DISTINCT ST_X(p.geom) AS x,
        ST_Y(p.geom) AS y FROM (SELECT unnest(ST_Dump(ST_Points(geom))) AS p FROM {AREAS_VIEW} WHERE year = {year}))
        USING SAMPLE reservoir({max_vertices} ROWS) REPEATABLE (7)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT row_number() OVER () AS pid, x, y FROM (
          SELECT {xmin - margin} + random() * {xmax - xmin + 2 * margin} AS x,
                 {ymin - margin} + random() * {ymax - ymin + 2 * margin} AS y FROM range({n})
          UNION ALL SELECT x, y FROM (SELECT * FROM __vertices)
          UNION ALL SELECT round(x / s) * s, round(y / s) * s FROM (SELECT * FROM __vertices), (VALUES (7.8125), (125.0)) v(s)
        )""")


def mismatches(con, points: str, enriched: str, year: int, level: str) -> int:
    """Points whose code differs from the exact rule: smallest code among areas whose closed
    polygon contains the point (ST_Intersects)."""
    col = f"{level}_code"
    return con.execute(f"""WITH ex AS (SELECT p.pid, min(a.code) AS code FROM {points} p JOIN {AREAS_VIEW} a
            ON a.year = {year} AND a.level = '{level}' AND ST_Intersects(a.geom, ST_Point(p.x, p.y)) GROUP BY p.pid)
        SELECT count(*) FROM {enriched} e LEFT JOIN ex USING (pid) WHERE e.{col} IS DISTINCT FROM ex.code""").fetchone()[0]


def test_fast_method_equals_exact_join_utrecht_200k(geo_con):
    make_points(geo_con, "pts_u", 2024, 200_000, 0.11)
    stats = enrich_points(geo_con, "pts_u", "pts_u_e", x="x", y="y", crs="EPSG:28992", year=2024)
    n = geo_con.execute("SELECT count(*) FROM pts_u").fetchone()[0]
    assert stats.rows == n and stats.assigned + stats.outside == n and stats.no_coordinates == 0
    assert 0 < stats.outside < n
    assert mismatches(geo_con, "pts_u", "pts_u_e", 2024, "buurt") == 0
    # wijk and gemeente follow the buurt's parents, and agree with the wijk polygons too.
    assert mismatches(geo_con, "pts_u", "pts_u_e", 2024, "gemeente") == 0
    off = geo_con.execute("""SELECT count(*) FROM pts_u_e e JOIN stadslab.areas a ON a.year = 2024 AND a.level = 'buurt'
        AND a.code = e.buurt_code WHERE e.wijk_code <> a.parent_code OR e.gemeente_code <> 'GM0344'""").fetchone()[0]
    assert off == 0


@pytest.mark.parametrize("year,level", [(2017, "buurt"), (2021, "wijk"), (2013, "buurt")])
def test_fast_method_equals_exact_join_full_resolution(geo_con, year, level):
    """Full-resolution boundaries (Groningen CBS 2017, Amsterdam 2021 wijken, Utrecht 2013)."""
    make_points(geo_con, f"pts_{year}", year, 50_000, 0.2)
    stats = enrich_points(geo_con, f"pts_{year}", f"pts_{year}_e", x="x", y="y", crs="EPSG:28992", year=year)
    assert stats.level == level
    assert mismatches(geo_con, f"pts_{year}", f"pts_{year}_e", year, level) == 0


def test_domtoren_in_binnenstad(geo_con):
    geo_con.execute(f"CREATE OR REPLACE TEMP TABLE dom AS SELECT {DOMTOREN_RD[0]} AS x, {DOMTOREN_RD[1]} AS y")
    enrich_points(geo_con, "dom", "dom_e", x="x", y="y", crs="EPSG:28992", year=2024)
    b, w, g, cell = geo_con.execute("SELECT buurt_code, wijk_code, gemeente_code, grid_125m FROM dom_e").fetchone()
    # From the data: the Domtoren stands in wijk 06 Binnenstad (WK034406; WK034405 is Oost).
    assert (w, g, cell) == ("WK034406", "GM0344", "E1094N3647")
    names = dict(geo_con.execute(f"SELECT level, name FROM {AREAS_VIEW} WHERE year = 2024 AND code IN (?, ?)", [b, w]).fetchall())
    assert "Binnenstad" in names["wijk"]
    assert b.startswith("BU034406") and names["buurt"]


def test_wgs84_input_gives_the_same_codes(geo_con):
    """The same locations given in WGS84 and in RD get the same codes and cells. WGS84 is converted
    with PROJ's EPSG:4326 → 28992 (as the area geometries from WGS84 files are), so the RD twins are
    made with that same conversion: PROJ's two directions are not exact inverses here (without the
    RDNAPTRANS grid they differ by up to ~0.5 m), so RD → WGS84 → RD would move points."""
    geo_con.execute("""CREATE OR REPLACE TEMP TABLE wgs AS SELECT i AS pid, 4.99 + (i * 7919 % 20000) / 20000 * 0.23 AS lon,
                       52.03 + (i * 104729 % 20000) / 20000 * 0.12 AS lat FROM range(20000) t(i)""")
    geo_con.execute("""CREATE OR REPLACE TEMP TABLE rd AS SELECT pid, ST_X(p) AS x, ST_Y(p) AS y FROM
        (SELECT pid, ST_Transform(ST_Point(lon, lat), 'EPSG:4326', 'EPSG:28992', always_xy := true) AS p FROM wgs)""")
    enrich_points(geo_con, "rd", "rd_e", x="x", y="y", crs="EPSG:28992", year=2024)
    enrich_points(geo_con, "wgs", "wgs_e", x="lon", y="lat", crs="EPSG:4326", year=2024)
    diff = geo_con.execute("""SELECT count(*) FROM rd_e a JOIN wgs_e b USING (pid) WHERE a.buurt_code IS DISTINCT FROM b.buurt_code
        OR a.wijk_code IS DISTINCT FROM b.wijk_code OR a.grid_125m IS DISTINCT FROM b.grid_125m
        OR a.x_rd <> b.x_rd OR a.y_rd <> b.y_rd OR abs(a.lon - b.lon) > 1e-5 OR abs(a.lat - b.lat) > 1e-5""").fetchone()[0]
    assert diff == 0
    assert geo_con.execute("SELECT count(buurt_code) FROM wgs_e").fetchone()[0] > 5000


def test_rows_and_columns_are_kept_outside_and_missing_counted(geo_con):
    geo_con.execute(f"""CREATE OR REPLACE TEMP TABLE mixed AS SELECT * FROM (VALUES
        (10, 'in', {DOMTOREN_RD[0]}, {DOMTOREN_RD[1]}), (11, 'far', 20000.0, 310000.0), (12, 'no x', NULL, 455900.0),
        (13, 'nan', 'nan'::DOUBLE, 455900.0), (14, 'inf', 136859.0, 'inf'::DOUBLE), (15, 'huge', 1e300, 1e300),
        (16, 'in', {DOMTOREN_RD[0]}, {DOMTOREN_RD[1]})) t(__row, label, x, y)""")
    stats = enrich_points(geo_con, "mixed", "mixed_e", x="x", y="y", crs="EPSG:28992", year=2024, grid=True)
    assert (stats.rows, stats.assigned, stats.outside, stats.no_coordinates) == (7, 2, 1, 4)
    assert stats.outside_sample == [{"__row": 11, "x_rd": 20000.0, "y_rd": 310000.0}]
    assert stats.assigned_share == pytest.approx(2 / 3)
    cols = [r[0] for r in geo_con.execute("DESCRIBE mixed_e").fetchall()]
    assert cols == ["__row", "label", "x", "y", "x_rd", "y_rd", "lon", "lat", "buurt_code", "wijk_code",
                    "gemeente_code", "grid_125m"]
    rows = geo_con.execute("SELECT __row, buurt_code IS NULL, grid_125m IS NULL, lon IS NULL FROM mixed_e").fetchall()
    assert [r[0] for r in rows] == [10, 11, 12, 13, 14, 15, 16]                    # order kept too
    assert [r[1:] for r in rows] == [(False, False, False), (True, False, False)] + [(True, True, True)] * 4 + [(False, False, False)]


def test_row_order_is_kept_on_large_input(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE ordered AS SELECT i, 126000 + (i % 16000) AS x, 448500 + (i // 16000) * 37.0 AS y FROM range(300000) t(i)")
    enrich_points(geo_con, "ordered", "ordered_e", x="x", y="y", crs="EPSG:28992", year=2024)
    assert geo_con.execute("SELECT count(*) FROM ordered_e WHERE i <> rowid").fetchone()[0] == 0


def test_groningen_incidents_get_a_buurt(geo_con):
    geo_con.execute(f"CREATE OR REPLACE TEMP TABLE inc AS SELECT * FROM read_csv('{data_path(GRONINGEN_INCIDENTS)}', all_varchar = true)")
    stats = enrich_points(geo_con, "inc", "inc_e", x="X", y="Y", crs="EPSG:28992", year=2017)
    assert stats.rows == 15947
    assert stats.assigned_share >= 0.99                      # measured: 15,931 of 15,947 = 99.90 %
    assert 0 < len(stats.outside_sample) <= 20
    assert geo_con.execute("SELECT count(DISTINCT buurt_code), min(gemeente_code), max(gemeente_code) FROM inc_e").fetchone() == (
        geo_con.execute("SELECT count(DISTINCT buurt_code) FROM inc_e").fetchone()[0], "GM0014", "GM0014")


def test_year_with_only_wijken_assigns_at_wijk_level(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE ams AS SELECT 4.8952 AS lon, 52.3702 AS lat UNION ALL SELECT 4.90, 52.36")
    stats = enrich_points(geo_con, "ams", "ams_e", x="lon", y="lat", crs="EPSG:4326", year=2021)
    assert stats.level == "wijk" and "geen buurten" in stats.note and "wijkniveau" in stats.note
    assert stats.assigned == 2
    rows = geo_con.execute("SELECT buurt_code, wijk_code, gemeente_code FROM ams_e").fetchall()
    assert all(b is None and w.startswith("WK0363") and g == "GM0363" for b, w, g in rows)


def test_year_without_areas_raises_with_available_years(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE p1 AS SELECT 136859.0 AS x, 455900.0 AS y")
    with pytest.raises(GeographyError) as e:
        enrich_points(geo_con, "p1", "p1_e", x="x", y="y", crs="EPSG:28992", year=2019)
    assert "2019" in str(e.value) and "2013, 2017, 2021, 2024" in str(e.value)


def test_h3_cells_are_valid_and_match_the_library(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE hp AS SELECT 130000 + i * 1.7 AS x, 450000 + i * 1.3 AS y FROM range(5000) t(i) "
                    "UNION ALL SELECT NULL, NULL")
    enrich_points(geo_con, "hp", "hp_e", x="x", y="y", crs="EPSG:28992", year=2024, h3_resolution=9)
    rows = geo_con.execute("SELECT lat, lon, h3 FROM hp_e").fetchall()
    assert rows[-1] == (None, None, None)
    assert all(h3.is_valid_cell(c) and h3.get_resolution(c) == 9 and c == h3.latlng_to_cell(la, lo, 9)
               for la, lo, c in rows[:-1])
    assert len({c for _, _, c in rows[:-1]}) > 10


def test_h3_cells_from_wgs84_input_match_the_library(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE hw AS SELECT 5.05 + i * 0.00003 AS lon, 52.07 + i * 0.00002 AS lat "
                    "FROM range(3000) t(i) UNION ALL SELECT 200.0, 52.0")
    enrich_points(geo_con, "hw", "hw_e", x="lon", y="lat", crs="EPSG:4326", year=2024, h3_resolution=8)
    rows = geo_con.execute("SELECT lat, lon, h3, x_rd FROM hw_e").fetchall()
    assert rows[-1][2] is None and rows[-1][3] is None               # outside the WGS84 range: no cell, no RD
    assert all(c == h3.latlng_to_cell(la, lo, 8) for la, lo, c, _ in rows[:-1])


def test_lon_lat_agree_with_proj(geo_con):
    d = geo_con.execute("""SELECT max(abs(lon - ST_X(p)) * 111320 * cos(radians(lat))), max(abs(lat - ST_Y(p)) * 110574)
        FROM (SELECT lon, lat, ST_Transform(ST_Point(x_rd, y_rd), 'EPSG:28992', 'EPSG:4326', always_xy := true) AS p
              FROM pts_u_e USING SAMPLE 20000 ROWS)""").fetchone()
    assert max(d) < 0.5                                             # metres; maps only


def test_raster_is_cached_per_area_version_and_dropped_on_rebuild(con, tmp_path):
    from stadslab.catalog.model import AreaSpec
    path = tmp_path / "w.duckdb"
    rw = connect(path)
    sq = "ST_GeomFromText('POLYGON((0 0, {s} 0, {s} {s}, 0 {s}, 0 0))')"
    rw.execute(f"CREATE TABLE b1 AS SELECT 'BU09990101' AS code, {sq.format(s=1000)} AS geom")
    rw.execute(f"CREATE TABLE b2 AS SELECT 'BU09990101' AS code, {sq.format(s=2000)} AS geom")
    spec = AreaSpec(level="buurt", year=2030, code_field="code")
    rebuild_areas_view(rw, [(spec, "b1", "b", 1)])
    r1 = lookup_raster(rw, 2030, "buurt")
    assert r1.table.startswith("stadslab.area_raster_2030_buurt_")
    assert lookup_raster(rw, 2030, "buurt") == r1                      # reused, not rebuilt
    rw.close()
    ro = connect(path, read_only=True)                                  # the cached table serves read-only use
    assert lookup_raster(ro, 2030, "buurt") == r1
    ro.close()
    rw = connect(path)
    rebuild_areas_view(rw, [(spec, "b2", "b", 2)])                      # a new version: old raster dropped
    assert rw.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'area_raster%'").fetchone()[0] == 0
    r2 = lookup_raster(rw, 2030, "buurt")
    assert r2.table != r1.table
    rw.execute("CREATE TEMP TABLE p AS SELECT 1500.0 AS x, 1500.0 AS y")
    assert enrich_points(rw, "p", "p_e", x="x", y="y", crs="EPSG:28992", year=2030).assigned == 1
    rw.close()


def test_read_only_warehouse_builds_a_temp_raster(con, tmp_path):
    path = tmp_path / "w.duckdb"
    rw = connect(path)
    rw.execute("CREATE TABLE b AS SELECT 'BU09990101' AS code, ST_GeomFromText('POLYGON((0 0, 1000 0, 1000 1000, 0 1000, 0 0))') AS geom")
    from stadslab.catalog.model import AreaSpec
    rebuild_areas_view(rw, [(AreaSpec(level="buurt", year=2030, code_field="code"), "b", "b", 1)])
    rw.close()
    ro = connect(path, read_only=True)
    ro.execute("CREATE TEMP TABLE p AS SELECT 500.0 AS x, 500.0 AS y UNION ALL SELECT 1000.0, 1000.0 UNION ALL SELECT 1000.01, 5.0")
    stats = enrich_points(ro, "p", "p_e", x="x", y="y", crs="RD", year=2030)
    assert (stats.assigned, stats.outside) == (2, 1)                # the corner is on the border: inside
    assert ro.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name LIKE 'area_raster_2030%'").fetchone()[0] == 1
    ro.close()


def test_clashing_columns_and_bad_crs_are_refused(geo_con):
    geo_con.execute("CREATE OR REPLACE TEMP TABLE cl AS SELECT 1.0 AS x, 2.0 AS y, 'x' AS buurt_code")
    with pytest.raises(GeographyError, match="buurt_code"):
        enrich_points_sql(geo_con, "cl", x="x", y="y", crs="EPSG:28992", year=2024)
    with pytest.raises(GeographyError, match="EPSG:3857"):
        enrich_points_sql(geo_con, "cl", x="x", y="y", crs="EPSG:3857", year=2024)
    # An RD x column already named x_rd is kept as is, not duplicated.
    geo_con.execute("CREATE OR REPLACE TEMP TABLE xr AS SELECT 136859.0 AS x_rd, 455900.0 AS y_rd")
    enrich_points(geo_con, "xr", "xr_e", x="x_rd", y="y_rd", crs="EPSG:28992", year=2024)
    assert [r[0] for r in geo_con.execute("DESCRIBE xr_e").fetchall()][:3] == ["x_rd", "y_rd", "lon"]


def test_shared_border_goes_to_the_smallest_code(con):
    from stadslab.catalog.model import AreaSpec
    con.execute("""CREATE TABLE b AS SELECT * FROM (VALUES
        ('BU09990102', ST_GeomFromText('POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))')),
        ('BU09990101', ST_GeomFromText('POLYGON((100 0, 200 0, 200 100, 100 100, 100 0))'))) t(code, geom)""")
    rebuild_areas_view(con, [(AreaSpec(level="buurt", year=2030, code_field="code"), "b", "b", 1)])
    con.execute("CREATE TEMP TABLE p AS SELECT * FROM (VALUES (1, 100.0, 50.0), (2, 99.999, 50.0), (3, 200.0, 100.0), (4, 0.0, 0.0)) t(i, x, y)")
    enrich_points(con, "p", "p_e", x="x", y="y", crs="EPSG:28992", year=2030)
    got = dict(con.execute("SELECT i, buurt_code FROM p_e").fetchall())
    assert got == {1: "BU09990101", 2: "BU09990102", 3: "BU09990101", 4: "BU09990102"}
