"""Point datasets enter as counts per buurt (by the buurt code assigned at ingest), per 1,000 inhabitants and
per hectare land (CBS denominators), only for events in the chosen year; the minimum-population rule holds."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from shapely.geometry import shape

from stadslab.analyses.discovery import run_discovery
from stadslab.privacy.access import ANONYMOUS
from stadslab.workspace import Workspace
from tests.conftest import UTRECHT_BUURTEN_RD, run_cli

ENTRY = {
    "id": "meldingen_test", "title": "Meldingen openbare ruimte (synthetisch, test)", "owner": "Gemeente (test)",
    "classification": "open", "simulated": True, "description": "Synthetische meldingen voor de discovery-tests.",
    "temporal_coverage": {"start": "2022-01-01", "end": "2023-12-31"},
    "geography": {"level": "point", "division_year": 2024, "crs": "EPSG:28992"},
    "source": {"path": "test/meldingen.csv", "options": {"delimiter": ";"}},
    "fields": [
        {"name": "melding_id", "type": "string", "nullable": False, "unique": True},
        {"name": "datum", "type": "date", "format": "%Y-%m-%d"},
        {"name": "x", "type": "number", "role": "x", "unit": "m"},
        {"name": "y", "type": "number", "role": "y", "unit": "m"},
    ],
}


@pytest.fixture(scope="module")
def points_ws(demo_ws, tmp_path_factory):
    root = tmp_path_factory.mktemp("punten") / "ws"
    shutil.copytree(demo_ws, root)
    rng = np.random.default_rng(2)
    buurten = {f["properties"]["buurtcode"]: shape(f["geometry"])
               for f in json.loads(UTRECHT_BUURTEN_RD.read_text(encoding="utf-8"))["features"]}
    planted = {code: int(rng.integers(0, 12)) for code in buurten}
    rows, k = [], 0
    for code, poly in buurten.items():
        p = poly.representative_point()        # well inside the buurt
        for year, n in ((2023, planted[code]), (2022, 3)):   # 2022 rows must not count for 2023
            for _ in range(n):
                rows.append({"melding_id": f"M{k}", "datum": f"{year}-06-15", "x": round(p.x, 2), "y": round(p.y, 2)})
                k += 1
    path = root / "data" / "test" / "meldingen.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["melding_id", "datum", "x", "y"], delimiter=";")
        w.writeheader()
        w.writerows(rows)
    (root / "catalog" / "meldingen_test.yaml").write_text(yaml.safe_dump(ENTRY, allow_unicode=True), encoding="utf-8")
    run_cli("ingest", "meldingen_test", "-w", str(root))
    return root, planted


def test_points_become_counts_and_rates_for_the_year(points_ws):
    root, planted = points_ws
    w = Workspace.resolve(str(root))
    with w.warehouse(read_only=True) as wh:
        run = run_discovery(wh, w.catalog(), level="buurt", year=2023, gemeente_code="GM0344", user=ANONYMOUS,
                            purpose=None, audit=None)
        kwb = wh.table("cbs_kwb_utrecht_2023").to_pandas().set_index("gwb_code_10")
    names = [v.name for v in run.data.variables]
    X = run.data.X
    count = pd.Series(X[:, names.index("meldingen_test.aantal")], index=run.data.codes)
    assert count.to_dict() == {c: float(planted[c]) for c in run.data.codes}     # 2023 only, zeros are zeros
    pop = pd.to_numeric(kwb["a_inw"]).reindex(run.data.codes)
    rate = pd.Series(X[:, names.index("meldingen_test.aantal_per_1000")], index=run.data.codes)
    big = pop >= run.data.min_population
    assert np.allclose(rate[big], (count / pop * 1000)[big])
    assert rate[~big].isna().all() and (~big).sum() > 0            # minimum-population rule
    assert run.variable("meldingen_test.aantal_per_1000").below_min_population == int(((~big) & (pop > 0)).sum())
    land = pd.to_numeric(kwb["a_lan_ha"]).reindex(run.data.codes)
    per_ha = pd.Series(X[:, names.index("meldingen_test.aantal_per_ha")], index=run.data.codes)
    ok = land > 0
    assert np.allclose(per_ha[ok], (count / land)[ok])
    assert run.variable("meldingen_test.aantal").simulated
