"""A partner's scope on a hierarchy child (a school, whose rows carry their schoolsoort) must give the school's
own figures — not an empty answer because the parent was set to the total (found while building the DDD)."""

from __future__ import annotations

from stadslab.catalog.model import Dataset
from stadslab.privacy.access import User
from stadslab.privacy.release import release_aggregate
from tests.sociaal_profiles.conftest import SCHOOL


def _dataset() -> Dataset:
    return Dataset.from_dict({
        "id": "leerlingen", "title": "leerlingen", "owner": "test", "classification": "persoonsgegevens",
        "purposes": ["sociaal_domein"], "access": {"roles": ["sociaal_analist", "school"], "purposes": ["sociaal_domein"]},
        "source": {"path": "x.parquet"}, "geography": {"level": "buurt", "division_year": 2024},
        "fields": [{"name": "pseudo_id", "type": "string", "role": "pseudonym"},
                   {"name": "school", "type": "string"}, {"name": "schoolsoort", "type": "string"},
                   {"name": "schooljaar", "type": "string"}],
        "release": {"dimensions": ["school", "schoolsoort", "schooljaar"],
                    "structures": [{"id": "school_jaar", "dims": ["school", "schooljaar"],
                                    "hierarchy": {"school": "schoolsoort"}, "margins": "sum_of_cells"}]}})


def test_scope_on_a_hierarchy_child_gives_the_schools_own_cells(env, audit):
    wh, linked, _, _ = env
    table = linked.select("pseudo_id", "school", "schoolsoort", "schooljaar")
    analist = User("a", roles=("sociaal_analist",), purposes=("sociaal_domein",))
    whole = release_aggregate(wh, _dataset(), user=analist, purpose="sociaal_domein", by=["school", "schooljaar"],
                              audit=audit, table=table, version=1).frame
    own = release_aggregate(wh, _dataset(), user=SCHOOL, purpose="sociaal_domein", by=["schooljaar"],
                            audit=audit, table=table, version=1).frame
    assert len(own) >= 2, own
    expected = whole[whole["school"] == SCHOOL.scope["school"]].set_index("schooljaar")["n"]
    for row in own.itertuples():      # the same cells as the analyst's slice (published or both suppressed)
        assert (row.n == expected[row.schooljaar]) or (row.suppressed and expected.isna()[row.schooljaar])
