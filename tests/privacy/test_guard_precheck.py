"""The raw-BSN guard's Arrow pre-check (guard.may_hold_bsn) may only skip columns the SQL scan could
never refuse: every value the scan counts as a valid BSN must pass the pre-check."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest

from stadslab.privacy import guard as G
from tests.conftest import elfproef_bsn


def _valid_per_value(values: list[str]) -> list[bool]:
    """The SQL scan's verdict value by value (a one-row stage each)."""
    con = duckdb.connect()
    out = []
    for v in values:
        con.execute("CREATE OR REPLACE TABLE s AS SELECT ?::VARCHAR AS c", [v])
        out.append(G.scan_stage(con, "s", ["c"])["c"][1] == 1)
    return out


def _spellings(rng: random.Random) -> list[str]:
    b = elfproef_bsn(rng)
    return [b, b[1:] if b[0] == "0" else b, f"{b[:4]}.{b[4:6]}.{b[6:]}", f"{b[:3]} {b[3:6]} {b[6:]}",
            f"{b[:3]}-{b[3:6]}-{b[6:]}", f" {b} ", f"-{b}", f"{b}.", ".".join(b), f"0{b}"[:9]]


def test_every_value_the_scan_counts_as_valid_passes_the_precheck():
    rng = random.Random(11)
    noise = ["autokraak", "2023-01-01 12:00:00", "127345.12345678", "+123456782", "12345678a", "", "1e+08",
             "١٢٣٤٥٦٧٨٢", "123456782\n", "12_3456782", "0x1234567", "000000000", "1234567", "1234567890"]
    values = [s for _ in range(60) for s in _spellings(rng)] + noise \
        + ["".join(rng.choice("0123456789 .-+ae_") for _ in range(rng.randint(6, 14))) for _ in range(400)]
    valid = _valid_per_value(values)
    assert sum(valid) >= 400                                   # the fuzz set holds real positives
    for v, ok in zip(values, valid):
        if ok:
            assert G.may_hold_bsn(pa.array([v])), f"pre-check would skip a valid BSN spelling: {v!r}"


@pytest.mark.parametrize("values, expected", [
    (["autokraak", "vernieling"], False),                      # text
    (["2023-01-01 12:00:00"], False),                          # date-times
    (["127345.12345678", "448000.5"], False),                  # coordinates: too many digits
    (["1", "100000"], False),                                  # short ids
    (["x", "1234.56.782"], True),                              # one dotted BSN is enough to scan the column
    (["123 456 782"], True),
])
def test_precheck_known_columns(values, expected):
    assert G.may_hold_bsn(pa.array(values)) is expected


def test_a_column_that_is_not_text_is_always_scanned():
    assert G.may_hold_bsn(pa.array([1.5, 2.5])) is True
