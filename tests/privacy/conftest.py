"""Fixtures for the pseudonymisation-kit tests: BSNs generated at test time (never committed),
key files outside any workspace, small source files, and one SIMULATED social-domain demo."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from stadslab.privacy.bsn import synthetic_bsns
from stadslab.privacy.keys import load_key, new_key, write_key


@pytest.fixture
def bsns():
    """bsns(n, seed=0) -> list of n distinct valid synthetic BSNs."""
    def make(n: int, seed: int = 0) -> list[str]:
        return [str(b) for b in synthetic_bsns(n, seed=seed)]
    return make


@pytest.fixture
def keyfile(tmp_path: Path):
    """keyfile(name="bron", kind="source") -> path of a fresh key file (mode 0600)."""
    def make(name: str = "bron", kind: str = "source") -> Path:
        path = tmp_path / "sleutels" / f"{name}.json"
        write_key(new_key(kind=kind, note=f"test {name}"), path)
        return path
    return make


@pytest.fixture
def source_key(keyfile):
    return load_key(keyfile("bron"))


def write_source_csv(path: Path, bsn_values: list[str], *, seed: int = 0, delimiter: str = ",",
                     extra: dict[str, list[str]] | None = None) -> Path:
    """A holder's file: bsn, naam, adres, postcode, geboortedatum, regeling (+ extra columns)."""
    rng = np.random.default_rng(seed)
    n = len(bsn_values)
    cols = {
        "bsn": bsn_values,
        "naam": [f"Persoon {i}" for i in range(n)],
        "adres": [f"Teststraat {i % 300 + 1}" for i in range(n)],
        "postcode": [f"{rng.integers(1000, 9999)} {'AB' if i % 2 else 'XZ'}" for i in range(n)],
        "geboortedatum": [f"{rng.integers(1, 28):02d}-{rng.integers(1, 13):02d}-{rng.integers(1940, 2020)}" for i in range(n)],
        "regeling": [["bijstand", "IOAW", "Bbz"][i % 3] for i in range(n)],
    }
    cols.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(cols)
        w.writerows(zip(*cols.values()))
    return path


@pytest.fixture(scope="session")
def social_demo(tmp_path_factory):
    """SIMULATED holder files at scale 0.03 (≈ 11 000 persons), generated once per run."""
    from stadslab.demo.synthetic_social import generate_social_demo

    out = tmp_path_factory.mktemp("synthetic")
    return generate_social_demo(out, scale=0.03, seed=7)
