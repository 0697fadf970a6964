"""A generated entry for the Dutch Algoritmeregister (algoritmes.overheid.nl) for the risk model.

The fields follow the register's publication standard (Handreiking Algoritmeregister, BZK): name
and organisation, goal and impact, status, data, technical working, human intervention, risk
management, legal basis, evaluation and links. The evaluation text is generated from a backtest
result (``backtest()``'s dict); its judgement is ``verdict.verdict``'s sentence, word for word the one the
Risicokaart page and the CLI show.
Fields that only the organisation can fill in (legal basis, impact assessments, contact) are
proposals marked "te bevestigen".
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Mapping

from stadslab.analyses.risk.verdict import verdict

CODE_PATH = "stadslab/analyses/risk/"
BASELINE_NL = {"last_period": "vorige periode (aantal in de laatste periode van dezelfde lengte)",
               "last_365d": "langetermijnkaart (aantal in de laatste 365 dagen)",
               "kde": "kerndichtheid (afstand- en tijdgewogen, prospectieve hotspots)"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%".replace(".", ",")


def _ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}".replace(".", ",")


def evaluation_text(bt: Mapping[str, Any]) -> str:
    """Dutch summary of a backtest: hit rates at 3 % and 5 % of the area, vs the best baseline."""
    model, best = bt["model"], bt["best_baseline"]
    m, b = bt["models"][model], bt["models"][best]
    parts = [f"Getoetst met een rollende oorsprong over {bt['periods']} perioden van {bt['period_days']} dagen "
             f"({bt['start'][:10]} t/m {bt['end'][:10]}); het model zag steeds alleen incidenten van vóór de "
             "voorspelde periode. Trefkans = aandeel van de incidenten van de periode in de aangewezen cellen."]
    for f in ("0.03", "0.05"):
        if f in m["hit_rate"]:
            c = bt["comparison"][f]
            parts.append(f"Bij {_pct(float(f))} van het oppervlak: model {_pct(m['hit_rate'][f])} "
                         f"(PAI {_ratio(m['pai'][f])}, PEI {_ratio(m['pei'][f])}), beste eenvoudige methode "
                         f"'{best}' {_pct(b['hit_rate'][f])}; verhouding {_ratio(c['ratio'])}, "
                         f"{c['periods_won']} perioden beter en {c['periods_lost']} slechter.")
    # the judgement itself is the one verdict the page and the CLI show too (verdict.py)
    parts.append(verdict(bt).sentence)
    cal = bt.get("calibration")
    if cal and cal.get("ratio_predicted_observed") is not None:
        parts.append(f"Kalibratie: voorspeld totaal {cal['total_predicted']:.0f}, waargenomen "
                     f"{cal['total_observed']:.0f} (verhouding {_ratio(cal['ratio_predicted_observed'])}).")
    return " ".join(parts)


def register_entry(backtest: Mapping[str, Any] | None, *, organisatie: str, dataset: str,
                   incident_label: str = "fietsdiefstal", status: str = "in ontwikkeling",
                   code_url: str | None = None, dataset_version: int | None = None,
                   contact: str | None = None, top: float = 0.03, period_days: int = 14) -> dict[str, Any]:
    """The register entry as a dict of Dutch fields (see module docstring)."""
    src = f"{code_url.rstrip('/')}/{CODE_PATH}" if code_url else CODE_PATH
    data_text = (f"Geregistreerde incidenten '{incident_label}' uit dataset '{dataset}'"
                 + (f" (versie {dataset_version})" if dataset_version is not None else "")
                 + ": tijdstip en plaats (RD-coördinaten, 125 m-cel, buurtcode). Geen persoonsgegevens van "
                 "slachtoffers of verdachten. Optioneel buurtkenmerken (CBS Kerncijfers wijken en buurten) en "
                 "voorzieningen per cel (bv. fietsenstallingen, lichtmasten).")
    entry = {
        "naam": f"Risicokaart {incident_label} (hotspotvoorspeller)",
        "organisatie": organisatie,
        "korte_omschrijving": (f"Voorspelt per cel van 125 × 125 m het verwachte aantal incidenten "
                               f"'{incident_label}' in de komende {period_days} dagen en wijst de "
                               f"{_pct(top)} van het oppervlak met het hoogste risico aan."),
        "doel": ("Inzet van handhaving, wijkteams en preventie (bv. voorlichting, extra stallingen, verlichting) "
                 "richten op plekken met het hoogste verwachte aantal incidenten, als hulpmiddel bij het "
                 "tweewekelijkse overleg over de inzet."),
        "publieke_waarde_impact": ("Minder incidenten door gerichte preventie; efficiëntere inzet van schaarse "
                                   "capaciteit. Het algoritme gaat over plaatsen, niet over personen: er worden "
                                   "geen beslissingen over individuen genomen. Keerzijde: plekken buiten de kaart "
                                   "kunnen minder aandacht krijgen."),
        "status": status,
        "type_algoritme": "voorspellend model (gradient boosting met Poisson-doelfunctie) naast eenvoudige hotspotkaarten",
        "data_bronnen": data_text,
        "methode_werking": (
            "Per cel worden kenmerken berekend uit uitsluitend eerdere incidenten: aantallen in de laatste 7, 14, "
            "28, 91, 365 en 730 dagen in de cel, het blok van 3×3 en 5×5 cellen en de buurt; in de tijd "
            "afnemend gewogen aantallen; herhaald slachtofferschap in de buurt (incidenten binnen 200 m in de "
            "laatste 14 dagen, Mohler e.a. 2011); een kerndichtheid in ruimte en tijd (Bowers, Johnson & Pease "
            "2004); seizoen en weekendaandeel. Een LightGBM-model met Poisson-doelfunctie leert uit eerdere "
            "perioden hoeveel incidenten volgen. Per cel worden de belangrijkste redenen in gewone taal "
            "getoond (SHAP-bijdragen). Gelijke scores worden beslist op het langetermijnaantal en dan de celcode."),
        "evaluatie": evaluation_text(backtest) if backtest else
        "Nog niet getoetst: draai 'stadslab predict backtest' en neem de uitkomst hier op.",
        "menselijke_tussenkomst": (
            "De kaart is een advies. Medewerkers en politie bespreken hem in het inzetoverleg en beslissen zelf, "
            "met hun kennis van de wijk. Het model stuurt niemand automatisch aan en wordt niet gebruikt voor "
            "besluiten over personen."),
        "risicos_en_bias": [
            f"Meldingsbereidheid: het model ziet alleen geregistreerde incidenten; niet gemelde {incident_label} "
            "ontbreekt, en meldingsbereidheid verschilt per buurt en groep.",
            "Terugkoppeling: meer toezicht op aangewezen plekken leidt tot meer registraties daar, waardoor het "
            "model die plekken opnieuw aanwijst. Vergelijk daarom altijd met de eenvoudige kaarten en kijk naar "
            "aangiften los van surveillance.",
            "Verplaatsing: daders kunnen uitwijken naar plekken buiten de kaart.",
            "Geen oorzaken: het model beschrijft waar incidenten gebeurden, niet waarom; buurtkenmerken zijn "
            "geen verklaring en mogen niet leiden tot etikettering van buurten of bewoners.",
            "Plaats en tijd zijn benaderingen (begintijd van het pleegmoment, coördinaat van de melding).",
        ],
        "juridische_grondslag": (
            "Te bevestigen door de jurist/FG. Voorstel: Gemeentewet art. 160 en 172 (taken college en burgemeester, "
            "openbare orde); voor politiegegevens de verstrekkingsgrondslag in de Wet politiegegevens en het "
            "convenant met de politie. Geen verwerking van bijzondere persoonsgegevens."),
        "impacttoetsen": "IAMA en DPIA: te bepalen (het model verwerkt geen persoonsgegevens, wel locaties van incidenten).",
        "links": {"broncode": src, "backtest": "stadslab predict backtest DATASET --json",
                  "methode_pai": "Chainey, Tompson & Uhlig (2008), Security Journal 21:4–28",
                  "methode_pei": "Hunt (2016), Do crime hot spots move?, American University"},
        "contact": contact or "te bevestigen",
        "datum": date.today().isoformat(),
    }
    if backtest:
        entry["evaluatie_cijfers"] = {
            "model": backtest["model"], "best_baseline": backtest["best_baseline"],
            "model_beats_best_baseline": backtest["model_beats_best_baseline"], "periods": backtest["periods"],
            "oordeel": verdict(backtest).level, "standaardkaart": verdict(backtest).default_map,
            "hit_rate": {name: m["hit_rate"] for name, m in backtest["models"].items()},
            "pai": {name: m["pai"] for name, m in backtest["models"].items()}}
    return entry


LABELS = {"naam": "Naam", "organisatie": "Organisatie", "korte_omschrijving": "Korte omschrijving", "doel": "Doel",
          "publieke_waarde_impact": "Publieke waarde en impact", "status": "Status", "type_algoritme": "Type algoritme",
          "data_bronnen": "Data en bronnen", "methode_werking": "Werking", "evaluatie": "Evaluatie",
          "menselijke_tussenkomst": "Menselijke tussenkomst", "risicos_en_bias": "Risico's en bias",
          "juridische_grondslag": "Juridische grondslag", "impacttoetsen": "Impacttoetsen", "links": "Links",
          "contact": "Contact", "datum": "Datum"}


def to_markdown(entry: Mapping[str, Any]) -> str:
    """The entry as a Markdown page (one section per register field)."""
    out = [f"# {entry['naam']}", ""]
    for key, title in LABELS.items():
        if key == "naam" or key not in entry:
            continue
        value = entry[key]
        out.append(f"## {title}")
        if isinstance(value, list):
            out += [f"- {v}" for v in value]
        elif isinstance(value, dict):
            out += [f"- {k}: {v}" for k, v in value.items()]
        else:
            out.append(str(value))
        out.append("")
    if "evaluatie_cijfers" in entry:
        ev = entry["evaluatie_cijfers"]
        fractions = list(next(iter(ev["hit_rate"].values())))
        out += ["### Trefkans per methode", "", "| methode | " + " | ".join(f"{_pct(float(f))} oppervlak" for f in fractions) + " |",
                "|---|" + "---|" * len(fractions)]
        for name, hr in ev["hit_rate"].items():
            label = BASELINE_NL.get(name, name)
            out.append(f"| {label} | " + " | ".join(_pct(hr[f]) for f in fractions) + " |")
        out.append("")
    return "\n".join(out)


def to_json(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, indent=2)
