"""Fixtures for the geography tests: real area divisions loaded into a DuckDB warehouse the way the
ingest would store them (catalog field names lower-cased, ``geom`` in RD), and the registry built
over them.

Data: /work/main/data/demo/... when vendored there, else /work/shared/data/... (read-only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stadslab.catalog.model import AreaSpec
from stadslab.geography import rebuild_areas_view
from stadslab.warehouse.connection import connect

REPO = Path(__file__).resolve().parents[2]
ROOTS = (REPO / "data" / "demo", Path("/work/shared/data"))

UTRECHT_BUURTEN_2024 = "utrecht/boundaries_2024/utrecht_buurten_2024_rd.geojson"
UTRECHT_WIJKEN_2024 = "utrecht/boundaries_2024/utrecht_wijken_2024_rd.geojson"
UTRECHT_BUURTEN_2013 = "utrecht/boundaries_2013_gemeente/utrecht_buurten_2013_wgs84.geojson"
GRONINGEN_BUURTEN_2017 = "groningen/fietsdiefstal/buurt2017.csv"
GRONINGEN_INCIDENTS = "groningen/fietsdiefstal/fietsdiefstallen_groningen_2013_2017.csv"
AMSTERDAM_WIJKEN_2021 = "amsterdam/wijken/politie_wijken_geo.shp"

# CBS Kerncijfers wijken en buurten 2024 (85984NED), gemeente Utrecht GM0344: total area
# (a_opp_ha, land + water) and land area (a_lan_ha). The kwb-2024-utrecht.csv extract has '.'
# (not published) in these columns; the figures are those of nl/kwb/kwb2024_gemeente_wijk_8vars.json
# and of kwb-2023-utrecht.csv (identical).
CBS_UTRECHT_2024_OPP_HA = 9921
CBS_UTRECHT_2024_LAN_HA = 9377
DOMTOREN_RD = (136859.0, 455900.0)


def data_path(rel: str) -> Path:
    for root in ROOTS:
        p = root / rel
        if p.exists() and p.stat().st_size > 0:
            return p
    pytest.skip(f"test data not found: {rel}")


def _load_divisions(con) -> list[tuple[AreaSpec, str, str, int]]:
    """Version tables as the ingest would write them, and their registry parts."""
    con.execute("CREATE SCHEMA IF NOT EXISTS v")
    to_rd = "ST_Transform({g}, 'EPSG:4326', 'EPSG:28992', always_xy := true)"
    con.execute(f"""CREATE OR REPLACE TABLE v.utrecht_buurten_2024__1 AS
        SELECT buurtcode, buurtnaam, wijkcode, wijknaam, gemeentecode, gemeentenaam, geom::GEOMETRY AS geom
        FROM ST_Read('{data_path(UTRECHT_BUURTEN_2024)}')""")
    con.execute(f"""CREATE OR REPLACE TABLE v.utrecht_wijken_2024__2 AS
        SELECT wijkcode, wijknaam, gemeentecode, geom::GEOMETRY AS geom FROM ST_Read('{data_path(UTRECHT_WIJKEN_2024)}')""")
    con.execute(f"""CREATE OR REPLACE TABLE v.utrecht_buurten_2013__1 AS
        SELECT buurtcode, buurtnaam_cbs_2024 AS buurtnaam, wijkcode, {to_rd.format(g='geom')} AS geom
        FROM ST_Read('{data_path(UTRECHT_BUURTEN_2013)}')""")
    con.execute(f"""CREATE OR REPLACE TABLE v.groningen_buurten_2017__1 AS
        SELECT bu_code, bu_naam, wk_code, gm_code, gm_naam, opp_tot, opp_land,
               {to_rd.format(g='ST_GeomFromText(geometry)')} AS geom
        FROM read_csv('{data_path(GRONINGEN_BUURTEN_2017)}', normalize_names = true)""")
    con.execute(f"""CREATE OR REPLACE TABLE v.amsterdam_wijken_2021__1 AS
        SELECT "WK_CODE" AS wk_code, "WK_NAAM" AS wk_naam, {to_rd.format(g='geom')} AS geom
        FROM ST_Read('{data_path(AMSTERDAM_WIJKEN_2021)}')""")
    return [
        (AreaSpec(level="buurt", year=2024, code_field="buurtcode", name_field="buurtnaam", parent_field="wijkcode"),
         "v.utrecht_buurten_2024__1", "utrecht_buurten_2024", 1),
        (AreaSpec(level="wijk", year=2024, code_field="wijkcode", name_field="wijknaam",
                  gemeente_field="gemeentecode"), "v.utrecht_wijken_2024__2", "utrecht_wijken_2024", 2),
        (AreaSpec(level="buurt", year=2013, code_field="buurtcode", name_field="buurtnaam"),
         "v.utrecht_buurten_2013__1", "utrecht_buurten_2013", 1),
        (AreaSpec(level="buurt", year=2017, code_field="bu_code", name_field="bu_naam", parent_field="wk_code",
                  gemeente_field="gm_code", land_area_field="opp_land"),
         "v.groningen_buurten_2017__1", "groningen_buurten_2017", 1),
        (AreaSpec(level="wijk", year=2021, code_field="wk_code", name_field="wk_naam"),
         "v.amsterdam_wijken_2021__1", "amsterdam_wijken_2021", 1),
    ]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    """A warehouse file holding the area divisions of 2013, 2017, 2021 and 2024 and the registry."""
    path = tmp_path_factory.mktemp("geo") / "warehouse.duckdb"
    con = connect(path)
    rebuild_areas_view(con, _load_divisions(con))
    con.close()
    return path


@pytest.fixture(scope="session")
def geo_con(warehouse):
    """One shared read-write connection (rasters built once are reused by later tests)."""
    con = connect(warehouse)
    yield con
    con.close()


@pytest.fixture
def con():
    """A fresh in-memory connection for tests that build their own small divisions."""
    c = connect()
    yield c
    c.close()
