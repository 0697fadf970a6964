"""SIMULATED social-domain data for the Dynamisch Data Dashboard demo and the privacy-kit tests.

Nothing here describes a real person. Households are placed in Utrecht's real buurten with counts
and mixes from CBS *Kerncijfers wijken en buurten 2024* (a_inw, a_00_14 … a_65_oo, a_1p_hh,
a_hh_z_k, a_hh_m_k); bijstand rates per buurt follow a_soz_wb, which CBS publishes for 2023 but not
(yet) for 2024, so it is taken from the 2023 file beside the 2024 one (city-wide rate where a buurt
has none). BSNs are random numbers that pass the 11-proef; names, streets, house numbers and
postcodes are invented (postcodes are 35xx with random letters, not the buurt's real ones).

``generate_social_demo(out_dir, scale=0.1, seed=1)`` writes, as each source holder would deliver:

    leerlingzaken_verzuim.csv        Leerlingzaken: school-absence reports (verzuimmeldingen) for
                                     youngsters aged 5-17, school year 2023/24. ';'-separated,
                                     dd-mm-yyyy dates, BSN of pupil and of a parent (bsn_ouder).
    werk_en_inkomen_uitkeringen.xlsx Werk en Inkomen: benefits (bijstand, IOAW, IOAZ, Bbz), one row per
                                     benefit, BSN of applicant and partner as numbers (so a leading
                                     zero is lost, as in real Excel exports).
    buurtteam_interventies.csv       buurtteams: interventions (type, start, end; end empty = running).
    bevolking_waarheid.parquet       the simulated population (household, buurt, role): the truth
                                     that tests check against. Not a source-holder file.
    manifest.json, LEESMIJ.txt       what was generated, from what, with which seed — and that it is
                                     SIMULATED. Every data file also has a column ``gesimuleerd = ja``.

Each holder file holds raw BSNs and direct identifiers, because the holder pseudonymises it with the
kit before delivery. A small share of BSN cells (``dirty``) is damaged the way real files are:
typos that fail the 11-proef (counted in the manifest as ``invalid_bsn``) and BSNs written with dots
or spaces (still valid after normalisation).

Sizes (seed 1; scale 1 is Utrecht's 374 200 inhabitants in 109 inhabited buurten):

    scale 0.1 (default)   37 424 persons, 19 317 households, 697 absence reports, 1 048 benefits,
                          1 261 interventions; under a second
    scale 1.0             374 197 persons, 193 250 households, 6 626 reports, 10 429 benefits,
                          12 415 interventions; about 2 seconds

Outcomes are correlated on purpose (benefit households → more absence and more buurtteam support)
so that the dashboard has something to find; the strengths are invented.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from stadslab.errors import ReaderError
from stadslab.privacy.bsn import mutate_to_invalid, synthetic_bsns
from stadslab.privacy.tabular import open_source

REFERENCE = date(2024, 1, 1)
_REPO = Path(__file__).resolve().parents[2]
KWB_CANDIDATES = (_REPO / "data/demo/utrecht/kwb/kwb-2024-utrecht.csv",    # vendored demo data first
                  _REPO / "data/demo/utrecht/kwb/kwb-2024-utrecht.xlsx",
                  _REPO.parent / "shared/data/utrecht/kwb/kwb-2024-utrecht.csv",
                  Path(os.environ.get("STADSLAB_SHARED_DATA", "/nonexistent")) / "utrecht/kwb/kwb-2024-utrecht.csv")
FIRST_M = ["Daan", "Sem", "Noah", "Lucas", "Mohammed", "Levi", "Finn", "Milan", "Adam", "Thomas", "Jan", "Peter",
           "Hans", "Kees", "Ahmed", "Youssef", "Mehmet", "Rik", "Bram", "Jesse", "Luuk", "Gerrit", "Kevin", "Omar"]
FIRST_F = ["Emma", "Julia", "Mila", "Sophie", "Tess", "Zoë", "Sara", "Nora", "Fenna", "Anna", "Maria", "Ingrid",
           "Fatima", "Yasmina", "Elif", "Lotte", "Sanne", "Anouk", "Ria", "Els", "Noor", "Imane", "Eva", "Lisa"]
SURNAMES = ["de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
            "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
            "Brouwer", "El Amrani", "Yilmaz", "Kaya", "Bennani", "Pinas", "Sedney", "Nguyen", "Öztürk", "Kramer"]
STREET_A = ["Linde", "Eiken", "Kastanje", "Vogel", "Zwaluw", "Merel", "Tulp", "Roos", "Molen", "Kerk", "Sluis",
            "Haven", "Beuken", "Wilgen", "Iris", "Dahlia", "Spreeuw", "Vink", "Reiger", "Lijster"]
STREET_B = ["straat", "laan", "weg", "plein", "hof", "singel", "kade", "dreef"]
REGELINGEN = (["Participatiewet (bijstand)", "IOAW", "IOAZ", "Bbz"], [0.88, 0.06, 0.01, 0.05])
VERZUIM = (["ongeoorloofd verzuim", "luxeverzuim", "signaalverzuim", "absoluut verzuim"], [0.55, 0.15, 0.27, 0.03])
INTERVENTIES_JEUGD = ["opvoedondersteuning", "ambulante jeugdhulp", "schoolmaatschappelijk werk", "gezinscoaching"]
INTERVENTIES_VOLW = ["schuldhulpverlening", "maatschappelijk werk", "psychosociale ondersteuning",
                     "mantelzorgondersteuning", "dagbesteding", "huishoudelijke ondersteuning"]


def find_kwb(path: str | Path | None = None) -> Path:
    for p in ([Path(path)] if path else KWB_CANDIDATES):
        if p.is_file():
            return p
    raise ReaderError("CBS-kerncijfers wijken en buurten 2024 (Utrecht) niet gevonden",
                      file=str(path or KWB_CANDIDATES[0]), hint="geef kwb_path op of vendor data/demo/utrecht/kwb/")


def _num(table: pa.Table, col: str) -> np.ndarray:
    vals = [v.strip() if isinstance(v, str) else v for v in table[col].to_pylist()]
    return np.array([float(v) if v not in (None, "", ".") else np.nan for v in vals])


def load_buurten(path: str | Path | None = None) -> dict[str, Any]:
    """Buurt rows of the KWB file as numpy arrays, plus a_soz_wb (2023 file when 2024 has none)."""
    p = find_kwb(path)
    t = open_source(p).read_all()     # CSV or XLSX, every cell as text ('.' = not published)
    wijken = {c: n for c, n, r in zip(t["gwb_code"].to_pylist(), t["regio"].to_pylist(), t["recs"].to_pylist())
              if r == "Wijk"}
    t = t.filter(pc.equal(t["recs"], "Buurt"))
    out: dict[str, Any] = {"code": np.array(t["gwb_code"].to_pylist()), "name": np.array(t["regio"].to_pylist())}
    for c in ("a_inw", "a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo", "a_hh", "a_1p_hh", "a_hh_z_k", "a_hh_m_k"):
        out[c] = np.nan_to_num(_num(t, c))
    soz = _num(t, "a_soz_wb")
    soz_source = p.name
    older = p.with_name(p.name.replace("2024", "2023"))
    if np.isnan(soz).all() and older.is_file():
        t23 = open_source(older).read_all()
        m = dict(zip(t23["gwb_code"].to_pylist(), _num(t23, "a_soz_wb")))
        soz = np.array([m.get(c, np.nan) for c in out["code"]])
        soz_source = older.name
    known = ~np.isnan(soz) & (out["a_inw"] > 0)
    city_rate = soz[known].sum() / out["a_inw"][known].sum() if known.any() else 0.028
    out["a_soz_wb"] = np.where(np.isnan(soz), city_rate * out["a_inw"], soz)
    out["wijk_code"] = np.array(["WK" + c[2:8] for c in out["code"]])
    out["wijk_name"] = np.array([wijken.get(w, w).split(" ", 2)[-1] for w in out["wijk_code"]])
    out["sources"] = {"kwb": str(p), "kwb_sha256": hashlib.sha256(p.read_bytes()).hexdigest(), "a_soz_wb": soz_source}
    return out


def _sround(x: float, rng: np.random.Generator) -> int:
    """Stochastic rounding: small buurten keep their expected size instead of rounding to zero."""
    return int(np.floor(x) + (rng.random() < x - np.floor(x)))


def _ages(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights / weights.sum()) if n else np.zeros(0, int)


def _population(bu: dict[str, Any], scale: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    cols: dict[str, list] = {k: [] for k in ("hh", "buurt", "rol", "leeftijd", "hh_type", "n_adults")}
    hh_next = 0
    for b in range(len(bu["code"])):
        if bu["a_inw"][b] <= 0:
            continue
        g = {k: bu[k][b] for k in ("a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo")}
        adult_w = np.concatenate([np.full(7, 0.7 * g["a_15_24"] / 7), np.full(20, g["a_25_44"] / 20),
                                  np.full(20, g["a_45_64"] / 20), g["a_65_oo"] * np.exp(-np.arange(31) / 10) / 10]) + 1e-9
        kid_w = np.concatenate([np.full(15, g["a_00_14"] / 15), np.full(3, g["a_15_24"] / 10),
                                np.full(7, 0.3 * g["a_15_24"] / 10)]) + 1e-9
        n_p = _sround(bu["a_inw"][b] * scale, rng)
        h1, hz, hm = (_sround(bu[k][b] * scale, rng) for k in ("a_1p_hh", "a_hh_z_k", "a_hh_m_k"))
        single_parent = rng.random(hm) < 0.25
        adults_m = np.where(single_parent, 1, 2)
        kids_total = max(n_p - h1 - 2 * hz - int(adults_m.sum()), hm)
        kids = np.ones(hm, int) + (rng.multinomial(kids_total - hm, np.full(hm, 1 / hm)) if hm else 0)
        # one-person and couple households
        a1 = 18 + _ages(rng, h1 + hz, adult_w)
        partner = np.clip(a1[h1:] + rng.integers(-5, 6, hz), 18, 100)
        ids1 = hh_next + np.arange(h1 + hz)
        for age, hid, rol, typ in ((a1[:h1], ids1[:h1], "alleenstaand", "1p"),
                                   (a1[h1:], ids1[h1:], "partner", "paar"), (partner, ids1[h1:], "partner", "paar")):
            cols["hh"].append(hid); cols["leeftijd"].append(age); cols["rol"].append(np.full(len(age), rol))
            cols["hh_type"].append(np.full(len(age), typ)); cols["n_adults"].append(np.full(len(age), 1 if typ == "1p" else 2))
        hh_next += h1 + hz
        # households with children: parents' age follows the oldest child
        hid_m = hh_next + np.arange(hm)
        kid_hh = np.repeat(hid_m, kids)
        kid_age = _ages(rng, int(kids.sum()), kid_w)
        oldest = np.zeros(hm, int)
        np.maximum.at(oldest, kid_hh - hh_next, kid_age)
        par_hh = np.repeat(hid_m, adults_m)
        par_age = np.clip(np.repeat(oldest, adults_m) + rng.integers(22, 41, len(par_hh)), 18, 90)
        typ_m = np.where(single_parent, "eenouder", "gezin")
        for hid, age, rol in ((par_hh, par_age, "ouder"), (kid_hh, kid_age, "kind")):
            cols["hh"].append(hid); cols["leeftijd"].append(age); cols["rol"].append(np.full(len(hid), rol))
            cols["hh_type"].append(typ_m[hid - hh_next]); cols["n_adults"].append(adults_m[hid - hh_next])
        hh_next += hm
        n_here = sum(len(a) for a in cols["hh"]) - sum(len(a) for a in cols["buurt"])
        cols["buurt"].append(np.full(n_here, b))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _pick(rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None) -> np.ndarray:
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def _dirty(bsn: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Damage a share of BSN cells: half fail the 11-proef (typos), half get dots/spaces (still valid)."""
    out = bsn.astype(object).copy()
    idx = rng.choice(len(out), size=int(round(len(out) * share)), replace=False) if len(out) else np.zeros(0, int)
    typo, fmt = idx[: len(idx) // 2], idx[len(idx) // 2:]
    out[typo] = mutate_to_invalid([str(v) for v in out[typo]], seed=int(rng.integers(1 << 31)))
    out[fmt] = [f"{v[:4]}.{v[4:6]}.{v[6:]}" if i % 2 else f"{v[:3]} {v[3:6]} {v[6:]}" for i, v in enumerate(out[fmt])]
    return out, len(typo)


def _dates(rng: np.random.Generator, start: date, end: date, n: int) -> np.ndarray:
    lo, hi = np.datetime64(start), np.datetime64(end)
    return lo + rng.integers(0, int((hi - lo).astype(int)) + 1, n).astype("timedelta64[D]")


def generate_social_demo(out_dir: str | Path, *, scale: float = 0.1, seed: int = 1, dirty: float = 0.003,
                         kwb_path: str | Path | None = None) -> dict[str, Path]:
    """Write the SIMULATED source-holder files to ``out_dir``; returns {name: path}."""
    out = Path(out_dir)
    res = out.resolve()
    ignored = [_REPO / d for d in (".stadslab", "test-artifacts", "bench/out")]   # git-ignored folders
    if (res == _REPO or _REPO in res.parents) and not any(d == res or d in res.parents for d in ignored):
        raise ReaderError("schrijf gesimuleerde data niet in de repository", file=str(out),
                          hint="kies een map buiten de repository, bijv. in de werkruimte (.stadslab/...)")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    bu = load_buurten(kwb_path)
    pop = _population(bu, scale, rng)
    n, n_hh = len(pop["hh"]), int(pop["hh"].max()) + 1 if len(pop["hh"]) else 0
    bsn = synthetic_bsns(n, seed=rng)
    male = rng.random(n) < 0.5
    first = np.where(male, _pick(rng, FIRST_M, n), _pick(rng, FIRST_F, n))
    hh_surname = _pick(rng, SURNAMES, n_hh)
    surname = np.where(rng.random(n) < 0.3, _pick(rng, SURNAMES, n), hh_surname[pop["hh"]])
    birth = np.datetime64(REFERENCE) - (pop["leeftijd"] * 365.25 + rng.integers(1, 365, n)).astype("timedelta64[D]")
    hh_buurt = np.zeros(n_hh, int)
    hh_buurt[pop["hh"]] = pop["buurt"]
    street = np.array([f"{a}{b}" for a, b in zip(_pick(rng, STREET_A, n_hh), _pick(rng, STREET_B, n_hh))])
    number = rng.integers(1, 250, n_hh)
    letters = np.array(list("ABCDEFGHJKLMNPRSTVWXZ"))
    postcode = np.array([f"{3500 + (b * 7) % 86}{x}{y}" for b, x, y in
                         zip(hh_buurt, letters[rng.integers(0, 21, n_hh)], letters[rng.integers(0, 21, n_hh)])])
    h = pop["hh"]
    person = {"bsn": bsn, "voornaam": first, "achternaam": surname, "geboortedatum": birth,
              "adres": np.char.add(np.char.add(street[h].astype(str), " "), number[h].astype(str)),
              "postcode": postcode[h]}

    # Werk en Inkomen: households with an adult of 18-66 qualify; weights make single parents likelier
    adult = np.isin(pop["rol"], ("ouder", "partner", "alleenstaand"))
    first_adult = np.full(n_hh, -1)
    idx_adult = np.flatnonzero(adult)
    first_adult[h[idx_adult[::-1]]] = idx_adult[::-1]
    ok_age = (pop["leeftijd"][first_adult] >= 18) & (pop["leeftijd"][first_adult] <= 66)
    hh_type = pop["hh_type"][first_adult]
    weight = np.select([hh_type == "eenouder", hh_type == "1p", hh_type == "gezin"], [3.0, 1.0, 0.8], 0.5) * ok_age
    p_ben = np.zeros(n_hh)
    for b in range(len(bu["code"])):
        m = hh_buurt == b
        if weight[m].sum() > 0:
            p_ben[m] = np.minimum(1, bu["a_soz_wb"][b] * scale * weight[m] / weight[m].sum())
    ben_hh = np.flatnonzero(rng.random(n_hh) < p_ben)
    on_benefit = np.isin(h, ben_hh)
    aanvrager = first_adult[ben_hh]
    partner_of = {hid: i for i, hid in zip(idx_adult, h[idx_adult])}   # last adult per household
    partner = np.array([partner_of[hid] if partner_of[hid] != a else -1 for hid, a in zip(ben_hh, aanvrager)], int)
    start = _dates(rng, date(2015, 1, 1), date(2023, 12, 1), len(ben_hh))
    ended = rng.random(len(ben_hh)) < 0.2
    end = np.where(ended, start + rng.integers(90, 900, len(ben_hh)).astype("timedelta64[D]"), np.datetime64("NaT"))
    end = np.where(end > np.datetime64(REFERENCE), np.datetime64("NaT"), end)
    b_aanv, inv_wi = _dirty(bsn[aanvrager], dirty, rng)
    wi = {"bsn_aanvrager": [int(v) if str(v).isdigit() else v for v in b_aanv],
          "bsn_partner": [int(bsn[p]) if p >= 0 else None for p in partner],
          "voornaam": first[aanvrager], "achternaam": surname[aanvrager],
          "geboortedatum": birth[aanvrager], "adres": person["adres"][aanvrager], "postcode": person["postcode"][aanvrager],
          "regeling": _pick(rng, REGELINGEN[0], len(ben_hh), REGELINGEN[1]) if len(ben_hh) else np.array([], object),
          "leefvorm": np.select([hh_type[ben_hh] == "1p", hh_type[ben_hh] == "eenouder"],
                                ["alleenstaande", "alleenstaande ouder"], "gehuwden/samenwonenden"),
          "ingangsdatum": start, "einddatum": end}

    # Leerlingzaken: youngsters 5-17; likelier with a benefit or a single parent, and in poorer buurten
    kid = (pop["rol"] == "kind") & (pop["leeftijd"] >= 5) & (pop["leeftijd"] <= 17)
    rate_b = bu["a_soz_wb"] / np.maximum(bu["a_inw"], 1)
    rel = np.sqrt(rate_b[pop["buurt"]] / max(np.median(rate_b), 1e-6))
    p_v = 0.04 * rel * np.where(on_benefit, 2.5, 1) * np.where(pop["hh_type"] == "eenouder", 1.5, 1)
    pupils = np.flatnonzero(kid & (rng.random(n) < np.minimum(p_v, 0.9)))
    k = 1 + rng.poisson(0.6, len(pupils))
    rows = np.repeat(pupils, k)
    par = first_adult[h[rows]]
    b_ll, inv_ll = _dirty(bsn[rows], dirty, rng)
    soort = _pick(rng, VERZUIM[0], len(rows), VERZUIM[1]) if len(rows) else np.array([], object)
    school = np.where(pop["leeftijd"][rows] <= 11, "basisschool", "voortgezet onderwijs")
    melddatum = _dates(rng, date(2023, 9, 1), date(2024, 7, 12), len(rows))
    ll = {"bsn_leerling": b_ll, "voornaam": first[rows], "achternaam": surname[rows],
          "geboortedatum": birth[rows], "adres": person["adres"][rows], "postcode": person["postcode"][rows],
          "bsn_ouder": bsn[par], "schoolsoort": school,
          "school": [f"SIM-{s[:2].upper()}{v % 40:02d}" for s, v in zip(school, hh_buurt[h[rows]])],
          "verzuimsoort": soort, "melddatum": melddatum,
          "uren": np.where(soort == "absoluut verzuim", 0, rng.integers(8, 61, len(rows)))}

    # buurtteams: support is likelier with a benefit, school absence, or old age
    p_bt = np.where(pop["leeftijd"] >= 75, 0.05, 0.015) + 0.12 * on_benefit + 0.2 * np.isin(np.arange(n), pupils)
    clients = np.flatnonzero(rng.random(n) < p_bt)
    rows_bt = np.repeat(clients, 1 + rng.poisson(0.3, len(clients)))
    young = pop["leeftijd"][rows_bt] < 18
    typ = np.where(young, _pick(rng, INTERVENTIES_JEUGD, len(rows_bt)), _pick(rng, INTERVENTIES_VOLW, len(rows_bt)))
    s_bt = _dates(rng, date(2022, 1, 1), date(2023, 12, 31), len(rows_bt))
    e_bt = s_bt + rng.integers(30, 500, len(rows_bt)).astype("timedelta64[D]")
    e_bt = np.where(e_bt >= np.datetime64(REFERENCE), np.datetime64("NaT"), e_bt)
    b_bt, inv_bt = _dirty(bsn[rows_bt], dirty, rng)
    bt = {"bsn": b_bt, "voornaam": first[rows_bt], "achternaam": surname[rows_bt], "geboortedatum": birth[rows_bt],
          "adres": person["adres"][rows_bt], "postcode": person["postcode"][rows_bt],
          "buurtteam": np.char.add("Buurtteam ", bu["wijk_name"][pop["buurt"][rows_bt]].astype(str)),
          "interventie": typ, "startdatum": s_bt, "einddatum": e_bt}

    truth = {"bsn": bsn, "huishouden": h, "rol": pop["rol"], "huishoudtype": pop["hh_type"], "leeftijd": pop["leeftijd"],
             "geboortedatum": birth, "buurt_code": bu["code"][pop["buurt"]], "wijk_code": bu["wijk_code"][pop["buurt"]],
             "uitkering": on_benefit, "verzuim": np.isin(np.arange(n), pupils), "buurtteam": np.isin(np.arange(n), clients)}
    paths = {"verzuim": out / "leerlingzaken_verzuim.csv", "uitkeringen": out / "werk_en_inkomen_uitkeringen.xlsx",
             "buurtteam": out / "buurtteam_interventies.csv", "bevolking": out / "bevolking_waarheid.parquet",
             "manifest": out / "manifest.json", "readme": out / "LEESMIJ.txt"}
    _write_csv(ll, paths["verzuim"], delimiter=";", dutch_dates=True)
    _write_xlsx(wi, paths["uitkeringen"])
    _write_csv(bt, paths["buurtteam"], delimiter=",", dutch_dates=False)
    pq.write_table(_table(truth), paths["bevolking"])
    counts = {"persons": n, "households": n_hh, "buurten": int((bu["a_inw"] > 0).sum())}
    files = {name: {"file": paths[name].name, "rows": rows_, "invalid_bsn": inv,
                    "sha256": hashlib.sha256(paths[name].read_bytes()).hexdigest()}
             for name, rows_, inv in (("verzuim", len(rows), inv_ll), ("uitkeringen", len(ben_hh), inv_wi),
                                      ("buurtteam", len(rows_bt), inv_bt), ("bevolking", n, 0))}
    manifest = {"simulated": True, "gesimuleerd": "ja",
                "statement": "GESIMULEERDE gegevens: geen enkele rij beschrijft een echt persoon.",
                "generator": "stadslab.demo.synthetic_social", "seed": seed, "scale": scale, "dirty": dirty,
                "reference_date": REFERENCE.isoformat(), "sources": bu["sources"], "counts": counts, "files": files}
    paths["manifest"].write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["readme"].write_text(
        "GESIMULEERDE GEGEVENS — SIMULATED DATA\n\nGeen enkele rij in deze map beschrijft een echt persoon. "
        "BSN's zijn willekeurige getallen die de elfproef halen; namen en adressen zijn verzonnen.\n"
        f"Huishoudens volgen de buurtcijfers van CBS (Kerncijfers wijken en buurten 2024), schaal {scale}, seed {seed}.\n"
        "Elk databestand heeft een kolom 'gesimuleerd' met de waarde 'ja'. Zie manifest.json.\n", encoding="utf-8")
    return paths


def _table(cols: dict[str, Any]) -> pa.Table:
    arrays = {}
    for k, v in cols.items():
        v = np.asarray(v) if not isinstance(v, list) else v
        if isinstance(v, np.ndarray) and v.dtype.kind == "M":
            arrays[k] = pa.array(v.astype("datetime64[D]"), pa.date32())
        elif isinstance(v, np.ndarray) and v.dtype.kind in "OU":
            arrays[k] = pa.array([None if x is None else str(x) for x in v.tolist()], pa.string())
        else:
            arrays[k] = pa.array(v)
    arrays["gesimuleerd"] = pa.array(["ja"] * (len(next(iter(arrays.values()))) if arrays else 0))
    return pa.table(arrays)


def _write_csv(cols: dict[str, Any], path: Path, *, delimiter: str, dutch_dates: bool) -> None:
    t = _table(cols)
    for i, f in enumerate(t.schema):
        if pa.types.is_date(f.type):
            fmt = "%d-%m-%Y" if dutch_dates else "%Y-%m-%d"
            t = t.set_column(i, f.name, pc.strftime(t[f.name].cast(pa.timestamp("s")), format=fmt))
    pacsv.write_csv(t, path, write_options=pacsv.WriteOptions(delimiter=delimiter, quoting_style="needed"))


def _write_xlsx(cols: dict[str, Any], path: Path) -> None:
    """Cells keep their Python type: BSNs as numbers (a leading zero is lost, as in real exports),
    damaged BSNs as text, dates as Excel dates."""
    from openpyxl import Workbook

    lists = []
    for v in cols.values():
        if isinstance(v, np.ndarray) and v.dtype.kind == "M":
            v = [None if np.isnat(d) else d.astype("datetime64[D]").item() for d in v]
        lists.append(list(v.tolist() if isinstance(v, np.ndarray) else v))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("uitkeringen")
    ws.append([*cols, "gesimuleerd"])
    for row in zip(*lists):
        ws.append([*row, "ja"])
    wb.save(path)
