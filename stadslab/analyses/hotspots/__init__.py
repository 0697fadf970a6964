"""Hotspot analyses (ladder level 2): where are incidents clustered, and did a place change?

Public API (pure analysis, no web code):

- :func:`getis_ord_gi_star` — Gi* z-scores and p-values for values on any spatial weights.
- :func:`poisson_neighbourhood_p` — exact p-values of neighbourhood counts (sparse counts).
- :func:`fdr_bh` / :func:`fdr_bh_adjusted` — Benjamini–Hochberg false discovery rate.
- :func:`grid_hotspots` — Gi* hot/cold spots of point incidents on the 125 m RD grid.
- :func:`area_weights` / :func:`area_hotspots` — contiguity of buurten/wijken from ``stadslab.areas``
  and Gi* per area; :func:`area_cells` — grid cells of a gemeente, as a grid study area.
- :func:`change_test` — exact conditional test for the change between two periods' counts.
- :func:`rate_per_1000` — incidents per 1000 inhabitants (NaN without population).

Example::

    with ws.warehouse(read_only=True) as wh:
        cells = grid_hotspots(wh.table("groningen_fietsdiefstal"), alpha=0.05)
    cells[cells.hot][["grid_125m", "count", "gi_z", "q", "lon", "lat"]]
"""

from stadslab.analyses.hotspots.areas import AreaWeights, area_cells, area_hotspots, area_weights
from stadslab.analyses.hotspots.change import LABEL_CHANCE, LABEL_DOWN, LABEL_UP, change_test, rate_per_1000
from stadslab.analyses.hotspots.gistar import (GiStarResult, fdr_bh, fdr_bh_adjusted, getis_ord_gi_star,
                                              poisson_neighbourhood_p)
from stadslab.analyses.hotspots.grid import grid_hotspots
from stadslab.analyses.hotspots.lattice import lattice_weights

__all__ = [
    "AreaWeights", "GiStarResult", "poisson_neighbourhood_p", "LABEL_CHANCE", "LABEL_DOWN", "LABEL_UP", "area_cells", "area_hotspots",
    "area_weights", "change_test", "fdr_bh", "fdr_bh_adjusted", "getis_ord_gi_star", "grid_hotspots",
    "lattice_weights", "rate_per_1000",
]
