"""Docstring examples run, scientific functions cite their method, the public API is complete."""

from __future__ import annotations

import doctest
import importlib
import re

import pytest

import stadslab.analyses.hotspots as hs

MODULES = ["gistar", "grid", "lattice", "areas", "change"]
CITES = {"getis_ord_gi_star": ["Getis & Ord 1992", "Ord & Getis 1995"], "fdr_bh": ["Benjamini & Hochberg (1995)"],
         "grid_hotspots": ["Getis & Ord 1992", "Benjamini & Hochberg (1995)"],
         "area_hotspots": ["Ord & Getis 1995", "Benjamini & Hochberg (1995)"],
         "change_test": ["Przyborowski & Wilenski 1940", "Krishnamoorthy & Thomson 2004"]}


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    mod = importlib.import_module(f"stadslab.analyses.hotspots.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("func, cites", CITES.items())
def test_methods_are_cited(func: str, cites: list[str]) -> None:
    doc = getattr(hs, func).__doc__
    for c in cites:
        assert c in doc, f"{func} does not cite {c}"


def test_public_api() -> None:
    for name in hs.__all__:
        assert hasattr(hs, name)
    assert {"getis_ord_gi_star", "fdr_bh", "grid_hotspots", "area_hotspots", "area_weights", "change_test",
            "rate_per_1000"} <= set(hs.__all__)


def test_no_duckdb_import_in_analysis_code() -> None:
    import pathlib

    for path in pathlib.Path(hs.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import duckdb|from duckdb)", text, re.M), path.name
