"""Benchmark: demand forecasting on the real NL monthly crime series and on the simulated passport demand.

    .venv/bin/python bench/forecast.py                 # AutoETS + AutoARIMA, 3 yearly windows, 2 processes,
                                                       # fitted once and rolled forward (the CLI's default)
    .venv/bin/python bench/forecast.py --refit         # re-estimated at every window (the old default)
    .venv/bin/python bench/forecast.py --models ets    # quick run
    .venv/bin/python bench/forecast.py --json out.json

Data: politie via CBS 47022NED, 59 crime types × 127 months (2012-01 … 2022-07), the file in
/work/shared/data/nl/politie (or data/demo/nl/politie). The series go through the same Ibis path
as the warehouse (``ibis.memtable`` on DuckDB). Prints MASE per model (mean, median), interval
coverage, the ten largest series, seconds per step, and the passport demo (SIMULATED) with and
without the cohort driver.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import ibis
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stadslab.analyses.forecasting import backtest, build_series, passport_demo  # noqa: E402
from stadslab.analyses.forecasting.backtest import score  # noqa: E402

CANDIDATES = [REPO / "data" / "demo" / "nl" / "politie", Path("/work/shared/data/nl/politie")]
SERIES_FILE = "nl_geregistreerde_misdrijven_per_maand_per_soort_2012_2022.csv"
LABEL_FILE = "SoortMisdrijf_47022NED_metadata.csv"


def load(folder: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    raw = pd.read_csv(folder / SERIES_FILE, dtype={"crime_type_code": str}, parse_dates=["date"])
    meta = pd.read_csv(folder / LABEL_FILE, dtype=str)
    labels = dict(zip(meta["Key"].str.strip(), meta["Title"].str.strip()))
    return raw, labels


def _cpu() -> float:
    """CPU seconds of this process and its finished worker processes (statsforecast n_jobs > 1)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="ets,arima")
    ap.add_argument("--windows", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--refit", action="store_true", help="re-estimate every model at every window")
    ap.add_argument("--json", type=Path, help="write all figures to this file")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    folder = next(p for p in CANDIDATES if (p / SERIES_FILE).exists())
    raw, labels = load(folder)
    report: dict = {"data": str(folder / SERIES_FILE)}

    t0 = time.perf_counter()
    series = build_series(ibis.memtable(raw), time="date", key="crime_type_code", value="frequency", freq="M")
    t_series = time.perf_counter() - t0
    print(f"{series['unique_id'].nunique()} reeksen × {series['ds'].nunique()} maanden "
          f"({series['ds'].min():%Y-%m} … {series['ds'].max():%Y-%m}); opgebouwd in {t_series:.2f} s (Ibis/DuckDB)")

    # One run per model, so that each model's time is measured; SeasonalNaive comes with every run.
    seconds, points = {}, []
    for name in args.models.split(","):
        t0, c0 = time.perf_counter(), _cpu()
        res = backtest(series, h=12, n_windows=args.windows, models=[name], n_jobs=args.jobs, refit=args.refit)
        seconds[name] = {"wall": round(time.perf_counter() - t0, 1), "cpu": round(_cpu() - c0, 1)}
        keep = res.points if not points else res.points[res.points["model"] != "SeasonalNaive"]
        points.append(keep)
    bt = score(pd.concat(points, ignore_index=True), series, m=12, h=12, n_windows=args.windows, step=12)
    s = bt.summary
    t_bt = sum(v["wall"] for v in seconds.values())
    how = "elk model opnieuw geschat per venster" if args.refit else "elk model één keer geschat, daarna doorgerold"
    print(f"\nBacktest: h=12, {args.windows} vensters van 12 maanden ({how}), {args.jobs} processen")
    for name, v in seconds.items():
        print(f"  {name:<6} (+ SeasonalNaive) op alle {s['series']} reeksen: {v['wall']:.1f} s wand, {v['cpu']:.1f} s CPU")
    print(f"{'model':<15}{'MASE gem.':>10}{'mediaan':>10}{'dekk. 80':>10}{'dekk. 95':>10}{'wint v. SN':>12}{'gescoord':>10}")
    for name, m in s["models"].items():
        share = m.get("share_beats_seasonal_naive")
        print(f"{name:<15}{m['mase_mean']:>10.3f}{m['mase_median']:>10.3f}{m['coverage_80']:>10.3f}"
              f"{m['coverage_95']:>10.3f}{'-' if share is None else f'{share:.0%}':>12}{m['series_scored']:>10}")
    print(s["verdict"])

    volume = series.groupby("unique_id")["y"].sum().sort_values(ascending=False)
    per = {r["unique_id"]: r for r in s["per_series"]}
    names = list(s["models"])
    print("\nTien grootste reeksen (MASE per model; * = verslaat SeasonalNaive):")
    print(f"{'code':<7}{'soort':<42}{'totaal':>10}" + "".join(f"{n:>15}" for n in names))
    for uid in volume.index[:10]:
        r = per[uid]
        cells = []
        for n in names:
            v = r["mase"][n]
            star = "*" if r["beats_seasonal_naive_by_model"].get(n) else " "
            cells.append(f"{'-' if v is None else f'{v:.3f}':>14}{star}")
        print(f"{uid:<7}{labels.get(uid, '')[:40]:<42}{volume[uid]:>10.0f}" + "".join(cells))
    undefined = [r["unique_id"] for r in s["per_series"] if r["mase"]["SeasonalNaive"] is None]
    print(f"MASE niet gedefinieerd (geen seizoensvariatie in de training): {', '.join(undefined) or '-'}")

    t0 = time.perf_counter()
    demo = passport_demo(seed=0, n_jobs=1)
    demo.pop("forecasts")
    t_demo = time.perf_counter() - t0
    print(f"\nPaspoorten (GESIMULEERD, Utrecht 374.238 inw.), toets {demo['holdout'][0]} … {demo['holdout'][1]}, "
          f"{t_demo:.1f} s:")
    for name, v in sorted(demo["mase"].items(), key=lambda kv: kv[1]):
        drv = ", ".join(demo["drivers"].get(name, [])) or "geen driver"
        m = demo["models"][name]
        print(f"  {name:<17} MASE {v:6.3f}   dekking 80/95: {m['coverage_80']:.2f}/{m['coverage_95']:.2f}   ({drv})")

    report.update({"refit": args.refit, "jobs": args.jobs,
                   "seconds": {"series": round(t_series, 2), "backtest": round(t_bt, 1), "per_model": seconds,
                               "passport_demo": round(t_demo, 1)},
                   "backtest": s, "passport_demo": demo})
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        print(f"\ncijfers geschreven naar {args.json}")
    # last line, machine-readable
    print(json.dumps({"bench": "forecast", "refit": args.refit, "jobs": args.jobs, "series": s["series"],
                      "backtest_wall_s": round(t_bt, 1),
                      "backtest_cpu_s": round(sum(v["cpu"] for v in seconds.values()), 1),
                      "mase_mean": {n: m["mase_mean"] for n, m in s["models"].items()}}))


if __name__ == "__main__":
    main()
