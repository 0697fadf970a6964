"""The SIMULATED social-domain generator follows CBS buurt figures and marks itself as simulated."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from stadslab.demo.synthetic_social import REFERENCE, generate_social_demo, load_buurten
from stadslab.errors import ReaderError
from stadslab.privacy.bsn import check_bsn_array
from stadslab.privacy.tabular import open_source


@pytest.fixture(scope="module")
def truth(social_demo):
    return pq.read_table(social_demo["bevolking"])


def _per_buurt(codes, values=None):
    bu = load_buurten()
    idx = {c: i for i, c in enumerate(bu["code"])}
    out = np.zeros(len(bu["code"]))
    np.add.at(out, [idx[c] for c in codes], 1 if values is None else values)
    return bu, out


def test_persons_per_buurt_follow_cbs(truth):
    bu, persons = _per_buurt(truth["buurt_code"].to_pylist())
    assert np.corrcoef(persons, bu["a_inw"])[0, 1] > 0.95
    assert abs(persons.sum() / (0.03 * bu["a_inw"].sum()) - 1) < 0.02
    households = len(set(truth["huishouden"].to_pylist()))
    assert abs(households / (0.03 * bu["a_hh"].sum()) - 1) < 0.03
    # age mix: share of 0-14 year olds per buurt tracks CBS a_00_14 / a_inw
    _, young = _per_buurt(truth["buurt_code"].to_pylist(), (np.array(truth["leeftijd"]) <= 14).astype(float))
    big = bu["a_inw"] > 2000
    assert np.corrcoef((young / np.maximum(persons, 1))[big], (bu["a_00_14"] / np.maximum(bu["a_inw"], 1))[big])[0, 1] > 0.8


def test_benefits_follow_a_soz_wb(truth):
    on = np.array(truth["uitkering"]) & np.isin(np.array(truth["rol"]), ["ouder", "alleenstaand"])
    first_adult = np.zeros(len(on), bool)
    hh = np.array(truth["huishouden"])
    _, first = np.unique(hh, return_index=True)
    first_adult[first] = True
    bu, benefits = _per_buurt(truth["buurt_code"].to_pylist(), (np.array(truth["uitkering"]) & first_adult).astype(float))
    assert np.corrcoef(benefits, bu["a_soz_wb"])[0, 1] > 0.85
    assert on.any()


def test_every_file_is_marked_simulated(social_demo):
    manifest = json.loads(social_demo["manifest"].read_text())
    assert manifest["simulated"] is True and "GESIMULEERD" in manifest["statement"]
    assert "GESIMULEERD" in social_demo["readme"].read_text()
    for name in ("verzuim", "uitkeringen", "buurtteam", "bevolking"):
        table = open_source(social_demo[name]).read_all()
        assert set(table["gesimuleerd"].to_pylist()) == {"ja"}, name
        assert manifest["files"][name]["rows"] == table.num_rows
        assert manifest["files"][name]["sha256"] == hashlib.sha256(social_demo[name].read_bytes()).hexdigest()


def test_holder_files_hold_raw_bsns_and_identifiers_with_some_damage(social_demo, truth):
    manifest = json.loads(social_demo["manifest"].read_text())
    valid_truth = set(truth["bsn"].to_pylist())
    assert check_bsn_array(truth["bsn"]).valid.all() and len(valid_truth) == truth.num_rows
    for name, col in (("verzuim", "bsn_leerling"), ("uitkeringen", "bsn_aanvrager"), ("buurtteam", "bsn")):
        table = open_source(social_demo[name]).read_all()
        assert {"voornaam", "achternaam", "adres", "postcode", "geboortedatum"} <= set(table.column_names)
        chk = check_bsn_array(table[col])
        assert int((~chk.valid).sum()) == manifest["files"][name]["invalid_bsn"]
        assert set(chk.normalised().drop_null().to_pylist()) <= valid_truth
    verzuim = open_source(social_demo["verzuim"])
    assert verzuim.options["delimiter"] == ";"
    rows = list(csv.DictReader(open(social_demo["verzuim"], encoding="utf-8"), delimiter=";"))
    ages = [(REFERENCE.year - int(r["geboortedatum"][-4:])) for r in rows]
    assert min(ages) >= 5 and max(ages) <= 19 and rows[0]["melddatum"][2] == "-"


def test_outcomes_are_correlated_as_designed(truth):
    t = truth.filter(pc.equal(truth["rol"], "kind"))
    benefit = np.array(t["uitkering"])
    verzuim = np.array(t["verzuim"])
    assert verzuim[benefit].mean() > 1.5 * verzuim[~benefit].mean()


def test_seeded_and_refuses_the_repository(tmp_path):
    a = generate_social_demo(tmp_path / "a", scale=0.004, seed=5)
    b = generate_social_demo(tmp_path / "b", scale=0.004, seed=5)
    c = generate_social_demo(tmp_path / "c", scale=0.004, seed=6)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()   # noqa: E731
    assert digest(a["verzuim"]) == digest(b["verzuim"]) and digest(a["bevolking"]) == digest(b["bevolking"])
    assert digest(a["bevolking"]) != digest(c["bevolking"])
    from stadslab.demo import synthetic_social

    with pytest.raises(ReaderError, match="repository"):
        generate_social_demo(synthetic_social._REPO / "stadslab" / "tmp_synthetic", scale=0.001)
    assert not (synthetic_social._REPO / "stadslab" / "tmp_synthetic").exists()
