"""Benchmark of the publication gate: a 2-D table of ~100 k cells protected in ≤ 2 s.

111 buurten in 10 wijken × 900 categories (e.g. combinations of voorziening × leeftijdsklasse), with
every margin (buurt totals, wijk subtotals, category totals, grand total). Counts are negative
binomial with a category-specific mean (lognormal popularity), so a realistic share of cells is
below 15 and some categories are rare. Last line: ``gate seconds=S cells=N suppressed=M``.

    .venv/bin/python bench/gate.py [--seed 7] [--audit-sample 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from stadslab.privacy.gate import protect

N_BUURT, N_WIJK, N_CAT = 111, 10, 900


def make_table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wijk_of = np.sort(rng.integers(0, N_WIJK, N_BUURT))
    wijk_of[:N_WIJK] = np.arange(N_WIJK)                 # every wijk has at least one buurt
    buurt_size = rng.lognormal(0.0, 0.4, N_BUURT)
    cat_pop = rng.lognormal(np.log(30), 0.9, N_CAT)
    mean = np.outer(buurt_size, cat_pop)
    shape = 2.0
    counts = rng.negative_binomial(shape, shape / (shape + mean))
    b, c = np.meshgrid(np.arange(N_BUURT), np.arange(N_CAT), indexing="ij")
    return pd.DataFrame({
        "buurt": np.char.add("BU", np.char.zfill(b.ravel().astype(str), 4)),
        "wijk": np.char.add("WK", np.char.zfill(wijk_of[b.ravel()].astype(str), 2)),
        "categorie": np.char.add("C", np.char.zfill(c.ravel().astype(str), 3)),
        "n": counts.ravel(),
    })


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--audit-sample", type=int, default=0,
                    help="LP-audit this many random primary cells afterwards (slow, not timed)")
    args = ap.parse_args()
    df = make_table(args.seed)
    small = float((df["n"] < 15).mean())
    t0 = time.perf_counter()
    pt = protect(df, count="n", dims=["buurt", "categorie"], hierarchy={"buurt": "wijk"})
    seconds = time.perf_counter() - t0
    s = pt.stats
    print(f"input rows={len(df)} share<15={small:.1%} zeros={float((df['n'] == 0).mean()):.1%}")
    print(f"stats={s} secondary/primary={s['secondary'] / max(1, s['primary']):.2f}")
    if args.audit_sample:
        from stadslab.privacy.gate.lp_audit import attacker_intervals
        rng = np.random.default_rng(0)
        prim = np.flatnonzero(pt.primary.reshape(-1))
        pick = rng.choice(prim, size=min(args.audit_sample, len(prim)), replace=False)
        ta = time.perf_counter()
        lo, hi = attacker_intervals(pt.model, pt.suppressed, pick)
        print(f"lp-audit cells={len(pick)} min_upper={hi.min():.1f} failed={(hi < 15 - 1e-6).sum()} "
              f"seconds={time.perf_counter() - ta:.1f}")
    print(f"gate seconds={seconds:.2f} cells={pt.model.full.size} suppressed={s['suppressed']}")


if __name__ == "__main__":
    main()
