"""Speed of the bronhouder's pseudonymisation kit, CSV → CSV, wall clock including read and write.

Generates a synthetic holder file (default 5 M rows: bsn + 6 other columns; 0.1 % of the BSNs
damaged so the rejects path runs too), then runs ``pseudonymise_file`` with the usual options
(drop name and house number, birth date → year, postcode → PC4). For context it also times the
floor — the same CSV read and written by pyarrow with no work in between — and the keyed hashing
alone on one core. Target: ≥ 1 M rows/s on a 2-core machine.

The last line reads ``pseudonymise rows_per_s=N``.
Usage: .venv/bin/python bench/pseudonymise.py [--rows 5000000] [--workers 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab.privacy.bsn import fixed_width_strings, mutate_to_invalid, synthetic_bsn_digits  # noqa: E402
from stadslab.privacy.keys import DIGEST_BYTES, _Hasher, new_key  # noqa: E402
from stadslab.privacy.pseudonymise import pseudonymise_file  # noqa: E402


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """A holder file built from buffers (no Python object per row)."""
    rng = np.random.default_rng(seed)
    bsn = fixed_width_strings(synthetic_bsn_digits(rows, seed=rng).tobytes(), 9)
    bad = rng.choice(rows, size=rows // 1000, replace=False)
    bsn = pc.replace_with_mask(bsn, pa.array(np.isin(np.arange(rows), np.sort(bad))),
                               pa.array(mutate_to_invalid(bsn.take(pa.array(np.sort(bad))).to_pylist(), seed=seed)))
    names = pa.array(["Jansen", "de Vries", "van den Berg", "Bakker", "El Amrani", "Yilmaz", "Visser", "Smit"])
    born = pa.array(np.datetime64("1935-01-01") + rng.integers(0, 32000, rows).astype("timedelta64[D]"), pa.date32())
    letters = rng.integers(65, 91, size=(rows, 2), dtype=np.uint8)
    digits = np.stack([rng.integers(49, 58, rows, dtype=np.uint8)] +
                      [rng.integers(48, 58, rows, dtype=np.uint8) for _ in range(3)], axis=1)
    postcode = fixed_width_strings(np.concatenate([digits, letters], axis=1).tobytes(), 6)
    regeling = pa.array(["Participatiewet", "IOAW", "IOAZ", "Bbz"])
    table = pa.table({
        "bsn": bsn,
        "achternaam": names.take(pa.array(rng.integers(0, len(names), rows))),
        "geboortedatum": born.cast(pa.string()),
        "postcode": postcode,
        "huisnummer": pa.array(rng.integers(1, 400, rows)),
        "regeling": regeling.take(pa.array(rng.integers(0, len(regeling), rows))),
        "bedrag": pa.array(rng.integers(100, 2000, rows)),
    })
    pacsv.write_csv(table, path)


def floor_copy(src: Path, dst: Path) -> float:
    """pyarrow streaming read + write of the same file, all columns as text: the I/O floor."""
    t0 = time.perf_counter()
    header = src.open().readline().strip().replace('"', "").split(",")
    reader = pacsv.open_csv(src, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}),
                            read_options=pacsv.ReadOptions(block_size=16 << 20))
    with pacsv.CSVWriter(dst, reader.schema) as w:
        for batch in reader:
            w.write_batch(batch)
    return time.perf_counter() - t0


def hash_rate(n: int = 500_000) -> float:
    """Keyed hashes per second on one core (pre-keyed HMAC-SHA256 state copies)."""
    msgs = synthetic_bsn_digits(n, seed=3).tobytes()
    h = _Hasher(os.urandom(32))
    t0 = time.perf_counter()
    out = h.many(msgs, 9)
    assert len(out) == 32 * n and DIGEST_BYTES == 16
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stadslab-bench-") as tmp:
        d = Path(tmp)
        src = d / "bron.csv"
        t0 = time.perf_counter()
        generate(src, args.rows)
        print(f"generated {args.rows} rows, {src.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.1f} s")
        print(f"load average before: {os.getloadavg()[0]:.1f} (cores: {os.cpu_count()})")
        print(f"hashing alone, one core: {hash_rate() / 1e6:.2f} M rows/s")
        fl = floor_copy(src, d / "copy.csv")
        print(f"floor (pyarrow read + write, no work): {fl:.2f} s = {args.rows / fl / 1e6:.2f} M rows/s")
        (d / "copy.csv").unlink()
        key = new_key(note="bench")
        best = None
        for i in range(args.repeat):
            t0 = time.perf_counter()
            rec = pseudonymise_file(src, d / "uit.csv", bsn_column="bsn", key=key, drop=["achternaam", "huisnummer"],
                                    coarsen={"geboortedatum": "year", "postcode": "pc4"}, workers=args.workers,
                                    rejects_path=d / "afgekeurd.csv", receipt_path=d / "bon.json")
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
            print(f"run {i + 1}: {dt:.2f} s, rows in {rec['rows']['in']}, out {rec['rows']['out']}, "
                  f"rejected {rec['rows']['rejected']}, workers {rec['workers']}, "
                  f"output {rec['output']['bytes'] / 1e6:.0f} MB")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"pseudonymise rows_per_s={int(args.rows / best)}")


if __name__ == "__main__":
    main()
