"""Planted relations: X and Y both driven by population density (not by each other) must be found and then
explained away by density; a planted direct relation must survive the correction."""

from __future__ import annotations

import numpy as np

from stadslab.analyses.discovery.analysis import BLIJFT, TE_WEINIG, Settings, Suspect, discover_matrix
from stadslab.analyses.discovery.stats import distance_classes
from tests.discovery.conftest import smooth_field

NAMES = ["cbs.a_inw", "cbs.bev_dich", "cbs.a_65_oo_per_1000", "cbs.g_ink_pi", "cbs.p_huurw",
         "meldingen.aantal_per_1000", "voorzieningen.horeca_per_ha", "a.x", "b.y"]
SUSPECTS = [Suspect(0, "inwonertal"), Suspect(1, "bevolkingsdichtheid"), Suspect(2, "leeftijdsopbouw"),
            Suspect(3, "inkomen"), Suspect(4, "aandeel huurwoningen")]


def planted(n: int = 111, seed: int = 1):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10_000, (n, 2))
    # spatially patterned, like a city, with buurt-to-buurt variation on top
    density = np.exp(8 + 0.6 * smooth_field(xy, rng) + 0.5 * rng.normal(size=n))
    pop = rng.lognormal(8, 0.5, n)
    age, income, rent = rng.normal(150, 30, n), rng.normal(30, 5, n), rng.uniform(20, 80, n)
    meldingen = np.log(density) + 0.35 * rng.normal(size=n)            # depends on density only
    horeca = np.log(density) + 0.35 * rng.normal(size=n)               # depends on density only
    a = rng.normal(size=n)
    b = a + 0.7 * rng.normal(size=n)                                   # directly related to a
    X = np.column_stack([pop, density, age, income, rent, meldingen, horeca, a, b])
    return X, xy


def row(df, x, y):
    r = df[(df.x == x) & (df.y == y)]
    assert len(r) == 1
    return r.iloc[0]


def test_density_driven_pair_is_found_and_explained_by_density():
    X, xy = planted()
    df = discover_matrix(X, NAMES, distance_classes(xy), SUSPECTS)
    r = row(df, "meldingen.aantal_per_1000", "voorzieningen.horeca_per_ha")
    assert r.rho > 0.5 and r.p_adj < 0.05                  # found
    assert r.verdict == "verdwijnt na correctie voor bevolkingsdichtheid"
    assert abs(r.partial_rho) < 0.3
    assert r.verdict_confounders == "bevolkingsdichtheid"


def test_direct_relation_survives_the_correction():
    X, xy = planted()
    df = discover_matrix(X, NAMES, distance_classes(xy), SUSPECTS)
    r = row(df, "a.x", "b.y")
    assert r.p_adj < 0.05
    assert r.verdict == BLIJFT
    assert r.partial_rho > 0.6
    # unrelated pairs are not leads
    assert not (df[(df.x == "a.x") & (df.y == "meldingen.aantal_per_1000")].p_adj < 0.05).any()


def test_same_planted_data_on_other_seeds():
    """Not a lucky seed: over seven draws the density pair is explained away in all but at most one (the
    partial test has level α = 0.05, so a rare chance survival is expected) and the direct pair always survives."""
    explained = 0
    for seed in range(1, 8):
        X, xy = planted(seed=seed)
        df = discover_matrix(X, NAMES, distance_classes(xy), SUSPECTS)
        explained += row(df, "meldingen.aantal_per_1000", "voorzieningen.horeca_per_ha").verdict.endswith(
            "bevolkingsdichtheid")
        assert row(df, "a.x", "b.y").verdict == BLIJFT
    assert explained >= 6


def test_too_few_areas_for_the_correction():
    X, xy = planted(n=16, seed=5)
    X[:, 7] = X[:, 8] + 0.01 * np.random.default_rng(0).normal(size=16)   # a near-perfect relation
    df = discover_matrix(X, NAMES, distance_classes(xy), SUSPECTS, settings=Settings(min_areas=8))
    r = row(df, "a.x", "b.y")
    assert r.p_adj < 0.05
    assert r.verdict == TE_WEINIG            # 16 areas − 5 suspects − 2 < 10
