"""Project pseudonyms: HKDF known answers, unlinkability between projects, linkability within one."""

from __future__ import annotations

import hashlib
import hmac
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from stadslab.errors import PrivacyError
from stadslab.privacy.keys import load_key, new_key
from stadslab.privacy.pseudonymise import pseudonymise_file
from stadslab.privacy.rekey import derive_project_key, hkdf_sha256, rekey_array, rekey_file, rekey_table
from stadslab.privacy.scan import scan_file

from .conftest import write_source_csv


def test_hkdf_rfc5869_test_case_1():
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), salt=bytes.fromhex("000102030405060708090a0b0c"),
                      info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"), length=42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_hkdf_rfc5869_test_case_3_empty_salt_and_info():
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), salt=b"", info=b"", length=42)
    assert okm.hex() == ("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                         "9d201395faa4b61a96c8")


@pytest.fixture
def linked(tmp_path, bsns, keyfile):
    """Two sources pseudonymised with one source key; 600 persons shared."""
    people = bsns(1600, seed=21)
    key = keyfile("bron")
    for name, part in (("wi", people[:1000]), ("ll", people[400:])):
        write_source_csv(tmp_path / f"{name}.csv", part, seed=len(name))
        pseudonymise_file(tmp_path / f"{name}.csv", tmp_path / f"{name}.parquet", bsn_column="bsn", key=key,
                          drop=["naam", "adres", "postcode", "geboortedatum"])
    master = keyfile("master", kind="master")
    return tmp_path, master, people


def test_projects_share_nothing_but_link_internally(linked):
    tmp_path, master, _ = linked
    wi, ll = pq.read_table(tmp_path / "wi.parquet"), pq.read_table(tmp_path / "ll.parquet")
    shared_source = set(wi["pseudo_id"].to_pylist()) & set(ll["pseudo_id"].to_pylist())
    assert len(shared_source) == 600
    ka, kb = derive_project_key(master, "schoolverzuim-2024"), derive_project_key(master, "schulden-2024")
    a_wi, a_ll = rekey_table(wi, ka), rekey_table(ll, ka)
    b_wi, b_ll = rekey_table(wi, kb), rekey_table(ll, kb)
    a_ids = set(a_wi["pseudo_id"].to_pylist()) | set(a_ll["pseudo_id"].to_pylist())
    b_ids = set(b_wi["pseudo_id"].to_pylist()) | set(b_ll["pseudo_id"].to_pylist())
    assert len(a_ids) == len(b_ids) == 1600                              # 1000 + 1200 - 600 persons
    assert a_ids.isdisjoint(b_ids)                                       # 0 shared between projects
    assert a_ids.isdisjoint(shared_source | set(wi["pseudo_id"].to_pylist()))   # nor with the source level
    assert len(set(a_wi["pseudo_id"].to_pylist()) & set(a_ll["pseudo_id"].to_pylist())) == 600   # links within A
    assert len(set(b_wi["pseudo_id"].to_pylist()) & set(b_ll["pseudo_id"].to_pylist())) == 600   # and within B
    # known answer: HMAC-SHA256(project key, source pseudonym as ASCII), first 128 bits in hex
    src = wi["pseudo_id"][0].as_py()
    assert a_wi["pseudo_id"][0].as_py() == hmac.new(ka.secret, src.encode(), hashlib.sha256).hexdigest()[:32]


def test_project_key_is_deterministic_per_project_and_master(keyfile):
    m1, m2 = load_key(keyfile("m1", kind="master")), load_key(keyfile("m2", kind="master"))
    assert derive_project_key(m1, "p1").secret == derive_project_key(m1, "p1").secret
    assert derive_project_key(m1, "p1").secret != derive_project_key(m1, "p2").secret
    assert derive_project_key(m1, "p1").secret != derive_project_key(m2, "p1").secret
    with pytest.raises(PrivacyError, match="mastersleutel"):
        derive_project_key(new_key(kind="source"), "p1")
    with pytest.raises(PrivacyError, match="ongeldige project-id"):
        derive_project_key(m1, "../p1")


def test_rekey_refuses_raw_bsns_and_non_project_keys(bsns, keyfile):
    master = load_key(keyfile("m", kind="master"))
    pk = derive_project_key(master, "p")
    with pytest.raises(PrivacyError, match="geen bronpseudoniem"):
        rekey_array(pa.array(bsns(5)), pk)
    with pytest.raises(PrivacyError, match="projectsleutel"):
        rekey_array(pa.array(["0" * 32]), load_key(keyfile("bron")))
    out = rekey_array(pa.array(["AB" * 16, None, "ab" * 16]), pk)
    assert out.to_pylist()[1] is None and out[0] == out[2]            # case-insensitive input, nulls kept


def test_rekey_file_and_cli_write_no_key_and_no_bsn(linked, tmp_path):
    from stadslab.cli.source import app

    tmp, master, people = linked
    keys = tmp_path / "datalab-sleutels"
    runner = CliRunner()
    r = runner.invoke(app, ["project-key", "--master", str(master), "--project", "p-a", "--out", str(keys / "p-a.json")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["rekey", str(tmp / "wi.parquet"), "--column", "pseudo_id", "--project-key",
                            str(keys / "p-a.json"), "--out", str(tmp / "release" / "wi.csv"), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["rows"] == 1000 and res["project_id"] == "p-a"
    secret = load_key(keys / "p-a.json").secret
    for f in (tmp / "release" / "wi.csv", tmp / "release" / "wi.csv.receipt.json"):
        data = f.read_bytes()
        assert secret.hex().encode() not in data and b"secret" not in data
        assert scan_file(f, known=people).findings == []
    direct = rekey_file(tmp / "wi.parquet", tmp / "release" / "wi2.parquet", key=keys / "p-a.json")
    assert direct["rows"] == 1000
    from_cli = pacsv.read_csv(tmp / "release" / "wi.csv")["pseudo_id"].to_pylist()
    assert pq.read_table(tmp / "release" / "wi2.parquet")["pseudo_id"].to_pylist() == from_cli
