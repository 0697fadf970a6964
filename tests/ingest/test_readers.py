"""Readers: messy files generated here plus the real demo files; every test checks names, counts, __row."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import zipfile
from pathlib import Path

import pytest

from stadslab.errors import ReaderError
from stadslab.ingest.readers import GEOM_COLUMN, ROW_COLUMN, reader_for, readers


def read(con, path: Path, **options):
    return reader_for(path).read(con, path, options, "t")


def rows(con, cols: str = "*") -> list[tuple]:
    return con.execute(f"SELECT {cols} FROM t ORDER BY {ROW_COLUMN}").fetchall()


# --- registry ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, reader", [
    ("a.csv", "csv"), ("a.TSV", "csv"), ("a.txt", "csv"), ("a.csv.gz", "csv"), ("a.xlsx", "spreadsheet"),
    ("a.xls", "spreadsheet"), ("a.ods", "spreadsheet"), ("a.geojson", "geo"), ("a.gpkg", "geo"),
    ("a.shp", "geo"), ("a.zip", "geo"), ("a.parquet", "parquet"), ("a.json", "json"), ("a.jsonl", "json"),
])
def test_registry_picks_reader_by_extension(name, reader):
    assert reader_for(Path(name)).name == reader


def test_registry_unknown_extension_and_name():
    assert {r.name for r in readers()} >= {"csv", "spreadsheet", "geo", "parquet", "json"}
    with pytest.raises(ReaderError, match="geen reader voor bestandstype '.docx'"):
        reader_for(Path("verslag.docx"))
    with pytest.raises(ReaderError, match="onbekende reader 'pdf'"):
        reader_for(Path("a.csv"), "pdf")


# --- CSV -----------------------------------------------------------------------------------------

def test_csv_latin1_semicolon_decimal_comma(con, tmp_path):
    p = tmp_path / "meldingen.csv"
    p.write_bytes("Naam;Bedrag;Opmerking\r\nCafé Zoë;12,50;\r\nRené;3,5;\"a;b\"\r\nJoël;;x\r\n".encode("latin-1"))
    r = read(con, p)
    assert r.columns == ["Naam", "Bedrag", "Opmerking"] and r.rows == 3 and not r.typed
    assert r.options_used["encoding"] == "latin-1" and r.options_used["delimiter"] == ";"
    assert r.options_used["header_line"] == 1 and r.options_used["quote"] == '"'
    assert rows(con) == [("Café Zoë", "12,50", None, 2), ("René", "3,5", "a;b", 3), ("Joël", None, "x", 4)]


def test_csv_cp1252_euro_sign_is_transcoded(con, tmp_path):
    p = tmp_path / "kosten.csv"
    p.write_bytes("post;bedrag\n“huur”;€ 12,50\n".encode("cp1252"))
    r = read(con, p)
    assert r.options_used["encoding"] == "cp1252"
    assert rows(con) == [("“huur”", "€ 12,50", 2)]


def test_csv_utf8_bom_stripped_from_first_header(con, tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbfbuurtcode;aantal\nBU03440111;5\n")
    r = read(con, p)
    assert r.columns == ["buurtcode", "aantal"] and r.options_used["encoding"] == "utf-8-sig"
    assert rows(con) == [("BU03440111", "5", 2)]


def test_csv_latin1_found_after_a_utf8_start(con, tmp_path):
    p = tmp_path / "laat.csv"
    p.write_bytes(b"a,b\n" + b"x,y\n" * 400_000 + "Zoë,1\n".encode("latin-1"))   # > 1 MiB of ASCII first
    r = read(con, p)
    assert r.options_used["encoding"] == "latin-1" and r.rows == 400_001
    assert any("verderop niet" in n for n in r.notes)
    assert con.execute(f"SELECT a, {ROW_COLUMN} FROM t WHERE a = 'Zoë'").fetchall() == [("Zoë", 400_002)]


def test_csv_ragged_line_names_file_and_line(con, tmp_path):
    p = tmp_path / "rafelig.csv"
    p.write_text('id,naam,x\n1,"twee\nregels",3\n4,vijf,6\n7,acht\n9,tien,11\n')
    with pytest.raises(ReaderError) as err:
        read(con, p)
    e = err.value
    assert e.row == 5 and e.file == str(p)           # physical line 5, after a record spanning lines 2-3
    assert "2 velden" in str(e) and "3" in str(e) and "rafelig.csv" in str(e) and "rij 5" in str(e)


def test_csv_multiline_records_blank_lines_and_empty_strings(con, tmp_path):
    p = tmp_path / "ml.csv"
    p.write_text('a,b\n1,"x\ny"\n\n2,""\n3,\n"4","z"\n')
    r = read(con, p)
    assert r.rows == 4
    assert rows(con) == [("1", "x\ny", 2), ("2", None, 5), ("3", None, 6), ("4", "z", 7)]


def test_csv_line_numbers_exact_on_multi_mb_file(con, tmp_path):
    """Parallel DuckDB read of ~10 MB: __row follows the file, also after quoted line breaks."""
    p = tmp_path / "groot.csv"
    con.execute(f"""COPY (SELECT i AS id, CASE WHEN i % 50000 = 7 THEN 'r1' || chr(10) || 'r2' ELSE 'v' || i END AS v,
                   'straat ' || (i % 97) AS s FROM range(1, 400001) t(i)) TO '{p}' (HEADER, DELIMITER ',')""")
    r = read(con, p)
    assert r.rows == 400_000 and p.stat().st_size > 8_000_000
    # line of record i = 1 + i + number of earlier records that took an extra line
    bad = con.execute(f"""SELECT count(*) FROM t WHERE {ROW_COLUMN} <>
                          1 + id::BIGINT + (id::BIGINT - 8 + 50000) // 50000""").fetchone()[0]
    assert bad == 0
    assert con.execute(f"SELECT max({ROW_COLUMN}) FROM t").fetchone()[0] == len(p.read_bytes().splitlines())


def test_csv_title_lines_and_two_header_lines(con, tmp_path):
    p = tmp_path / "cbs.csv"
    p.write_text("Tabel 1: bevolking\nBron: CBS\nWijk;Bevolking;;Opp\n;Mannen;Vrouwen;ha\nNoord;10;12;3,5\n")
    r = read(con, p, skip_rows=2, header_rows=2)
    assert r.columns == ["Wijk", "Bevolking Mannen", "Bevolking Vrouwen", "Opp ha"]
    assert r.options_used["header_line"] == 3 and r.options_used["first_data_line"] == 5
    assert rows(con) == [("Noord", "10", "12", "3,5", 5)]
    r = read(con, p, header_rows=[3, 4])                # the same, as line numbers
    assert r.columns[1] == "Bevolking Mannen" and rows(con)[0][-1] == 5


def test_csv_overrides_no_header_and_renamed_columns(con, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("x|x||y\n1|2|3|4\n")
    r = read(con, p, delimiter="|", encoding="utf-8")
    assert r.columns == ["x", "x_2", "kolom_3", "y"] and r.options_used["delimiter"] == "|"
    assert "kolom 2 (dubbele naam: 'x') → 'x_2'" in r.notes[0] and "kolom 3 (geen naam) → 'kolom_3'" in r.notes[0]
    r = read(con, p, delimiter="|", header_rows=0)
    assert r.columns == ["kolom_1", "kolom_2", "kolom_3", "kolom_4"] and r.rows == 2
    assert rows(con, f"kolom_1, {ROW_COLUMN}") == [("x", 1), ("1", 2)]


def test_csv_gzip_and_tsv(con, tmp_path):
    p = tmp_path / "data.tsv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        fh.write("code\tnaam\nGM0344\tUtrecht\nGM0014\tGroningen\n")
    r = read(con, p)
    assert r.options_used["delimiter"] == "\t" and r.columns == ["code", "naam"]
    assert rows(con) == [("GM0344", "Utrecht", 2), ("GM0014", "Groningen", 3)]


def test_csv_empty_file_is_an_error(con, tmp_path):
    p = tmp_path / "leeg.csv"
    p.write_text("\n")
    with pytest.raises(ReaderError, match="leeg"):
        read(con, p)


def test_csv_real_fietsdiefstallen(con, real):
    p = real("groningen/fietsdiefstal/fietsdiefstallen_groningen_2013_2017.csv")
    r = read(con, p)
    assert r.rows == 15_947 and len(r.columns) == 33 and r.options_used["delimiter"] == ","
    assert r.columns[0] == "Incident Identificatie" and r.columns[-2:] == ["X", "Y"]
    with open(p, encoding="utf-8", newline="\n") as fh:    # reference: where each record starts
        reader, prev, starts = csv.reader(fh), 0, []
        for i, rec in enumerate(reader):
            if i and rec:
                starts.append(prev + 1)
            prev = reader.line_num
    assert [x[0] for x in rows(con, ROW_COLUMN)] == starts and starts[-1] == 16_202


def test_csv_real_veiligstallen_semicolon_decimal_comma(con, real):
    r = read(con, real("groningen/fietsdiefstal/fietsenstallingen_veiligstallen.csv"))
    assert r.rows == 11 and r.options_used["delimiter"] == ";" and r.options_used["newline"] == "\r\n"
    assert r.columns[-2:] == ["lat", "lon"]
    assert rows(con, f"Naam, lat, {ROW_COLUMN}")[0] == ("Euroborg", "53,2071730", 2)


def test_csv_real_nabijheid_bom(con, real):
    r = read(con, real("utrecht/kwb/nabijheid_voorzieningen_buurt_2023_utrecht.csv"))
    assert r.options_used["encoding"] == "utf-8-sig" and r.options_used["delimiter"] == ";"
    assert r.columns[0] == "Wijken en buurten" and len(r.columns) == 115 and r.rows == 123


# --- spreadsheets --------------------------------------------------------------------------------

def test_xlsx_messy_layout(con, messy_xlsx):
    r = read(con, messy_xlsx)
    assert r.options_used["sheet"] == "Tabel" and r.options_used["header_rows"] == [4, 5]
    assert r.columns == ["Wijk", "Bevolking Mannen", "Bevolking Vrouwen", "Peildatum", "Opp ha"]
    assert r.rows == 4 and not r.typed
    assert rows(con) == [
        ("Wijk 01 West", "14320", "15385", "2024-01-01", "12.5", 6),
        ("Wijk 02 Noordwest", ".", "21000", "2024-01-01", "1000000000000000", 7),
        ("Wijk 03 Overvecht", "16000", "17000", "2024-01-01 13:45:00", None, 8),
        ("Wijk 04 Oost", "1", "2", None, "true", 10)]
    notes = "\n".join(r.notes)
    assert "blad 'Tabel' gelezen" in notes and "'Toelichting'" in notes
    assert "boven de tabel overgeslagen (rij 2-3): Bevolking per wijk, 2024 | Gemeente Voorbeeld" in notes
    assert "1 lege rij(en) in de tabel overgeslagen (rij 9)" in notes
    assert "voetnoten onder de tabel (rij 12-13): Bron: CBS, bewerking gemeente | . = geheim" in notes


def test_xlsx_sheet_choice(con, messy_xlsx):
    r = read(con, messy_xlsx, sheet="Toelichting")
    assert r.columns == ["Deze tabel komt van het CBS."] and r.rows == 0
    assert read(con, messy_xlsx, sheet=1).options_used["sheet"] == "Tabel"
    with pytest.raises(ReaderError) as err:
        read(con, messy_xlsx, sheet="Data")
    assert err.value.sheet is None and "'Toelichting' (0), 'Tabel' (1)" in str(err.value)


def test_xlsx_explicit_header_rows(con, messy_xlsx):
    r = read(con, messy_xlsx, sheet="Tabel", header_rows=[5])
    assert r.columns == ["Wijk", "Mannen", "Vrouwen", "kolom_4", "ha"]   # merged 'Wijk' still fills row 5
    assert rows(con, ROW_COLUMN)[0] == (6,)
    r = read(con, messy_xlsx, sheet="Tabel", skip_rows=3, header_rows=1)
    assert r.columns[1] == "Bevolking" and r.options_used["header_rows"] == [4]


def test_xlsx_blank_and_duplicate_names(con, tmp_path, xlsx_writer):
    p = xlsx_writer(tmp_path / "dubbel.xlsx", {"Blad1": [["x", "x", None, "X"], [1, 2, 3, 4], [5, 6, 7, 8]]})
    r = read(con, p)
    assert r.columns == ["x", "x_2", "kolom_3", "X_3"]          # DuckDB names ignore case: X ~ x, X_2 ~ x_2
    assert "kolomnamen aangepast" in r.notes[0] and "→ 'kolom_3'" in r.notes[0]
    assert rows(con) == [("1", "2", "3", "4", 2), ("5", "6", "7", "8", 3)]


def test_ods_two_row_header_without_merge_info(con, tmp_path, ods_writer):
    p = ods_writer(tmp_path / "cijfers.ods", {
        "Leeg": [],
        "Cijfers": [["Overzicht 2024"], [], ["Wijk", ("Bevolking", 2), "Datum"], [None, "Mannen", "Vrouwen", None],
                    ["Noord", 10, 12.5, dt.date(2024, 1, 2)], ["Zuid", 3, None, dt.date(2024, 2, 3)], [],
                    ["Bron: test"]]})
    r = read(con, p)
    assert r.options_used["sheet"] == "Cijfers"
    assert r.columns == ["Wijk", "Bevolking Mannen", "Bevolking Vrouwen", "Datum"]
    assert rows(con) == [("Noord", "10", "12.5", "2024-01-02", 5), ("Zuid", "3", None, "2024-02-03", 6)]
    assert any("voetnoten onder de tabel (rij 8): Bron: test" in n for n in r.notes)


def test_spreadsheet_values_as_the_user_sees_them():
    from stadslab.ingest.readers.spreadsheet import _to_text

    col = (12.0, 12.5, "", ".", 1e15, 2.5e15, -3.0, 0.1)
    assert _to_text(col).to_pylist() == ["12", "12.5", None, ".", "1000000000000000", "2500000000000000", "-3", "0.1"]
    stamps = (dt.datetime(2024, 5, 1, 23, 59, 59, 999_999), dt.datetime(2024, 5, 1, 8, 0), "")
    assert _to_text(stamps).to_pylist() == ["2024-05-02 00:00:00", "2024-05-01 08:00:00", None]
    mixed = (True, False, dt.date(2024, 1, 31), dt.time(7, 30), 3, "")
    assert _to_text(mixed).to_pylist() == ["true", "false", "2024-01-31", "07:30:00", "3", None]


def test_spreadsheet_number_columns_are_known_so_no_decimal_guess_is_needed(con, tmp_path, xlsx_writer):
    """A column filled only by number cells is written with a decimal point; one text cell ('1,5', '.')
    makes the decimal mark a question the ingest answers from the values again."""
    from stadslab.ingest.readers.spreadsheet import _column_text

    assert _column_text((12.0, 12.5, "", 3))[1] is True
    assert _column_text((12.0, "1,5"))[1] is False and _column_text((12.0, "."))[1] is False
    assert _column_text(("", ""))[1] is False and _column_text((dt.date(2024, 1, 2), 1.0))[1] is False
    p = xlsx_writer(tmp_path / "getallen.xlsx", {"Blad": [["a", "b", "c"], [1.5, "1,5", "x"], [2.0, "2,25", "y"]]})
    assert read(con, p).numeric_columns == frozenset({"a"})


def test_xlsx_real_kwb_cbs_layout(con, real):
    r = read(con, real("utrecht/kwb/kwb-2024-utrecht.xlsx"))
    assert r.rows == 122 and len(r.columns) == 121 and r.columns[:3] == ["gwb_code_10", "gwb_code_8", "regio"]
    first = con.execute(f"SELECT gwb_code_10, a_inw, {ROW_COLUMN} FROM t ORDER BY {ROW_COLUMN} LIMIT 1").fetchone()
    assert first == ("GM0344", "374238", 2)
    markers = con.execute("SELECT count(*) FROM t WHERE g_wozbag = '.'").fetchone()[0]   # CBS '.' kept as text
    assert markers == 122 and r.notes == []


def test_xlsx_real_mor_workbook(con, real):
    p = real("nl/mor_standaard_vng/MOR_ODS_1.0_v6.xlsx")
    r = read(con, p)
    assert r.options_used["sheet"] == "Data specificatie IM" and r.options_used["header_rows"] == [3]
    assert r.columns == ["Attribuut", "Waarde", "verplicht ( J/N)", "Opmerkingen"] and r.rows == 20
    assert rows(con, f"Attribuut, {ROW_COLUMN}")[0] == ("identificatie", 4)
    assert any(n.startswith("voetnoten onder de tabel (rij 25): Data die gepubliceerd") for n in r.notes)
    r = read(con, p, sheet="Metadata specificatie")
    assert r.columns == ["Verplichte Eigenschap", "Waarde", "Toelichting"] and r.options_used["header_rows"] == [6]
    assert any(n.startswith("boven de tabel overgeslagen (rij 1-5): Metadata specificatie") for n in r.notes)


# --- geo -----------------------------------------------------------------------------------------

def test_geojson_rd_with_legacy_crs_member(con, real):
    r = read(con, real("utrecht/boundaries_2024/utrecht_buurten_2024_rd.geojson"))
    assert r.typed and r.crs == "EPSG:28992" and r.rows == 111
    assert r.columns == ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam", "jaar"]
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE t)").fetchall())
    assert types["jaar"] == "INTEGER" and types[GEOM_COLUMN] == "GEOMETRY"
    assert rows(con, f"buurtcode, {ROW_COLUMN}")[:2] == [("BU03440111", 1), ("BU03440112", 2)]
    x = con.execute(f"SELECT ST_X(ST_Centroid({GEOM_COLUMN})) FROM t LIMIT 1").fetchone()[0]
    assert 100_000 < x < 200_000


def test_geojson_wgs84_and_shapefile(con, real):
    assert read(con, real("utrecht/boundaries_2024/utrecht_buurten_2024_wgs84.geojson")).crs == "EPSG:4326"
    r = read(con, real("amsterdam/wijken/politie_wijken_geo.shp"))
    assert r.crs == "EPSG:4326" and r.rows == 99 and r.columns == ["WK_NAAM", "Shape_Leng", "Shape_Area", "WK_CODE"]
    assert rows(con, ROW_COLUMN)[-1] == (99,)


def test_zipped_shapefile(con, real, tmp_path):
    shp = real("amsterdam/wijken/politie_wijken_geo.shp")
    z = tmp_path / "wijken.zip"
    with zipfile.ZipFile(z, "w") as out:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            out.write(shp.with_suffix(ext), "data/" + shp.with_suffix(ext).name)
    r = read(con, z)
    assert r.rows == 99 and r.crs == "EPSG:4326" and r.options_used["layer"] == "politie_wijken_geo"


def test_geopackage_layer_and_rd_prj(con, tmp_path, geojson_writer):
    src = geojson_writer(tmp_path / "p.geojson", [(136000.0, 455000.0), (137000.5, 456000.0)], "EPSG:28992")
    read(con, src)
    gpkg, shp = tmp_path / "p.gpkg", tmp_path / "p.shp"
    con.execute(f"COPY (SELECT naam, nr, {GEOM_COLUMN} AS geom FROM t) TO '{gpkg}' "
                "(FORMAT GDAL, DRIVER 'GPKG', SRS 'EPSG:28992', LAYER_NAME 'punten')")
    con.execute(f"COPY (SELECT naam, nr, {GEOM_COLUMN} AS geom FROM t) TO '{shp}' "
                "(FORMAT GDAL, DRIVER 'ESRI Shapefile', SRS 'EPSG:28992')")
    assert "RD_New" in shp.with_suffix(".prj").read_text()          # ESRI WKT, no EPSG code in it
    r = read(con, gpkg)
    assert r.crs == "EPSG:28992" and r.options_used["layer"] == "punten" and r.rows == 2
    assert read(con, shp).crs == "EPSG:28992"
    with pytest.raises(ReaderError, match="laag 'wegen' bestaat niet") as err:
        read(con, gpkg, layer="wegen")
    assert "'punten'" in str(err.value)


def test_geojson_rd_coordinates_without_crs_are_refused(con, tmp_path, geojson_writer):
    p = geojson_writer(tmp_path / "rd_zonder_crs.geojson", [(136000.0, 455000.0), (140000.0, 458000.0)])
    with pytest.raises(ReaderError) as err:
        read(con, p)
    assert "RD-meters" in str(err.value) and "GeoJSON-standaard" in str(err.value)
    assert "EPSG:28992" in err.value.hint
    r = read(con, p, crs="28992")
    assert r.crs == "EPSG:28992" and r.rows == 2 and "vervangen door source.options.crs EPSG:28992" in r.notes[0]


def test_geojson_wrong_label_and_swapped_axes(con, tmp_path, geojson_writer):
    p = geojson_writer(tmp_path / "graden.geojson", [(5.1, 52.09), (5.12, 52.1)], "urn:ogc:def:crs:EPSG::28992")
    with pytest.raises(ReaderError, match="zijn graden, maar volgens het bestand is het RD"):
        read(con, p)
    p = geojson_writer(tmp_path / "omgedraaid.geojson", [(52.09, 5.1), (52.1, 5.12)])
    with pytest.raises(ReaderError, match="verwisseld"):
        read(con, p)


# --- columnar ------------------------------------------------------------------------------------

def test_parquet_keeps_types_and_record_numbers(con, tmp_path):
    p = tmp_path / "d.parquet"
    con.execute(f"COPY (SELECT i AS id, DATE '2024-01-01' + i::INT AS dag, i * 0.5 AS v FROM range(250000) t(i)) "
                f"TO '{p}' (ROW_GROUP_SIZE 50000)")
    r = read(con, p)
    assert r.typed and r.rows == 250_000 and r.columns == ["id", "dag", "v"]
    assert con.execute(f"SELECT count(*) FROM t WHERE {ROW_COLUMN} <> id + 1").fetchone()[0] == 0
    assert dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE t)").fetchall())["dag"] == "DATE"


def test_json_array_lines_and_keyed_object(con, tmp_path):
    (tmp_path / "a.json").write_text('[{"code": "GM0344", "n": 1}, {"code": "GM0014", "n": null}]')
    r = read(con, tmp_path / "a.json")
    assert r.typed and r.columns == ["code", "n"] and rows(con) == [("GM0344", 1, 1), ("GM0014", None, 2)]
    (tmp_path / "b.jsonl").write_text('{"code": "a"}\n{"code": "b"}\n')
    assert read(con, tmp_path / "b.jsonl").rows == 2 and rows(con) == [("a", 1), ("b", 2)]
    (tmp_path / "c.json").write_text('{"GM0344": {"inw": 10}, "GM0014": {"inw": 20}}')
    r = read(con, tmp_path / "c.json", key_column="code")
    assert r.columns == ["code", "inw"] and rows(con) == [("GM0344", 10, 1), ("GM0014", 20, 2)]
    assert "sleutel in kolom 'code'" in r.notes[0]


def test_json_real_kwb_keyed_by_area_code(con, real):
    r = read(con, real("nl/kwb/kwb2024_gemeente_wijk_8vars.json"))
    assert r.rows == 3735 and r.columns[0] == "key" and "AantalInwoners_5" in r.columns
    assert rows(con, f"key, {ROW_COLUMN}")[0] == ("GM1680", 1)


def test_missing_file_is_a_reader_error(con, tmp_path):
    for name in ("x.csv", "x.xlsx", "x.geojson", "x.parquet", "x.json"):
        with pytest.raises(ReaderError, match="niet gevonden"):
            read(con, tmp_path / name)
