"""Features: known values against plain pandas, and no leakage from incidents at or after t0."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.risk.features import (FeatureConfig, StudyArea, build_features, parse_cell_ids,
                                              period_counts, resolve_study_area, study_area_from_registry)
from stadslab.analyses.risk.models import predict_risk
from stadslab.errors import AnalysisError

T0 = pd.Timestamp("2021-06-04")
CFG = FeatureConfig(windows=(14, 28, 365), decay_days=(30.0,), season_lags=(365,), kde_bandwidth_m=200.0)


def cell_of(x, y) -> np.ndarray:
    return np.array([f"E{int(np.floor(a / 125))}N{int(np.floor(b / 125))}" for a, b in zip(x, y)])


@pytest.fixture(scope="module")
def feats(risk_small):
    inc = ibis.memtable(risk_small)
    study = resolve_study_area(inc, StudyArea(), T0)
    return risk_small, study, build_features(inc, [T0 - pd.Timedelta(days=14), T0], study=study, config=CFG)


def test_window_counts_match_pandas(feats):
    df, study, fs = feats
    df = df.assign(cell=cell_of(df.x_rd, df.y_rd))
    for w in (14, 28, 365):
        sel = df[(df.begin_tijd < T0) & (df.begin_tijd >= T0 - pd.Timedelta(days=w))]
        expected = sel.cell.value_counts().reindex(fs.cells, fill_value=0).to_numpy()
        np.testing.assert_array_equal(fs.col(f"n{w}_cell")[1], expected)
    # 3×3: sum over the neighbours, computed from the cell counts
    sel = df[(df.begin_tijd < T0) & (df.begin_tijd >= T0 - pd.Timedelta(days=365))]
    counts = sel.cell.value_counts()
    ix, iy = parse_cell_ids(fs.cells)
    want = [sum(counts.get(f"E{a + dx}N{b + dy}", 0) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) for a, b in zip(ix, iy)]
    np.testing.assert_array_equal(fs.col("n365_3x3")[1], want)


def test_near_repeat_exact_distance(feats):
    df, study, fs = feats
    recent = df[(df.begin_tijd < T0) & (df.begin_tijd >= T0 - pd.Timedelta(days=14))]
    ix, iy = parse_cell_ids(fs.cells)
    cx, cy = (ix + 0.5) * 125, (iy + 0.5) * 125
    d2 = (cx[:, None] - recent.x_rd.to_numpy()[None]) ** 2 + (cy[:, None] - recent.y_rd.to_numpy()[None]) ** 2
    np.testing.assert_array_equal(fs.col("near_repeat")[1], (d2 <= 200.0 ** 2).sum(axis=1))


def test_fallback_cells_are_incident_cells_plus_neighbours(feats):
    df, study, fs = feats
    past = df[df.begin_tijd < T0]
    ix, iy = np.floor(past.x_rd / 125).astype(int), np.floor(past.y_rd / 125).astype(int)
    want = {f"E{a + dx}N{b + dy}" for a, b in zip(ix, iy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    assert set(study.cells) == want
    assert study.source == "fallback"
    assert study.cell_buurt  # buurt per cell from the incidents' buurt_code
    assert "n28_buurt" in fs.names


def test_no_leakage_features_and_prediction(risk_small):
    """Adding incidents after t0 and scrambling everything at/after t0 changes nothing for t0."""
    rng = np.random.default_rng(3)
    df = risk_small
    future = df[df.begin_tijd >= T0].copy()
    scrambled = future.copy()
    scrambled["x_rd"] = rng.permutation(future.x_rd.to_numpy())
    scrambled["y_rd"] = rng.uniform(future.y_rd.min(), future.y_rd.max(), len(future))
    scrambled["begin_tijd"] = (T0 + pd.to_timedelta(rng.uniform(0, 400, len(future)), unit="D")).astype("datetime64[us]")
    extra = scrambled.sample(200, replace=True, random_state=1)
    at_t0 = df.iloc[:5].assign(begin_tijd=T0)  # exactly at t0: belongs to the predicted period
    other = pd.concat([df[df.begin_tijd < T0], scrambled, extra, at_t0], ignore_index=True)
    a, b = ibis.memtable(df), ibis.memtable(other)
    origins = [T0 - pd.Timedelta(days=28), T0]
    sa = resolve_study_area(a, StudyArea(), T0)
    sb = resolve_study_area(b, StudyArea(), T0)
    assert sa.cells == sb.cells and sa.cell_buurt == sb.cell_buurt
    fa = build_features(a, origins, study=sa, config=CFG)
    fb = build_features(b, origins, study=sb, config=CFG)
    assert fa.names == fb.names
    assert np.array_equal(fa.X, fb.X, equal_nan=True)
    pa = predict_risk(a, T0, config=CFG, train_periods=20)
    pb = predict_risk(b, T0, config=CFG, train_periods=20)
    assert np.array_equal(pa.table.expected.to_numpy(), pb.table.expected.to_numpy())
    assert pa.table.cell_id.tolist() == pb.table.cell_id.tolist()
    # and the future does matter for the targets (the test would notice a broken filter)
    ta, tb = period_counts(a, fa, 14), period_counts(b, fb, 14)
    assert not np.array_equal(ta.Y[1], tb.Y[1])


def test_prediction_table(risk_small):
    pred = predict_risk(ibis.memtable(risk_small), T0, top=0.05, config=CFG, train_periods=20,
                        study=StudyArea(land_area_ha=100 * 1.5625))
    t = pred.table
    assert t["rank"].tolist() == list(range(1, len(t) + 1))
    assert t.flagged.sum() == 5  # 5 % of 100 cells
    # the planted hottest cell (row 2, column 3 of the town) is flagged
    assert "E963N3842" in set(t[t.flagged].cell_id)
    assert t.toelichting.str.contains("incident|seizoen|omgeving|buurt").all()
    assert not t.toelichting.str.contains(r"n\d+_|kde|dec\d").any()  # no raw feature names
    assert (t.expected >= 0).all()


def test_missing_column_names_it(risk_small):
    with pytest.raises(AnalysisError, match="x_rd"):
        build_features(ibis.memtable(risk_small.drop(columns="x_rd")), [T0], study=StudyArea(cells=("E1N1",)))


def test_study_area_from_registry(tmp_path):
    """Cells whose centre lies in the municipality's buurten (DuckDB spatial through Ibis)."""
    from stadslab.warehouse.connection import connect, spatial_extension_path

    con = connect()
    # Ibis checks duckdb_extensions() and runs INSTALL for a loaded-but-not-installed extension,
    # which needs the network; installing the wheel's file into a temporary folder satisfies it.
    con.execute(f"SET extension_directory = '{tmp_path}'")
    con.execute(f"INSTALL '{spatial_extension_path()}'")
    # two buurten of 500 × 250 m side by side, plus one of another municipality
    con.execute("""CREATE TABLE areas AS SELECT * FROM (VALUES
        (2017, 'buurt', 'BU1', 'a', 'WK1', 'GM0001', 12.5, ST_GeomFromText('POLYGON((1000 2000, 1500 2000, 1500 2250, 1000 2250, 1000 2000))')),
        (2017, 'buurt', 'BU2', 'b', 'WK1', 'GM0001', 12.5, ST_GeomFromText('POLYGON((1500 2000, 2000 2000, 2000 2250, 1500 2250, 1500 2000))')),
        (2017, 'buurt', 'BU3', 'c', 'WK9', 'GM0009', 99.0, ST_GeomFromText('POLYGON((5000 5000, 6000 5000, 6000 6000, 5000 6000, 5000 5000))')))
        AS t(year, level, code, name, parent_code, gemeente_code, land_area_ha, geom)""")
    areas = ibis.duckdb.from_connection(con).table("areas")
    st = study_area_from_registry(areas, year=2017, gemeente_code="GM0001")
    assert len(st.cells) == 4 * 2 * 2  # 1000 m × 250 m = 8 × 2 cells
    assert st.land_area_ha == pytest.approx(25.0)
    assert st.n_area_cells == pytest.approx(16.0)
    assert st.cell_buurt["E8N16"] == "BU1" and st.cell_buurt["E15N17"] == "BU2"
    with pytest.raises(AnalysisError, match="GM0002"):
        study_area_from_registry(areas, year=2017, gemeente_code="GM0002")


def test_context_and_facilities(risk_small):
    inc = ibis.memtable(risk_small)
    study = resolve_study_area(inc, StudyArea(), T0)
    ctx = pd.DataFrame({"buurt_code": ["BU00000001", "BU00000002"], "a_inw": [1200, 800], "naam": ["a", "b"]})
    lights = ibis.memtable(pd.DataFrame({"x_rd": [120_010.0, 120_020.0, 120_140.0], "y_rd": [480_010.0] * 3}))
    fs = build_features(inc, [T0], study=study, config=CFG, context=ctx, facilities={"lichtmast": lights})
    assert "ctx_naam" not in fs.names  # non-numeric context columns are skipped
    inw = fs.col("ctx_a_inw")[0]
    want = np.array([{"BU00000001": 1200.0, "BU00000002": 800.0}.get(study.cell_buurt.get(c), np.nan)
                     for c in fs.cells])
    np.testing.assert_array_equal(inw, want)
    cell = list(fs.cells).index("E960N3840")
    assert fs.col("fac_lichtmast_cell")[0][cell] == 2
    assert fs.col("fac_lichtmast_3x3")[0][cell] == 3
