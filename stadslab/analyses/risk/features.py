"""Features per 125 m RD grid cell for a prediction period ``[t0, t0 + horizon)``.

Every feature for origin ``t0`` is computed from incidents with ``time < t0`` only: each Ibis query
joins the incidents to a table of origins with the predicate ``ts < t0`` (and a lower bound for the
window), so one query serves many origins without leakage. Aggregated results (origin × cell) are
fetched with ``to_pandas()``; neighbourhood sums (3×3, 5×5) and the kernel density are then computed
with numpy/scipy on the dense cell grid. Float sums are done in numpy in a fixed order, so the
features of an origin are bit-identical whatever happens at or after ``t0``.

Cell id: ``E<floor(x/125)>N<floor(y/125)>`` in RD (EPSG:28992), as the ingest column ``grid_125m``.

Feature groups (names as in ``FeatureSet.names``)
    ``n{w}_cell|_3x3|_5x5``  incidents in the last ``w`` days in the cell and its neighbourhoods
    ``n{w}_buurt``           idem in the cell's buurt (when a buurt is known)
    ``area_n28|365``         incidents in the whole grid box (overall level / trend)
    ``dec{tau}_cell|_3x3``   exponentially decayed counts, weight ``exp(-age_days / tau)``
    ``near_repeat``          incidents within ``near_repeat_m`` of the cell centre in the last
                             ``near_repeat_days`` days (near-repeat victimisation, Johnson & Bowers 2004;
                             self-exciting form in Mohler et al. 2011)
    ``kde``                  Gaussian kernel in space × exponential decay in time (prospective
                             hotspotting, Bowers, Johnson & Pease 2004)
    ``days_since_last``      days since the last incident in the cell (capped at the longest window)
    ``weekend_share_3x3``    share of the last year's incidents in the 3×3 block on Saturday/Sunday
    ``month``                season: month of ``t0``
    ``season{lag}_cell|_3x3`` incidents in the same weeks ``lag`` days earlier (window of
                             ``2 × season_half_width`` days centred on the period, shifted back)
    ``ctx_<col>``            area context joined by buurt code (e.g. CBS Kerncijfers ``a_inw``)
    ``fac_<name>_cell|_3x3`` facilities (street lights, bicycle parkings, …) counted per cell

Ages are whole days (``floor((t0 - ts) / 1 day)``) for the decayed counts and the KDE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import ibis
import numpy as np
import pandas as pd
from scipy import ndimage

from stadslab.errors import AnalysisError

CELL_M = 125.0
CELL_HA = CELL_M * CELL_M / 10_000.0  # 1.5625 ha


@dataclass(frozen=True)
class FeatureConfig:
    windows: tuple[int, ...] = (7, 14, 28, 91, 365, 730)
    decay_days: tuple[float, ...] = (14.0, 90.0)
    near_repeat_m: float = 200.0
    near_repeat_days: int = 14
    kde_bandwidth_m: float = 250.0
    kde_decay_days: float = 120.0
    buurt_windows: tuple[int, ...] = (28, 365)
    season_lags: tuple[int, ...] = (365,)
    season_half_width: int = 28

    @property
    def max_window(self) -> int:
        return max(self.windows)


@dataclass(frozen=True)
class StudyArea:
    """Candidate cells and the land area that area fractions refer to.

    ``cells=None`` means the documented fallback: all cells with at least one incident before the
    first origin of a run, plus their 8 neighbours (see :func:`resolve_study_area`)."""

    cells: tuple[str, ...] | None = None
    land_area_ha: float | None = None
    cell_buurt: Mapping[str, str] | None = None
    source: str = "fallback"

    @property
    def n_area_cells(self) -> float | None:
        return None if self.land_area_ha is None else self.land_area_ha * 10_000.0 / (CELL_M * CELL_M)


@dataclass
class FeatureSet:
    """Dense features: ``X[o, i, f]`` for origin ``o``, candidate cell ``i``, feature ``f``."""

    origins: pd.DatetimeIndex
    cells: np.ndarray
    ix: np.ndarray
    iy: np.ndarray
    buurt: np.ndarray | None
    names: list[str]
    X: np.ndarray
    study: StudyArea
    config: FeatureConfig = field(default_factory=FeatureConfig)

    def col(self, name: str) -> np.ndarray:
        return self.X[:, :, self.names.index(name)]

    def frame(self, o: int) -> pd.DataFrame:
        df = pd.DataFrame(self.X[o], columns=self.names)
        df.insert(0, "cell_id", self.cells)
        return df


def cell_ids(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add("E", np.asarray(ix).astype(str)), np.char.add("N", np.asarray(iy).astype(str)))


def parse_cell_ids(cells: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    s = pd.Series(list(cells), dtype="object")
    parts = s.str.extract(r"^E(-?\d+)N(-?\d+)$")
    if parts.isna().any().any():
        bad = s[parts.isna().any(axis=1)].iloc[0]
        raise AnalysisError(f"ongeldige cel-id '{bad}'", hint="verwacht de vorm E<x//125>N<y//125>, bv. E1868N4648")
    return parts[0].to_numpy(np.int64), parts[1].to_numpy(np.int64)


def prepare_incidents(incidents: ibis.Table, time_col: str) -> ibis.Table:
    """Columns ``ts``, ``x``, ``y``, ``ix``, ``iy`` (+ ``buurt_code`` when present); rows without a
    time or coordinates are left out (they cannot be placed in a cell or a period)."""
    cols = set(incidents.columns)
    for c in (time_col, "x_rd", "y_rd"):
        if c not in cols:
            raise AnalysisError(f"kolom '{c}' ontbreekt in de incidententabel",
                                hint=f"beschikbare kolommen: {', '.join(sorted(cols))}")
    t = incidents.filter(incidents[time_col].notnull() & incidents.x_rd.notnull() & incidents.y_rd.notnull())
    x, y = t.x_rd.cast("float64"), t.y_rd.cast("float64")
    out = dict(ts=t[time_col].cast("timestamp"), x=x, y=y,
               ix=(x / CELL_M).floor().cast("int64"), iy=(y / CELL_M).floor().cast("int64"))
    if "buurt_code" in cols:
        out["buurt_code"] = t.buurt_code.cast("string")
    return t.select(**out)


def _origins_table(origins: pd.DatetimeIndex) -> ibis.Table:
    return ibis.memtable(pd.DataFrame({"t0": origins.values.astype("datetime64[us]")}))


def _window_join(inc: ibis.Table, orig: ibis.Table, days: int, *, forward: bool = False) -> ibis.Table:
    if forward:
        pred = [inc.ts >= orig.t0, inc.ts < orig.t0 + ibis.interval(days=days)]
    else:  # strictly before t0: the no-leakage predicate
        pred = [inc.ts < orig.t0, inc.ts >= orig.t0 - ibis.interval(days=days)]
    j = inc.join(orig, pred)
    return j.mutate(age=(j.t0.epoch_seconds() - j.ts.epoch_seconds()) / 86400.0)


def resolve_study_area(incidents: ibis.Table, study: StudyArea | None, before: pd.Timestamp,
                       *, time_col: str = "begin_tijd") -> StudyArea:
    """Fill in the fallback candidate cells (incidents before ``before`` + 8 neighbours) and a
    cell → buurt map (the most frequent ``buurt_code`` of the cell's incidents before ``before``)."""
    study = study or StudyArea()
    inc = prepare_incidents(incidents, time_col)
    past = inc.filter(inc.ts < ibis.literal(pd.Timestamp(before).to_pydatetime()))
    cells, cell_buurt = study.cells, study.cell_buurt
    if cells is None:
        occ = past.select("ix", "iy").distinct().to_pandas()
        if occ.empty:
            raise AnalysisError(f"geen incidenten vóór {pd.Timestamp(before).date()}: geen kandidaatcellen",
                                hint="kies een latere datum of geef de cellen van het studiegebied mee")
        d = np.arange(-1, 2)
        dx, dy = np.meshgrid(d, d)
        ix = (occ.ix.to_numpy()[:, None] + dx.ravel()).ravel()
        iy = (occ.iy.to_numpy()[:, None] + dy.ravel()).ravel()
        cells = tuple(sorted(set(cell_ids(ix, iy).tolist())))
    if cell_buurt is None and "buurt_code" in past.columns:
        known = past.filter(past.buurt_code.notnull())
        df = known.group_by(["ix", "iy", "buurt_code"]).aggregate(n=known.count()).to_pandas()
        if not df.empty:
            df = df.sort_values(["ix", "iy", "n", "buurt_code"], ascending=[True, True, False, True])
            df = df.drop_duplicates(["ix", "iy"])
            cell_buurt = dict(zip(cell_ids(df.ix.to_numpy(), df.iy.to_numpy()).tolist(), df.buurt_code))
    return StudyArea(cells=tuple(sorted(cells)), land_area_ha=study.land_area_ha, cell_buurt=cell_buurt,
                     source=study.source if study.cells is not None else "fallback")


class _Grid:
    """Dense box around the candidate cells with a margin for neighbourhoods and the kernel."""

    def __init__(self, ix: np.ndarray, iy: np.ndarray, margin: int) -> None:
        self.x0, self.y0 = int(ix.min()) - margin, int(iy.min()) - margin
        self.w = int(ix.max()) + margin - self.x0 + 1
        self.h = int(iy.max()) + margin - self.y0 + 1
        self.ci, self.cj = iy - self.y0, ix - self.x0  # row = y, column = x

    def dense(self, n_orig: int, o: np.ndarray, ix: np.ndarray, iy: np.ndarray, v: np.ndarray) -> np.ndarray:
        g = np.zeros((n_orig, self.h, self.w), dtype=np.float64)
        r, c = iy - self.y0, ix - self.x0
        ok = (r >= 0) & (r < self.h) & (c >= 0) & (c < self.w)
        # bincount adds in input order: deterministic float sums
        flat = np.bincount((o[ok] * self.h + r[ok]) * self.w + c[ok], weights=v[ok], minlength=g.size)
        return flat.reshape(g.shape)

    def pick(self, g: np.ndarray) -> np.ndarray:
        return g[:, self.ci, self.cj]


def box_sum(g: np.ndarray, radius: int) -> np.ndarray:
    """Sum over the (2r+1)×(2r+1) block around each cell (zero outside the grid), per origin."""
    k = 2 * radius + 1
    p = np.pad(g, ((0, 0), (radius + 1, radius), (radius + 1, radius)))
    c = p.cumsum(1).cumsum(2)
    return c[:, k:, k:] - c[:, :-k, k:] - c[:, k:, :-k] + c[:, :-k, :-k]


def build_features(incidents: ibis.Table, origins: Sequence[Any], *, study: StudyArea,
                   time_col: str = "begin_tijd", config: FeatureConfig | None = None,
                   context: ibis.Table | pd.DataFrame | None = None,
                   facilities: Mapping[str, ibis.Table] | None = None) -> FeatureSet:
    """Features for every origin in ``origins`` and every candidate cell of ``study``.

    ``study`` must have its cells resolved (:func:`resolve_study_area`). ``context`` is a table with
    ``buurt_code`` and numeric columns (CBS Kerncijfers etc.); ``facilities`` maps a name to a table
    with ``x_rd``/``y_rd``. Both are treated as known at every origin (static)."""
    cfg = config or FeatureConfig()
    if study.cells is None:
        raise AnalysisError("studiegebied zonder cellen", hint="roep eerst resolve_study_area aan")
    origins = pd.DatetimeIndex(pd.to_datetime(list(origins))).sort_values()
    cells = np.asarray(study.cells)
    cix, ciy = parse_cell_ids(cells)
    margin = max(2, int(np.ceil(3 * cfg.kde_bandwidth_m / CELL_M)))
    grid = _Grid(cix, ciy, margin)
    inc = prepare_incidents(incidents, time_col)
    orig = _origins_table(origins)
    O = len(origins)
    o_index = {pd.Timestamp(t): k for k, t in enumerate(origins)}
    cols: dict[str, np.ndarray] = {}

    # 1. windowed counts per cell, weekend counts and recency (integer sums in Ibis)
    j = _window_join(inc, orig, cfg.max_window)
    is_weekend = (j.ts.day_of_week.index() >= 5).cast("int64")
    aggs = {f"n{w}": (j.age < w).cast("int64").sum() for w in cfg.windows}
    aggs.update(weekend=is_weekend.sum(), n_all=j.count(), min_age=j.age.min())
    wc = j.group_by(["t0", "ix", "iy"]).aggregate(**aggs).to_pandas()
    wo = wc.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64)
    wix, wiy = wc.ix.to_numpy(np.int64), wc.iy.to_numpy(np.int64)
    for w in cfg.windows:
        g = grid.dense(O, wo, wix, wiy, wc[f"n{w}"].to_numpy(np.float64))
        cols[f"n{w}_cell"], cols[f"n{w}_3x3"], cols[f"n{w}_5x5"] = grid.pick(g), grid.pick(box_sum(g, 1)), grid.pick(box_sum(g, 2))
        if w in (28, 365):  # overall level, so that a trend in the whole area reaches the model
            cols[f"area_n{w}"] = np.repeat(g.sum(axis=(1, 2))[:, None], len(cells), axis=1)
    g_all = box_sum(grid.dense(O, wo, wix, wiy, wc.n_all.to_numpy(np.float64)), 1)
    g_wk = box_sum(grid.dense(O, wo, wix, wiy, wc.weekend.to_numpy(np.float64)), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["weekend_share_3x3"] = grid.pick(np.where(g_all > 0, g_wk / g_all, np.nan))
    # recency: days since the last incident; cells without one in the window get the window length
    last = np.full((O, grid.h, grid.w), float(cfg.max_window))
    r, c = wiy - grid.y0, wix - grid.x0
    ok = (r >= 0) & (r < grid.h) & (c >= 0) & (c < grid.w)
    last[wo[ok], r[ok], c[ok]] = wc.min_age.to_numpy(np.float64)[ok]
    cols["days_since_last"] = grid.pick(last)

    # 2. decayed counts and KDE from (origin, cell, whole-day age) counts
    dmax = cfg.max_window
    jd = _window_join(inc, orig, dmax)
    dc = jd.group_by(["t0", "ix", "iy", jd.age.floor().cast("int64").name("age_day")]).aggregate(n=jd.count())
    dc = dc.to_pandas().sort_values(["t0", "ix", "iy", "age_day"], kind="stable")
    do = dc.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64)
    dix, diy, age = dc.ix.to_numpy(np.int64), dc.iy.to_numpy(np.int64), dc.age_day.to_numpy(np.float64)
    n = dc.n.to_numpy(np.float64)
    for tau in cfg.decay_days:
        g = grid.dense(O, do, dix, diy, n * np.exp(-age / tau))
        cols[f"dec{int(tau)}_cell"], cols[f"dec{int(tau)}_3x3"] = grid.pick(g), grid.pick(box_sum(g, 1))
    g = grid.dense(O, do, dix, diy, n * np.exp(-age / cfg.kde_decay_days))
    sigma = cfg.kde_bandwidth_m / CELL_M
    cols["kde"] = grid.pick(ndimage.gaussian_filter(g, sigma=(0, sigma, sigma), mode="constant", truncate=3.0))

    # 3. near repeat: exact distance from each recent incident to the centres of the nearby cells
    reach = int(np.ceil(cfg.near_repeat_m / CELL_M))
    off = np.arange(-reach, reach + 1)
    ox, oy = np.meshgrid(off, off)
    offsets = ibis.memtable(pd.DataFrame({"dx": ox.ravel().astype("int64"), "dy": oy.ravel().astype("int64")}))
    jn = _window_join(inc, orig, cfg.near_repeat_days).cross_join(offsets)
    jn = jn.mutate(tx=jn.ix + jn.dx, ty=jn.iy + jn.dy)
    dist2 = ((jn.tx.cast("float64") + 0.5) * CELL_M - jn.x) ** 2 + ((jn.ty.cast("float64") + 0.5) * CELL_M - jn.y) ** 2
    jn = jn.filter(dist2 <= cfg.near_repeat_m ** 2)
    nr = jn.group_by(["t0", "tx", "ty"]).aggregate(n=jn.count()).to_pandas()
    nro = nr.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64)
    cols["near_repeat"] = grid.pick(grid.dense(O, nro, nr.tx.to_numpy(np.int64), nr.ty.to_numpy(np.int64),
                                               nr.n.to_numpy(np.float64)))

    # 3b. same weeks in earlier years (seasonal pattern of the place); the shifted window ends
    # before t0 because lag > half width + horizon is required
    for lag in cfg.season_lags:
        if lag <= cfg.season_half_width + 14:
            raise AnalysisError(f"season_lags {lag} is te kort", hint="gebruik bv. 365 en 730 dagen")
        js = inc.join(orig, [inc.ts < orig.t0 - ibis.interval(days=lag - 7 - cfg.season_half_width),
                             inc.ts >= orig.t0 - ibis.interval(days=lag - 7 + cfg.season_half_width)])
        sc = js.group_by(["t0", "ix", "iy"]).aggregate(n=js.count()).to_pandas()
        so = sc.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64)
        g = grid.dense(O, so, sc.ix.to_numpy(np.int64), sc.iy.to_numpy(np.int64), sc.n.to_numpy(np.float64))
        cols[f"season{lag}_cell"], cols[f"season{lag}_3x3"] = grid.pick(g), grid.pick(box_sum(g, 1))

    # 4. buurt scale
    buurt = None
    if study.cell_buurt:
        buurt = np.array([study.cell_buurt.get(c) for c in cells], dtype=object)
        if "buurt_code" in inc.columns:
            jb = _window_join(inc, orig, max(cfg.buurt_windows))
            jb = jb.filter(jb.buurt_code.notnull())
            bc = jb.group_by(["t0", "buurt_code"]).aggregate(
                **{f"n{w}": (jb.age < w).cast("int64").sum() for w in cfg.buurt_windows}).to_pandas()
            bcodes = pd.Index(sorted(set(bc.buurt_code) | {b for b in buurt if b is not None}))
            bpos = bcodes.get_indexer(pd.Series(buurt, dtype="object"))
            bo = bc.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64)
            bi = bcodes.get_indexer(bc.buurt_code)
            for w in cfg.buurt_windows:
                m = np.zeros((O, len(bcodes) + 1))
                m[bo, bi] = bc[f"n{w}"].to_numpy(np.float64)
                m[:, -1] = np.nan  # cells without a known buurt
                cols[f"n{w}_buurt"] = m[:, np.where(bpos >= 0, bpos, len(bcodes))]

    # 5. season, context, facilities
    cols["month"] = np.repeat(origins.month.to_numpy(np.float64)[:, None], len(cells), axis=1)
    if context is not None and buurt is not None:
        ctx = context.to_pandas() if isinstance(context, ibis.Table) else pd.DataFrame(context)
        if "buurt_code" not in ctx.columns:
            raise AnalysisError("contexttabel heeft geen kolom 'buurt_code'",
                                hint=f"kolommen: {', '.join(map(str, ctx.columns))}")
        ctx = ctx.drop_duplicates("buurt_code").set_index("buurt_code")
        for col in ctx.columns:
            vals = pd.to_numeric(ctx[col], errors="coerce")
            if vals.notna().any():
                per_cell = vals.reindex(pd.Index(buurt)).to_numpy(np.float64)
                cols[f"ctx_{col}"] = np.repeat(per_cell[None, :], O, axis=0)
    for name, fac in (facilities or {}).items():
        f = fac.filter(fac.x_rd.notnull() & fac.y_rd.notnull())
        f = f.group_by(ix=(f.x_rd.cast("float64") / CELL_M).floor().cast("int64"),
                       iy=(f.y_rd.cast("float64") / CELL_M).floor().cast("int64")).aggregate(n=f.count()).to_pandas()
        g = grid.dense(1, np.zeros(len(f), np.int64), f.ix.to_numpy(np.int64), f.iy.to_numpy(np.int64),
                       f.n.to_numpy(np.float64))
        cols[f"fac_{name}_cell"] = np.repeat(grid.pick(g), O, axis=0)
        cols[f"fac_{name}_3x3"] = np.repeat(grid.pick(box_sum(g, 1)), O, axis=0)

    names = list(cols)
    X = np.stack([cols[k] for k in names], axis=2).astype(np.float32)
    return FeatureSet(origins=origins, cells=cells, ix=cix, iy=ciy, buurt=buurt, names=names, X=X,
                      study=study, config=cfg)


@dataclass
class Targets:
    """Observed counts in ``[t0, t0 + horizon)``: ``Y[o, i]`` on candidate cells, ``total[o]`` all
    incidents of the period in the study area, ``best[o]`` the observed counts of every cell of the
    study area sorted high → low (for the PEI maximum)."""

    Y: np.ndarray
    total: np.ndarray
    best: list[np.ndarray]


def period_counts(incidents: ibis.Table, fs: FeatureSet, horizon_days: int, *,
                  time_col: str = "begin_tijd") -> Targets:
    """Counts per cell in ``[t0, t0 + horizon)`` for every origin of ``fs``. With registry cells
    only incidents inside the study area count; with the fallback every incident counts (incidents
    in non-candidate cells are misses for every model)."""
    inc = prepare_incidents(incidents, time_col)
    j = _window_join(inc, _origins_table(fs.origins), horizon_days, forward=True)
    pc = j.group_by(["t0", "ix", "iy"]).aggregate(n=j.count()).to_pandas()
    O, N = len(fs.origins), len(fs.cells)
    o_index = {pd.Timestamp(t): k for k, t in enumerate(fs.origins)}
    po = pc.t0.map(lambda t: o_index[pd.Timestamp(t)]).to_numpy(np.int64) if len(pc) else np.zeros(0, np.int64)
    pid = pd.Index(fs.cells).get_indexer(cell_ids(pc.ix.to_numpy(np.int64), pc.iy.to_numpy(np.int64))) \
        if len(pc) else np.zeros(0, np.int64)
    inside = pid >= 0
    if fs.study.source != "fallback":
        pc, po, pid, inside = pc[inside], po[inside], pid[inside], np.ones(int(inside.sum()), bool)
    n = pc.n.to_numpy(np.float64)
    Y = np.zeros((O, N))
    np.add.at(Y, (po[inside], pid[inside]), n[inside])
    total = np.bincount(po, weights=n, minlength=O)
    best = [np.sort(n[po == o])[::-1] for o in range(O)]
    return Targets(Y=Y, total=total, best=best)


def study_area_from_registry(areas: ibis.Table, *, year: int, gemeente_code: str,
                             level: str = "buurt") -> StudyArea:
    """Candidate cells = 125 m cells whose centre lies in one of the municipality's areas of
    ``level`` in division ``year`` (from the registry view ``stadslab.areas``, geometry in RD); the
    land area is the sum of their ``land_area_ha``; each cell gets the code of the area it lies in."""
    a = areas.filter((areas.year == year) & (areas.level == level) & (areas.gemeente_code == gemeente_code))
    # bounding box from the areas' envelopes as WKT (DuckDB's Ibis compiler has no ST_XMin)
    env = a.select(wkt=a.geom.envelope().as_text(), land=a.land_area_ha).to_pandas()
    if env.empty:
        raise AnalysisError(f"geen gebieden van niveau '{level}' voor {gemeente_code} in indeling {year}",
                            hint="laad de gebiedsindeling van dat jaar of kies een ander indelingsjaar")
    xy = env.wkt.str.extractall(r"(-?[\d.]+(?:[eE][-+]?\d+)?)\s+(-?[\d.]+(?:[eE][-+]?\d+)?)").astype(float)
    ix = np.arange(int(np.floor(xy[0].min() / CELL_M)), int(np.floor(xy[0].max() / CELL_M)) + 1)
    iy = np.arange(int(np.floor(xy[1].min() / CELL_M)), int(np.floor(xy[1].max() / CELL_M)) + 1)
    land_sum = env.land.sum(min_count=1)
    gx, gy = np.meshgrid(ix, iy)
    centres = ibis.memtable(pd.DataFrame({"ix": gx.ravel(), "iy": gy.ravel(),
                                          "cx": (gx.ravel() + 0.5) * CELL_M, "cy": (gy.ravel() + 0.5) * CELL_M}))
    j = centres.join(a, a.geom.contains(centres.cx.point(centres.cy)))
    df = j.select(centres.ix, centres.iy, a.code).to_pandas().sort_values(["ix", "iy", "code"])
    df = df.drop_duplicates(["ix", "iy"])  # a centre on a shared border goes to the first code
    ids = cell_ids(df.ix.to_numpy(np.int64), df.iy.to_numpy(np.int64))
    land = float(land_sum) if pd.notna(land_sum) else None
    return StudyArea(cells=tuple(sorted(ids.tolist())), land_area_ha=land,
                     cell_buurt=dict(zip(ids.tolist(), df.code)), source=f"registry {gemeente_code} {year}")
