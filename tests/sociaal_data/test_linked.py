"""The linked frame (docs/dev/DDD-CONTRACT.md): columns, types, and values checked against the truth."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd

from stadslab.analyses.sociaal.linked import COLUMNS, SOURCES, ZRM_COLUMNS, linked_sources
from stadslab.workspace import Workspace


def test_columns_and_types(ddd_ws):
    ws = Workspace.resolve(ddd_ws)
    from stadslab.analyses.sociaal import linked_frame

    with ws.warehouse(read_only=True) as wh:
        t = linked_frame(wh, ws.catalog())
        schema = t.schema()
        assert tuple(t.columns) == COLUMNS
        assert linked_sources(ws.catalog(), wh) == {d: 1 for d in SOURCES}
        assert linked_sources(ws.catalog()) == {d: None for d in SOURCES}
    for c in ("verzuim_pct", "verzuim_pct_volgend"):
        assert schema[c].is_floating()
    for c in ("geboortejaar", "leeftijd", *ZRM_COLUMNS):
        assert schema[c].is_integer()
    for c in ("bijstand", "zrm_gemeten", "traject", "traject_lopend", "schooljaar", "wijk_code", "school"):
        assert schema[c].is_string()


def test_one_row_per_pupil_year(frame, truth):
    assert len(frame) == len(truth)
    assert not frame.duplicated(["pseudo_id", "schooljaar"]).any()
    assert set(frame["bijstand"]) == {"ja", "nee"} and set(frame["traject"]) == {"ja", "nee"}
    assert frame["leeftijd"].between(5, 17).all()
    assert (frame["zrm_gemeten"] == "nee").eq(frame["zrm_financien"].isna()).all()
    assert ((frame["traject"] == "ja") <= (frame["traject_lopend"] == "ja")).all()   # started in t ⇒ running in t


def test_values_equal_the_truth(frame, truth, to_project):
    _, pid = to_project(list(truth["bsn"]))
    t = truth.assign(pseudo_id=pid)
    m = frame.merge(t, on=["pseudo_id", "schooljaar"], suffixes=("", "_waar"), validate="one_to_one")
    assert len(m) == len(frame)
    assert (m["bijstand"].eq("ja") == m["bijstand_waar"]).all()       # a pupil in a bijstand household: ja
    assert (m["traject"].eq("ja") == m["traject_waar"]).all()
    assert (m["zrm_financien"].fillna(0).astype(int) == m["zrm_financien_waar"]).all()
    assert np.allclose(m["verzuim_pct"], m["verzuim_pct_waar"])
    both = m["verzuim_pct_volgend"].notna()
    assert (both == m["verzuim_pct_volgend_waar"].notna()).all()
    assert np.allclose(m.loc[both, "verzuim_pct_volgend"], m.loc[both, "verzuim_pct_volgend_waar"])
    assert (m["wijk_code"] == m["wijk_code_waar"]).all() and (m["school"] == m["school_waar"]).all()
    assert m["bijstand_waar"].any() and m["traject_waar"].any()


def test_latest_zrm_up_to_the_end_of_the_year(ddd_ws, frame):
    """One household by hand: its ZRM score in year t is the last assessment on or before 31 July."""
    import pyarrow.parquet as pq

    z = pq.read_table(ddd_ws / "data" / "ddd" / "zrm.parquet").to_pandas()
    row = frame[frame["zrm_gemeten"] == "ja"].iloc[0]
    end = pd.Timestamp(int(row["schooljaar"][:4]) + 1, 7, 31)
    own = z[(z["pseudo_id"] == row["pseudo_id_ouder"]) & (pd.to_datetime(z["datum"]) <= end)]
    last = own.sort_values("datum").iloc[-1]
    assert int(last["zrm_financien"]) == int(row["zrm_financien"])


def test_analyses_package_is_engine_neutral():
    pkg = Path(__file__).resolve().parents[2] / "stadslab" / "analyses" / "sociaal" / "linked.py"
    names = {a.name.split(".")[0] for n in ast.walk(ast.parse(pkg.read_text())) if isinstance(n, (ast.Import, ast.ImportFrom))
             for a in (n.names if isinstance(n, ast.Import) else [ast.alias(n.module or "")])}
    assert "duckdb" not in names and "pandas" not in names
