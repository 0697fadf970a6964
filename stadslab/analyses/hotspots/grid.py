"""Hotspots on the 125 m RD grid: count incidents per cell, run Gi* over the study area (empty
cells included), and flag hot and cold spots after the Benjamini–Hochberg correction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.hotspots.gistar import (METHOD_FDR, METHOD_GI_STAR, GiStarResult, fdr_bh, fdr_bh_adjusted,
                                              getis_ord_gi_star, poisson_neighbourhood_p)
from stadslab.analyses.hotspots.lattice import (cell_geometry, cell_ids, lattice_weights, parse_cells,
                                                 study_area_cells)
from stadslab.errors import AnalysisError

GRID_COLUMNS = ("grid_125m", "count", "gi_z", "p", "q", "hot", "cold", "n_neighbours",
                "x_rd", "y_rd", "lon", "lat", "polygon")


def _missing_column(name: str) -> AnalysisError:
    return AnalysisError(f"de tabel heeft geen kolom '{name}'",
                         hint="geef een puntentabel met de rastercel-kolom van het laden (grid_125m)")


def count_per_cell(points_table, cell_column: str = "grid_125m",
                   count_column: str | None = None) -> tuple[pd.DataFrame, int]:
    """(cells with their incident count, number of points without a cell).

    ``points_table`` is an Ibis table (counted in the backend, only one row per cell is fetched)
    or a pandas DataFrame. With ``count_column`` the rows are already counts (e.g. the released
    aggregate of a gated dataset) and are summed instead of counted."""
    if isinstance(points_table, pd.DataFrame):
        for name in (cell_column, count_column):
            if name and name not in points_table.columns:
                raise _missing_column(name)
        weight = (pd.to_numeric(points_table[count_column], errors="coerce").fillna(0) if count_column
                  else pd.Series(1, index=points_table.index))
        col = points_table[cell_column]
        missing = int(weight[col.isna()].sum())
        counts = weight[col.notna()].groupby(col[col.notna()].astype(object), sort=False).sum()
        df = pd.DataFrame({"grid_125m": counts.index.to_numpy(dtype=object), "count": counts.to_numpy(np.int64)})
        return df, missing
    t = points_table
    for name in (cell_column, count_column):
        if name and name not in t.columns:
            raise _missing_column(name)
    n = t[count_column].sum() if count_column else t.count()
    agg = t.group_by(t[cell_column].name("grid_125m")).aggregate(n=n).to_pandas()
    agg["n"] = agg["n"].fillna(0)
    missing = int(agg.loc[agg["grid_125m"].isna(), "n"].sum())
    agg = agg[agg["grid_125m"].notna()]
    df = pd.DataFrame({"grid_125m": agg["grid_125m"].astype(object).to_numpy(),
                       "count": agg["n"].to_numpy(np.int64)})
    return df, missing


def grid_hotspots(points_table, *, cell_m: int = 125, neighbourhood: str = "queen", alpha: float = 0.05,
                  study_cells: Iterable[str] | None = None, ring: int = 1, cell_column: str = "grid_125m",
                  count_column: str | None = None, permutations: int = 0, seed: int | None = 0,
                  polygons: bool = True, p_method: str = "auto") -> pd.DataFrame:
    """Getis-Ord Gi* hotspots of point incidents on a square RD grid.

    ``p_method``: "normal" is the textbook analytic Gi* p (it uses the empirical variance, so it copes
    with the overdispersion of dense counts); "poisson" is the exact p of each cell's neighbourhood
    count under a homogeneous Poisson null (:func:`poisson_neighbourhood_p`), right for sparse counts
    where the normal approximation fails (Groningen, 28 days, 161 incidents over 6,788 cells: normal
    flags 156 hot cells of which 101 empty, Poisson 81). "auto" (default) takes Poisson when the mean
    count per study cell is below 1, else normal. ``permutations > 0`` overrides all three.

    Parameters
    ----------
    points_table : Ibis table or pandas DataFrame with one row per incident and the cell id column
        ``grid_125m`` (``E<x//cell_m>N<y//cell_m>``). Filter it (period, incident type) first.
    count_column : if given, ``points_table`` is already aggregated and this column holds the
        count per row (summed per cell) — use this for figures released through the privacy gate.
    cell_m : cell size in metres the ids were made with (the ingest uses 125).
    neighbourhood : ``queen`` (8 surrounding cells) or ``rook`` (4).
    alpha : false discovery rate for the Benjamini–Hochberg correction.
    study_cells : all cells of the study area, *including cells without incidents*. Incident cells
        outside it are dropped (counted in ``attrs['n_outside_study']``). Default: the convex hull of
        the occupied cells plus ``ring`` cells (see :func:`.lattice.study_area_cells`).
    polygons : leave out the ``polygon`` column when False (faster for very large grids).
    permutations : if > 0, flags use the conditional-permutation p-value instead of the normal one.
        The smallest such p is 2/(permutations + 1) and BH flags k cells only when it is
        ≤ α·k/m, so over m = 1000 cells 999 permutations cannot flag clusters under 40 cells;
        ``attrs['waarschuwing']`` says so when it applies.

    Returns
    -------
    DataFrame, one row per study cell: ``grid_125m, count, gi_z, p`` (two-sided, unadjusted),
    ``q`` (BH-adjusted p), ``hot`` / ``cold`` (significant after FDR, z > 0 / z < 0),
    ``n_neighbours``, cell centre ``x_rd, y_rd`` and ``lon, lat``, and ``polygon`` (GeoJSON Polygon
    coordinates in WGS84). ``attrs`` holds the method, parameters and totals for provenance.

    Method: Gi* (Getis & Ord 1992; Ord & Getis 1995) with the cell itself as neighbour, two-sided
    normal p-values, Benjamini & Hochberg (1995) FDR over all study cells.
    """
    if cell_m <= 0:
        raise AnalysisError(f"celgrootte {cell_m} m is ongeldig", hint="gebruik de celgrootte van de cel-codes, 125")
    counts, n_missing = count_per_cell(points_table, cell_column, count_column)
    cx, cy = parse_cells(counts["grid_125m"].to_numpy())
    n_points = int(counts["count"].sum())

    if study_cells is not None:
        study = np.asarray(sorted(set(study_cells)), dtype=object)
        sx, sy = parse_cells(study) if study.size else (np.array([], np.int64), np.array([], np.int64))
        study_choice = "opgegeven cellen"
    else:
        sx, sy = study_area_cells(cx, cy, ring=ring)
        study_choice = f"convex omhulsel van de cellen met incidenten plus een rand van {ring} cel(len)"
    ids = cell_ids(sx, sy)
    # Align on canonical ids rebuilt from the integer coordinates (so 'E01N02' matches 'E1N2').
    canon = pd.Series(counts["count"].to_numpy(), index=cell_ids(cx, cy)).groupby(level=0).sum()
    x = canon.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    n_outside = n_points - int(x.sum())

    w = lattice_weights(sx, sy, neighbourhood)
    res = getis_ord_gi_star(x.astype(float), w, permutations=permutations, seed=seed)
    p_method = resolve_p_method(x, p_method)
    p_used = res.p_sim if res.p_sim is not None else cell_p_values(x, w, res, p_method)
    sig = fdr_bh(p_used, alpha)
    geo = cell_geometry(sx, sy, cell_m, polygons=polygons)
    out = pd.DataFrame({
        "grid_125m": ids, "count": x, "gi_z": res.z, "p": p_used, "q": fdr_bh_adjusted(p_used),
        "hot": sig & (res.z > 0), "cold": sig & (res.z < 0), "n_neighbours": res.n_neighbours,
        **geo,
    })
    if permutations and len(out):
        k_min = int(np.ceil(2.0 / (permutations + 1) * len(out) / alpha))
        if k_min > 1:
            out.attrs["waarschuwing"] = (f"Met {permutations} permutaties kan de FDR-correctie over {len(out)} cellen "
                                         f"pas groepen van minstens {k_min} significante cellen aanwijzen; gebruik "
                                         f"meer permutaties of de normale benadering.")
    out.attrs.update(_attrs(alpha=alpha, neighbourhood=neighbourhood, cell_m=cell_m, permutations=permutations,
                            p_method=p_method,
                            study_choice=study_choice, n_points=n_points, n_missing=n_missing,
                            n_outside=n_outside, out=out))
    return out


def resolve_p_method(counts: np.ndarray, p_method: str = "auto") -> str:
    """"auto" → "poisson" when the mean count per study cell is below 1 (sparse), else "normal"."""
    if p_method == "auto":
        return "poisson" if counts.size and counts.mean() < 1 else "normal"
    return p_method


def cell_p_values(counts: np.ndarray, w, res: GiStarResult, p_method: str) -> np.ndarray:
    """The p-values Gi* hot/cold calls rest on: exact Poisson (sparse counts) or the normal p."""
    if p_method == "poisson":
        return np.where(np.isnan(res.z), np.nan, poisson_neighbourhood_p(counts, w))
    return res.p


def _attrs(*, alpha: float, neighbourhood: str, cell_m: int, permutations: int, p_method: str, study_choice: str,
           n_points: int, n_missing: int, n_outside: int, out: pd.DataFrame) -> dict[str, Any]:
    inference = (f"conditionele permutaties ({permutations})" if permutations
                 else "exacte Poisson-toets van de buurtelling, tweezijdig" if p_method == "poisson"
                 else "normale benadering, tweezijdig")
    return {
        "method": f"{METHOD_GI_STAR}; {METHOD_FDR}",
        "params": {"alpha": alpha, "neighbourhood": neighbourhood, "cell_m": cell_m,
                   "permutations": permutations, "study_area": study_choice},
        "n_points": n_points,                    # incidents with a cell id
        "n_missing_cell": n_missing,             # incidents without a cell id (no coordinates)
        "n_outside_study": n_outside,            # incidents in cells outside study_cells
        "n_cells": int(len(out)),
        "n_hot": int(out["hot"].sum()), "n_cold": int(out["cold"].sum()),
        "n_significant_unadjusted": int((out["p"] < alpha).sum()),
        "uitleg": (f"Getis-Ord Gi* per cel van {cell_m} m ({'8' if neighbourhood == 'queen' else '4'} buurcellen "
                   f"plus de cel zelf), {inference}; hot/cold na Benjamini-Hochberg-correctie (FDR {alpha:g}). "
                   f"Studiegebied: {study_choice}."),
    }
