"""Helpers: the analyses that must give the same figures on DuckDB, on a standalone Spark cluster (driver here) and
through Spark Connect — reading the lake copy of exactly the committed version.

Counts must be equal; floating-point sums may differ in the last bits because Spark adds partial
sums in another order: relative tolerance 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stadslab.analyses.forecasting.series import build_series
from stadslab.analyses.hotspots.grid import count_per_cell
from stadslab.analyses.monitoring import counts_per_area
from stadslab.analyses.risk.features import prepare_incidents
from stadslab.privacy.access import User
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.privacy.release import release_aggregate
from stadslab.warehouse import engine as E

ANALYST = User("analist", "Analist", roles=("sociaal_analist",), purposes=("sociaal_domein",))
FLOAT_RTOL = 1e-9


def _sorted(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    return df.sort_values(key, na_position="first").reset_index(drop=True)


def analyses(wh, cat, audit_dir) -> dict[str, pd.DataFrame]:
    """The demo's pipelines, written once, against whatever ``wh.table`` returns."""
    inc = wh.table("incidenten")
    out = {}
    out["monitoring"] = _sorted(counts_per_area(inc, by=["wijk_code", "soort"], time_column="tijd",
                                                start=pd.Timestamp("2023-03-01"),
                                                end=pd.Timestamp("2023-10-01")).to_pandas(), ["wijk_code", "soort"])
    cells, missing = count_per_cell(inc)
    out["hotspot_cells"] = _sorted(cells, ["grid_125m"])
    out["hotspot_buurt"] = _sorted(counts_per_area(inc, by=["buurt_code"]).to_pandas(), ["buurt_code"])
    p = prepare_incidents(inc, "tijd")
    out["risk_cells"] = _sorted(p.group_by(["ix", "iy"]).aggregate(n=p.count(), sx=p.x.sum()).to_pandas(), ["ix", "iy"])
    series = build_series(inc, time="tijd", key="soort", freq="M")
    out["forecast_input"] = _sorted(series, list(series.columns[:2]))
    store = SuppressionStore(None)
    rel = release_aggregate(wh, cat.get("hulp"), user=ANALYST, purpose="sociaal_domein",
                            by=["wijk_code", "in_schuld"], link=[cat.get("schuld")],
                            audit=AuditLog(audit_dir / "audit.jsonl"), store=store)
    out["release_linked"] = _sorted(rel.frame, ["wijk_code", "in_schuld"])
    out["schade_total"] = inc.aggregate(s=inc.schade.sum(), n=inc.count()).to_pandas()
    return out


def compare(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name]), name
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, rtol=FLOAT_RTOL, obj=name)


def on_duckdb(scale_ws, audit_dir: Path) -> dict[str, pd.DataFrame]:
    audit_dir.mkdir(parents=True, exist_ok=True)
    with scale_ws.warehouse() as wh:
        res = analyses(wh, scale_ws.catalog(), audit_dir)
    assert res["hotspot_cells"]["count"].sum() > 1000 and len(res["monitoring"]) > 10
    assert res["release_linked"]["n"].notna().sum() >= 2       # the gate lets the big cells through
    return res


def spark_wh(scale_ws, wh, backend):
    settings = E.settings(scale_ws.root, {**scale_ws.config, "engine": "spark"})
    return E.SparkWarehouse(wh, backend, settings.lake)
