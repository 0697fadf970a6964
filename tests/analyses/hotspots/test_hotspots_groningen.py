"""Hotspots on the real bundled Groningen bicycle-theft data (demo workspace, 2013–2017)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.hotspots import area_cells, area_hotspots, area_weights, change_test, grid_hotspots
from stadslab.workspace import Workspace

DATASET = "groningen_fietsdiefstal"
CENTRUM = "WK001400"          # Groningen Centrum (Binnenstad) in the 2017 division


@pytest.fixture(scope="module")
def wh(demo_ws):
    ws = Workspace.resolve(demo_ws)
    with ws.warehouse(read_only=True) as w:
        yield w


@pytest.fixture(scope="module")
def cell_wijk(wh) -> pd.Series:
    """The wijk holding most incidents of each cell (cells at a wijk border are rare)."""
    t = wh.table(DATASET)
    df = t.group_by(["grid_125m", "wijk_code"]).aggregate(n=t.count()).to_pandas()
    df = df.sort_values(["grid_125m", "n"], ascending=[True, False]).drop_duplicates("grid_125m")
    return df.set_index("grid_125m")["wijk_code"]


def test_grid_hotspots_in_city_centre(wh, cell_wijk) -> None:
    t = wh.table(DATASET)
    out = grid_hotspots(t, alpha=0.05)
    assert out["count"].sum() == t.count().to_pyarrow().as_py() - out.attrs["n_missing_cell"]
    hot = out[out.hot]
    assert len(hot) >= 10
    assert len(hot) <= (out.p < 0.05).sum()                   # FDR never flags more than unadjusted
    # Hot cells without incidents of their own (surrounded by hot cells) have no wijk here.
    wijk_of_hot = cell_wijk.reindex(hot.grid_125m).dropna()
    assert (wijk_of_hot == CENTRUM).mean() > 0.5             # most hot cells lie in the centre
    assert wijk_of_hot.str.startswith("WK0014").all()         # and all in the municipality
    top10 = out.nlargest(10, "gi_z").grid_125m
    assert (cell_wijk.reindex(top10) == CENTRUM).all()        # the strongest ones all in the centre
    # The map needs coordinates near Groningen (lon ≈ 6.57, lat ≈ 53.22).
    assert 6.4 < hot.lon.mean() < 6.7 and 53.1 < hot.lat.mean() < 53.3
    assert not out.cold.any() or out.cold.sum() < out.hot.sum()


def test_grid_study_area_from_buurten(wh) -> None:
    cells = area_cells(wh, 2017, "GM0014")
    out = grid_hotspots(wh.table(DATASET), study_cells=cells)
    assert len(out) == len(cells) and out.attrs["n_outside_study"] < 0.01 * out.attrs["n_points"]
    assert out.hot.sum() >= 10


def test_buurt_hotspots_in_centre(wh) -> None:
    aw = area_weights(wh, 2017, "buurt", "GM0014")
    assert len(aw.codes) > 100 and aw.W.nnz > 4 * len(aw.codes)
    t = wh.table(DATASET)
    counts = t.group_by(t.buurt_code.name("code")).aggregate(count=t.count()).to_pandas()
    out = area_hotspots(counts, aw)
    hot = out[out.hot]
    assert len(hot) >= 3 and hot.code.str.startswith("BU001400").sum() >= 3
    assert out.hot.sum() <= (out.p < 0.05).sum()


def test_change_between_years_per_wijk(wh) -> None:
    t = wh.table(DATASET)
    year = t.begin_tijd.year()
    df = (t.filter(year.isin([2015, 2016])).group_by([t.wijk_code, year.name("jaar")])
          .aggregate(n=ibis._.count()).to_pandas())
    wide = df.pivot_table(index="wijk_code", columns="jaar", values="n", fill_value=0)
    res = change_test(wide[2016].to_numpy(), wide[2015].to_numpy())
    assert len(res) == len(wide) and set(res.label) <= {"significant gestegen", "significant gedaald", "binnen toeval"}
    assert np.isfinite(res.p).all()
