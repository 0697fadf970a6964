"""A discovery run on the warehouse: collect the variables of a level and year, test all pairs, check
the survivors against the usual suspects, and store the result with its provenance."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from stadslab.analyses.discovery.analysis import BLIJFT, Settings, Suspect, discover_matrix
from stadslab.analyses.discovery.stats import METHOD_ESS, distance_classes
from stadslab.analyses.discovery.variables import (DEFAULT_MIN_POPULATION, AreaData, cbs_kerncijfers, collect,
                                                   load_areas)
from stadslab.errors import AnalysisError
from stadslab.privacy.access import User
from stadslab.privacy.audit import AuditLog
from stadslab.privacy.gate import SuppressionStore
from stadslab.warehouse.store import Warehouse

# The usual suspects: (name in verdicts, candidate fields of the CBS Kerncijfers of the year; first published wins)
DEFAULT_SUSPECTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("inwonertal", ("a_inw",)),
    ("bevolkingsdichtheid", ("bev_dich",)),
    ("leeftijdsopbouw (aandeel 65-plussers)", ("a_65_oo_per_1000",)),
    ("inkomen", ("g_ink_pi", "g_wozbag")),
    ("aandeel huurwoningen", ("p_huurw",)),
)
NEAR_IDENTICAL = 0.98
FALLBACK_LABEL = {"g_wozbag": "inkomen (gemiddelde WOZ-waarde als benadering)"}

CAVEAT = ("Dit zijn verbanden tussen gebieden, niet tussen mensen. Dat buurten met veel van het een ook veel van "
          "het ander hebben, zegt niets over de mensen die er wonen: het kunnen verschillende mensen zijn "
          "(ecologische drogreden). Een verband is een aanwijzing om uit te zoeken, geen oorzaak.")
METHOD = ("Spearman-rangcorrelatie (en Pearson) tussen alle paren variabelen over de gebieden waar beide bekend zijn; "
          f"p-waarden gecorrigeerd voor ruimtelijke autocorrelatie met de {METHOD_ESS}; Benjamini-Hochberg over "
          "alle paren; voor overlevende paren de partiële Spearman-correlatie na correctie voor de gebruikelijke "
          "verdachten (inwonertal, bevolkingsdichtheid, leeftijdsopbouw, inkomen, huurwoningen); cijfers per 1.000 "
          "inwoners alleen voor gebieden met genoeg inwoners. Zie docs/discovery.md.")


@dataclass
class DiscoveryRun:
    data: AreaData
    pairs: pd.DataFrame
    suspects: list[dict[str, str]]
    settings: Settings
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    result_version: int | None = None

    @property
    def result_name(self) -> str:
        return f"discovery_{self.data.level}_{self.data.year}"

    def leads(self, limit: int | None = None) -> pd.DataFrame:
        """Surviving pairs: those that survive the correction first, pairs across datasets before pairs within
        one, near-identical pairs last, then the strongest partial correlation first."""
        s = self.pairs[self.pairs["p_adj"] <= self.settings.alpha].copy()
        s["_rank"] = np.where(s["verdict"] == BLIJFT, 0, 1)
        # near-identical pairs (complementary shares, a count and its own rate) say little: last
        s["_same"] = s["same_dataset"].astype(int) + (s["rho"].abs() >= NEAR_IDENTICAL).astype(int)
        s["_strength"] = -s["partial_rho"].abs().fillna(s["rho"].abs() / 2)
        s = s.sort_values(["_rank", "_same", "_strength", "p_adj"]).drop(columns=["_rank", "_same", "_strength"])
        return s.head(limit) if limit else s

    def variable(self, name: str):
        return self.data.variables[self.data.index(name)]


def resolve_suspects(data: AreaData, cbs_id: str | None, spec: list[str] | None,
                     min_areas: int) -> tuple[list[Suspect], list[str]]:
    """The suspects as columns: declared ``DATASET.FIELD`` names, or the CBS defaults that were published."""
    names = [v.name for v in data.variables]
    X = data.X
    notes: list[str] = []
    out: list[Suspect] = []
    if spec:
        for name in spec:
            if name not in names:
                raise AnalysisError(f"verstorende variabele '{name}' bestaat niet op niveau {data.level} in {data.year}",
                                    hint="noem een variabele als DATASET.VELD, bijv. "
                                         + ", ".join(n for n in names[:3]))
            v = data.variables[names.index(name)]
            out.append(Suspect(names.index(name), (v.label or name).split(" (")[0].lower()))
        return out, notes
    for label, candidates in DEFAULT_SUSPECTS:
        for c in candidates:
            name = f"{cbs_id}.{c}" if cbs_id else None
            if name in names and np.isfinite(X[:, names.index(name)]).sum() >= min_areas:
                out.append(Suspect(names.index(name), FALLBACK_LABEL.get(c, label)))
                if c != candidates[0]:
                    notes.append(f"{label}: {candidates[0]} is niet gepubliceerd; {c} gebruikt als benadering.")
                break
        else:
            notes.append(f"Verstorende variabele '{label}' is voor {data.year} niet beschikbaar "
                         f"({', '.join(candidates)} niet gepubliceerd): er is niet voor gecorrigeerd.")
    return out, notes


def run_discovery(wh: Warehouse, catalog, *, level: str, year: int, gemeente_code: str, user: User,
                  purpose: str | None, audit: AuditLog | None, store: SuppressionStore | None = None,
                  confounders: list[str] | None = None, settings: Settings = Settings(),
                  min_population: int = DEFAULT_MIN_POPULATION,
                  step: Callable[[str], None] | None = None) -> DiscoveryRun:
    step = step or (lambda _s: None)
    started = time.perf_counter()
    step("gebieden en variabelen verzamelen")
    data = load_areas(wh, level, year, gemeente_code, min_population=min_population)
    if len(data.codes) < settings.min_areas:
        raise AnalysisError(f"maar {len(data.codes)} gebieden op niveau {level}: te weinig voor verbanden",
                            hint="kies het buurtniveau")
    collect(wh, catalog, data, user=user, purpose=purpose, audit=audit, store=store)
    _drop_unusable(data, settings.min_areas)
    if len(data.variables) < 2:
        raise AnalysisError(f"minder dan twee bruikbare variabelen op niveau {level} in {year}",
                            hint="laad datasets waarvan temporal_coverage dit jaar omvat")
    cbs = cbs_kerncijfers(catalog, wh, year)
    suspects, notes = resolve_suspects(data, cbs.id if cbs else None, confounders, settings.min_areas)
    data.notes += notes
    classes = distance_classes(data.xy)
    pairs = discover_matrix(data.X, [v.name for v in data.variables], classes, suspects, settings=settings, step=step)
    pairs["same_dataset"] = pairs["x"].str.split(".").str[0] == pairs["y"].str.split(".").str[0]
    run = DiscoveryRun(data, pairs.drop(columns=["_i", "_j"]),
                       [{"variabele": data.variables[s.index].name, "naam": s.label} for s in suspects],
                       settings, time.perf_counter() - started)
    run.params = {"level": level, "year": year, "division_year": data.division_year, "gemeente": gemeente_code,
                  "areas": len(data.codes), "alpha": settings.alpha, "min_areas": settings.min_areas,
                  "min_partial_df": settings.min_partial_df, "min_population": min_population,
                  "distance_classes": [round(float(e)) for e in classes.edges], "suspects": run.suspects,
                  "variables": [variable_record(v) for v in data.variables], "skipped": data.skipped,
                  "notes": data.notes, "caveat": CAVEAT}
    return run


def _drop_unusable(data: AreaData, min_areas: int) -> None:
    """Variables with too few known areas or no variation cannot be correlated: say so, drop them."""
    keep_v, keep_c = [], []
    for v, col in zip(data.variables, data.columns):
        known = col[np.isfinite(col)]
        if known.size < min_areas or np.ptp(known) == 0:
            data.skipped.append({"dataset": v.dataset, "variabele": v.name,
                                 "reden": f"maar {known.size} gebieden met een waarde" if known.size < min_areas
                                 else "geen variatie tussen gebieden"})
            continue
        keep_v.append(v)
        keep_c.append(col)
    data.variables, data.columns = keep_v, keep_c


def variable_record(v) -> dict[str, Any]:
    return {"naam": v.name, "dataset": v.dataset, "versie": v.version, "veld": v.field, "omschrijving": v.label,
            "eenheid": v.unit, "soort": v.kind, "classificatie": v.classification, "gesimuleerd": v.simulated,
            "ontbrekend": v.missing, "onderdrukt": v.suppressed, "onder_minimum_inwoners": v.below_min_population}


def save(wh: Warehouse, run: DiscoveryRun) -> int:
    """Store all pairs as ``results."discovery_<level>_<year>__<n>"`` with datasets, versions and parameters."""
    inputs = sorted(run.data.inputs.items())
    table = run.pairs.copy()
    simulated = any(v.simulated for v in run.data.variables)
    table["gesimuleerd"] = simulated      # simulated inputs are marked on every result
    run.result_version = wh.save_result(run.result_name, table, kind="discovery", inputs=inputs,
                                        params=run.params, method=METHOD)
    return run.result_version


def pair_record(row: pd.Series) -> dict[str, Any]:
    """A pair as the CLI and API return it."""
    def num(v: Any) -> float | None:
        return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)
    return {"x": row["x"], "y": row["y"], "rho": num(row["rho"]), "p": num(row["p"]), "p_adj": num(row["p_adj"]),
            "p_naive": num(row["p_naive"]), "n_areas": int(row["n_areas"]), "n_eff": num(row["n_eff"]),
            "pearson": num(row["pearson"]), "pearson_p": num(row["pearson_p"]),
            "partial_rho": num(row["partial_rho"]), "partial_p": num(row["partial_p"]),
            "verdict": row["verdict"] or None, "same_dataset": bool(row["same_dataset"])}
