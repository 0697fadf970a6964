"""Issue 10, item 4: one risk verdict drives the page, the CLI and the Algoritmeregister entry.

For a model that wins, one that ties and one that loses, a backtest is stored in a copy of the demo
workspace; then ``stadslab predict backtest --reuse --register`` (the real CLI), the /risico page and the
register JSON of a real ``stadslab serve`` must all carry the sentence of ``verdict()``, and no page may
recommend another map than the verdict does.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest

from stadslab.analyses.risk.verdict import verdict
from stadslab.web.launch import running_server
from tests.conftest import run_cli

DS = "groningen_fietsdiefstal"
FR = ["0.01", "0.03", "0.05", "0.1"]
START, END = "2017-01-06", "2017-03-31"   # 6 periods of 14 days


def synthetic_backtest(model_hr: float, base_hr: float, won: int, lost: int, p: float, beats: bool) -> dict:
    """A backtest dict of the shape ``backtest()`` returns, with chosen hit rates."""
    import pandas as pd

    models = {"gbm_poisson": model_hr, "last_period": 0.5 * base_hr, "last_365d": base_hr, "kde": 0.9 * base_hr}
    per_period = []
    for k in range(6):
        t0 = pd.Timestamp(START) + pd.Timedelta(days=14 * k)
        per_period.append({"t0": t0.isoformat(), "end": (t0 + pd.Timedelta(days=14)).isoformat(), "incidents": 40.0,
                           "models": {n: {"hit_rate": {f: hr for f in FR}, "pai": {f: hr / float(f) for f in FR},
                                          "pei": {f: hr for f in FR}, "k": {f: 10 for f in FR}}
                                      for n, hr in models.items()}})
    return {
        "periods": 6, "period_days": 14, "start": f"{START}T00:00:00", "end": "2017-03-31T00:00:00",
        "area_fractions": [float(f) for f in FR], "model": "gbm_poisson", "best_baseline": "last_365d",
        "model_beats_best_baseline": beats, "margin": 1.0,
        "models": {n: {"hit_rate": {f: hr for f in FR}, "pai": {f: hr / float(f) for f in FR},
                       "pei": {f: hr for f in FR}, "hit_rate_pooled": {f: hr for f in FR},
                       "hit_rate_mean_over_fractions": hr} for n, hr in models.items()},
        "comparison": {f: {"model": model_hr, "best_baseline": base_hr, "ratio": model_hr / base_hr,
                           "best_baseline_at_fraction": "last_365d", "periods_won": won, "periods_lost": lost,
                           "sign_test_p": p} for f in FR},
        "calibration": {"model": "gbm_poisson", "total_predicted": 250.0, "total_observed": 240.0,
                        "ratio_predicted_observed": 250 / 240},
        "per_period": per_period,
        "dataset": DS, "version": 1, "notes": [],
        "requested": {"start": f"{START}T00:00:00", "end": f"{END}T00:00:00", "period_days": 14, "refit_every": 1},
    }


CASES = {
    "wint": synthetic_backtest(0.30, 0.20, won=6, lost=0, p=0.03, beats=True),
    "gelijk": synthetic_backtest(0.205, 0.20, won=4, lost=2, p=0.69, beats=True),   # the "barely better"
    "verliest": synthetic_backtest(0.15, 0.20, won=0, lost=6, p=0.03, beats=False),
}


def _store(ws: Path, bt: dict) -> None:
    from stadslab.analyses.risk.backtest import backtest_table
    from stadslab.workspace import Workspace

    with Workspace(ws).warehouse() as wh:
        wh.save_result(f"backtest_risico_{DS}", backtest_table(bt), kind="backtest", inputs=[(DS, 1)],
                       params={k: v for k, v in bt.items() if k != "per_period"}, method="test: synthetische toets")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


@pytest.fixture(scope="module")
def risk_copy(demo_ws, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("verdict") / "ws"
    shutil.copytree(demo_ws, root)
    return root


@pytest.mark.parametrize("level", list(CASES))
def test_page_cli_and_register_say_the_one_verdict(risk_copy, tmp_path, level):
    bt = CASES[level]
    v = verdict(bt)
    assert v.level == level
    assert v.default_map == ("model" if level == "wint" else "last_365d")
    _store(risk_copy, bt)

    # the CLI: the stored backtest answers (--reuse), the register files are written from it
    reg = tmp_path / "register"
    out = run_cli("predict", "backtest", DS, "--start", START, "--end", END, "--reuse", "--register", str(reg),
                  "-w", str(risk_copy))
    cli_text = re.sub(r"\s+", " ", out.stdout)
    assert f"oordeel: {level}" in cli_text and v.sentence in cli_text
    assert f"standaardkaart: {v.default_map}" in cli_text
    cli_json = json.loads(run_cli("predict", "backtest", DS, "--start", START, "--end", END, "--reuse", "--json",
                                  "-w", str(risk_copy)).stdout)
    assert cli_json["oordeel"]["niveau"] == level and cli_json["oordeel"]["tekst"] == v.sentence
    entry = json.loads((reg / f"algoritmeregister_{DS}.json").read_text(encoding="utf-8"))
    assert v.sentence in entry["evaluatie"] and entry["evaluatie_cijfers"]["oordeel"] == level
    assert v.sentence in (reg / f"algoritmeregister_{DS}.md").read_text(encoding="utf-8")

    # the page and the register entry of a real server
    with running_server(risk_copy, ready="/risico") as base:
        page = httpx.get(f"{base}/risico?dataset={DS}", timeout=60).text
        api = httpx.get(f"{base}/api/risico/{DS}", timeout=60).json()
        web_entry = httpx.get(f"{base}/api/risico/{DS}/algoritmeregister.json", timeout=60).json()
    banner = _flat(re.search(r'<div[^>]*id="oordeel".*?</div>', page, re.S).group(0))
    assert banner == f"{v.headline} {v.sentence}"
    assert api["oordeel"]["tekst"] == v.sentence and api["standaard"] == v.default_map == api["score"]
    assert v.sentence in web_entry["evaluatie"]
    flat = _flat(page)
    # nothing on the page contradicts the verdict
    if level != "wint":
        assert "standaard de modelkaart" not in flat and "Het model wint de toets" not in flat.replace(
            "Het model wint de toets niet", "")
    else:
        assert "praktisch even goed" not in flat and "niet beter" not in flat


def test_verdict_rules_at_their_edges():
    # better on average but not beyond chance: a tie, and the simple map is shown (the contradiction)
    assert verdict(synthetic_backtest(0.23, 0.20, won=5, lost=3, p=0.14, beats=True)).level == "gelijk"
    # beyond chance but less than 5 % better: still a tie
    assert verdict(synthetic_backtest(0.205, 0.20, won=6, lost=0, p=0.03, beats=True)).level == "gelijk"
    # the backtest's own test fails (e.g. at 5 %): never 'wint', whatever the mean
    assert verdict(synthetic_backtest(0.30, 0.20, won=6, lost=0, p=0.03, beats=False)).level == "gelijk"
    # slightly worse, not beyond chance: a tie; clearly worse: loses
    assert verdict(synthetic_backtest(0.195, 0.20, won=2, lost=4, p=0.69, beats=False)).level == "gelijk"
    assert verdict(synthetic_backtest(0.19, 0.20, won=0, lost=6, p=0.03, beats=False)).level == "verliest"
    assert verdict(None).level == "ongetoetst" and verdict(None).default_map == "model"
    for level, bt in CASES.items():
        v = verdict(bt)
        assert ("Daarom toont Stadslab standaard de modelkaart" in v.sentence) is (level == "wint")
        assert v.sentence.count("Daarom") == 1
