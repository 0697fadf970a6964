"""The year-versioned area registry: one view ``stadslab.areas`` over the current versions of all
area datasets (gemeente → wijk → buurt), with wijken and gemeenten derived from buurten where no
dataset supplies them.

Columns (one row per area per division year), geometry in RD New (EPSG:28992):
    year INTEGER, level VARCHAR ('gemeente'|'wijk'|'buurt'), code VARCHAR (CBS code: GM0344,
    WK034401, BU03440111), name VARCHAR, parent_code VARCHAR (buurt → wijk, wijk → gemeente,
    gemeente → NULL), gemeente_code VARCHAR, land_area_ha DOUBLE, geom GEOMETRY,
    dataset VARCHAR, dataset_version INTEGER.

``land_area_ha`` comes from the dataset's land-area field when the catalog names one; otherwise it
is the polygon area, which *includes water* (CBS's a_opp_ha, not a_lan_ha). Derived wijken and
gemeenten sum the land areas of their parts.
"""

from __future__ import annotations

import duckdb

from stadslab.catalog.model import AreaSpec
from stadslab.errors import GeographyError

SCHEMA = "stadslab"
AREAS_VIEW = "stadslab.areas"
LEVELS = ("gemeente", "wijk", "buurt")          # coarse → fine
AREA_COLUMNS = (("year", "INTEGER"), ("level", "VARCHAR"), ("code", "VARCHAR"), ("name", "VARCHAR"),
                ("parent_code", "VARCHAR"), ("gemeente_code", "VARCHAR"), ("land_area_ha", "DOUBLE"),
                ("geom", "GEOMETRY"), ("dataset", "VARCHAR"), ("dataset_version", "INTEGER"))
# Naming convention for names of derived wijken/gemeenten: a buurt dataset that carries a column
# with one of these names lends it to the derived area (CBS and most municipal files use them).
WIJK_NAME_COLUMNS = ("wijknaam", "wk_naam")
GEMEENTE_NAME_COLUMNS = ("gemeentenaam", "gm_naam")
RASTER_PREFIX = "area_raster_"
OVERLAP_TOLERANCE_HA = 1.0


def q(name: str) -> str:
    """Quote an SQL identifier (column names come from user files)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """An SQL literal for a string, number or None."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def qualified(table: str) -> str:
    """Quote ``schema.table`` or ``table`` unless it is already quoted."""
    if '"' in table:
        return table
    return ".".join(q(p) for p in table.split("."))


def _text(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def parent_code_sql(code: str, level: str) -> str:
    """SQL deriving the parent's CBS code from a CBS code: BU03440111 → WK034401, WK034401 → GM0344."""
    if level == "buurt":
        return f"CASE WHEN regexp_full_match({code}, 'BU[0-9]{{8}}') THEN 'WK' || substr({code}, 3, 6) END"
    if level == "wijk":
        return f"CASE WHEN regexp_full_match({code}, 'WK[0-9]{{6}}') THEN 'GM' || substr({code}, 3, 4) END"
    return "NULL::VARCHAR"


def gemeente_code_sql(code: str, level: str) -> str:
    """SQL deriving the gemeente code from a CBS buurt, wijk or gemeente code."""
    if level == "gemeente":
        return code
    pattern = "BU[0-9]{8}" if level == "buurt" else "WK[0-9]{6}"
    return f"CASE WHEN regexp_full_match({code}, '{pattern}') THEN 'GM' || substr({code}, 3, 4) END"


def area_select_sql(table: str, spec: AreaSpec, dataset_id: str, version: int) -> str:
    """A SELECT over one committed version table of an area dataset yielding exactly the
    ``stadslab.areas`` columns. The table has the catalog's field names and ``geom`` in RD."""
    if spec.level not in LEVELS:
        raise GeographyError(f"gebiedsniveau '{spec.level}' van dataset '{dataset_id}' is onbekend",
                             hint=f"kies een van: {', '.join(LEVELS)}")
    code = _text(q(spec.code_field))
    name = _text(q(spec.name_field)) if spec.name_field else "NULL::VARCHAR"
    parent = _text(q(spec.parent_field)) if spec.parent_field else parent_code_sql(code, spec.level)
    if spec.level == "gemeente":
        parent = "NULL::VARCHAR"
    gemeente = _text(q(spec.gemeente_field)) if spec.gemeente_field else gemeente_code_sql(code, spec.level)
    # CBS writes -99999999 for "unknown/secret": a negative area is no area.
    land = (f"CASE WHEN TRY_CAST({q(spec.land_area_field)} AS DOUBLE) >= 0 "
            f"THEN TRY_CAST({q(spec.land_area_field)} AS DOUBLE) END"
            if spec.land_area_field else "ST_Area(geom) / 10000.0")
    return (f"SELECT CAST({int(spec.year)} AS INTEGER) AS year, {lit(spec.level)} AS level, {code} AS code, "
            f"{name} AS name, {parent} AS parent_code, {gemeente} AS gemeente_code, "
            f"CAST({land} AS DOUBLE) AS land_area_ha, CAST(geom AS GEOMETRY) AS geom, "
            f"{lit(dataset_id)} AS dataset, CAST({int(version)} AS INTEGER) AS dataset_version "
            f"FROM {qualified(table)}")


def _empty_select() -> str:
    cols = ", ".join(f"NULL::{t} AS {c}" for c, t in AREA_COLUMNS)
    return f"SELECT {cols} WHERE false"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0].lower() for r in con.execute(f"DESCRIBE {qualified(table)}").fetchall()]


DERIVED_TABLE = "stadslab.areas_derived"


def _names_sql(con: duckdb.DuckDBPyConnection, parts: list[tuple[AreaSpec, str, str, int]]) -> str:
    """(year, level, code, name) of wijken/gemeenten as named in buurt or wijk datasets that carry a
    ``wijknaam``/``gemeentenaam``-like column; used to name derived areas."""
    selects = []
    for spec, table, _, _ in parts:
        cols = _columns(con, table)
        code = _text(q(spec.code_field))
        wn = next((c for c in WIJK_NAME_COLUMNS if c in cols), None)
        gn = next((c for c in GEMEENTE_NAME_COLUMNS if c in cols), None)
        if spec.level == "buurt" and wn:
            parent = _text(q(spec.parent_field)) if spec.parent_field else parent_code_sql(code, "buurt")
            selects.append(f"SELECT {int(spec.year)} AS year, 'wijk' AS level, {parent} AS code, "
                           f"{_text(q(wn))} AS name FROM {qualified(table)}")
        if spec.level in ("buurt", "wijk") and gn:
            gem = _text(q(spec.gemeente_field)) if spec.gemeente_field else gemeente_code_sql(code, spec.level)
            selects.append(f"SELECT {int(spec.year)} AS year, 'gemeente' AS level, {gem} AS code, "
                           f"{_text(q(gn))} AS name FROM {qualified(table)}")
    selects.append("SELECT NULL::INTEGER AS year, NULL::VARCHAR AS level, NULL::VARCHAR AS code, "
                   "NULL::VARCHAR AS name WHERE false")
    return " UNION ALL ".join(selects)


def _derived_select(level: str, child_level: str, extra_where: str = "") -> str:
    """Areas at ``level`` dissolved from ``child_level`` rows of the temp table ``__geo_supplied``, for
    every (year, gemeente) that no dataset supplies at ``level``."""
    key = "parent_code" if level == "wijk" else "gemeente_code"
    parent = "any_value(c.gemeente_code)" if level == "wijk" else "NULL::VARCHAR"
    return (f"SELECT d.year, {lit(level)} AS level, d.code, n.name, d.parent_code, d.gemeente_code, "
            f"d.land_area_ha, d.geom, d.dataset, d.dataset_version FROM ("
            f"SELECT c.year, c.{key} AS code, {parent} AS parent_code, any_value(c.gemeente_code) AS gemeente_code, "
            f"sum(c.land_area_ha) AS land_area_ha, "
            # An invalid part would make the whole union fail; check_division reports it.
            f"ST_Union_Agg(CASE WHEN ST_IsValid(c.geom) THEN c.geom ELSE ST_MakeValid(c.geom) END) AS geom, "
            f"min(c.dataset) AS dataset, "
            f"min(c.dataset_version) AS dataset_version FROM __geo_supplied c "
            f"WHERE c.level = {lit(child_level)} AND c.{key} IS NOT NULL {extra_where} "
            f"AND NOT EXISTS (SELECT 1 FROM __geo_supplied s WHERE s.level = {lit(level)} AND s.year = c.year "
            f"AND s.gemeente_code IS NOT DISTINCT FROM c.gemeente_code) GROUP BY c.year, c.{key}) d "
            f"LEFT JOIN (SELECT year, code, any_value(name) AS name FROM __geo_names WHERE level = {lit(level)} "
            f"AND name IS NOT NULL GROUP BY year, code) n ON n.year = d.year AND n.code = d.code")


def rebuild_areas_view(con: duckdb.DuckDBPyConnection, parts: list[tuple[AreaSpec, str, str, int]]) -> None:
    """(Re)create ``stadslab.areas`` over ``parts`` = [(spec, physical table, dataset_id, version)].

    Wijken are dissolved from buurten, and gemeenten from buurten (else wijken), for each
    (year, gemeente) that no dataset supplies at that level. The dissolved areas are computed here
    once and kept in ``stadslab.areas_derived`` (they depend only on immutable version tables), so
    that reading the view never re-runs ST_Union_Agg. Cached lookup rasters
    (``stadslab.area_raster_*``) belong to the previous set of versions and are dropped."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    selects = [area_select_sql(table, spec, dataset_id, version) for spec, table, dataset_id, version in parts]
    cols = ", ".join(f"{c} {t}" for c, t in AREA_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {DERIVED_TABLE} ({cols})")
    if selects:
        supplied = " UNION ALL ".join(selects)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __geo_supplied AS {supplied}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE __geo_names AS {_names_sql(con, parts)}")
        con.execute(f"INSERT INTO {DERIVED_TABLE} {_derived_select('wijk', 'buurt')}")
        con.execute(f"INSERT INTO {DERIVED_TABLE} {_derived_select('gemeente', 'buurt')}")
        no_buurten = ("AND NOT EXISTS (SELECT 1 FROM __geo_supplied b WHERE b.level = 'buurt' AND b.year = c.year "
                      "AND b.gemeente_code IS NOT DISTINCT FROM c.gemeente_code)")
        con.execute(f"INSERT INTO {DERIVED_TABLE} {_derived_select('gemeente', 'wijk', no_buurten)}")
        con.execute("DROP TABLE __geo_supplied")
        con.execute("DROP TABLE __geo_names")
        body = supplied + f" UNION ALL SELECT * FROM {DERIVED_TABLE}"
    else:
        body = _empty_select()
    con.execute(f"CREATE OR REPLACE VIEW {AREAS_VIEW} AS {body}")
    drop_rasters(con)


def drop_rasters(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the cached lookup rasters (they are rebuilt on first use)."""
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND table_name LIKE ?",
                       [SCHEMA, RASTER_PREFIX + "%"]).fetchall()
    for (name,) in rows:
        con.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{q(name)}")


def areas_view_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = 'areas'",
                            [SCHEMA]).fetchone()[0])


def division_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years for which the registry holds an area division (ascending)."""
    if not areas_view_exists(con):
        return []
    return [r[0] for r in con.execute(f"SELECT DISTINCT year FROM {AREAS_VIEW} WHERE year IS NOT NULL "
                                      f"ORDER BY year").fetchall()]


def levels_for_year(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, int]:
    """{level: number of areas} for a division year."""
    if not areas_view_exists(con):
        return {}
    rows = con.execute(f"SELECT level, count(*) FROM {AREAS_VIEW} WHERE year = ? GROUP BY level", [year]).fetchall()
    return {lvl: n for lvl, n in rows}


def check_division(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """Problems in the division of ``year`` (empty list: fine), as Dutch sentences: duplicate codes,
    codes that do not look like CBS codes, buurten whose wijk or wijken whose gemeente is missing,
    missing/invalid geometries, and areas of one level that overlap by more than 1 ha."""
    if year not in division_years(con):
        raise GeographyError(f"er is geen gebiedsindeling voor {year}",
                             hint=f"beschikbare jaren: {', '.join(map(str, division_years(con))) or 'geen'}")
    problems: list[str] = []
    v = AREAS_VIEW
    for level, code, n in con.execute(
            f"SELECT level, code, count(*) FROM {v} WHERE year = ? GROUP BY level, code HAVING count(*) > 1 "
            f"ORDER BY level, code", [year]).fetchall():
        problems.append(f"{level} {code} komt {n} keer voor in de indeling van {year}")
    patterns = {"buurt": "BU[0-9]{8}", "wijk": "WK[0-9]{6}", "gemeente": "GM[0-9]{4}"}
    for level, pat in patterns.items():
        for (code,) in con.execute(f"SELECT code FROM {v} WHERE year = ? AND level = ? AND "
                                   f"(code IS NULL OR NOT regexp_full_match(code, '{pat}')) ORDER BY code",
                                   [year, level]).fetchall():
            problems.append(f"{level} met code {code!r} heeft geen CBS-code (verwacht {pat})")
    for child, parent in (("buurt", "wijk"), ("wijk", "gemeente")):
        for code, pc in con.execute(
                f"SELECT c.code, c.parent_code FROM {v} c WHERE c.year = ? AND c.level = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {v} p WHERE p.year = c.year AND p.level = ? AND p.code = c.parent_code) "
                f"ORDER BY c.code", [year, child, parent]).fetchall():
            problems.append(f"{child} {code}: {parent} {pc or '(geen code)'} ontbreekt in de indeling van {year}")
    for level, code, reason in con.execute(
            f"SELECT level, code, CASE WHEN geom IS NULL THEN 'heeft geen geometrie' "
            f"ELSE 'heeft een ongeldige geometrie' END FROM {v} WHERE year = ? "
            f"AND (geom IS NULL OR NOT ST_IsValid(geom)) ORDER BY level, code", [year]).fetchall():
        problems.append(f"{level} {code} {reason}")
    for level, a, b, ha in con.execute(
            f"WITH x AS (SELECT level, code, geom FROM {v} WHERE year = ? AND geom IS NOT NULL AND ST_IsValid(geom)) "
            f"SELECT a.level, a.code, b.code, ST_Area(ST_Intersection(a.geom, b.geom)) / 10000.0 AS ha "
            f"FROM x a JOIN x b ON a.level = b.level AND a.code < b.code AND ST_Intersects(a.geom, b.geom) "
            f"WHERE ST_Area(ST_Intersection(a.geom, b.geom)) > {OVERLAP_TOLERANCE_HA * 10000} ORDER BY 1, 2, 3",
            [year]).fetchall():
        problems.append(f"{level} {a} en {b} overlappen {ha:.1f} ha")
    return problems
