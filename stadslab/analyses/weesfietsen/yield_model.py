"""Expected yield per location: how many orphan bicycles a crew would find and remove if it labelled there now.

Orphan bicycles accumulate at a location between two clearances, so the yield of labelling now is (rate of
new orphans) × (time since the last labelling), corrected by fresh signals (meldingen, inspectors' counts).

1. **Rate** per location by empirical Bayes (Poisson–gamma shrinkage, Clayton & Kaldor 1987, *Biometrics* 43):
   ``rate = (R + α) / (E + β)`` where R = bicycles removed at the location in re-checks already done, E = the
   weeks of accumulation those re-checks covered, and the prior has strength β = 8 weeks at the city's mean rate
   (α = mean × β). Locations never labelled get the city mean: no location is written off for lack of history.
2. **Exposure**: weeks since the last labelling at the location (capped at 26; never labelled = 26).
3. **Poisson regression with an offset** (log link, Nelder & Wedderburn 1972) of the removals at past re-checks:
   ``E[removed] = rate × weeks × exp(β·x)`` with x = meldingen in the 8 and 52 weeks before and the last inspector
   count, each as known *at the time of labelling* (no look-ahead: a removal counts only after its re-check
   date). The offset keeps accumulation in the model even when the history has little variation in it (a
   rotation revisits every street after the same number of weeks). Fitted with scikit-learn's
   ``PoissonRegressor`` on y/offset with sample weight = offset, which is the same likelihood.

Inputs are plain frames so the same code runs on warehouse tables (Ibis → pandas, a few thousand rows) and
inside the simulation: ``acties`` [locatie, datum_gelabeld, aantal_gelabeld, datum_gecontroleerd,
aantal_verwijderd], ``meldingen`` [locatie, tijd], ``waarnemingen`` [locatie, tijd, aantal_weesfietsen].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor

PRIOR_WEEKS = 8.0
CAP_WEEKS = 26.0
FEATURES = ["meld_8w", "meld_52w", "obs_last", "obs_known"]   # log_base enters as the exposure offset
METHOD = ("verwachte opbrengst = Poisson-regressie op log(EB-tempo × weken sinds labelen), meldingen (8 en 52 weken) "
          "en laatste waarneming; tempo per locatie met empirische Bayes (Clayton & Kaldor 1987)")


def _norm(acties: pd.DataFrame, meldingen: pd.DataFrame, waarnemingen: pd.DataFrame):
    a = acties[["locatie", "datum_gelabeld", "datum_gecontroleerd", "aantal_verwijderd"]].copy()
    a["datum_gelabeld"] = pd.to_datetime(a["datum_gelabeld"])
    a["datum_gecontroleerd"] = pd.to_datetime(a["datum_gecontroleerd"])
    a = a.sort_values(["locatie", "datum_gelabeld"]).reset_index(drop=True)
    prev = a.groupby("locatie")["datum_gelabeld"].shift()
    a["gap_w"] = ((a["datum_gelabeld"] - prev).dt.days / 7.0).fillna(CAP_WEEKS).clip(upper=CAP_WEEKS)
    m = meldingen[["locatie", "tijd"]].assign(tijd=lambda d: pd.to_datetime(d["tijd"]))
    w = waarnemingen[["locatie", "tijd", "aantal_weesfietsen"]].assign(tijd=lambda d: pd.to_datetime(d["tijd"]))
    return a, m, w


def features_at(pairs: pd.DataFrame, acties: pd.DataFrame, meldingen: pd.DataFrame,
                waarnemingen: pd.DataFrame) -> pd.DataFrame:
    """Features of (locatie, datum) pairs from what was known before ``datum``. ``pairs`` needs columns
    ``locatie`` and ``datum``; returns them with rate, weeks since labelling, meldingen and inspector counts."""
    a, m, w = _norm(acties, meldingen, waarnemingen)
    p = pairs[["locatie", "datum"]].copy()
    p["datum"] = pd.to_datetime(p["datum"])
    p["pid"] = np.arange(len(p))
    known = a[a["datum_gecontroleerd"].notna() & a["aantal_verwijderd"].notna()]
    city_rate = float(known["aantal_verwijderd"].sum() / max(known["gap_w"].sum(), 1e-9)) if len(known) else 0.05

    j = p.merge(a, on="locatie", how="inner")
    labelled = j[j["datum_gelabeld"] < j["datum"]].groupby("pid")["datum_gelabeld"].max()
    done = j[(j["datum_gecontroleerd"] < j["datum"]) & j["aantal_verwijderd"].notna()]
    agg = done.groupby("pid").agg(removed=("aantal_verwijderd", "sum"), exposure=("gap_w", "sum"))
    p = p.join(labelled.rename("laatst_gelabeld"), on="pid").join(agg, on="pid")
    p[["removed", "exposure"]] = p[["removed", "exposure"]].fillna(0.0)
    alpha = city_rate * PRIOR_WEEKS
    p["tempo"] = (p["removed"] + alpha) / (p["exposure"] + PRIOR_WEEKS)
    p["weken_sinds"] = ((p["datum"] - p["laatst_gelabeld"]).dt.days / 7.0).fillna(CAP_WEEKS).clip(0, CAP_WEEKS)
    p["log_base"] = np.log(p["tempo"] * p["weken_sinds"] + 0.01)

    jm = p[["pid", "locatie", "datum"]].merge(m, on="locatie", how="inner")
    age = (jm["datum"] - jm["tijd"]).dt.days
    jm = jm[(age > 0) & (age <= 364)]
    p["meld_52w"] = p["pid"].map(jm.groupby("pid").size()).fillna(0.0)
    p["meld_8w"] = p["pid"].map(jm[(jm["datum"] - jm["tijd"]).dt.days <= 56].groupby("pid").size()).fillna(0.0)

    jw = p[["pid", "locatie", "datum"]].merge(w, on="locatie", how="inner")
    jw = jw[jw["tijd"] < jw["datum"]].sort_values("tijd")
    last = jw.groupby("pid").tail(1).set_index("pid")
    p["obs_last"] = p["pid"].map(last["aantal_weesfietsen"]).fillna(0.0)
    p["obs_known"] = p["pid"].isin(last.index).astype(float)
    for c in ("meld_8w", "meld_52w", "obs_last"):
        p[c] = np.log1p(p[c]) if c != "obs_last" else np.log1p(p[c].clip(lower=0))
    p["n_meld_8w"] = np.expm1(p["meld_8w"]).round().astype(int)
    return p.drop(columns="pid")


@dataclass
class YieldModel:
    """A fitted model; ``predict`` gives the expected removals if a location is labelled at ``datum``."""

    reg: PoissonRegressor | None
    n_train: int
    city_rate: float

    def predict(self, feats: pd.DataFrame) -> np.ndarray:
        base = np.exp(feats["log_base"].to_numpy())
        if self.reg is None:   # too little history: the accumulation estimate alone
            return base
        return base * self.reg.predict(feats[FEATURES].to_numpy())


def fit(acties: pd.DataFrame, meldingen: pd.DataFrame, waarnemingen: pd.DataFrame, *,
        before: pd.Timestamp) -> YieldModel:
    """Fit on the labellings whose re-check outcome was known before ``before``."""
    a = acties.copy()
    a["datum_gelabeld"] = pd.to_datetime(a["datum_gelabeld"])
    a["datum_gecontroleerd"] = pd.to_datetime(a["datum_gecontroleerd"])
    a = a[(a["datum_gecontroleerd"] < before) & a["aantal_verwijderd"].notna()]
    past = acties.assign(datum_gecontroleerd=pd.to_datetime(acties["datum_gecontroleerd"]))
    past = past[pd.to_datetime(past["datum_gelabeld"]) < before]
    past.loc[past["datum_gecontroleerd"] >= before, ["datum_gecontroleerd", "aantal_verwijderd"]] = [pd.NaT, np.nan]
    city = float(a["aantal_verwijderd"].sum() / max(len(a), 1))
    if len(a) < 50:
        return YieldModel(None, len(a), city)
    feats = features_at(a.rename(columns={"datum_gelabeld": "datum"})[["locatie", "datum"]], past, meldingen,
                        waarnemingen)
    base = np.exp(feats["log_base"].to_numpy())
    reg = PoissonRegressor(alpha=1e-4, max_iter=300).fit(feats[FEATURES].to_numpy(), a["aantal_verwijderd"].to_numpy() / base,
                                                         sample_weight=base)
    return YieldModel(reg, len(a), city)


def predict_at(model: YieldModel, locations: pd.Series, when: pd.Timestamp, acties: pd.DataFrame,
               meldingen: pd.DataFrame, waarnemingen: pd.DataFrame) -> pd.DataFrame:
    """Expected yield for every location if labelled at ``when``, with the features that explain it."""
    feats = features_at(pd.DataFrame({"locatie": locations.to_numpy(), "datum": when}),
                        _known_before(acties, when), meldingen, waarnemingen)
    feats["verwacht"] = model.predict(feats)
    return feats


def _known_before(acties: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    a = acties.copy()
    a["datum_gecontroleerd"] = pd.to_datetime(a["datum_gecontroleerd"])
    a = a[pd.to_datetime(a["datum_gelabeld"]) < when]
    late = a["datum_gecontroleerd"] >= when
    a.loc[late, "datum_gecontroleerd"] = pd.NaT
    a.loc[late, "aantal_verwijderd"] = np.nan
    return a


def reason(row: pd.Series) -> str:
    """Why a location is proposed, in Dutch, from its features."""
    parts = [f"verwacht {row['verwacht']:.1f} weesfiets(en)".replace(".", ",")]
    weeks = row["weken_sinds"]
    parts.append("nooit gelabeld" if pd.isna(row.get("laatst_gelabeld")) else f"{weeks:.0f} weken niet gelabeld")
    parts.append(f"tempo {row['tempo']:.2f} per week".replace(".", ","))
    if row.get("n_meld_8w", 0):
        parts.append(f"{int(row['n_meld_8w'])} melding(en) in 8 weken")
    return "; ".join(parts)
