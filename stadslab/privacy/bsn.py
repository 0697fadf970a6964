"""The Dutch citizen service number (BSN): normalise, check, generate synthetic ones.

A BSN has nine digits ``d1..d9`` and passes the *elfproef* (11-proef) in its BSN variant:

    9·d1 + 8·d2 + 7·d3 + 6·d4 + 5·d5 + 4·d6 + 3·d7 + 2·d8 − 1·d9  ≡ 0  (mod 11)

(Logius, *Wet algemene bepalingen burgerservicenummer*, Bijlage: "elfproef"; the −1 weight on the
last digit is what distinguishes it from the bank-account 11-proef). ``000000000`` passes the sum
but is not a BSN. About 1 in 11 random nine-digit numbers pass, i.e. ~90.9 million numbers: far too
few to hide a BSN behind a plain hash, which is why the kit uses a keyed pseudonym (see keys.py).

Normalisation (``normalise_bsn`` and the vectorised ``check_bsn_array``):

- spaces, dots and dashes are removed ("1234.56.782", "123 456 782", "123-456-782");
- integers (from Excel or Parquet) are read as their digits; floats only when integral;
- a value with 8 digits gets its leading zero back (Excel drops it). ``min_digits`` (default 8)
  rejects shorter values: they are more often another number in the wrong column than a BSN. Set
  ``min_digits=1`` if your source really has BSNs with several leading zeros;
- any other character rejects the value.

The vectorised functions work on whole pyarrow/numpy arrays without a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stadslab.errors import PrivacyError

WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int32)

# Reason codes for a value that is not a usable BSN; REASONS gives the Dutch text for rejects files.
OK, EMPTY, CHARS, TOO_LONG, TOO_SHORT, ELFPROEF, ZERO, NOT_INTEGER = range(8)
REASONS = {
    EMPTY: "leeg",
    CHARS: "ongeldige tekens (alleen cijfers, spaties, punten en streepjes toegestaan)",
    TOO_LONG: "te lang (meer dan 9 cijfers)",
    TOO_SHORT: "te kort (minder dan 8 cijfers)",
    ELFPROEF: "elfproef klopt niet",
    ZERO: "000000000 is geen BSN",
    NOT_INTEGER: "geen geheel getal",
}
_STRIP = r"[\s.\-]"
_PLACEHOLDER = "000000000"


def elfproef(digits: str) -> bool:
    """True when ``digits`` is exactly nine ASCII digits that pass the BSN 11-proef (not 000000000)."""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit() or digits == _PLACEHOLDER:
        return False
    return sum(int(c) * int(w) for c, w in zip(digits, WEIGHTS)) % 11 == 0


def check_bsn(value: Any, *, min_digits: int = 8) -> tuple[str | None, int]:
    """Normalise one value. Returns ``(nine_digits, OK)`` or ``(None, reason_code)``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, EMPTY
    if isinstance(value, (bool, np.bool_)):
        return None, CHARS
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            return None, NOT_INTEGER
        value = int(value)
    if isinstance(value, (int, np.integer)):
        if value < 0:
            return None, CHARS
        text = str(int(value))
    else:
        text = str(value)
    for ch in " \t\r\n.-\u00a0":
        text = text.replace(ch, "")
    if not text:
        return None, EMPTY
    if not (text.isascii() and text.isdigit()):
        return None, CHARS
    if len(text) > 9:
        return None, TOO_LONG
    if len(text) < min_digits:
        return None, TOO_SHORT
    text = text.zfill(9)
    if text == _PLACEHOLDER:
        return None, ZERO
    if not elfproef(text):
        return None, ELFPROEF
    return text, OK


def normalise_bsn(value: Any, *, min_digits: int = 8) -> str:
    """The nine-digit BSN for ``value``; raises PrivacyError (without echoing the value) when invalid."""
    text, reason = check_bsn(value, min_digits=min_digits)
    if text is None:
        raise PrivacyError(f"ongeldig BSN: {REASONS[reason]}",
                           hint="Controleer het nummer in de bronadministratie.")
    return text


def is_valid_bsn(value: Any, *, min_digits: int = 8) -> bool:
    return check_bsn(value, min_digits=min_digits)[0] is not None


# --------------------------------------------------------------------------- vectorised

@dataclass
class BsnCheck:
    """Result of checking a column. ``digits`` is an (n, 9) uint8 matrix of ASCII digits, with the
    placeholder 000000000 on invalid rows; ``reason`` holds OK or a reason code per row."""

    digits: np.ndarray
    reason: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return self.reason == OK

    def normalised(self) -> pa.StringArray:
        """Nine-digit strings, null where invalid."""
        return fixed_width_strings(self.digits.tobytes(), 9, mask=~self.valid)


def fixed_width_strings(data: bytes, width: int, *, mask: np.ndarray | None = None) -> pa.StringArray:
    """A pyarrow string array over ``data`` cut in pieces of ``width`` bytes, built from buffers
    (no per-row Python objects). ``mask`` True = null."""
    n = len(data) // width
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None
    null_count = 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little").tobytes())
        null_count = int(mask.sum())
    return pa.Array.from_buffers(pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                 null_count=null_count)


def _as_string_array(values: Any) -> tuple[pa.Array, np.ndarray]:
    """Cast any column to pyarrow strings; also returns a NOT_INTEGER mask for non-integral floats."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(values if isinstance(values, np.ndarray) else list(values), from_pandas=True)
    n = len(values)
    bad_float = np.zeros(n, dtype=bool)
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.cast(t.value_type)
        t = values.type
    if pa.types.is_floating(t):
        f = values.to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 1e15)
        bad_float = ~np.isnan(f) & ~integral
        ints = np.where(integral, f, 0).astype(np.int64)
        values = pa.array(ints, mask=~integral).cast(pa.string())
    elif pa.types.is_integer(t) or pa.types.is_decimal(t):
        values = values.cast(pa.string())
    elif pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        values = values.cast(pa.string())
    elif pa.types.is_null(t):
        values = pa.nulls(n, pa.string())
    elif not pa.types.is_string(t):
        values = values.cast(pa.string())
    return values, bad_float


def _digits_if_fixed(arr: pa.StringArray) -> np.ndarray | None:
    """Fast path: when every value is exactly nine ASCII digits, the (n, 9) digit matrix, else None."""
    n = len(arr)
    if arr.null_count or n == 0:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + n + 1]
    if offsets[-1] - offsets[0] != 9 * n or not np.all(np.diff(offsets) == 9):
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, 9)
    if data.size and (data.min() < 48 or data.max() > 57):
        return None
    return data


def elfproef_matrix(digits: np.ndarray) -> np.ndarray:
    """Vectorised 11-proef over an (n, 9) matrix of ASCII digits (uint8). Excludes 000000000."""
    total, nonzero = _weighted_sum(digits)
    return (total % 11 == 0) & nonzero


def _weighted_sum(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ w·d per row and whether any digit is non-zero; int16 column loop (9 steps), which is
    several times faster than an int32 matmul on millions of rows."""
    total = np.zeros(len(digits), dtype=np.int16)
    plain = np.zeros(len(digits), dtype=np.int16)
    for i, w in enumerate(WEIGHTS.tolist()):
        col = digits[:, i]
        total += col * np.int16(w)
        plain += col
    total -= np.int16(48 * int(WEIGHTS.sum()))
    return total, plain != 48 * 9


def check_bsn_array(values: Any, *, min_digits: int = 8) -> BsnCheck:
    """Normalise and check a whole column (pyarrow array/chunked array, numpy array or list)."""
    arr, bad_float = _as_string_array(values)
    n = len(arr)
    digits = _digits_if_fixed(arr)
    if digits is not None:
        reason = np.zeros(n, dtype=np.int8)
    else:
        cleaned = pc.replace_substring_regex(arr, _STRIP, "")
        length = pc.utf8_length(cleaned).to_numpy(zero_copy_only=False)
        empty = np.asarray(pc.fill_null(pc.equal(pc.utf8_length(cleaned), 0), True))
        is_digits = np.asarray(pc.fill_null(pc.match_substring_regex(cleaned, r"^[0-9]+$"), False))
        reason = np.full(n, OK, dtype=np.int8)
        length = np.nan_to_num(length.astype(float), nan=0).astype(np.int64)
        reason[~is_digits] = CHARS
        reason[is_digits & (length > 9)] = TOO_LONG
        reason[is_digits & (length < min_digits)] = TOO_SHORT
        reason[empty] = EMPTY
        reason[bad_float] = NOT_INTEGER
        ok_shape = reason == OK
        padded = pc.if_else(pa.array(ok_shape), pc.utf8_lpad(cleaned, 9, "0"), _PLACEHOLDER)
        digits = _digits_if_fixed(padded)
        if digits is None:   # cannot happen: every value is 9 ASCII digits now
            raise PrivacyError("interne fout bij het normaliseren van BSN's")
        digits = digits.copy()
        reason = reason.copy()
    digits = np.ascontiguousarray(digits)
    shaped = reason == OK
    total, nonzero = _weighted_sum(digits)
    zero = shaped & ~nonzero
    reason[zero] = ZERO
    reason[shaped & nonzero & (total % 11 != 0)] = ELFPROEF
    if (reason != OK).any():
        digits = digits.copy() if not digits.flags.writeable else digits
        digits[reason != OK] = 48
    return BsnCheck(digits=digits, reason=reason)


def is_valid_bsn_array(values: Any, *, min_digits: int = 8) -> np.ndarray:
    return check_bsn_array(values, min_digits=min_digits).valid


def share_valid_bsn(values: Any, *, min_digits: int = 8) -> float:
    """Share of the values that look like a BSN (8-9 digits after normalisation) that pass the
    11-proef. Random numbers give about 1/11 ≈ 0.09; a BSN column gives ≈ 1.0. Used by the raw-BSN
    guard at ingest and by scan.py. Returns 0.0 when no value has the shape of a BSN."""
    chk = check_bsn_array(values, min_digits=min_digits)
    shaped = np.isin(chk.reason, (OK, ELFPROEF, ZERO))
    total = int(shaped.sum())
    return float((chk.reason == OK).sum() / total) if total else 0.0


# --------------------------------------------------------------------------- synthetic BSNs

def synthetic_bsn_digits(n: int, *, seed: int | np.random.Generator = 0, unique: bool = True) -> np.ndarray:
    """An (n, 9) uint8 matrix of ASCII digits of valid, random BSNs (for tests and demo data only).

    Draws eight digits and computes the check digit ``d9 = (Σ w·d) mod 11``; draws with a remainder
    of 10 (no valid check digit) are discarded, and so are numbers with more than one leading zero
    (they would be rejected under the default ``min_digits=8``). Unrelated to real persons: they are
    random numbers.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    powers = 10 ** np.arange(8, -1, -1, dtype=np.int64)
    nums = np.empty(0, dtype=np.int64)
    while len(nums) < n:
        d = rng.integers(0, 10, size=(int((n - len(nums)) * 1.15) + 16, 8), dtype=np.uint8)
        check = np.zeros(len(d), dtype=np.int16)
        value = np.zeros(len(d), dtype=np.int64)
        for i in range(8):   # column loop: numpy has no BLAS path for integer matmul
            check += d[:, i] * np.int16(WEIGHTS[i])
            value += d[:, i] * powers[i + 1]
        check %= 11
        keep = (check < 10) & (value >= 10**6)   # at most one leading zero (see min_digits)
        cand = value[keep] * 10 + check[keep]
        nums = np.concatenate([nums, cand])
        if unique:   # sort + drop repeats + shuffle; np.unique is very slow on millions of int64 (numpy 2.4)
            nums = np.sort(nums)
            nums = rng.permutation(nums[np.concatenate([[True], nums[1:] != nums[:-1]])])
    nums = nums[:n]
    out = np.empty((len(nums), 9), dtype=np.uint8)
    for i in range(9):
        out[:, i] = (nums // powers[i]) % 10 + 48
    return out


def synthetic_bsns(n: int, *, seed: int | np.random.Generator = 0, unique: bool = True) -> np.ndarray:
    """``n`` valid synthetic BSNs as a numpy array of nine-character strings."""
    return synthetic_bsn_digits(n, seed=seed, unique=unique).view("S9").ravel().astype("U9")


def mutate_to_invalid(bsns: Iterable[str], *, seed: int = 0) -> list[str]:
    """Change one digit of each BSN so the 11-proef fails (a typo). For tests of the rejects path."""
    rng = np.random.default_rng(seed)
    out = []
    for b in bsns:
        while True:
            pos = int(rng.integers(0, 9))
            new = b[:pos] + str((int(b[pos]) + int(rng.integers(1, 10))) % 10) + b[pos + 1:]
            if not elfproef(new):
                out.append(new)
                break
    return out
