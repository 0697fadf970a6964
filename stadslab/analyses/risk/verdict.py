"""The one verdict on a risk backtest: does the model win, tie or lose against the best naive map?

Every place that talks about the model's quality — the Risicokaart page, ``stadslab predict backtest``
and ``predict risk``, and the Algoritmeregister entry — calls :func:`verdict` and shows its
``sentence``; none of them formulates its own judgement (issue 10, item 4: the page said "barely
better, not beyond chance" and then "daarom toont deze pagina standaard de modelkaart").

Rules (on ``backtest()``'s dict; hit rate = share of the period's incidents in the flagged cells):

* **wint** — the backtest's own test holds (``model_beats_best_baseline``: better on the mean over the
  area fractions *and* at 3 % and 5 % each) *and* the gain is practically relevant and beyond chance:
  at least 5 % more hits on the mean and at 3 % (ratio ≥ 1.05), and a two-sided sign test over the
  periods at 3 % gives p < 0.05. Default map: the model.
* **verliest** — the model is clearly worse: ratio ≤ 0.95 on the mean or at 3 %, or the sign test at
  3 % is significant (p < 0.05) with more periods lost than won. Default map: the best baseline.
* **gelijk** — everything in between (a small or chance difference either way). Default map: the
  best baseline, because it is as good and far easier to explain ("bij twijfel de eenvoudige kaart").

The 5 % margin is a practical-relevance threshold, not a statistical one; the sign test (binomial,
p = 0.5, periods with equal hit rates left out) is the one in ``backtest.summarise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

Level = Literal["wint", "gelijk", "verliest", "ongetoetst"]
RELEVANT = 1.05
ALPHA = 0.05
# Short Dutch names of the baselines as the page and the CLI show them.
NAMES = {"model": "model", "last_period": "vorige periode", "last_365d": "afgelopen jaar", "kde": "kerndichtheid"}


@dataclass(frozen=True)
class Verdict:
    """The judgement, its Dutch wording and the map to show first."""

    level: Level
    headline: str                 # short heading (page banner, CLI first line)
    sentence: str                 # the full Dutch explanation, identical on page, CLI and register
    default_map: str              # "model" or the id of the best baseline
    best_baseline: str | None
    notice: Literal["info", "waarschuwing"]
    ratio_mean: float | None = None
    ratio_3: float | None = None
    sign_test_p_3: float | None = None

    @property
    def tested(self) -> bool:
        return self.level != "ongetoetst"

    def to_dict(self) -> dict[str, Any]:
        return {"niveau": self.level, "kop": self.headline, "tekst": self.sentence, "standaard": self.default_map,
                "beste_baseline": self.best_baseline, "melding": self.notice, "verhouding_gemiddeld": self.ratio_mean,
                "verhouding_3": self.ratio_3, "tekentoets_p_3": self.sign_test_p_3}


def pct(x: float | None, decimals: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{decimals}f} %".replace(".", ",")


def _times(r: float | None) -> str:
    return "–" if r is None else f"×{r:.2f}".replace(".", ",")


def _pp(d: float) -> str:
    return f"{'+' if d >= 0 else ''}{100 * d:.1f} procentpunt".replace(".", ",")


def _periods(n: int) -> str:
    return f"{n} periode" if n == 1 else f"{n} perioden"


def _mean(m: Mapping[str, Any]) -> float | None:
    v = m.get("hit_rate_mean_over_fractions")
    if v is None:
        vals = [x for x in (m.get("hit_rate") or {}).values() if x is not None]
        v = sum(vals) / len(vals) if vals else None
    return v


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


UNTESTED = Verdict("ongetoetst", "Nog niet getoetst",
                   "Het model is nog niet getoetst tegen de eenvoudige kaarten. Vertrouw de modelkaart pas als de "
                   "toets laat zien dat hij beter is; vergelijk hem intussen met 'afgelopen jaar'.",
                   default_map="model", best_baseline=None, notice="waarschuwing")


def verdict(bt: Mapping[str, Any] | None) -> Verdict:
    """The verdict on a stored or fresh backtest dict (``None``: not tested yet)."""
    if not bt:
        return UNTESTED
    model, best = bt["model"], bt["best_baseline"]
    m, b = bt["models"][model], bt["models"][best]
    mm, bm = _mean(m), _mean(b)
    m3, b3 = m["hit_rate"].get("0.03"), b["hit_rate"].get("0.03")
    c3 = (bt.get("comparison") or {}).get("0.03") or {}
    r_mean = _ratio(mm, bm)
    r3 = c3.get("ratio") if c3.get("ratio") is not None else _ratio(m3, b3)
    p3 = c3.get("sign_test_p")
    won, lost = c3.get("periods_won"), c3.get("periods_lost")
    name = NAMES.get(best, best)
    counts = (f"{_periods(won)} beter, {lost} slechter" if won is not None and lost is not None else "")
    if p3 is not None:
        counts += (", " if counts else "") + f"tekentoets p = {p3:.2f}".replace(".", ",")
    detail = (f"gemiddeld over de aandelen van het oppervlak vangt het model {pct(mm)} van de incidenten tegen "
              f"{pct(bm)} ({_times(r_mean)}, {_pp((mm or 0) - (bm or 0))}); bij 3 %: {pct(m3)} tegen {pct(b3)}"
              + (f" ({counts})" if counts else ""))
    significant = p3 is not None and p3 < ALPHA
    wins = (bool(bt.get("model_beats_best_baseline")) and r_mean is not None and r_mean >= RELEVANT
            and r3 is not None and r3 >= RELEVANT and significant)
    loses = ((r_mean is not None and r_mean <= 2 - RELEVANT) or (r3 is not None and r3 <= 2 - RELEVANT)
             or (significant and won is not None and lost is not None and lost > won))
    common = dict(best_baseline=best, ratio_mean=r_mean, ratio_3=r3, sign_test_p_3=p3)
    if wins:
        return Verdict("wint", "Het model wint de toets",
                       f"Het model is in de toets duidelijk beter dan de beste eenvoudige kaart '{name}': {detail}. "
                       "Daarom toont Stadslab standaard de modelkaart; blijf hem naast de eenvoudige kaarten tonen "
                       "en herhaal de toets bij elke nieuwe versie van de data.",
                       default_map="model", notice="info", **common)
    if loses:
        return Verdict("verliest", "Het model wint de toets niet: de eenvoudige kaart is beter",
                       f"Het model is in de toets niet beter dan de eenvoudige kaart '{name}': {detail}. "
                       f"Daarom toont Stadslab standaard de kaart '{name}'; die is beter en makkelijker uit te leggen.",
                       default_map=best, notice="waarschuwing", **common)
    return Verdict("gelijk", "Het model is niet duidelijk beter dan de eenvoudige kaart",
                   f"Het model en de eenvoudige kaart '{name}' zijn in de toets praktisch even goed: {detail}. "
                   "Het verschil is kleiner dan 5 % of niet buiten toevalsvariatie. Daarom toont Stadslab "
                   f"standaard de eenvoudige kaart '{name}': even goed en makkelijker uit te leggen.",
                   default_map=best, notice="waarschuwing", **common)
