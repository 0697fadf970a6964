"""SIMULATED sources of the Dynamisch Data Dashboard (issue 13): absence, benefits, ZRM, buurtteams.

Nothing here describes a real person. The population is the one ``synthetic_social`` builds from
CBS *Kerncijfers wijken en buurten 2024* for Utrecht (households, adults and children per buurt;
bijstand per buurt from ``a_soz_wb``) — the loaders are reused, not copied. On top of it this module
simulates eight school years (2017/18 … 2024/25, 1 Aug – 31 Jul) per household and writes the four
files the holders have, with raw BSNs (random numbers that pass the 11-proef, ``privacy.bsn``):

    leerlingzaken_verzuim.parquet  Leerlingzaken: every leerplichtige pupil (5-17) × school year
                                   2021/22-2024/25, also pupils without absence: bsn, bsn_ouder
                                   (household head), geboortedatum, buurt_code, school, schoolsoort,
                                   schooljaar, lesuren, verzuimde_uren, verzuim_pct
    werk_en_inkomen_maanden.parquet Werk en Inkomen: household × month with a benefit (from 2019-07):
                                   bsn_aanvrager (head), bsn_partner, buurt_code, maand, regeling
    zrm_metingen.parquet           ZRM 2017 assessments (13 domains, 1-5) of a broad set of households,
                                   most of them without buurtteam support: bsn, buurt_code, datum, zrm_*
    buurtteam_trajecten.parquet    buurtteam trajectories: bsn, buurt_code, start, einde (empty =
                                   running at delivery, 1 Aug 2025), domeinen (';'-separated)
    scholen.csv                    the simulated school register (code S001…, name, kind, buurt)
    waarheid_leerlingjaren.parquet the truth per pupil × year (potential outcomes); not a holder file
    manifest.json, LEESMIJ.txt     seed, scale, counts, the planted effect and the confounding

Every data file has ``gesimuleerd = ja``. Holders keep only the address → buurt code (their BAG link);
names and addresses are left out of these extracts (the ``sociaal_*`` demo shows the kit dropping them).

The causal structure (year t = school year; all coefficients in ``MODEL``, written to the manifest):

- bijstand(t): a Markov chain per household (stay 0.85) whose stationary share follows the buurt's
  ``a_soz_wb`` spread over households with an adult of 18-66, single parents three times as likely;
- financial situation F(t) in 1..5 from a household trait, noise and bijstand; a ZRM assessment scores
  ``zrm_financien = F(t)`` (other domains correlated). Assessments happen with a yearly rate that rises
  with bijstand, low F and a trajectory the year before; ``fin(t)`` = the latest assessment on or before
  31 July of year t, or *not measured* — exactly what ``linked_frame`` computes;
- trajectory start in year t: logistic in bijstand(t), fin(t) (with its own *not measured* level) and
  the household's highest pupil absence in t (``MODEL['trajectory']``);
- absence of a pupil: y(t+1) = a + ρ·y(t) + β·bijstand(t) + γ[fin(t)] + δ·[vo](t) + **effect·traject(t)**
  + ε, ε ~ N(0, σ²), then kept within 0..100 and rounded to whole hours of ``lesuren``. A pupil's first
  year (entering at 5, or 2021/22) is drawn from the same terms without y(t).

So the confounders {bijstand, zrm_financien (incl. not measured), verzuim_pct of year t, schoolsoort}
make treatment ignorable, the outcome model is linear in them (a doubly robust estimate recovers
``planted_effect_pp``), while treated pupils have higher absence, more bijstand and lower ZRM financiën,
which also raise next year's absence: a naive treated-minus-control difference is biased upwards.

Sizes and times (seed 1): see ``DEMO_SCALE`` and docs/sociaal.md. Vectorised: per school year a few
numpy passes over households and pupils; no Python loop over persons.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from stadslab.demo.synthetic_social import REGELINGEN, _REPO, _population, load_buurten
from stadslab.errors import ReaderError
from stadslab.privacy.bsn import synthetic_bsns

DEMO_SCALE = 0.2
YEARS = np.arange(2017, 2025)                  # start years of school years 2017/18 … 2024/25
PUPIL_YEARS = (2021, 2022, 2023, 2024)         # absence is delivered for these (contract)
BENEFITS_FROM = np.datetime64("2019-07", "M")  # the benefit history Werk en Inkomen delivers
DELIVERY = np.datetime64("2025-08-01")         # extraction date: trajectories running then have no end
DOMAINS = ("financien", "werk_opleiding", "tijdsbesteding", "huisvesting", "huiselijke_relaties",
           "geestelijke_gezondheid", "lichamelijke_gezondheid", "middelengebruik", "basale_adl",
           "instrumentele_adl", "sociaal_netwerk", "maatschappelijke_participatie", "justitie")
LESUREN = {"basisschool": 940, "voortgezet onderwijs": 1000}
PLANTED_EFFECT_PP = -2.0
NOT_MEASURED = 0                               # fin(t) code for "no assessment yet"
# fin(t) index: 0 = not measured, 1..5 = ZRM financiën
MODEL: dict[str, Any] = {
    "bijstand": {"stay": 0.85, "weights": {"eenouder": 3.0, "1p": 1.0, "gezin": 0.8, "paar": 0.5}},
    "financien": {"trait": 0.75, "bijstand": -1.0, "cuts": [-1.8, -1.0, -0.2, 0.9]},
    "zrm_rate": {"base": 0.06, "bijstand": 0.45, "fin_le_2": 0.25, "traject_vorig_jaar": 0.6},
    "trajectory": {"intercept": -5.2, "bijstand": 1.3, "fin": [-0.1, 1.4, 1.0, 0.4, 0.0, -0.3],
                   "verzuim_max_minus_7": 0.3},
    "absence_first": {"intercept": 2.5, "bijstand": 3.0, "vo": 1.0, "noise_scale": 1.2},
    "absence_next": {"intercept": 4.3, "rho": 0.3, "bijstand": 3.0, "vo": 0.6, "sd": 1.6,
                     "traject": PLANTED_EFFECT_PP},
    "absence_fin": [0.5, 2.6, 1.7, 0.9, 0.3, 0.0],   # γ by fin(t) index (0 = not measured)
}


@functools.lru_cache(maxsize=4)
def _buurten(kwb_path: str | Path | None) -> dict[str, Any]:
    """The KWB buurt figures, read once per process (the XLSX takes half a second); never mutated here."""
    return load_buurten(kwb_path)


def schooljaar(start_year: np.ndarray | int) -> np.ndarray:
    y = np.asarray(start_year)
    return np.char.add(np.char.add(y.astype(str), "/"), np.char.zfill(((y + 1) % 100).astype(str), 2))


def _year_start(y: np.ndarray | int) -> np.ndarray:
    return (np.asarray(y) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 7   # 1 August


def _days_into_year(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    start = _year_start(years).astype("datetime64[D]")
    return start + rng.integers(0, 365, len(years)).astype("timedelta64[D]")


def _households(bu: dict[str, Any], pop: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Head (first adult) and partner (second adult) per household, type, buurt."""
    n_hh = int(pop["hh"].max()) + 1
    adult = pop["rol"] != "kind"
    idx = np.flatnonzero(adult)
    order = idx[np.argsort(pop["hh"][idx], kind="stable")]
    hh_sorted = pop["hh"][order]
    first = np.r_[True, hh_sorted[1:] != hh_sorted[:-1]]
    head = np.full(n_hh, -1)
    head[hh_sorted[first]] = order[first]
    second = np.r_[False, ~first[1:]] & np.r_[False, hh_sorted[1:] == hh_sorted[:-1]]
    partner = np.full(n_hh, -1)
    partner[hh_sorted[second]] = order[second]
    buurt = np.zeros(n_hh, int)
    buurt[pop["hh"]] = pop["buurt"]
    return {"n": n_hh, "head": head, "partner": partner, "buurt": buurt, "type": pop["hh_type"][head],
            "head_age": pop["leeftijd"][head]}


def _schools(bu: dict[str, Any], scale: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Primary schools: at least one per wijk, the rest where the children live; a few secondary schools."""
    kids = np.maximum(bu["a_00_14"], 0) + 1e-9
    wijken = np.unique(bu["wijk_code"])
    n_basis, n_vo = max(len(wijken), round(95 * scale)), max(3, round(30 * scale))
    first = np.array([rng.choice(np.flatnonzero(bu["wijk_code"] == w), p=kids[bu["wijk_code"] == w]
                                 / kids[bu["wijk_code"] == w].sum()) for w in wijken])
    rest = rng.choice(len(kids), n_basis - len(first), p=kids / kids.sum())
    vo = rng.choice(len(kids), n_vo, p=kids / kids.sum())
    buurt = np.concatenate([first, rest, vo])
    soort = np.array(["basisschool"] * n_basis + ["voortgezet onderwijs"] * n_vo, dtype=object)
    code = np.array([f"S{i + 1:03d}" for i in range(len(buurt))])
    names_b = ["De Linde", "Het Kompas", "De Regenboog", "De Wissel", "Het Anker", "De Sterrenwacht", "Pijlstaart",
               "De Klimop", "Het Palet", "De Vlinder", "Zonnewijzer", "De Boomgaard"]
    names_v = ["Stadscollege", "Domlyceum", "Vechtcollege", "Kanaalcollege", "Singelgymnasium", "Leidsche Rijn College"]
    name = np.array([f"Basisschool {names_b[i % len(names_b)]} {i // len(names_b) + 1}" if s == "basisschool"
                     else f"{names_v[i % len(names_v)]} {i // len(names_v) + 1}" for i, s in enumerate(soort)])
    return {"code": code, "naam": name, "schoolsoort": soort, "buurt": buurt, "wijk": bu["wijk_code"][buurt]}


def _choose_school(rng: np.random.Generator, pupil_wijk: np.ndarray, schools: dict[str, np.ndarray],
                   kind: str, own_wijk_share: float) -> np.ndarray:
    """A school of ``kind`` per pupil: in the pupil's own wijk with ``own_wijk_share`` (when it has one),
    else anywhere — vectorised through schools sorted by wijk."""
    cand = np.flatnonzero(schools["schoolsoort"] == kind)
    order = cand[np.argsort(schools["wijk"][cand], kind="stable")]
    wk = schools["wijk"][order]
    lo, hi = np.searchsorted(wk, pupil_wijk, "left"), np.searchsorted(wk, pupil_wijk, "right")
    own = (hi > lo) & (rng.random(len(pupil_wijk)) < own_wijk_share)
    pick_own = lo + np.floor(rng.random(len(pupil_wijk)) * np.maximum(hi - lo, 1)).astype(int)
    pick_any = rng.integers(0, len(order), len(pupil_wijk))
    return order[np.where(own, np.minimum(pick_own, len(order) - 1), pick_any)]


def _bijstand(hh: dict[str, np.ndarray], bu: dict[str, Any], scale: float, rng: np.random.Generator) -> np.ndarray:
    """Benefit status per household × school year (Markov chain with the buurt's stationary share)."""
    weights = MODEL["bijstand"]["weights"]
    w = np.select([hh["type"] == t for t in weights], list(weights.values()), 0.0)
    w = w * ((hh["head_age"] >= 18) & (hh["head_age"] <= 66))
    sum_w = np.bincount(hh["buurt"], weights=w, minlength=len(bu["code"]))
    expected = bu["a_soz_wb"] * scale
    p = np.minimum(0.9, np.divide(expected, sum_w, out=np.zeros_like(sum_w), where=sum_w > 0)[hh["buurt"]] * w)
    stay = MODEL["bijstand"]["stay"]
    enter = p * (1 - stay) / np.maximum(1 - p, 1e-9)
    out = np.zeros((hh["n"], len(YEARS)), bool)
    out[:, 0] = rng.random(hh["n"]) < p
    for k in range(1, len(YEARS)):
        u = rng.random(hh["n"])
        out[:, k] = np.where(out[:, k - 1], u < stay, u < enter)
    return out


def _logit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def simulate(scale: float = DEMO_SCALE, seed: int = 1, kwb_path: str | Path | None = None) -> dict[str, Any]:
    """The whole simulation in memory: tables (dicts of numpy arrays) per holder file plus the truth."""
    rng = np.random.default_rng(seed)
    bu = _buurten(kwb_path)
    pop = _population(bu, scale, rng)
    n = len(pop["hh"])
    bsn = synthetic_bsns(n, seed=rng)
    birth = np.datetime64("2024-01-01") - (pop["leeftijd"] * 365.25 + rng.integers(1, 365, n)).astype("timedelta64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(int) + 1970
    hh = _households(bu, pop)
    H, K = hh["n"], len(YEARS)
    bij = _bijstand(hh, bu, scale, rng)
    m = MODEL["financien"]
    trait = rng.standard_normal(H)
    z = m["trait"] * trait[:, None] + np.sqrt(1 - m["trait"] ** 2) * rng.standard_normal((H, K)) + m["bijstand"] * bij
    F = 1 + np.searchsorted(m["cuts"], z)                                   # 1..5, per household × year
    eligible = hh["head_age"] >= 18

    # pupils: children of 5-17 in a school year (age = start year − birth year)
    kid = np.flatnonzero(pop["rol"] == "kind")
    kid_hh = pop["hh"][kid]
    kid_wijk = bu["wijk_code"][pop["buurt"][kid]]
    schools = _schools(bu, scale, rng)
    basis = _choose_school(rng, kid_wijk, schools, "basisschool", 0.85)
    vo_school = _choose_school(rng, kid_wijk, schools, "voortgezet onderwijs", 0.6)

    ms, mt, mf, mn = MODEL["zrm_rate"], MODEL["trajectory"], MODEL["absence_first"], MODEL["absence_next"]
    gamma, tfin = np.array(MODEL["absence_fin"]), np.array(mt["fin"])
    last_fin = np.zeros(H, int)                  # fin(t): latest assessment so far, 0 = not measured
    traject = np.zeros((H, K), bool)
    zrm_parts, pupil_parts = [], []
    y_prev = np.full(len(kid), np.nan)           # observed absence of each child in the previous year
    prev_x: dict[str, np.ndarray] | None = None
    for k, year in enumerate(YEARS):
        # ZRM assessments in year k (before this year's trajectory decision is known)
        lam = (ms["base"] + ms["bijstand"] * bij[:, k] + ms["fin_le_2"] * (F[:, k] <= 2)
               + ms["traject_vorig_jaar"] * (traject[:, k - 1] if k else 0)) * eligible
        cnt = np.minimum(rng.poisson(lam), 3)
        who = np.repeat(np.arange(H), cnt)
        zrm_parts.append((who, np.full(len(who), year)))
        last_fin = np.where(cnt > 0, F[:, k], last_fin)
        fin_k = last_fin.copy()
        # pupils present this year, their absence
        age = year - birth_year[kid]
        here = (age >= 5) & (age <= 17)
        vo = age > 11
        h_k = kid_hh
        if year in PUPIL_YEARS:
            first = here & np.isnan(y_prev)
            x_b, x_f, x_vo = bij[h_k, k], fin_k[h_k], vo
            y_first = (mf["intercept"] + mf["bijstand"] * x_b + gamma[x_f] + mf["vo"] * x_vo
                       + rng.gamma(2.0, mf["noise_scale"], len(kid)))
            y = np.where(first, y_first, np.nan)
            if prev_x is not None:
                cont = here & ~np.isnan(y_prev)
                eps = mn["sd"] * (rng.gamma(2.0, 1.0, len(kid)) - 2.0) / np.sqrt(2.0)   # ≥ −1.41·sd: no clipping
                base = (mn["intercept"] + mn["rho"] * y_prev + mn["bijstand"] * prev_x["bij"]
                        + gamma[prev_x["fin"]] + mn["vo"] * prev_x["vo"] + eps)
                treated = traject[h_k, k - 1]
                y = np.where(cont, base + mn["traject"] * treated, y)
                y0 = np.where(cont, base, np.nan)           # the same pupil without support: truth only
            else:
                y0 = np.full(len(kid), np.nan)
            soort = np.where(vo, "voortgezet onderwijs", "basisschool")
            les = np.where(vo, LESUREN["voortgezet onderwijs"], LESUREN["basisschool"])
            uren = np.rint(np.clip(y, 0, 100) / 100 * les)
            pct = np.round(100 * uren / les, 2)
            y0c = np.round(100 * np.rint(np.clip(y0, 0, 100) / 100 * les) / les, 2)
            sel = np.flatnonzero(here)
            pupil_parts.append({"kid": sel, "year": np.full(len(sel), year), "soort": soort[sel], "les": les[sel],
                                "uren": uren[sel].astype(int), "pct": pct[sel], "pct_untreated": y0c[sel],
                                "bij": bij[h_k[sel], k], "fin": fin_k[h_k[sel]],
                                "school": np.where(vo[sel], vo_school[sel], basis[sel])})
            y_prev = np.where(here, pct, np.nan)
            prev_x = {"bij": bij[h_k, k], "fin": fin_k[h_k], "vo": vo}
            ymax = np.full(H, -np.inf)
            np.maximum.at(ymax, h_k[sel], pct[sel])
            y_term = np.where(np.isfinite(ymax), ymax - 7.0, 0.0)
        else:
            y_term = np.zeros(H)
        logit = mt["intercept"] + mt["bijstand"] * bij[:, k] + tfin[fin_k] + mt["verzuim_max_minus_7"] * y_term
        traject[:, k] = eligible & (rng.random(H) < _logit(logit))

    return _tables(rng, seed, scale, bu, pop, bsn, birth, hh, bij, F, traject, zrm_parts, pupil_parts, schools,
                   kid, kid_hh)


def _tables(rng, seed, scale, bu, pop, bsn, birth, hh, bij, F, traject, zrm_parts, pupil_parts, schools,
            kid, kid_hh) -> dict[str, Any]:
    head_bsn = bsn[hh["head"]]
    buurt_hh = bu["code"][hh["buurt"]]
    # benefits: one row per household × month with a benefit; spells start/end at a random month
    hk = np.argwhere(bij)
    h, k = hk[:, 0], hk[:, 1]
    prev_off = np.where(k > 0, ~bij[h, np.maximum(k - 1, 0)], False)
    next_off = np.where(k < len(YEARS) - 1, ~bij[h, np.minimum(k + 1, len(YEARS) - 1)], False)
    s = np.where(prev_off, rng.integers(0, 12, len(h)), 0)
    e = np.where(next_off, s + np.floor(rng.random(len(h)) * (12 - s)).astype(int), 11)
    months = e - s + 1
    rows = np.repeat(np.arange(len(h)), months)
    offset = np.arange(len(rows)) - np.repeat(np.cumsum(months) - months, months)
    maand = _year_start(YEARS[k[rows]]) + s[rows] + offset
    keep = maand >= BENEFITS_FROM
    rows, maand = rows[keep], maand[keep]
    regeling = np.array(REGELINGEN[0], dtype=object)[rng.choice(len(REGELINGEN[0]), hh["n"], p=REGELINGEN[1])]
    partner = hh["partner"][h[rows]]
    uitk = {"bsn_aanvrager": head_bsn[h[rows]], "bsn_partner": np.where(partner >= 0, bsn[np.maximum(partner, 0)], None),
            "buurt_code": buurt_hh[h[rows]], "maand": maand.astype("datetime64[D]"), "regeling": regeling[h[rows]]}

    # ZRM: financiën = F of that year; the other domains follow the household's situation
    who = np.concatenate([w for w, _ in zrm_parts])
    yr = np.concatenate([y for _, y in zrm_parts])
    kz = yr - YEARS[0]
    zrm: dict[str, Any] = {"bsn": head_bsn[who], "buurt_code": buurt_hh[who], "datum": _days_into_year(rng, yr)}
    base = F[who, kz].astype(float)
    for i, d in enumerate(DOMAINS):
        if d == "financien":
            score = F[who, kz]
        else:
            pull = {"werk_opleiding": 0.6, "maatschappelijke_participatie": 0.5, "huisvesting": 0.4}.get(d, 0.3)
            score = np.clip(np.rint(3.6 + pull * (base - 3) - 0.6 * bij[who, kz] * (d == "werk_opleiding")
                                    + rng.normal(0, 0.8, len(who))), 1, 5).astype(int)
        zrm[f"zrm_{d}"] = score
    order = np.lexsort((zrm["datum"], zrm["bsn"]))
    zrm = {c: v[order] for c, v in zrm.items()}

    # trajectories: start in the year of the decision; domains from the household's weak spots
    th, tk = np.nonzero(traject)
    start = _days_into_year(rng, YEARS[tk])
    end = start + rng.integers(60, 600, len(th)).astype("timedelta64[D]")
    end = np.where(end >= DELIVERY, np.datetime64("NaT"), end)
    fin_low = F[th, tk] <= 2
    other = np.array(["huiselijke_relaties", "geestelijke_gezondheid", "sociaal_netwerk", "tijdsbesteding",
                      "werk_opleiding", "huisvesting", "middelengebruik"])
    second = other[rng.integers(0, len(other), len(th))]
    third = other[rng.integers(0, len(other), len(th))]
    dom = np.where(fin_low, np.char.add("financien;", second), second)
    dom = np.where((rng.random(len(th)) < 0.3) & (third != second), np.char.add(np.char.add(dom, ";"), third), dom)
    traj = {"bsn": head_bsn[th], "buurt_code": buurt_hh[th], "start": start, "einde": end, "domeinen": dom}

    # absence: pupil × school year
    P = {c: np.concatenate([p[c] for p in pupil_parts]) for c in pupil_parts[0]}
    ki = kid[P["kid"]]
    hh_of = kid_hh[P["kid"]]
    sj = schooljaar(P["year"])
    verz = {"bsn_leerling": bsn[ki], "bsn_ouder": head_bsn[hh_of], "geboortedatum": birth[ki],
            "buurt_code": bu["code"][pop["buurt"][ki]], "school": schools["code"][P["school"]],
            "schoolsoort": P["soort"], "schooljaar": sj, "lesuren": P["les"], "verzuimde_uren": P["uren"],
            "verzuim_pct": P["pct"]}
    # truth: treatment in t, next year's observed and untreated absence
    key = P["kid"].astype(np.int64) * 10000 + P["year"]
    nxt = np.searchsorted(np.sort(key), key + 1)
    sorted_idx = np.argsort(key)
    has_next = np.isin(key + 1, key)
    j = sorted_idx[np.minimum(nxt, len(key) - 1)]
    truth = {"bsn": bsn[ki], "bsn_ouder": head_bsn[hh_of], "schooljaar": sj, "wijk_code": bu["wijk_code"][pop["buurt"][ki]],
             "school": verz["school"], "schoolsoort": P["soort"], "bijstand": P["bij"], "zrm_financien": P["fin"],
             "verzuim_pct": P["pct"], "traject": traject[hh_of, P["year"] - YEARS[0]],
             "verzuim_pct_volgend": np.where(has_next, P["pct"][j], np.nan),
             "verzuim_pct_volgend_zonder_traject": np.where(has_next, P["pct_untreated"][j], np.nan)}
    return {"verzuim": verz, "uitkeringen": uitk, "zrm": zrm, "trajecten": traj, "truth": truth, "schools": schools,
            "households_per_buurt": np.bincount(hh["buurt"], minlength=len(bu["code"])),
            "pupils_per_buurt": np.bincount(pop["buurt"][kid], minlength=len(bu["code"])),
            "bu": bu, "counts": {"persons": len(pop["hh"]), "households": int(hh["n"]),
                                 "buurten": int((bu["a_inw"] > 0).sum())}, "seed": seed, "scale": scale}


def _table(cols: dict[str, Any]) -> pa.Table:
    arrays = {}
    for name, v in cols.items():
        v = np.asarray(v)
        if v.dtype.kind == "M":
            arrays[name] = pa.array(v.astype("datetime64[D]"), pa.date32(), mask=np.isnat(v))
        elif v.dtype.kind in "OU":
            arrays[name] = pa.array(v.tolist() if v.dtype.kind == "O" else v, pa.string())
        else:
            arrays[name] = pa.array(v)
    arrays["gesimuleerd"] = pa.array(np.full(len(next(iter(arrays.values()))), "ja"), pa.string())
    return pa.table(arrays)


def generate_ddd(out_dir: str | Path, *, scale: float = DEMO_SCALE, seed: int = 1,
                 kwb_path: str | Path | None = None) -> dict[str, Path]:
    """Write the SIMULATED holder files to ``out_dir`` (outside the repository); returns {name: path}."""
    out = Path(out_dir)
    res = out.resolve()
    ignored = [_REPO / d for d in (".stadslab", "test-artifacts", "bench/out")]
    if (res == _REPO or _REPO in res.parents) and not any(d == res or d in res.parents for d in ignored):
        raise ReaderError("schrijf gesimuleerde data niet in de repository", file=str(out),
                          hint="kies een map buiten de repository, bijv. naast de werkruimte")
    out.mkdir(parents=True, exist_ok=True)
    sim = simulate(scale, seed, kwb_path)
    paths = {"verzuim": out / "leerlingzaken_verzuim.parquet", "uitkeringen": out / "werk_en_inkomen_maanden.parquet",
             "zrm": out / "zrm_metingen.parquet", "trajecten": out / "buurtteam_trajecten.parquet",
             "truth": out / "waarheid_leerlingjaren.parquet", "schools": out / "scholen.csv",
             "manifest": out / "manifest.json", "readme": out / "LEESMIJ.txt"}
    rows = {}
    for name in ("verzuim", "uitkeringen", "zrm", "trajecten", "truth"):
        t = _table(sim[name])
        pq.write_table(t, paths[name])
        rows[name] = t.num_rows
    sc = sim["schools"]
    pacsv.write_csv(_table({"school": sc["code"], "naam": sc["naam"], "schoolsoort": sc["schoolsoort"],
                            "buurt_code": sim["bu"]["code"][sc["buurt"]], "wijk_code": sc["wijk"]}), paths["schools"])
    tr = sim["truth"]
    with_next = ~np.isnan(tr["verzuim_pct_volgend"])
    treated = with_next & tr["traject"]
    manifest = {
        "simulated": True, "gesimuleerd": "ja",
        "statement": "GESIMULEERDE gegevens: geen enkele rij beschrijft een echt persoon.",
        "generator": "stadslab.demo.synthetic_ddd", "seed": seed, "scale": scale,
        "school_years": [str(s) for s in schooljaar(np.array(PUPIL_YEARS))],
        "sources": sim["bu"]["sources"], "counts": sim["counts"],
        "files": {k: {"file": paths[k].name, "rows": rows[k], "sha256": hashlib.sha256(paths[k].read_bytes()).hexdigest()}
                  for k in rows},
        "schools": {"count": len(sc["code"]), "basisschool": int((sc["schoolsoort"] == "basisschool").sum())},
        "planted_effect_pp": PLANTED_EFFECT_PP,
        "effect_definition": "een traject dat in schooljaar t begint voor het huishouden van de leerling verandert "
                             "verzuim_pct in t+1 met planted_effect_pp procentpunt (voor iedereen gelijk, vóór afkappen op 0)",
        "realised_effect_treated_pp": round(float(np.mean(tr["verzuim_pct_volgend"][treated]
                                                          - tr["verzuim_pct_volgend_zonder_traject"][treated])), 3)
        if treated.any() else None,
        "treated_pupil_years": int(treated.sum()), "control_pupil_years": int((with_next & ~tr["traject"]).sum()),
        "naive_difference_pp": round(float(tr["verzuim_pct_volgend"][treated].mean()
                                           - tr["verzuim_pct_volgend"][with_next & ~tr["traject"]].mean()), 3)
        if treated.any() else None,
        "confounders": ["bijstand", "zrm_financien (met 'niet gemeten')", "verzuim_pct (jaar t)", "schoolsoort"],
        "confounding": "bijstand in t, een lage ZRM-score financiën (laatste meting t/m 31 juli van t) en hoog verzuim "
                       "in t verhogen de kans op een traject dat in t begint én het verzuim in t+1; het uitkomstmodel "
                       "is lineair in deze variabelen, de trajectkans logistisch (MODEL)",
        "model": MODEL,
    }
    paths["manifest"].write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    paths["readme"].write_text(
        "GESIMULEERDE GEGEVENS — SIMULATED DATA\n\nGeen enkele rij in deze map beschrijft een echt persoon. "
        "BSN's zijn willekeurige getallen die de elfproef halen.\n"
        f"Huishoudens volgen de buurtcijfers van CBS (Kerncijfers wijken en buurten 2024), schaal {scale}, seed {seed}.\n"
        f"Geplant effect van een buurtteamtraject op verzuim het jaar erna: {PLANTED_EFFECT_PP} procentpunt. "
        "Zie manifest.json.\n", encoding="utf-8")
    return paths
