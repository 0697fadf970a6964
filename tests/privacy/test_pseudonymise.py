"""The kit end to end: linking, receipts, rejects, coarsening, guards, scanning, keys, CLI."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import stat
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from stadslab.errors import PrivacyError, RawBSNDetected, ReaderError
from stadslab.privacy.keys import load_key, new_key, write_key
from stadslab.privacy.pseudonymise import age_bands, coarsen_column, parse_dates, pseudonymise_file
from stadslab.privacy.scan import scan_file, scan_for_bsn

from .conftest import write_source_csv

CSV = pacsv.ConvertOptions(strings_can_be_null=False)


def read_out(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        return pq.read_table(path)
    names = next(csv.reader(open(path, encoding="utf-8")))
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}))


def test_same_key_links_all_shared_persons_other_key_none(tmp_path, bsns, keyfile):
    people = bsns(3000, seed=1)
    a_bsn, b_bsn = people[:2000], people[1000:]            # 1000 persons in both sources
    a = write_source_csv(tmp_path / "wi.csv", a_bsn, seed=1)
    b = write_source_csv(tmp_path / "ll.csv", [f"{x[:4]}.{x[4:6]}.{x[6:]}" for x in b_bsn], seed=2, delimiter=";")
    k1, k2 = keyfile("k1"), keyfile("k2")
    pseudonymise_file(a, tmp_path / "a.csv", bsn_column="bsn", key=k1, drop=["naam", "adres"])
    pseudonymise_file(b, tmp_path / "b.csv", bsn_column="bsn", key=k1, drop=["naam", "adres"])
    pseudonymise_file(b, tmp_path / "b2.csv", bsn_column="bsn", key=k2, drop=["naam", "adres"])
    pa_ids = set(read_out(tmp_path / "a.csv")["pseudo_id"].to_pylist())
    pb_ids = set(read_out(tmp_path / "b.csv")["pseudo_id"].to_pylist())
    pb2_ids = set(read_out(tmp_path / "b2.csv")["pseudo_id"].to_pylist())
    assert len(pa_ids) == 2000 and len(pb_ids) == 2000
    assert len(pa_ids & pb_ids) == 1000                    # 100 % of the shared persons link
    assert len(pa_ids & pb2_ids) == 0                      # another key: nothing links
    # the pseudonym is plain HMAC-SHA256 truncated to 128 bits: reproducible with any HMAC library
    secret = load_key(k1).secret
    first = read_out(tmp_path / "a.csv")["pseudo_id"][0].as_py()
    assert first == hmac.new(secret, a_bsn[0].encode(), hashlib.sha256).hexdigest()[:32]


def test_receipt_counts_hashes_and_rejects(tmp_path, bsns, source_key):
    good = bsns(200, seed=3)
    values = list(good)
    bad = {5: "123456789", 17: "12345678X", 40: "1234567890", 41: "", 99: "BSN onbekend"}
    for i, v in bad.items():
        values[i] = v
    src = write_source_csv(tmp_path / "in" / "bron.csv", values)
    out = tmp_path / "uit" / "bron_pseudo.csv"
    rec = pseudonymise_file(src, out, bsn_column="bsn", key=source_key, drop=["naam", "adres"],
                            coarsen={"postcode": "pc4", "geboortedatum": "year"})
    receipt = json.loads(Path(rec["receipt_file"]).read_text())
    assert receipt["rows"] == {"in": 200, "out": 195, "rejected": 5}
    assert receipt["input"]["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert receipt["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert receipt["key_id"] == source_key.key_id and len(receipt["key_id"]) == 12
    assert receipt["columns_dropped"] == ["adres", "naam"]
    assert receipt["columns_coarsened"]["postcode"]["output_column"] == "postcode_pc4"
    assert "blijft bij de bronhouder" in receipt["rejects"]["note"]
    assert receipt["started"] <= receipt["finished"]
    # rejects stay at the source (next to the input), with line numbers (header = line 1)
    rejects = list(csv.DictReader(open(src.with_name("bron.afgekeurd.csv"), encoding="utf-8")))
    assert [int(r["rij"]) for r in rejects] == [i + 2 for i in sorted(bad)]
    assert [r["waarde"] for r in rejects] == [bad[i] for i in sorted(bad)]
    assert {r["reden"] for r in rejects} >= {"elfproef klopt niet", "te lang (meer dan 9 cijfers)", "leeg"}
    assert not (out.parent / "bron.afgekeurd.csv").exists()
    # rejected rows are not in the output; the others are, in order
    table = read_out(out)
    assert table.column_names == ["pseudo_id", "postcode_pc4", "geboortedatum_jaar", "regeling"]
    key = source_key
    expected = [key.pseudonym(b) for i, b in enumerate(good) if i not in bad]
    assert table["pseudo_id"].to_pylist() == expected


def test_nothing_the_kit_writes_contains_a_bsn(tmp_path, bsns, source_key):
    people = bsns(500, seed=8)
    src = write_source_csv(tmp_path / "bron.csv", people, extra={"bsn_partner": bsns(500, seed=9)})
    out = tmp_path / "uit.csv"
    pseudonymise_file(src, out, bsn_column=["bsn", "bsn_partner"], key=source_key, drop=["naam", "adres"],
                      coarsen={"geboortedatum": "ageband10", "postcode": "pc4"})
    pseudonymise_file(src, tmp_path / "uit.parquet", bsn_column=["bsn", "bsn_partner"], key=source_key,
                      drop=["naam", "adres"], coarsen={"geboortedatum": "year", "postcode": "pc4"})
    known = people + bsns(500, seed=9)
    written = [out, tmp_path / "uit.csv.receipt.json", tmp_path / "uit.parquet", tmp_path / "uit.parquet.receipt.json"]
    for f in written:
        result = scan_file(f, known=known)
        assert result.findings == [], [str(x) for x in result.findings]
    # the scanner is not blind: it finds them in the input, by value and as a column
    kinds = {(f.location, f.kind) for f in scan_for_bsn(src, known=known)}
    assert {("bsn", "known_bsn"), ("bsn", "bsn_column"), ("bsn_partner", "bsn_column")} <= kinds
    assert read_out(out).column_names[:1] == ["pseudo_id"] and "pseudo_id_partner" in read_out(out).column_names


def test_coarsening_rules_known_answers():
    dates = pa.array(["2000-03-15", "15-03-2000", "15/03/2000", "20000315", "geen", "", None, "2024-01-02"])
    parsed = parse_dates(dates).to_pylist()
    assert parsed[:4] == [date(2000, 3, 15)] * 4 and parsed[4:7] == [None, None, None]
    ref = date(2024, 3, 14)                       # the day before the 24th birthday
    assert age_bands(pa.array([date(2000, 3, 15), date(2000, 3, 14), date(1930, 1, 1), date(2025, 1, 1)]),
                     ref, 5).to_pylist() == ["20-24", "20-24", "90+", None]
    assert age_bands(pa.array([date(2000, 3, 14)]), ref, 10).to_pylist() == ["20-29"]
    pc = coarsen_column(pa.array(["3511 AB", "3511ab", "0123AB", "3511", "abc", None]), "pc4", reference=ref)
    assert pc.to_pylist() == ["3511", "3511", None, "3511", None, None]
    assert coarsen_column(pa.array(["1980-05-01"]), "year", reference=ref).to_pylist() == [1980]


def test_buurt_rule_needs_and_uses_a_lookup(tmp_path, bsns, source_key):
    src = write_source_csv(tmp_path / "bron.csv", bsns(4, seed=2))
    with pytest.raises(PrivacyError, match="opzoektabel"):
        pseudonymise_file(src, tmp_path / "o.csv", bsn_column="bsn", key=source_key, coarsen={"postcode": "buurt"})
    pcs = [r["postcode"] for r in csv.DictReader(open(src))]
    lookup = tmp_path / "pc_buurt.csv"
    lookup.write_text("postcode,buurt_code\n" + f"{pcs[0].replace(' ', '')},BU03440111\n{pcs[1]},BU03440112\n")
    rec = pseudonymise_file(src, tmp_path / "o.csv", bsn_column="bsn", key=source_key, drop=["naam", "adres"],
                            coarsen={"postcode": "buurt"}, buurt_lookup=lookup)
    assert read_out(tmp_path / "o.csv")["postcode_buurtcode"].to_pylist()[:2] == ["BU03440111", "BU03440112"]
    assert rec["columns_coarsened"]["postcode"]["unreadable_values"] == 2   # no buurt for the other two


def test_guard_refuses_output_with_a_bsn_column_left(tmp_path, bsns, source_key):
    src = write_source_csv(tmp_path / "bron.csv", bsns(100, seed=1), extra={"bsn_ouder": bsns(100, seed=2)})
    out = tmp_path / "uit.csv"
    with pytest.raises(RawBSNDetected, match="bsn_ouder"):
        pseudonymise_file(src, out, bsn_column="bsn", key=source_key)
    assert not out.exists() and not list(tmp_path.glob(".uit.csv*"))


def test_identifier_warnings_and_missing_column(tmp_path, bsns, source_key):
    src = write_source_csv(tmp_path / "bron.csv", bsns(10, seed=1))
    rec = pseudonymise_file(src, tmp_path / "o.csv", bsn_column="bsn", key=source_key)
    assert any("'naam'" in w for w in rec["warnings"]) and any("'geboortedatum'" in w for w in rec["warnings"])
    with pytest.raises(ReaderError, match="kolom 'burgerservicenummer' niet gevonden"):
        pseudonymise_file(src, tmp_path / "o.csv", bsn_column="burgerservicenummer", key=source_key)


def test_xlsx_and_parquet_inputs_with_numeric_bsns(tmp_path, bsns, source_key):
    import xlsxwriter

    people = [b for b in bsns(3000, seed=5) if b.startswith("0")][:30] + bsns(30, seed=6)
    xlsx = tmp_path / "wi.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx))
    ws = wb.add_worksheet("Uitkeringen")
    ws.write_row(2, 1, ["BSN", "Naam", "Geboortedatum"])      # table starts at B3
    for i, b in enumerate(people):
        ws.write_row(3 + i, 1, [int(b), f"N{i}", "01-02-1990"])   # number: leading zero lost
    ws.write_row(3 + len(people), 1, [123456789, "Fout", "01-02-1990"])
    wb.close()
    rec = pseudonymise_file(xlsx, tmp_path / "wi.parquet", bsn_column="BSN", key=source_key, drop=["Naam"],
                            coarsen={"Geboortedatum": "year"})
    out = pq.read_table(tmp_path / "wi.parquet")
    assert out["pseudo_id"].to_pylist() == [source_key.pseudonym(b) for b in people]
    assert rec["rows"] == {"in": 61, "out": 60, "rejected": 1}
    rejects = list(csv.DictReader(open(tmp_path / "wi.afgekeurd.csv")))
    assert rejects[0]["rij"] == str(3 + len(people) + 1)          # the row number as Excel shows it
    # Parquet in, int64 BSNs
    pq.write_table(pa.table({"bsn": pa.array([int(b) for b in people], pa.int64()), "x": range(60)}), tmp_path / "p.parquet")
    pseudonymise_file(tmp_path / "p.parquet", tmp_path / "p_out.csv", bsn_column="bsn", key=source_key)
    assert read_out(tmp_path / "p_out.csv")["pseudo_id"].to_pylist() == [source_key.pseudonym(b) for b in people]


def test_worker_processes_give_the_same_output(tmp_path, bsns, source_key):
    src = write_source_csv(tmp_path / "bron.csv", bsns(20000, seed=12))
    a = pseudonymise_file(src, tmp_path / "a.csv", bsn_column="bsn", key=source_key, drop=["naam", "adres"], workers=0)
    b = pseudonymise_file(src, tmp_path / "b.csv", bsn_column="bsn", key=source_key, drop=["naam", "adres"], workers=2)
    assert a["output"]["sha256"] == b["output"]["sha256"] and b["workers"] == 2


def test_synthetic_holder_files_pseudonymise_and_link_at_household_level(tmp_path, social_demo, source_key):
    manifest = json.loads(social_demo["manifest"].read_text())
    ll = pseudonymise_file(social_demo["verzuim"], tmp_path / "ll.csv", bsn_column=["bsn_leerling", "bsn_ouder"],
                           key=source_key, drop=["voornaam", "achternaam", "adres"],
                           coarsen={"geboortedatum": "year", "postcode": "pc4"}, reference_date=date(2024, 1, 1))
    wi = pseudonymise_file(social_demo["uitkeringen"], tmp_path / "wi.csv", bsn_column=["bsn_aanvrager", "bsn_partner"],
                           key=source_key, drop=["voornaam", "achternaam", "adres"],
                           coarsen={"geboortedatum": "ageband10", "postcode": "pc4"}, reference_date=date(2024, 1, 1))
    assert ll["rows"]["rejected"] == manifest["files"]["verzuim"]["invalid_bsn"]
    assert wi["rows"]["rejected"] == manifest["files"]["uitkeringen"]["invalid_bsn"]
    assert ll["simulated"] and wi["simulated"] and ll["warnings"] == [] and wi["warnings"] == []
    # ground truth: pupils whose household has a benefit
    truth = pq.read_table(social_demo["bevolking"]).to_pylist()
    parents_on_benefit = {source_key.pseudonym(p["bsn"]) for p in truth if p["uitkering"] and p["rol"] == "ouder"}
    lt, wt = read_out(tmp_path / "ll.csv"), read_out(tmp_path / "wi.csv")
    benefit_ids = set(wt["pseudo_id"].to_pylist()) | set(wt["pseudo_id_partner"].to_pylist()) - {""}
    linked = {p for p in lt["pseudo_id_ouder"].to_pylist() if p in benefit_ids}
    expected = {p for p in lt["pseudo_id_ouder"].to_pylist() if p in parents_on_benefit}
    assert linked and linked == expected & benefit_ids


def test_key_files_custody_rules(tmp_path):
    key = new_key(note="DDD")
    path = write_key(key, tmp_path / "k.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["key_id"] == hashlib.sha256(b"stadslab-key-id/1" + key.secret).hexdigest()[:12]
    assert {"created", "algorithm", "secret", "note", "kind"} <= set(data)
    with pytest.raises(PrivacyError, match="bestaat al"):
        write_key(new_key(), path)
    os.chmod(path, 0o644)
    with pytest.raises(PrivacyError, match="leesbaar voor anderen"):
        load_key(path)
    os.chmod(path, 0o600)
    data["key_id"] = "000000000000"
    path.write_text(json.dumps(data))
    os.chmod(path, 0o600)
    with pytest.raises(PrivacyError, match="key_id past niet"):
        load_key(path)
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "stadslab.yaml").write_text("municipality: {name: Test}\n")
    with pytest.raises(PrivacyError, match="werkruimte"):
        write_key(new_key(), ws / "keys" / "k.json")
    master = write_key(new_key(kind="master"), tmp_path / "m.json")
    with pytest.raises(PrivacyError, match="master-sleutel; hier is een source-sleutel nodig"):
        load_key(master, kind="source")


def test_cli_keygen_pseudonymise_scan_synthetic(tmp_path, bsns):
    from stadslab.cli.source import app

    runner = CliRunner()
    key = tmp_path / "sleutels" / "bron.json"
    r = runner.invoke(app, ["keygen", "--out", str(key), "--note", "test"])
    assert r.exit_code == 0, r.output
    src = write_source_csv(tmp_path / "bron.csv", bsns(50, seed=3) + ["123456789"])
    out = tmp_path / "uit.csv"
    r = runner.invoke(app, ["pseudonymise", str(src), "--bsn-column", "bsn", "--key", str(key), "--out", str(out),
                            "--drop", "naam,adres", "--coarsen", "postcode:pc4,geboortedatum:year", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["rows"] == {"in": 51, "out": 50, "rejected": 1}
    r = runner.invoke(app, ["scan", str(out), str(tmp_path / "uit.csv.receipt.json")])
    assert r.exit_code == 0 and "geen BSN" in r.output
    r = runner.invoke(app, ["scan", str(src)])
    assert isinstance(r.exception, RawBSNDetected)
    r = runner.invoke(app, ["synthetic", str(tmp_path / "syn"), "--scale", "0.005", "--seed", "3", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["manifest"]["simulated"] is True
    r = runner.invoke(app, ["pseudonymise", str(src), "--bsn-column", "bsn", "--key", str(key), "--out",
                            str(tmp_path / "x.csv"), "--coarsen", "postcode:wijk"])
    assert isinstance(r.exception, PrivacyError) and "onbekende grofmaakregel" in str(r.exception)


def test_scanner_formats_and_no_false_positives_on_random_numbers(tmp_path, bsns):
    import duckdb
    import numpy as np
    import xlsxwriter

    people = bsns(300, seed=31)
    rng = np.random.default_rng(2)
    random_nine = [str(x) for x in rng.integers(10**8, 10**9, 300)]       # ≈ 9 % pass by chance
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT * FROM (SELECT unnest(?) AS bsn, unnest(?) AS zaaknummer, "
                "unnest(?) AS n)", [people, random_nine, [int(x) for x in people]])
    con.close()
    found = {(f.location, f.kind) for f in scan_for_bsn(db)}
    assert ("main.t.bsn", "bsn_column") in found and ("main.t.n", "bsn_column") in found
    assert not any("zaaknummer" in loc for loc, _ in found)
    assert scan_for_bsn(db.read_bytes(), name="w.duckdb")                 # bytes work too
    xlsx = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["id", "nummer"])
    for i, (b, r) in enumerate(zip(people, random_nine)):
        ws.write_row(i + 1, 0, [int(b), r])
    wb.close()
    assert {(f.location, f.kind) for f in scan_for_bsn(xlsx)} == {("id", "bsn_column")}
    res = scan_file(("\n".join(random_nine)).encode(), name="r.txt", known=people)
    assert res.findings == [] and res.tokens == 300 and 0 < res.valid < 60
    hexed = tmp_path / "h.json"
    hexed.write_text(json.dumps({"ids": [f"a{b}f" for b in people]}))
    assert scan_for_bsn(hexed, known=people) == []                        # digits glued to letters are no token


def test_a_dead_worker_is_an_error_not_a_hang(bsns):
    from stadslab.privacy.keys import HashPool

    from stadslab.privacy.bsn import synthetic_bsn_digits

    pool = HashPool(b"k" * 32, workers=1)
    try:
        pool._procs[0].proc.kill()
        futures = pool.submit(synthetic_bsn_digits(10000, seed=1).tobytes(), 9)
        with pytest.raises(PrivacyError, match="rekenproces"):
            HashPool.collect(futures)
    finally:
        pool.close()
