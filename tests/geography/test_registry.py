"""The area registry: stadslab.areas over real CBS divisions, derived levels, checks."""

from __future__ import annotations

import pytest

from stadslab.catalog.model import AreaSpec
from stadslab.errors import GeographyError
from stadslab.geography import AREAS_VIEW, area_select_sql, check_division, division_years, rebuild_areas_view
from stadslab.geography.registry import AREA_COLUMNS

from .conftest import CBS_UTRECHT_2024_LAN_HA, CBS_UTRECHT_2024_OPP_HA


def counts(con, year: int) -> dict[str, int]:
    return dict(con.execute(f"SELECT level, count(*) FROM {AREAS_VIEW} WHERE year = ? GROUP BY level", [year]).fetchall())


def test_view_columns_and_types(geo_con):
    got = [(r[0], r[1]) for r in geo_con.execute(f"DESCRIBE {AREAS_VIEW}").fetchall()]
    assert got == list(AREA_COLUMNS)


def test_division_years(geo_con):
    assert division_years(geo_con) == [2013, 2017, 2021, 2024]


def test_utrecht_2024_levels_and_parents(geo_con):
    assert counts(geo_con, 2024) == {"buurt": 111, "wijk": 10, "gemeente": 1}
    # Every buurt's parent is its wijk as given in the file, and that wijk exists.
    bad = geo_con.execute(f"""SELECT count(*) FROM {AREAS_VIEW} b JOIN v.utrecht_buurten_2024__1 f ON f.buurtcode = b.code
        WHERE b.year = 2024 AND b.level = 'buurt' AND (b.parent_code <> f.wijkcode OR b.gemeente_code <> 'GM0344'
        OR b.parent_code NOT IN (SELECT code FROM {AREAS_VIEW} WHERE year = 2024 AND level = 'wijk'))""").fetchone()[0]
    assert bad == 0
    wijken = geo_con.execute(f"SELECT DISTINCT parent_code, dataset FROM {AREAS_VIEW} WHERE year = 2024 AND level = 'wijk'").fetchall()
    assert wijken == [("GM0344", "utrecht_wijken_2024")]          # supplied by the wijk dataset, not derived
    gem = geo_con.execute(f"SELECT code, parent_code, name FROM {AREAS_VIEW} WHERE year = 2024 AND level = 'gemeente'").fetchone()
    assert gem == ("GM0344", None, "Utrecht")                     # derived from buurten, named from gemeentenaam
    assert check_division(geo_con, 2024) == []


def test_utrecht_2024_area_against_cbs(geo_con):
    """Without a land-area field the area is the polygon area, which includes water: it matches CBS
    a_opp_ha (9,921 ha) within 1 %, and is about 6 % above the land area a_lan_ha (9,377 ha)."""
    buurten, gemeente = geo_con.execute(f"""SELECT sum(land_area_ha) FILTER (WHERE level = 'buurt'),
        sum(land_area_ha) FILTER (WHERE level = 'gemeente') FROM {AREAS_VIEW} WHERE year = 2024""").fetchone()
    assert abs(buurten - CBS_UTRECHT_2024_OPP_HA) / CBS_UTRECHT_2024_OPP_HA < 0.01
    assert abs(gemeente - buurten) < 0.01
    assert buurten > CBS_UTRECHT_2024_LAN_HA * 1.03              # documented: polygon area is not land area


def test_land_area_field_is_used_and_summed(geo_con):
    """Groningen 2017 has OPP_LAND (ha): buurten carry it, derived wijken/gemeente sum it, and the
    polygon area matches OPP_TOT (land + water) within 1 %."""
    land, tot, area = geo_con.execute("""SELECT sum(opp_land), sum(opp_tot), sum(ST_Area(geom)) / 1e4
        FROM v.groningen_buurten_2017__1 WHERE opp_land >= 0""").fetchone()
    by_level = dict(geo_con.execute(f"SELECT level, sum(land_area_ha) FROM {AREAS_VIEW} WHERE year = 2017 GROUP BY level").fetchall())
    assert by_level["buurt"] == pytest.approx(land)
    assert by_level["wijk"] == pytest.approx(land)
    assert by_level["gemeente"] == pytest.approx(land)
    assert abs(area - tot) / tot < 0.01
    assert counts(geo_con, 2017) == {"buurt": 108, "wijk": 15, "gemeente": 1}
    assert geo_con.execute(f"SELECT code, name FROM {AREAS_VIEW} WHERE year = 2017 AND level = 'gemeente'").fetchone() == ("GM0014", "Groningen")


def test_parent_codes_derived_from_cbs_codes(geo_con):
    """Utrecht 2013 is loaded without parent field: BU03440111 → WK034401 → GM0344."""
    rows = dict(geo_con.execute(f"SELECT code, parent_code FROM {AREAS_VIEW} WHERE year = 2013 "
                                f"AND code IN ('BU03440111', 'WK034401', 'GM0344')").fetchall())
    assert rows == {"BU03440111": "WK034401", "WK034401": "GM0344", "GM0344": None}
    assert counts(geo_con, 2013) == {"buurt": 111, "wijk": 10, "gemeente": 1}


def test_wijk_only_division_gets_a_derived_gemeente(geo_con):
    assert counts(geo_con, 2021) == {"wijk": 99, "gemeente": 1}
    assert geo_con.execute(f"SELECT code FROM {AREAS_VIEW} WHERE year = 2021 AND level = 'gemeente'").fetchone() == ("GM0363",)


def test_area_select_sql_yields_exactly_the_view_columns(con):
    con.execute("CREATE TABLE t AS SELECT 'BU03440111' AS bc, 'X' AS nm, 2.5 AS land, "
                "ST_GeomFromText('POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))') AS geom")
    sql = area_select_sql("t", AreaSpec(level="buurt", year=2030, code_field="bc", name_field="nm",
                                        land_area_field="land"), "ds", 7)
    rel = con.sql(sql)
    assert rel.columns == [c for c, _ in AREA_COLUMNS]
    assert rel.fetchone()[:7] == (2030, "buurt", "BU03440111", "X", "WK034401", "GM0344", 2.5)


def test_empty_registry(con):
    rebuild_areas_view(con, [])
    assert [(r[0], r[1]) for r in con.execute(f"DESCRIBE {AREAS_VIEW}").fetchall()] == list(AREA_COLUMNS)
    assert con.execute(f"SELECT count(*) FROM {AREAS_VIEW}").fetchone()[0] == 0
    assert division_years(con) == []


def test_check_division_finds_problems(con):
    sq = "ST_GeomFromText('POLYGON(({x0} 0, {x1} 0, {x1} 1000, {x0} 1000, {x0} 0))')"
    con.execute(f"""CREATE TABLE b AS
        SELECT 'BU09990101' AS code, {sq.format(x0=0, x1=1000)} AS geom UNION ALL
        SELECT 'BU09990102', {sq.format(x0=500, x1=1500)} UNION ALL          -- overlaps the first by 50 ha
        SELECT 'BU09990102', {sq.format(x0=3000, x1=3100)} UNION ALL         -- duplicate code
        SELECT 'BU09990201', ST_GeomFromText('POLYGON((5000 0, 6000 1000, 6000 0, 5000 1000, 5000 0))') UNION ALL  -- bow tie
        SELECT 'buurt 7', {sq.format(x0=8000, x1=8100)}""")
    con.execute(f"CREATE TABLE w AS SELECT 'WK099901' AS code, {sq.format(x0=0, x1=3100)} AS geom")
    rebuild_areas_view(con, [(AreaSpec(level="buurt", year=2030, code_field="code"), "b", "b", 1),
                             (AreaSpec(level="wijk", year=2030, code_field="code"), "w", "w", 1)])
    problems = "\n".join(check_division(con, 2030))
    assert "buurt BU09990102 komt 2 keer voor" in problems
    assert "BU09990101 en BU09990102 overlappen 50.0 ha" in problems
    assert "buurt BU09990201 heeft een ongeldige geometrie" in problems
    assert "buurt BU09990201: wijk WK099902 ontbreekt" in problems
    assert "geen CBS-code" in problems and "'buurt 7'" in problems
    with pytest.raises(GeographyError, match="2031"):
        check_division(con, 2031)
