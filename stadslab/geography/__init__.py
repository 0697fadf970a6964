"""Geography: the year-versioned area registry (gemeente → wijk → buurt, RD New) and fast, exact
assignment of point data to those areas at ingest, plus the 125 m RD grid and H3 cells.

    from stadslab.geography import rebuild_areas_view, enrich_points
"""

from stadslab.geography.assign import AssignStats, assignment_level, enrich_points, enrich_points_sql, lookup_raster
from stadslab.geography.grid import cell_bounds, grid_cell_id_sql, h3_cell_sql, register_h3, rd_to_wgs84_sql
from stadslab.geography.registry import (AREAS_VIEW, area_select_sql, check_division, division_years,
                                         levels_for_year, rebuild_areas_view)

__all__ = ["AREAS_VIEW", "AssignStats", "area_select_sql", "assignment_level", "cell_bounds", "check_division",
           "division_years", "enrich_points", "enrich_points_sql", "grid_cell_id_sql", "h3_cell_sql",
           "levels_for_year", "lookup_raster", "rd_to_wgs84_sql", "rebuild_areas_view", "register_h3"]
