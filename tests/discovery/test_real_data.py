"""The bundled real data for Utrecht 2023: the CLI run finishes, names its variables, stores its result; personal
data enter only as gated aggregates (suppressed areas missing, counted per variable); declared confounders work."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from stadslab.analyses.discovery import run_discovery
from stadslab.privacy.access import AccessConfig
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.release import release_aggregate
from stadslab.workspace import Workspace
from tests.conftest import run_cli

KEYS = {"x", "y", "rho", "p_adj", "n_areas", "partial_rho", "verdict", "pearson", "n_eff"}


@pytest.fixture(scope="module")
def cli_run(discovery_ws):
    proc = run_cli("discover", "--level", "buurt", "--year", "2023", "--json", "-w", str(discovery_ws))
    return json.loads(proc.stdout)


def test_cli_run_on_utrecht_2023(cli_run, discovery_ws):
    d = cli_run
    assert d["areas"] == 111 and d["level"] == "buurt" and d["year"] == 2023
    assert d["tested_pairs"] > 5000 and 0 < d["surviving_pairs"] <= d["tested_pairs"]
    names = {v["naam"] for v in d["variables"]}
    # DATASET.FIELD, derived rates by their documented names, misdrijven as a rate
    assert "cbs_kwb_utrecht_2023.bev_dich" in names
    assert "cbs_kwb_utrecht_2023.a_65_oo_per_1000" in names
    assert "utrecht_misdrijven_buurt_2023.geregistreerde_misdrijven_per_1000" in names
    # the year selects datasets by temporal_coverage: nothing from 2024 or 2013
    assert not any(n.startswith(("cbs_kwb_utrecht_2024.", "lichtmasten_utrecht_2013.")) for n in names)
    assert [s["naam"] for s in d["suspects"]][:2] == ["inwonertal", "bevolkingsdichtheid"]
    for p in d["pairs"]:
        assert KEYS <= set(p)
        assert p["p_adj"] <= 0.05 and p["verdict"]
    verdicts = {p["verdict"] for p in d["pairs"]}
    assert "blijft bestaan" in verdicts and any(v.startswith("verdwijnt na correctie voor") for v in verdicts)
    assert "ecologische drogreden" in d["caveat"]
    # anonymous: personal datasets are skipped with the reason, not silently
    assert any(s["dataset"] == "sociaal_uitkeringen" and "toegang" in s["reden"] for s in d["skipped"])
    # stored with provenance (datasets and versions)
    assert d["result"]["name"] == "discovery_buurt_2023"
    con = duckdb.connect(str(discovery_ws / "warehouse.duckdb"), read_only=True)
    try:
        inputs, rows = con.execute("SELECT inputs, rows FROM stadslab.results WHERE name = 'discovery_buurt_2023' "
                                   "ORDER BY version DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert ["cbs_kwb_utrecht_2023", 1] in json.loads(inputs) and rows == d["tested_pairs"] or rows >= d["tested_pairs"]


def test_personal_data_only_as_gated_aggregates(discovery_ws):
    w = Workspace.resolve(str(discovery_ws))
    user = AccessConfig.from_config(w.config).user("analist")
    audit = AuditLog(discovery_ws / "audit" / "audit.jsonl")
    with w.warehouse(read_only=True) as wh:
        run = run_discovery(wh, w.catalog(), level="buurt", year=2023, gemeente_code="GM0344", user=user,
                            purpose="sociaal_domein", audit=audit)
        ds = w.catalog().get("sociaal_uitkeringen")
        rel = release_aggregate(wh, ds, user=user, purpose="sociaal_domein", by=["postcode_buurtcode"],
                                hierarchy={"postcode_buurtcode": "wijk_code"}, audit=audit)
    names = [v.name for v in run.data.variables]
    assert "sociaal_uitkeringen.personen" in names and "sociaal_uitkeringen.personen_per_1000" in names
    var = run.variable("sociaal_uitkeringen.personen")
    col = run.data.X[:, names.index("sociaal_uitkeringen.personen")]
    suppressed = set(rel.frame.loc[rel.frame["suppressed"] != "", "postcode_buurtcode"])
    assert var.suppressed == len(suppressed & set(run.data.codes)) > 0
    for code in suppressed & set(run.data.codes):
        assert np.isnan(col[run.data.codes.index(code)])          # missing, never zero
    assert var.missing == int(np.isnan(col).sum()) >= var.suppressed
    assert var.simulated
    # no released figure below the threshold made it into the matrix
    known = col[~np.isnan(col)]
    assert (known >= 15).all()
    # buurtteam and verzuim declare no per-buurt publication: left out, and said so
    assert {"sociaal_buurtteam", "sociaal_verzuim"} <= {s["dataset"] for s in run.data.skipped}


def test_declared_confounders(discovery_ws):
    w = Workspace.resolve(str(discovery_ws))
    from stadslab.privacy.access import ANONYMOUS

    with w.warehouse(read_only=True) as wh:
        run = run_discovery(wh, w.catalog(), level="buurt", year=2023, gemeente_code="GM0344", user=ANONYMOUS,
                            purpose=None, audit=None, confounders=["cbs_kwb_utrecht_2023.p_huurw"])
    assert [s["variabele"] for s in run.suspects] == ["cbs_kwb_utrecht_2023.p_huurw"]
    verdicts = set(run.leads()["verdict"])
    assert verdicts <= {"blijft bestaan", "verdwijnt na correctie voor percentage huurwoningen", "te weinig gebieden",
                        "niet gecontroleerd (het paar bestaat uit verdachten zelf)"}
    assert "verdwijnt na correctie voor percentage huurwoningen" in verdicts


def test_wijk_level_sums_buurt_counts_and_says_too_few_areas(discovery_ws):
    w = Workspace.resolve(str(discovery_ws))
    from stadslab.privacy.access import ANONYMOUS

    with w.warehouse(read_only=True) as wh:
        run = run_discovery(wh, w.catalog(), level="wijk", year=2023, gemeente_code="GM0344", user=ANONYMOUS,
                            purpose=None, audit=None)
        per_buurt = wh.table("utrecht_misdrijven_buurt_2023").to_pandas()
    assert len(run.data.codes) == 10
    names = [v.name for v in run.data.variables]
    col = run.data.X[:, names.index("utrecht_misdrijven_buurt_2023.geregistreerde_misdrijven")]
    expect = per_buurt.groupby("wijk_code")["geregistreerde_misdrijven"].sum().reindex(run.data.codes)
    assert np.array_equal(col, expect.to_numpy(float))            # buurt-only counts add up to wijken
    # 10 wijken minus 5 suspects leave no room for a partial correlation: never a confident verdict
    assert set(run.leads()["verdict"]) <= {"te weinig gebieden", "niet gecontroleerd (het paar bestaat uit verdachten zelf)"}
