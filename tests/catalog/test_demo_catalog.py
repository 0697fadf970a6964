"""The demo catalog (stadslab/demo/catalog) against the vendored data (data/demo), and the catalog
checker itself on broken descriptions.

The value checks run the real readers and the shared converter (ingest/validate.py) over every
vendored file, so a field type that does not fit the data fails here, not in the demo.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path

import pytest
import yaml

from stadslab.catalog import check_catalog, load_catalog
from stadslab.catalog.loader import check_entry
from stadslab.errors import CatalogError, ReaderError

REPO = Path(__file__).resolve().parents[2]
CATALOG = REPO / "stadslab" / "demo" / "catalog"
DATA = REPO / "data" / "demo"

DEMO_IDS = {
    "utrecht_buurten_2024", "utrecht_wijken_2024", "utrecht_buurten_2013", "utrecht_wijken_2013",
    "utrecht_gemeente_2013", "groningen_buurten_2017", "groningen_wijken_2017", "amsterdam_wijken_2021",
    "cbs_kwb_utrecht_2023", "cbs_kwb_utrecht_2024", "utrecht_voorzieningen_2023", "utrecht_misdrijven_buurt_2023",
    "groningen_fietsdiefstal", "groningen_fietsenstallingen", "denhaag_afvalcontainers", "lichtmasten_utrecht_2013",
    "nl_misdrijven_maand", "nl_soort_misdrijf", "nl_misdrijven_jaar",
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG)


def _files(path: str) -> list[Path]:
    return [Path(p) for p in sorted(glob.glob(str(DATA / path)))]


# --- the demo catalog ----------------------------------------------------------------------------

def test_demo_catalog_has_no_problems():
    assert check_catalog(CATALOG) == []


def test_demo_catalog_has_exactly_the_fixed_ids(catalog):
    assert {d.id for d in catalog} == DEMO_IDS
    # one file per dataset, named after its id
    assert {p.stem for p in CATALOG.glob("*.yaml")} == DEMO_IDS


def test_every_source_path_exists_under_data_demo(catalog):
    missing = [f"{d.id}: {d.source.path}" for d in catalog if not _files(d.source.path)]
    assert missing == []
    for d in catalog:
        assert not Path(d.source.path).is_absolute(), d.id
        assert not d.source.path.startswith(("data/", "demo/")), d.id   # relative to the workspace data folder


def test_every_dataset_has_licence_attribution_and_all_phases(catalog):
    for d in catalog:
        assert d.licence and d.licence.strip(), d.id
        assert d.attribution and d.attribution.strip(), d.id
        assert d.owner.strip(), d.id
        assert set(d.phases) == {"onderzoekskader", "dataverzameling", "duiding", "gebruik"}, d.id
        assert d.classification == "open", d.id
        assert d.update_frequency, d.id
        assert d.purposes, d.id


def test_field_names_are_unique_and_snake_case(catalog):
    for d in catalog:
        names = [f.name for f in d.fields]
        assert len(names) == len(set(names)), d.id
        assert all(re.fullmatch(r"[a-z_][a-z0-9_]*", n) for n in names), d.id


def test_point_and_area_datasets_are_complete(catalog):
    for d in catalog:
        if d.is_point:
            assert d.geography.division_year, d.id
        if d.areas:
            names = {f.name for f in d.fields}
            assert d.areas.code_field in names, d.id
            assert d.field_with_role("geometry") or d.field_with_role("wkt"), d.id
    years = {(d.areas.level, d.areas.year) for d in catalog.area_datasets() if "utrecht" in d.id}
    assert {("buurt", 2024), ("wijk", 2024), ("buurt", 2013), ("wijk", 2013), ("gemeente", 2013)} <= years


def test_attributions_named_in_the_brief(catalog):
    attr = {d.id: d.attribution for d in catalog}
    assert attr["groningen_fietsdiefstal"] == "Gemeente Groningen, CC BY-SA 3.0 NL"
    assert attr["utrecht_buurten_2024"] == "CBS / Kadaster"
    assert attr["nl_misdrijven_maand"] == "Politie / CBS"
    assert attr["denhaag_afvalcontainers"] == "Gemeente Den Haag"
    assert attr["lichtmasten_utrecht_2013"] == "Gemeente Utrecht"


def test_fietsdiefstal_fields_are_the_agreed_names(catalog):
    d = catalog.get("groningen_fietsdiefstal")
    assert [f.name for f in d.fields] == [
        "incident_id", "bronregistratie", "incidentsoort_code", "incidentsoort", "straat", "huisnummer",
        "postcode", "plaats", "gemeente", "provincie", "wijk_naam", "buurt_naam", "subbuurt_naam",
        "begin_dag", "begin_dagdeel", "begin_tijd", "eind_dag", "eind_dagdeel", "eind_tijd",
        "kennisname_dag", "kennisname_dagdeel", "kennisname_tijd", "aangifte", "poging", "verdachten",
        "aanhoudingen", "opgehelderd", "object", "projecten", "temperatuur", "weer", "x", "y"]
    f = d.field("incident_id")
    assert f.unique and not f.nullable
    assert d.field("begin_tijd").role == "time" and d.field("begin_tijd").type == "datetime"
    assert d.field("x").role == "x" and d.field("y").role == "y"
    assert (d.geography.level, d.geography.division_year, d.geography.crs) == ("point", 2017, "EPSG:28992")


def test_kwb_describes_all_121_columns_of_the_official_xlsx(catalog):
    openpyxl = pytest.importorskip("openpyxl")
    for year in (2023, 2024):
        d = catalog.get(f"cbs_kwb_utrecht_{year}")
        wb = openpyxl.load_workbook(DATA / d.source.path, read_only=True)
        header = next(wb[d.source.options["sheet"]].iter_rows(max_row=1, values_only=True))
        assert [f.source for f in d.fields] == list(header)
        assert len(d.fields) == 121
        assert d.field("gwb_code_10").role == "area_code"
        assert d.source.null_markers == (".",)


def test_nl_misdrijven_maand_code_list_is_the_soortmisdrijf_metadata(catalog):
    import csv

    with open(DATA / "nl/politie/SoortMisdrijf_47022NED_metadata.csv", encoding="utf-8", newline="") as fh:
        keys = {row["Key"].strip() for row in csv.DictReader(fh)}
    f = catalog.get("nl_misdrijven_maand").field("crime_type_code")
    assert set(f.codes) == keys and len(keys) == 59
    assert f.code_labels["1.1.1"] == "Diefstal/inbraak woning"


# --- every value of every vendored file fits its description ----------------------------------------

def _stage(con, d, path: Path) -> tuple[list[str], bool]:
    """The file as the ingest pipeline stages it: the registered reader, or (for geo formats while no
    geo reader is registered) DuckDB's ST_Read with the geometry as ``__geom``."""
    from stadslab.ingest.readers import GEOM_COLUMN, ROW_COLUMN, reader_for

    try:
        info = reader_for(path, d.source.reader)
    except ReaderError:
        info = None
    if info is not None:
        r = info.read(con, path, dict(d.source.options), "stage")
        return [c for c in r.columns if c not in (ROW_COLUMN, GEOM_COLUMN)], r.typed
    assert path.suffix.lower() in (".geojson", ".shp"), path
    con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS SELECT * EXCLUDE (geom), geom AS {GEOM_COLUMN} "
                f"FROM ST_Read('{path}')")
    cols = [r[0] for r in con.execute("DESCRIBE stage").fetchall()]
    return [c for c in cols if c not in ("OGC_FID", GEOM_COLUMN)], True


@pytest.mark.parametrize("dataset_id", sorted(DEMO_IDS))
def test_vendored_file_matches_its_description(catalog, dataset_id):
    from stadslab.ingest import validate as V
    from stadslab.ingest.drift import match_columns
    from stadslab.warehouse.connection import connect

    d = catalog.get(dataset_id)
    con = connect()
    try:
        for path in _files(d.source.path):
            columns, typed = _stage(con, d, path)
            drift = match_columns(d, columns)
            assert (drift.missing, drift.renamed) == ([], []), path.name
            assert drift.new == [], f"{path.name}: columns not described: {drift.new}"
            decimal = d.source.options.get("decimal", ".")
            bad = {}
            for f in d.fields:
                col = drift.mapping.get(f.name, "__geom")
                value, raw = V.convert_expr(f, col, typed_source=typed, options=d.source.options, decimal=decimal)
                err = V.error_expr(f, value, raw)
                n, example = con.execute(
                    f"SELECT count(e), any_value(CAST(r AS VARCHAR) || ': ' || e) "
                    f"FROM (SELECT {raw} AS r, {err} AS e FROM stage)").fetchone()
                if f.unique:
                    n += con.execute(f"SELECT count(v) - count(DISTINCT v) FROM (SELECT {value} AS v FROM stage)"
                                     ).fetchone()[0]
                if n:
                    bad[f.name] = (n, example)
            assert bad == {}, f"{path.name}: invalid values per field"
    finally:
        con.close()


# --- the worked example in docs/catalog.md ---------------------------------------------------------

def test_worked_example_in_docs_is_a_valid_description():
    text = (REPO / "docs" / "catalog.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block, "docs/catalog.md has no yaml example"
    raw = yaml.safe_load(block.group(1))
    assert check_entry(raw, "politie_woninginbraak_dagmonitor.yaml") == []
    assert raw["id"] == "politie_woninginbraak_dagmonitor"
    for key in ("stadslab catalog check", "stadslab ingest", "stadslab versions"):
        assert key in text


# --- the checker on broken descriptions ------------------------------------------------------------

GOOD = {
    "id": "meldingen", "title": "Meldingen", "owner": "Gemeente", "classification": "open",
    "source": {"path": "meldingen.csv"},
    "fields": [{"name": "x", "type": "number", "role": "x"}, {"name": "y", "type": "number", "role": "y"},
               {"name": "soort", "type": "string"}],
}


def _write(folder: Path, name: str, doc: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _broken(**changes) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(GOOD))
    doc.update(changes)
    return doc


def test_checker_accepts_the_good_example(tmp_path):
    _write(tmp_path, "meldingen.yaml", GOOD)
    assert check_catalog(tmp_path) == []


def test_missing_id_names_file_and_id(tmp_path):
    doc = _broken()
    del doc["id"]
    _write(tmp_path, "zonder_id.yaml", doc)
    problems = check_catalog(tmp_path)
    assert len(problems) == 1
    p = problems[0]
    assert p.file == "zonder_id.yaml"
    assert "'id'" in p.message
    assert "zonder_id.yaml" in str(p) and "id" in str(p)


def test_wrong_type_name_names_the_field_key_path(tmp_path):
    doc = _broken()
    doc["fields"][2]["type"] = "getal"
    _write(tmp_path, "verkeerd_type.yaml", doc)
    problems = check_catalog(tmp_path)
    assert [(p.file, p.key_path) for p in problems] == [("verkeerd_type.yaml", "fields[2].type")]
    assert "getal" in problems[0].message
    assert str(problems[0]).startswith("verkeerd_type.yaml [fields[2].type]")


def test_point_dataset_without_division_year(tmp_path):
    _write(tmp_path, "punten.yaml", _broken(geography={"level": "point", "crs": "EPSG:28992"}))
    problems = check_catalog(tmp_path)
    assert [(p.file, p.key_path) for p in problems] == [("punten.yaml", "geography.division_year")]
    assert "gebiedsindeling" in problems[0].message
    # with the year it is fine
    _write(tmp_path, "punten.yaml", _broken(geography={"level": "point", "division_year": 2024}))
    assert check_catalog(tmp_path) == []


def test_point_dataset_without_coordinates(tmp_path):
    doc = _broken(geography={"level": "point", "division_year": 2024})
    doc["fields"] = [{"name": "soort", "type": "string"}]
    _write(tmp_path, "geen_xy.yaml", doc)
    problems = check_catalog(tmp_path)
    assert [(p.file, p.key_path) for p in problems] == [("geen_xy.yaml", "geography.level")]


def test_duplicate_ids_across_files(tmp_path):
    _write(tmp_path, "a_meldingen.yaml", GOOD)
    _write(tmp_path, "b_meldingen_kopie.yaml", GOOD)
    problems = check_catalog(tmp_path)
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.key_path) == ("b_meldingen_kopie.yaml", "id")
    assert "meldingen" in p.message and "a_meldingen.yaml" in p.message
    with pytest.raises(CatalogError) as exc:
        load_catalog(tmp_path)
    assert "b_meldingen_kopie.yaml [id]" in str(exc.value)


def test_role_that_does_not_fit_the_type(tmp_path):
    doc = _broken()
    doc["fields"][0]["type"] = "string"
    _write(tmp_path, "rol.yaml", doc)
    problems = check_catalog(tmp_path)
    assert [(p.file, p.key_path) for p in problems] == [("rol.yaml", "fields[0].type")]
    assert "rol 'x'" in problems[0].message


def test_area_code_field_must_exist(tmp_path):
    doc = _broken(areas={"level": "buurt", "year": 2024, "code_field": "buurtcode"},
                  geography={"level": "polygon"})
    doc["fields"].append({"name": "geom", "type": "geometry", "role": "geometry"})
    _write(tmp_path, "gebieden.yaml", doc)
    problems = check_catalog(tmp_path)
    assert [(p.file, p.key_path) for p in problems] == [("gebieden.yaml", "areas.code_field")]


def test_invalid_yaml_names_file_and_line(tmp_path):
    (tmp_path / "kapot.yaml").write_text("id: kapot\nfields: [\n", encoding="utf-8")
    problems = check_catalog(tmp_path)
    assert len(problems) == 1 and problems[0].file == "kapot.yaml"
    assert problems[0].key_path.startswith("regel ")
