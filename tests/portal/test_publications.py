"""The publication declaration: semantic checks and the computed table (period dimension, storage)."""

from __future__ import annotations

import dataclasses

import pytest

from stadslab.portal.publications import PERIOD, Publication, compute, publication_problems, to_storable
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from tests.portal.conftest import PERSONAL


class FakeCatalog(list):
    """A list of datasets is all publication_problems iterates over."""


def with_publications(ds, pubs):
    return dataclasses.replace(ds, publications=tuple(pubs))


@pytest.mark.parametrize("pub, fragment", [
    ({"by": ["geen_veld"]}, "'geen_veld' is geen veld"),
    ({"by": ["pseudo_id"]}, "rol 'pseudonym'"),
    ({"by": ["periode"]}, "'periode' vraagt een period"),
    ({"by": ["regeling"], "period": {"field": "regeling", "grain": "jaar"}}, "geen datum- of tijdveld"),
    ({"by": ["regeling"], "hierarchy": {"postcode_buurtcode": "wijk_code"}}, "moet in by staan"),
    ({"id": "meldingen_openbare_ruimte", "by": ["regeling"]}, "ook een dataset-id"),
])
def test_declaration_problems_name_what_to_fix(state, pub, fragment):
    ds = state.catalog.get(PERSONAL)
    raw = {"id": "test_pub", "title": "t", "description": "d", **pub}
    cat = FakeCatalog([with_publications(ds, [raw]), state.catalog.get("meldingen_openbare_ruimte")])
    problems = publication_problems(cat)
    assert any(fragment in m for _, _, m in problems), problems
    assert all(k.startswith("publications[0]") for _, k, _ in problems)


def test_the_test_catalog_has_only_the_intended_problem(state):
    problems = publication_problems(state.catalog)
    assert len(problems) == 1 and "doelbinding" in problems[0][2]


@pytest.mark.parametrize("grain, pattern", [("jaar", r"^\d{4}$"), ("kwartaal", r"^\d{4}-K[1-4]$"),
                                            ("maand", r"^\d{4}-\d{2}$")])
def test_period_grains(state, tmp_path, grain, pattern):
    ds = state.catalog.get(PERSONAL)
    pub = Publication.from_dict({"id": "p", "title": "t", "description": "d", "by": ["regeling"],
                                 "period": {"field": "startdatum", "grain": grain}}, ds)
    assert pub.by == ("regeling", PERIOD)
    rel = compute(state.warehouse(), ds, pub, audit=AuditLog(tmp_path / "audit.jsonl"), store=SuppressionStore(None))
    periods = set(rel.frame[PERIOD]) - {"Totaal"}
    assert periods and all(__import__("re").match(pattern, p) for p in periods)
    stored = to_storable(rel.frame, pub.by)
    assert str(stored.n.dtype) == "Int64" and set(stored.suppressed) <= {"", "onderdrukt"}
    published = stored[stored.suppressed == ""].n
    assert ((published == 0) | (published >= 15)).all()
