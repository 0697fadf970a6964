"""BSN normalisation, 11-proef (scalar and vectorised), synthetic BSNs, share_valid_bsn."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from stadslab.errors import PrivacyError
from stadslab.privacy import bsn as B


@pytest.mark.parametrize("value,ok", [
    ("111222333", True),     # 9+8+7+12+10+8+9+6-3 = 66 = 6·11
    ("123456782", True),     # the test number in Logius' examples
    ("123456789", False),
    ("000000000", False),    # passes the sum, but is not a BSN
    ("12345678", False),     # not nine digits
    ("12345678a", False),
])
def test_elfproef_known_values(value, ok):
    assert B.elfproef(value) is ok


def test_normalise_strips_separators_and_restores_leading_zero(bsns):
    with_zero = next(b for b in bsns(2000, seed=3) if b.startswith("0"))
    assert B.normalise_bsn("1234.56.782") == "123456782"
    assert B.normalise_bsn(" 123 456 782 ") == "123456782"
    assert B.normalise_bsn("123-456-782") == "123456782"
    assert B.normalise_bsn(int(with_zero)) == with_zero           # Excel dropped the zero
    assert B.normalise_bsn(with_zero[1:]) == with_zero
    assert B.normalise_bsn(float(int(with_zero))) == with_zero


@pytest.mark.parametrize("value,reason", [
    ("12345678X", B.CHARS), ("abc", B.CHARS), ("1234567890", B.TOO_LONG), ("1234567", B.TOO_SHORT),
    ("", B.EMPTY), (None, B.EMPTY), ("123456789", B.ELFPROEF), ("000000000", B.ZERO), (1.5, B.NOT_INTEGER),
    ("١١١٢٢٢٣٣٣", B.CHARS),   # Arabic-Indic digits are not accepted
])
def test_invalid_values_get_a_reason(value, reason):
    assert B.check_bsn(value) == (None, reason)
    with pytest.raises(PrivacyError) as exc:
        B.normalise_bsn(value)
    assert B.REASONS[reason] in str(exc.value)


def test_vectorised_agrees_with_scalar_on_a_messy_mixture(bsns):
    rng = np.random.default_rng(5)
    good = bsns(400, seed=1)
    values: list = []
    for i, b in enumerate(good):
        kind = i % 8
        values.append([b, f"{b[:4]}.{b[4:6]}.{b[6:]}", f" {b} ", b[1:] if b[0] == "0" else b + "1",
                       str(rng.integers(10**8, 10**9)), b[:5] + "x" + b[6:], "", None][kind])
    arr = pa.array(values, pa.string())
    chk = B.check_bsn_array(arr)
    expected = [B.check_bsn(v) for v in values]
    assert chk.reason.tolist() == [r for _, r in expected]
    assert chk.normalised().to_pylist() == [t for t, _ in expected]


def test_vectorised_fast_path_and_typed_columns(bsns):
    good = bsns(1000, seed=2)
    assert B.check_bsn_array(pa.array(good)).valid.all()                    # all nine digits: fast path
    ints = pa.array([int(b) for b in good], pa.int64())
    assert B.check_bsn_array(ints).normalised().to_pylist() == good
    floats = pa.array([float(b) for b in good[:10]] + [1.5, None])
    assert B.check_bsn_array(floats).reason.tolist() == [B.OK] * 10 + [B.NOT_INTEGER, B.EMPTY]
    assert B.check_bsn_array(np.array(good)).valid.all()


def test_synthetic_bsns_are_valid_unique_and_seeded():
    a = B.synthetic_bsns(20000, seed=11)
    assert len(set(a.tolist())) == 20000
    assert all(B.elfproef(x) for x in a[:2000])
    assert B.elfproef_matrix(B.synthetic_bsn_digits(20000, seed=11)).all()
    assert (B.synthetic_bsns(100, seed=11) == B.synthetic_bsns(100, seed=11)).all()
    assert not (B.synthetic_bsns(100, seed=12) == B.synthetic_bsns(100, seed=11)).all()
    assert any(x.startswith("0") for x in a)   # leading zeros occur, as in real BSNs


def test_share_valid_bsn_separates_bsn_columns_from_random_numbers(bsns):
    rng = np.random.default_rng(9)
    random_nine = rng.integers(10**8, 10**9, 20000)
    share_random = B.share_valid_bsn(random_nine)
    assert abs(share_random - 1 / 11) < 0.01                 # ≈ 90.9 million of 900 million pass
    assert B.share_valid_bsn(bsns(500)) == 1.0
    half = bsns(500) + [str(x) for x in random_nine[:500]]
    assert 0.5 < B.share_valid_bsn(half) < 0.6
    assert B.share_valid_bsn(["12", "abc", None, "2024-01-01"]) == 0.0


def test_mutate_to_invalid_breaks_the_check(bsns):
    good = bsns(300, seed=4)
    bad = B.mutate_to_invalid(good, seed=1)
    assert all(len(b) == 9 and not B.elfproef(b) for b in bad)
    assert sum(x != y for g, b in zip(good, bad) for x, y in zip(g, b)) == 300   # one digit each
