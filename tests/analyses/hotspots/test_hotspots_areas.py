"""Area contiguity from a small ``stadslab.areas`` in DuckDB, and Gi* per area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.hotspots import AreaWeights, area_cells, area_hotspots, area_weights, getis_ord_gi_star
from stadslab.errors import AnalysisError
from stadslab.warehouse.connection import connect

GAP = 0.3          # metres between neighbouring squares: real boundary files have such slivers


@pytest.fixture(scope="module")
def con():
    """A 4×3 block of 100 m square buurten (codes BU99990rc, row r, column c) with 0.3 m gaps, one
    island buurt far away, a wijk row and another year, in a table named stadslab.areas."""
    c = connect()
    c.execute("CREATE SCHEMA stadslab")
    c.execute("CREATE TABLE stadslab.areas (year INTEGER, level VARCHAR, code VARCHAR, gemeente_code VARCHAR, "
              "geom GEOMETRY)")
    rows = []
    for r in range(3):
        for k in range(4):
            x0, y0 = 200000 + k * 100, 500000 + r * 100
            rows.append((2020, "buurt", f"BU999900{r}{k}", "GM9999",
                         f"POLYGON(({x0} {y0}, {x0 + 100 - GAP} {y0}, {x0 + 100 - GAP} {y0 + 100 - GAP}, "
                         f"{x0} {y0 + 100 - GAP}, {x0} {y0}))"))
    rows.append((2020, "buurt", "BU99990099", "GM9999", "POLYGON((210000 500000, 210100 500000, 210100 500100, "
                                                        "210000 500100, 210000 500000))"))
    rows.append((2020, "buurt", "BU88880000", "GM8888", "POLYGON((200400 500000, 200500 500000, 200500 500100, "
                                                        "200400 500100, 200400 500000))"))
    rows.append((2020, "wijk", "WK999900", "GM9999", "POLYGON((200000 500000, 200400 500000, 200400 500300, "
                                                     "200000 500300, 200000 500000))"))
    rows.append((2019, "buurt", "BU77770000", "GM9999", "POINT(0 0)"))
    c.executemany("INSERT INTO stadslab.areas VALUES (?, ?, ?, ?, ST_GeomFromText(?::VARCHAR))", rows)
    yield c
    c.close()


def block_codes() -> list[str]:
    return [f"BU999900{r}{k}" for r in range(3) for k in range(4)]


def test_queen_contiguity_matches_lattice(con, lattice) -> None:
    aw = area_weights(con, 2020, "buurt", "GM9999")
    assert isinstance(aw, AreaWeights)
    assert aw.codes.tolist() == sorted(block_codes() + ["BU99990099"])
    idx = [aw.codes.tolist().index(c) for c in block_codes()]
    np.testing.assert_array_equal(aw.W.toarray()[np.ix_(idx, idx)], lattice(3, 4))
    island = aw.codes.tolist().index("BU99990099")
    assert aw.W[island].nnz == 0 and (aw.W != aw.W.T).nnz == 0


def test_rook_and_tolerance(con, lattice) -> None:
    rook = area_weights(con, 2020, "buurt", "GM9999", contiguity="rook")
    idx = [rook.codes.tolist().index(c) for c in block_codes()]
    np.testing.assert_array_equal(rook.W.toarray()[np.ix_(idx, idx)], lattice(3, 4, rook=True))
    tight = area_weights(con, 2020, "buurt", "GM9999", tolerance_m=0.1)
    assert tight.W.nnz == 0                               # 0.3 m gaps are not bridged by 0.1 m


def test_without_gemeente_filter_and_errors(con) -> None:
    aw = area_weights(con, 2020, "buurt")
    assert "BU88880000" in aw.codes.tolist()
    i = aw.codes.tolist().index("BU88880000")
    j = aw.codes.tolist().index("BU99990003")             # touches the block's east side (x = 200400)
    assert aw.W[i, j] == 1
    with pytest.raises(AnalysisError, match="geen gebieden"):
        area_weights(con, 2031, "buurt", "GM9999")
    with pytest.raises(AnalysisError):
        area_weights(con, 2020, "straat")
    with pytest.raises(AnalysisError):
        area_weights(object(), 2020)


def test_area_hotspots(con) -> None:
    aw = area_weights(con, 2020, "buurt", "GM9999")
    counts = pd.DataFrame({"code": ["BU99990000", "BU99990001", "BU99990010", "BU99990011", "BU99990023",
                                    None, "BU12345678"],
                           "count": [40, 35, 38, 30, 2, 5, 7]})
    out = area_hotspots(counts, aw, alpha=0.1)
    assert out.code.tolist() == aw.codes.tolist() and out["count"].sum() == 145
    assert out.attrs["unknown_codes"] == ["BU12345678"] and out.attrs["n_unknown"] == 12
    # Same z as Gi* on the aligned values directly.
    direct = getis_ord_gi_star(out["count"].to_numpy(float), aw.W)
    np.testing.assert_allclose(out.gi_z, direct.z)
    assert out.set_index("code").loc["BU99990000", "gi_z"] > 2
    island = out.set_index("code").loc["BU99990099"]
    assert np.isnan(island.gi_z) and not island.hot and island.n_neighbours == 0
    assert out.hot.sum() <= (out.p < 0.1).sum()


def test_area_hotspots_on_rates(con) -> None:
    aw = area_weights(con, 2020, "buurt", "GM9999")
    codes = aw.codes.tolist()
    counts = pd.DataFrame({"code": codes, "count": np.arange(len(codes)) + 1,
                           "population": [1000.0] * (len(codes) - 2) + [0.0, np.nan]})
    out = area_hotspots(counts, aw, value="rate")
    assert np.isnan(out.rate_per_1000.iloc[-2:]).all() and np.isnan(out.gi_z.iloc[-2:]).all()
    assert out.attrs["n_without_value"] == 2
    kept = np.arange(len(codes) - 2)
    w = aw.W.tocsr()[kept][:, kept]
    np.testing.assert_allclose(out.gi_z.iloc[:-2], getis_ord_gi_star(out.rate_per_1000.iloc[:-2].to_numpy(), w).z)
    with pytest.raises(AnalysisError, match="population"):
        area_hotspots(counts.drop(columns="population"), aw, value="rate")


def test_area_hotspots_all_zero(con) -> None:
    aw = area_weights(con, 2020, "buurt", "GM9999")
    out = area_hotspots(pd.DataFrame({"code": [], "count": []}), aw)
    assert (out["count"] == 0).all() and not out.hot.any() and not out.cold.any()


def test_area_cells(con) -> None:
    cells = area_cells(con, 2020, "GM9999", cell_m=125)
    # The block spans x 200000..200400, y 500000..500300 → cells 1600..1603 × 4000..4002, plus the
    # island at 210000..210100 × 500000..500100 → cell 1680 × 4000.
    expected = {f"E{ix}N{iy}" for ix in range(1600, 1604) for iy in range(4000, 4003)} | {"E1680N4000"}
    assert cells == expected
    with pytest.raises(AnalysisError):
        area_cells(con, 2020, "GM0000")


def test_spatial_distance_bug_is_why_we_buffer() -> None:
    """Guard for the workaround in area_weights: if DuckDB spatial fixes ST_DWithin for polygons,
    this fails and the plain ST_DWithin can be used again."""
    c = connect()
    row = c.execute("SELECT ST_DWithin('POLYGON((0 0,1 0,1 1,0 1,0 0))'::GEOMETRY, "
                    "'POLYGON((5 0,6 0,6 1,5 1,5 0))'::GEOMETRY, 1), "
                    "ST_Intersects(ST_Buffer('POLYGON((0 0,1 0,1 1,0 1,0 0))'::GEOMETRY, 1), "
                    "'POLYGON((5 0,6 0,6 1,5 1,5 0))'::GEOMETRY)").fetchone()
    c.close()
    assert row == (True, False)
