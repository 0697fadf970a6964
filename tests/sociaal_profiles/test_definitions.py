"""Profile definitions: checks with Dutch errors naming file and key, versions with hash and time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ibis
import pytest
import yaml

from stadslab.analyses.sociaal.profile_defs import (
    VERSIONS_FILE,
    condition_expr,
    describe,
    history,
)
from stadslab.analyses.sociaal.profiles import buurt_level, get_profile, load_profiles
from stadslab.errors import AnalysisError, CatalogError

DEMO = Path(__file__).resolve().parents[2] / "stadslab" / "demo" / "profielen"


def write(root: Path, pid: str, body: dict | str) -> Path:
    folder = root / "profielen"
    folder.mkdir(exist_ok=True)
    path = folder / f"{pid}.yaml"
    path.write_text(body if isinstance(body, str) else yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


def good(pid: str = "hoog", **over) -> dict:
    return {"id": pid, "titel": "Verzuim hoog", "omschrijving": "x", "eigenaar": "Leerplicht", "doel": "sociaal_domein",
            "voorwaarden": {"alle": [{"veld": "verzuim_pct", "op": ">", "waarde": 10}]}, **over}


@pytest.mark.parametrize("change, key, words", [
    ({"voorwaarden": {"alle": [{"veld": "pseudo_id", "op": "=", "waarde": "ab"}]}}, "voorwaarden.alle[0].veld", "pseudoniem"),
    ({"voorwaarden": {"alle": [{"veld": "pseudo_id_ouder", "op": "not_null"}]}}, "voorwaarden.alle[0].veld", "pseudoniem"),
    ({"voorwaarden": {"alle": [{"veld": "inkomen", "op": "=", "waarde": 1}]}}, "voorwaarden.alle[0].veld", "geen veld"),
    ({"voorwaarden": {"alle": [{"veld": "verzuim_pct", "op": "~", "waarde": 1}]}}, "voorwaarden.alle[0].op", "onbekend"),
    ({"voorwaarden": {"alle": [{"veld": "verzuim_pct", "op": ">", "waarde": "tien"}]}}, "voorwaarden.alle[0].waarde", "getal"),
    ({"voorwaarden": {"alle": [{"veld": "bijstand", "op": "=", "waarde": "misschien"}]}}, "voorwaarden.alle[0].waarde", "ja of nee"),
    ({"voorwaarden": {"alle": [{"veld": "schoolsoort", "op": "<", "waarde": "b"}]}}, "voorwaarden.alle[0].op", "getallen"),
    ({"voorwaarden": {"alle": [{"veld": "school", "op": "in", "waarde": "S001"}]}}, "voorwaarden.alle[0].waarde", "lijst"),
    ({"voorwaarden": {"alle": [{"veld": "zrm_financien", "op": "is_null", "waarde": 1}]}}, "voorwaarden.alle[0].waarde", "geen waarde"),
    ({"voorwaarden": {"alle": [{"een_van": []}]}}, "voorwaarden.alle[0].een_van", "niet-lege"),
    ({"voorwaarden": {"alle": [], "een_van": []}}, "voorwaarden", "precies één"),
    ({"doel": None}, "doel", "ontbreekt"),
    ({"kleur": "rood"}, "kleur", "onbekende sleutel"),
    ({"id": "Hoog!"}, "id", "ongeldig"),
])
def test_invalid_definitions_name_file_and_key(tmp_path, change, key, words):
    path = write(tmp_path, "hoog", good(**change))
    with pytest.raises(CatalogError) as exc:
        load_profiles(tmp_path)
    assert exc.value.file == str(path) and exc.value.key_path == key, (exc.value.file, exc.value.key_path)
    assert words in exc.value.message, exc.value.message


def test_id_must_match_file_and_yaml_must_parse(tmp_path):
    write(tmp_path, "anders", good("hoog"))
    with pytest.raises(CatalogError, match="bestandsnaam"):
        load_profiles(tmp_path)
    (tmp_path / "profielen" / "anders.yaml").unlink()
    write(tmp_path, "kapot", "id: [")
    with pytest.raises(CatalogError, match="geen geldige YAML"):
        load_profiles(tmp_path)


def test_versions_change_only_with_the_definition(tmp_path):
    write(tmp_path, "hoog", good())
    v1 = get_profile(tmp_path, "hoog")
    assert v1.versie == 1 and len(v1.sha256) == 64
    write(tmp_path, "hoog", good(titel="Andere titel", omschrijving="andere tekst"))
    assert get_profile(tmp_path, "hoog").versie == 1          # wording is not the definition
    write(tmp_path, "hoog", good(voorwaarden={"alle": [{"veld": "verzuim_pct", "op": ">", "waarde": 12}]}))
    v2 = get_profile(tmp_path, "hoog")
    assert v2.versie == 2 and v2.sha256 != v1.sha256
    write(tmp_path, "hoog", good())                           # back to the old text: a new version all the same
    assert get_profile(tmp_path, "hoog").versie == 3
    h = history(tmp_path, "hoog")
    assert [x["versie"] for x in h] == [1, 2, 3] and h[0]["sha256"] == h[2]["sha256"] == v1.sha256
    assert all(x["vastgelegd"] and x["voorwaarden"] for x in h)
    raw = json.loads((tmp_path / "profielen" / VERSIONS_FILE).read_text(encoding="utf-8"))
    assert set(raw) == {"hoog"}
    assert not list((tmp_path / "profielen").glob(".versies-*"))   # atomic write left no temp file


def test_unknown_profile_names_the_declared_ones(tmp_path):
    write(tmp_path, "hoog", good())
    with pytest.raises(AnalysisError, match="bestaat niet") as exc:
        get_profile(tmp_path, "laag")
    assert "hoog" in exc.value.hint


def test_demo_profiles_are_valid_and_compile():
    profiles = load_profiles_copy(DEMO)
    assert {p.id for p in profiles} == {"verzuim_hoog", "verzuim_bijstand_zrm", "bijstand", "zrm_laag"}
    t = ibis.memtable({"verzuim_pct": [12.0, 12.0, 3.0, None], "bijstand": ["ja", "nee", "ja", "ja"],
                       "zrm_financien": [2.0, 1.0, 1.0, 2.0], "zrm_huisvesting": [None, 4.0, 5.0, 1.0]})
    by_id = {p.id: p for p in profiles}
    got = t.select(x=condition_expr(t, by_id["verzuim_bijstand_zrm"].voorwaarden)).to_pandas().x.tolist()
    assert got == [True, False, False, False]        # NULL verzuim: not met
    got = t.select(x=condition_expr(t, by_id["zrm_laag"].voorwaarden)).to_pandas().x.tolist()
    assert got == [True, True, True, True]
    assert describe(by_id["verzuim_bijstand_zrm"].voorwaarden) == "verzuim_pct > 10 en bijstand = ja en zrm_financien ≤ 2"


def load_profiles_copy(folder: Path):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder, Path(tmp) / "profielen")
        return load_profiles(tmp)


def test_buurt_level_setting(tmp_path):
    (tmp_path / "profielen").mkdir()
    assert buurt_level(tmp_path) is True
    (tmp_path / "profielen" / ".instellingen.yaml").write_text("buurtniveau: nee\n", encoding="utf-8")
    assert buurt_level(tmp_path) is False
    assert load_profiles(tmp_path) == []        # the settings file is not a profile
    (tmp_path / "profielen" / ".instellingen.yaml").write_text("buurtniveau: soms\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="ja of nee"):
        buurt_level(tmp_path)
