"""A publication gets a new version when its input dataset does; old versions keep their URLs."""

from __future__ import annotations

import io
import secrets

import httpx
import pandas as pd

from stadslab.operations import ingest_dataset
from tests.portal.conftest import PERSONAL


def test_new_input_version_makes_a_new_publication_version(live, state, portal_ws):
    before = httpx.get(f"{live.url}/api/3/action/package_show?id=hulp_per_wijk").json()["result"]
    old_v = int(before["version"])
    old_csv = httpx.get(f"{live.url}/open/download/hulp_per_wijk/v{old_v}/hulp_per_wijk-v{old_v}.csv").content
    meldingen_v = state.warehouse().current_version("meldingen_openbare_ruimte")

    # 40 new persons in the busiest buurt arrive in the source file; the data lab refreshes from the app
    path = portal_ws / "data" / "hulp.csv"
    df = pd.read_csv(path)
    busiest = df.buurtcode.value_counts().index[0]
    extra = pd.DataFrame({"pseudo_id": [secrets.token_hex(16) for _ in range(40)], "buurtcode": busiest,
                          "regeling": "bijstand", "startdatum": "2023-06-01"})
    pd.concat([df, extra]).to_csv(path, index=False)
    with state.writer() as wh:
        ingest_dataset(state.workspace, wh, state.catalog, PERSONAL, trigger="test")
    input_v = state.warehouse().current_version(PERSONAL)

    after = httpx.get(f"{live.url}/api/3/action/package_show?id=hulp_per_wijk").json()["result"]
    assert int(after["version"]) == old_v + 1
    extras = {e["key"]: e["value"] for e in after["extras"]}
    assert extras["bron_versie"] == str(input_v) and extras["versies"].endswith(f",{old_v + 1}")
    alias = httpx.get(f"{live.url}/open/download/hulp_per_wijk/latest/hulp_per_wijk.csv")
    assert alias.headers["location"].endswith(f"/v{old_v + 1}/hulp_per_wijk-v{old_v + 1}.csv")
    new = pd.read_csv(io.BytesIO(httpx.get(live.url + alias.headers["location"]).content))
    old = pd.read_csv(io.BytesIO(old_csv))
    grand = lambda t: int(t[(t.wijk_code == "Totaal") & (t.regeling == "Totaal")].n.iloc[0])  # noqa: E731
    assert grand(new) == grand(old) + 40
    # the old version is still there, unchanged
    assert httpx.get(f"{live.url}/open/download/hulp_per_wijk/v{old_v}/hulp_per_wijk-v{old_v}.csv").content == old_csv
    # an open dataset that did not change keeps its version; DCAT shows the new publication version
    assert state.warehouse().current_version("meldingen_openbare_ruimte") == meldingen_v
    assert f"versie {old_v + 1}: " in httpx.get(f"{live.url}/dcat/catalog.ttl").text
