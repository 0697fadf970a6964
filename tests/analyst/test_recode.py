"""Issue 10, item 9: recode small categories (τ-ARGUS style) before the gate suppresses, where the catalog allows.

The demo's simulated uitkeringen: per wijk × regeling the gate suppressed 43 of 60 cells, every city total per
regeling included. The catalog allows IOAZ, Bbz and IOAW to be merged into 'overig' (in that order); through
``release_aggregate`` — the one release path — the table must lose far fewer cells, count persons (not
person-cells) in the merged category, and say what was merged.
"""

from __future__ import annotations

import dataclasses
import json

import duckdb
import pytest

from stadslab.privacy.access import AccessConfig
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate.recode import recode_small_categories, steps_of, unsafe
from stadslab.privacy.release import release_aggregate
from stadslab.workspace import Workspace
from tests.conftest import run_cli

DS = "sociaal_uitkeringen"


@pytest.fixture(scope="module")
def setup(demo_ws, tmp_path_factory):
    ws = Workspace(demo_ws)
    entry = ws.catalog().get(DS)
    user = AccessConfig.from_config(ws.config).user("analist")
    audit = AuditLog(tmp_path_factory.mktemp("audit") / "audit.jsonl")
    return ws, entry, user, audit


def _release(ws, entry, user, audit, by):
    with ws.warehouse(read_only=True) as wh:
        return release_aggregate(wh, entry, user=user, purpose="sociaal_domein", by=by, audit=audit, store=None,
                                 route="test:recode")


def test_catalog_declares_the_merge_order(setup):
    _, entry, _, _ = setup
    steps = steps_of(entry, "regeling")
    assert [s.label for s in steps] == ["IOAZ, Bbz → overig", "IOAZ, Bbz, IOAW → overig"]
    assert len(steps_of(entry, "geboortedatum_leeftijdsklasse10")) == 2
    assert steps_of(entry, "wijk_code") == []                    # areas are never merged silently


def test_recoding_before_suppression_keeps_more_cells(setup):
    ws, entry, user, audit = setup
    plain = dataclasses.replace(entry, privacy={k: v for k, v in entry.privacy.items() if k != "recode"})
    before = _release(ws, plain, user, audit, ["wijk_code", "regeling"])
    after = _release(ws, entry, user, audit, ["wijk_code", "regeling"])
    b, a = before.provenance["suppressed"], after.provenance["suppressed"]
    print(f"onderdrukt wijk × regeling: voor {b} van {len(before.frame)}, na {a} van {len(after.frame)}")
    assert b / len(before.frame) > 0.6 and a / len(after.frame) < 0.5
    assert after.provenance["hercodering"][0]["samengevoegd"] == {"IOAZ": "overig", "Bbz": "overig", "IOAW": "overig"}
    f = after.frame
    assert set(f.regeling) == {"Participatiewet (bijstand)", "overig", "Totaal"}
    city = f[(f.wijk_code == "Totaal")].set_index("regeling")["n"]
    assert city.notna().all()                                     # every city total per category is published
    # persons, not person-cells: 'overig' per wijk equals the distinct persons with one of the merged regelingen
    con = duckdb.connect(str(ws.root / "restricted.duckdb"), read_only=True)
    truth = dict(con.execute(f"SELECT coalesce(wijk_code, 'onbekend'), count(DISTINCT pseudo_id) FROM {DS} "
                             "WHERE regeling IN ('IOAZ', 'Bbz', 'IOAW') GROUP BY 1").fetchall())
    con.close()
    shown = f[(f.regeling == "overig") & (f.wijk_code != "Totaal") & f.n.notna()]
    assert len(shown) >= 3
    for w, n in zip(shown.wijk_code, shown.n):
        assert n == truth[w]
    n = f.n.dropna()
    assert ((n >= 15) | (n == 0)).all()


def test_nothing_is_recoded_without_gate_or_declaration(setup):
    ws, entry, _, _ = setup
    import pandas as pd

    with ws.warehouse(read_only=True) as wh:
        t = wh.table(DS)
        counts = t.group_by(["regeling"]).aggregate(n=t.pseudo_id.nunique()).to_pandas()
        assert recode_small_categories(t, counts, entry, ["regeling"], person="pseudo_id", gated=False) is counts
        plain = dataclasses.replace(entry, privacy={"min_cell": 15})
        same = recode_small_categories(t, counts, plain, ["regeling"], person="pseudo_id", gated=True)
    assert same.attrs["hercodering"] == [] and same.equals(counts) and isinstance(same, pd.DataFrame)
    assert unsafe(pd.DataFrame({"n": [0, 3, 14, 15, 200]}), 15) == 2


def test_cli_shows_names_and_dutch_headings(demo_ws, tmp_path):
    import shutil

    shutil.copytree(demo_ws, tmp_path / "ws")
    demo_ws = tmp_path / "ws"                      # the CLI writes the audit log and the gate's pattern
    out = run_cli("aggregate", DS, "--by", "wijk_code,regeling", "--user", "analist", "--purpose", "sociaal_domein",
                  "-w", str(demo_ws), env={"STADSLAB_PASSWORD": "analist-demo", "COLUMNS": "200"}).stdout
    head = out.splitlines()[1]
    assert "onderdrukt" in head and "aantal" in head and "naam" in head and "suppressed" not in head
    assert "Wijk 03 Overvecht" in out and "1.047" in out
    assert "samengevoegd vóór het onderdrukken: regeling" in out
    js = json.loads(run_cli("aggregate", DS, "--by", "wijk_code,regeling", "--user", "analist", "--purpose",
                            "sociaal_domein", "--json", "-w", str(demo_ws),
                            env={"STADSLAB_PASSWORD": "analist-demo"}).stdout)
    assert js["provenance"]["hercodering"]
