"""Grid weights, study area, cell geometry and grid_hotspots on a planted cluster."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.hotspots import grid_hotspots, lattice_weights
from stadslab.analyses.hotspots.lattice import cell_geometry, cell_ids, parse_cells, rd_to_wgs84, study_area_cells
from stadslab.errors import AnalysisError

libpysal = pytest.importorskip("libpysal")


@pytest.mark.parametrize("neighbourhood, rook", [("queen", False), ("rook", True)])
def test_lattice_weights_match_libpysal(neighbourhood: str, rook: bool) -> None:
    nrows, ncols = 6, 9
    # libpysal lat2W numbers units row by row; our units are (ix = column, iy = row), shuffled.
    r, c = np.divmod(np.arange(nrows * ncols), ncols)
    perm = np.random.default_rng(0).permutation(r.size)
    w = lattice_weights(c[perm] + 500, r[perm] - 20, neighbourhood).toarray()
    ref, _ = libpysal.weights.lat2W(nrows, ncols, rook=rook).full()
    np.testing.assert_array_equal(w, ref[np.ix_(perm, perm)])


def test_lattice_weights_irregular_and_duplicates() -> None:
    ix = np.array([0, 1, 5, 0])
    iy = np.array([0, 1, 5, 1])
    w = lattice_weights(ix, iy, "queen").toarray()
    assert w.sum(axis=1).tolist() == [2, 2, 0, 2] and (w == w.T).all()
    assert lattice_weights(ix, iy, "rook").toarray().sum(axis=1).tolist() == [1, 1, 0, 2]
    with pytest.raises(AnalysisError):
        lattice_weights(np.array([1, 1]), np.array([2, 2]))
    with pytest.raises(AnalysisError):
        lattice_weights(ix, iy, "hexagon")


def test_cell_ids_roundtrip_and_errors() -> None:
    ix, iy = parse_cells(["E1873N4671", "E-3N0"])
    assert ix.tolist() == [1873, -3] and iy.tolist() == [4671, 0]
    assert cell_ids(ix, iy).tolist() == ["E1873N4671", "E-3N0"]
    with pytest.raises(AnalysisError, match="E<getal>N<getal>"):
        parse_cells(["E1N2", "1873_4671"])


def test_study_area_is_hull_plus_ring() -> None:
    ix = np.array([0, 10, 0, 10, 5])
    iy = np.array([0, 0, 10, 10, 5])
    sx, sy = study_area_cells(ix, iy, ring=0)
    assert len(sx) == 121                                     # the full square, nothing more
    sx, sy = study_area_cells(np.array([0, 10, 0]), np.array([0, 0, 10]), ring=0)
    assert len(sx) == 66                                      # a triangle: 11·12/2 cells
    sx1, _ = study_area_cells(np.array([0, 10, 0]), np.array([0, 0, 10]), ring=1)
    assert len(sx1) > 66 and len(sx1) < 13 * 13
    sx, sy = study_area_cells(np.array([0, 4]), np.array([0, 0]), ring=1)     # collinear → bbox
    assert len(sx) == 7 * 3


def test_cell_geometry_matches_proj_and_is_valid_geojson() -> None:
    pyproj = pytest.importorskip("pyproj")
    ix, iy = parse_cells(["E1094N3647", "E1869N4655"])
    geo = cell_geometry(ix, iy, 125)
    assert geo["x_rd"].tolist() == [136812.5, 233687.5]
    to_wgs = pyproj.Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(geo["x_rd"], geo["y_rd"])
    np.testing.assert_allclose(geo["lon"], lon, atol=2e-5)    # ≈ 1.5 m; the formulas are ~0.25 m off
    np.testing.assert_allclose(geo["lat"], lat, atol=2e-5)
    for k, poly in enumerate(geo["polygon"]):
        ring = np.asarray(poly[0])
        assert ring.shape == (5, 2) and (ring[0] == ring[-1]).all()
        signed = 0.5 * np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1])
        assert signed > 0                                     # counter-clockwise (RFC 7946)
        assert ring[:, 0].min() < geo["lon"][k] < ring[:, 0].max()
        assert ring[:, 1].min() < geo["lat"][k] < ring[:, 1].max()


def test_rd_to_wgs84_amersfoort_origin() -> None:
    lon, lat = rd_to_wgs84(np.array([155000.0]), np.array([463000.0]))
    assert lon[0] == pytest.approx(5.38720621) and lat[0] == pytest.approx(52.15517440)


def test_planted_cluster_is_hot(planted: pd.DataFrame) -> None:
    out = grid_hotspots(planted)
    assert list(out.columns[:7]) == ["grid_125m", "count", "gi_z", "p", "q", "hot", "cold"]
    for col in ("x_rd", "y_rd", "lon", "lat", "polygon", "n_neighbours"):
        assert col in out.columns
    assert out["count"].sum() == len(planted) and out.attrs["n_points"] == len(planted)
    hot = set(out.loc[out.hot, "grid_125m"])
    core = {f"E{1000 + i}N{4000 + j}" for i in range(10, 13) for j in range(20, 23)}
    assert core <= hot                                        # the whole planted block is found
    far = out[(out.x_rd < (1000 + 5) * 125) & (out.y_rd < (4000 + 5) * 125)]
    assert not far.hot.any()                                  # nothing in the far corner
    assert out.hot.sum() <= (out.p < 0.05).sum()
    assert not (out.hot & out.cold).any()
    assert out["count"].dtype == np.int64 and out["hot"].dtype == bool


def test_ibis_and_pandas_inputs_agree(planted: pd.DataFrame) -> None:
    a = grid_hotspots(planted)
    b = grid_hotspots(ibis.memtable(planted))
    pd.testing.assert_frame_equal(a.drop(columns="polygon"), b.drop(columns="polygon"))


def test_pre_aggregated_counts_give_the_same(planted: pd.DataFrame) -> None:
    agg = planted.groupby("grid_125m").size().rename("n").reset_index()
    a = grid_hotspots(planted)
    b = grid_hotspots(agg, count_column="n")
    c = grid_hotspots(ibis.memtable(agg), count_column="n")
    np.testing.assert_allclose(a.gi_z, b.gi_z)
    np.testing.assert_allclose(a.gi_z, c.gi_z)


def test_study_cells_include_zeros_and_drop_outside(planted: pd.DataFrame) -> None:
    study = {f"E{1000 + i}N{4000 + j}" for i in range(-5, 35) for j in range(-5, 35)}
    out = grid_hotspots(planted, study_cells=study)
    assert len(out) == 1600 and set(out.grid_125m) == study
    assert (out["count"] == 0).sum() >= 1600 - 900
    small = {f"E{1000 + i}N{4000 + j}" for i in range(0, 15) for j in range(0, 30)}
    part = grid_hotspots(planted, study_cells=small)
    assert part.attrs["n_outside_study"] == len(planted) - part["count"].sum() > 0


def test_rook_finds_fewer_or_equal_neighbours(planted: pd.DataFrame) -> None:
    q = grid_hotspots(planted, neighbourhood="queen")
    r = grid_hotspots(planted, neighbourhood="rook")
    assert (r.n_neighbours <= q.n_neighbours).all() and r.n_neighbours.max() == 4


def test_permutation_inference(planted: pd.DataFrame) -> None:
    # The smallest two-sided permutation p is 2/(P+1); with the FDR over ~1000 cells BH needs
    # p ≤ 0.05·k/1000, so 999 permutations flag nothing for a 9-cell cluster and 4999 do.
    few = grid_hotspots(planted, permutations=999, seed=1)
    assert few.p.min() >= 2 / 1000 and not few.hot.any()
    out = grid_hotspots(planted, permutations=4999, seed=1)
    core = {f"E{1000 + i}N{4000 + j}" for i in range(10, 13) for j in range(20, 23)}
    hot = set(out.loc[out.hot, "grid_125m"])
    assert len(hot & core) >= 5 and hot <= {f"E{1000 + i}N{4000 + j}" for i in range(8, 15) for j in range(18, 25)}
    assert not out.cold.any()                                # empty cells are not "cold" through ties


def test_edge_cases() -> None:
    empty = grid_hotspots(pd.DataFrame({"grid_125m": pd.Series([], dtype=object)}))
    assert len(empty) == 0 and "hot" in empty.columns
    one = grid_hotspots(pd.DataFrame({"grid_125m": ["E10N10"] * 5}))
    assert len(one) == 9 and not one.hot.any() and not one.cold.any()   # one cell + ring: nothing to test
    missing = grid_hotspots(pd.DataFrame({"grid_125m": ["E10N10", None, "E12N12", "E10N12"]}))
    assert missing.attrs["n_missing_cell"] == 1
    with pytest.raises(AnalysisError, match="kolom 'grid_125m'"):
        grid_hotspots(pd.DataFrame({"x": [1]}))
    with pytest.raises(AnalysisError, match="kolom 'grid_125m'"):
        grid_hotspots(ibis.memtable(pd.DataFrame({"x": [1]})))
