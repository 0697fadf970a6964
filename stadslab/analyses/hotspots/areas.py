"""Hotspots per area (buurt, wijk): contiguity weights from the area registry and Gi* per area.

The contiguity is computed inside the warehouse with DuckDB spatial SQL on ``stadslab.areas``
(the geometry never leaves the database); this module only sends SQL text through the
connection it is given, so it needs no ``import duckdb``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from stadslab.analyses.hotspots.change import rate_per_1000
from stadslab.analyses.hotspots.gistar import METHOD_FDR, METHOD_GI_STAR, fdr_bh, fdr_bh_adjusted, getis_ord_gi_star
from stadslab.analyses.hotspots.lattice import cell_ids
from stadslab.errors import AnalysisError

AREAS_VIEW = "stadslab.areas"
LEVELS = ("buurt", "wijk", "gemeente")


class AreaWeights(NamedTuple):
    """Area codes (sorted) and the binary n×n contiguity matrix in that order (zero diagonal)."""

    codes: np.ndarray
    W: sp.csr_matrix


def _connection(wh_or_con: Any) -> Any:
    """A DuckDB connection from a Warehouse (``.con``), an Ibis DuckDB backend (``.con``) or a
    DuckDB connection itself."""
    con = getattr(wh_or_con, "con", wh_or_con)
    if not hasattr(con, "execute"):
        raise AnalysisError("geef een warehouse of een DuckDB-verbinding mee",
                            hint="bijvoorbeeld: with ws.warehouse(read_only=True) as wh: area_weights(wh, ...)")
    return con


def area_weights(wh_or_con: Any, year: int, level: str = "buurt", gemeente_code: str | None = None, *,
                 tolerance_m: float = 1.0, contiguity: str = "queen") -> AreaWeights:
    """Contiguity weights between the areas of one division year and level (optionally one gemeente).

    Two areas are neighbours when their polygons (RD New, EPSG:28992) come within ``tolerance_m``
    metres of each other: ``ST_Intersects`` of one with the other buffered by the tolerance, which
    absorbs the slivers and gaps real boundary files have. ``queen``: touching
    in a single point is enough; ``rook``: the shared boundary must be longer than
    ``4 × tolerance_m`` (measured as boundary of one inside the buffered other).
    """
    if level not in LEVELS:
        raise AnalysisError(f"gebiedsniveau '{level}' is onbekend", hint=f"kies een van: {', '.join(LEVELS)}")
    if contiguity not in ("queen", "rook"):
        raise AnalysisError(f"buurdefinitie '{contiguity}' is onbekend", hint="kies 'queen' of 'rook'")
    con = _connection(wh_or_con)
    where = "year = ? AND level = ? AND code IS NOT NULL AND geom IS NOT NULL"
    params: list[Any] = [int(year), level]
    if gemeente_code:
        where += " AND gemeente_code = ?"
        params.append(gemeente_code)
    codes_rows = con.execute(f"SELECT DISTINCT code FROM {AREAS_VIEW} WHERE {where} ORDER BY code", params).fetchall()
    codes = np.asarray([r[0] for r in codes_rows], dtype=object)
    if codes.size == 0:
        raise AnalysisError(f"geen gebieden van niveau '{level}' in jaar {year}"
                            + (f" voor {gemeente_code}" if gemeente_code else ""),
                            hint="controleer de gebiedsindeling met 'stadslab areas' of laad de grenzen")
    tol = float(tolerance_m)
    rook = (f" AND ST_Length(ST_Intersection(ST_Boundary(a.geom), b.buffered)) > {4 * tol}"
            if contiguity == "rook" else "")
    # ST_Intersects on the buffered geometry, not ST_DWithin: in DuckDB spatial 1.5.5 the scalar
    # ST_Distance/ST_DWithin return 0/true for *disjoint* polygons (measured, see tests; cf.
    # duckdb-spatial issues #660 and #693).
    pairs = con.execute(
        f"WITH a AS (SELECT code, any_value(geom) AS geom FROM {AREAS_VIEW} WHERE {where} GROUP BY code), "
        f"b AS (SELECT code, geom, ST_Buffer(geom, {tol}) AS buffered FROM a) "
        f"SELECT a.code, b.code FROM a JOIN b ON a.code < b.code "
        f"AND ST_Intersects(a.geom, b.buffered){rook}", params).fetchall()
    index = pd.Index(codes)
    if pairs:
        arr = np.asarray(pairs, dtype=object)
        i = index.get_indexer(arr[:, 0])
        j = index.get_indexer(arr[:, 1])
        r, c = np.concatenate([i, j]), np.concatenate([j, i])
    else:
        r = c = np.array([], dtype=np.int64)
    n = codes.size
    return AreaWeights(codes, sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n)))


def area_cells(wh_or_con: Any, year: int, gemeente_code: str, *, level: str = "buurt",
               cell_m: int = 125) -> set[str]:
    """Grid cells (``E<ix>N<iy>``) that intersect the areas of a gemeente: a study area for
    :func:`stadslab.analyses.hotspots.grid.grid_hotspots` that follows the municipal border instead
    of the incidents' convex hull. Computed in SQL (cells over the bounding box, spatial join)."""
    con = _connection(wh_or_con)
    size = int(cell_m)
    rows = con.execute(
        f"WITH a AS (SELECT geom FROM {AREAS_VIEW} WHERE year = ? AND level = ? AND gemeente_code = ? "
        f"AND geom IS NOT NULL), "
        f"b AS (SELECT floor(min(ST_XMin(geom)) / {size})::BIGINT AS x0, floor(max(ST_XMax(geom)) / {size})::BIGINT AS x1, "
        f"floor(min(ST_YMin(geom)) / {size})::BIGINT AS y0, floor(max(ST_YMax(geom)) / {size})::BIGINT AS y1 FROM a), "
        f"c AS (SELECT gx.ix, gy.iy FROM b, generate_series(b.x0, b.x1) AS gx(ix), generate_series(b.y0, b.y1) AS gy(iy)) "
        f"SELECT DISTINCT c.ix, c.iy FROM (SELECT ix, iy, ST_MakeEnvelope(ix * {size}, iy * {size}, "
        f"(ix + 1) * {size}, (iy + 1) * {size}) AS cell FROM c) c "
        # Interior overlap: a cell that only shares an edge with the area is not in it.
        f"JOIN a ON ST_Intersects(a.geom, c.cell) AND NOT ST_Touches(a.geom, c.cell)",
        [int(year), level, gemeente_code]).fetchall()
    if not rows:
        raise AnalysisError(f"geen gebieden van niveau '{level}' in jaar {year} voor {gemeente_code}",
                            hint="controleer de gemeentecode en het indelingsjaar")
    arr = np.asarray(rows, dtype=np.int64)
    return set(cell_ids(arr[:, 0], arr[:, 1]).tolist())


def area_hotspots(counts: pd.DataFrame, adjacency: AreaWeights | tuple[np.ndarray, sp.spmatrix], *,
                  alpha: float = 0.05, value: str = "count", permutations: int = 0,
                  seed: int | None = 0) -> pd.DataFrame:
    """Gi* hotspots per area, with Benjamini–Hochberg FDR over the areas.

    Parameters
    ----------
    counts : DataFrame with ``code`` and ``count`` and optionally ``population``. Areas of the
        weights that are missing here count as 0 incidents; codes not in the weights (NULL, another
        division year) are left out and listed in ``attrs['unknown_codes']``.
    adjacency : ``(codes, W)`` from :func:`area_weights`.
    value : ``count`` (Gi* on counts) or ``rate`` (on incidents per 1000 inhabitants; areas without
        a population are left out of the test — their rate is NaN — and get no flag).

    Returns one row per area: ``code, count, [population, rate_per_1000], gi_z, p, q, hot, cold,
    n_neighbours``. Method: Gi* (Getis & Ord 1992; Ord & Getis 1995), self included, two-sided
    normal p; FDR by Benjamini & Hochberg (1995). Areas without neighbours (islands) get NaN.
    """
    if value not in ("count", "rate"):
        raise AnalysisError(f"waarde '{value}' is onbekend", hint="kies 'count' of 'rate'")
    missing = [c for c in ("code", "count") if c not in counts.columns]
    if value == "rate" and "population" not in counts.columns:
        missing.append("population")
    if missing:
        raise AnalysisError(f"de tellingen missen kolom(men): {', '.join(missing)}",
                            hint="verwacht een tabel met code, count en (voor rate) population")
    codes, w = adjacency
    codes = np.asarray(codes, dtype=object)
    index = pd.Index(codes)
    known = counts["code"].isin(index)
    unknown = sorted(counts.loc[~known & counts["code"].notna(), "code"].astype(str).unique().tolist())
    per = counts[known].groupby("code", sort=False).agg(
        count=("count", "sum"), **({"population": ("population", "first")} if "population" in counts else {}))
    out = pd.DataFrame({"code": codes})
    out["count"] = per["count"].reindex(codes).fillna(0).to_numpy(np.int64)
    if "population" in per:
        out["population"] = per["population"].reindex(codes).to_numpy(dtype=float)
        out["rate_per_1000"] = rate_per_1000(out["count"].to_numpy(), out["population"].to_numpy())
    values = out["count"].to_numpy(dtype=float) if value == "count" else out["rate_per_1000"].to_numpy()
    use = np.isfinite(values)
    idx = np.flatnonzero(use)
    w_sub = sp.csr_matrix(w)[idx][:, idx]
    res = getis_ord_gi_star(values[idx], w_sub, permutations=permutations, seed=seed)
    z = np.full(len(out), np.nan)
    p = np.full(len(out), np.nan)
    nb = np.full(len(out), -1, dtype=np.int64)
    z[idx] = res.z
    p[idx] = res.p_sim if res.p_sim is not None else res.p
    nb[idx] = res.n_neighbours
    sig = fdr_bh(p, alpha)
    out["gi_z"], out["p"], out["q"] = z, p, fdr_bh_adjusted(p)
    out["hot"], out["cold"] = sig & (z > 0), sig & (z < 0)
    out["n_neighbours"] = nb
    out.attrs.update({
        "method": f"{METHOD_GI_STAR}; {METHOD_FDR}",
        "params": {"alpha": alpha, "value": value, "permutations": permutations},
        "unknown_codes": unknown,
        "n_unknown": int(counts.loc[~known, "count"].sum()),
        "n_without_value": int((~use).sum()),
        "n_hot": int(out["hot"].sum()), "n_cold": int(out["cold"].sum()),
        "uitleg": (f"Getis-Ord Gi* per gebied ({'aantallen' if value == 'count' else 'per 1000 inwoners'}), "
                   f"buren = aangrenzende gebieden plus het gebied zelf; hot/cold na Benjamini-Hochberg-"
                   f"correctie (FDR {alpha:g})."),
    })
    return out
