"""Intervention effect (issue 13, item 3): does buurtteam support change a pupil's outcome?

``estimate_effect`` estimates, inside the lab, the effect of a buurtteam trajectory *started* in school
year t for the pupil's household (``traject``) on an outcome in year t + 1 (``verzuim_pct_volgend``, or a
change ``<variabele>_verandering`` such as ``zrm_financien_verandering``), adjusting for the chosen
confounders of the linked frame (``stadslab.analyses.sociaal.linked.linked_frame``, one row per pupil ×
school year). The estimator is doubly robust AIPW (``aipw.py``: Robins, Rotnitzky & Zhao 1994; Glynn &
Quinn 2010), a logistic propensity model and linear outcome models from statsmodels.

What enters the process and what leaves it:

* **in**: access is checked for every linked source (role and purpose, doelbinding) before anything is
  read; then the warehouse (Ibis) builds the *numeric design matrix only* — outcome, treatment 0/1, a
  group number for ``by`` and the confounders (categories one-hot as 0/1 columns, a ``niet gemeten`` level
  for a missing ZRM score). No pseudonym, code or name is in it: the rows cannot be linked back to anyone.
  Counts for the gate (pupil-years and distinct pupils per group × arm) are computed in the warehouse.
* **out**: aggregates only — the estimate, its interval, the naive difference, balance (standardised
  differences; a category level with fewer than ``min_cell`` observations in an arm is not shown) and
  the numbers treated / control in pupil-years, which pass the publication gate (threshold ``min_cell``
  from the catalog, at least 15, with complementary suppression over the group × arm table). A group
  whose cells are suppressed, or with fewer than ``min_cell`` distinct pupils in an arm, is refused —
  "geweigerd: te weinig personen", no estimate and no count — never rounded.
* a user with a ``scope`` (e.g. ``{"school": "S003"}``) gets the estimate over that scope only, or a refusal;
  the scope is a dimension of the protected count table, sliced after the gate (as in ``release_aggregate``).
* finished results (aggregates only) are cached per workspace, pinned versions and question; access is
  checked and the read audited on every call all the same.
* every run, refused or not, writes an audit entry per source with its version.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stadslab.analyses.sociaal import design
from stadslab.analyses.sociaal.aipw import CLIP, SMD_FLAG, AIPWFit, aipw
from stadslab.errors import AccessDenied, AnalysisError, PrivacyError, StadslabError
from stadslab.privacy.access import User, check
from stadslab.privacy.audit import AuditEntry, AuditLog
from stadslab.privacy.gate import DEFAULT_MIN_CELL, min_cell_for, protect

REFUSED = "geweigerd: te weinig personen"
ESTIMATED = "geschat"
TOTAL = "Totaal"
ARMS = {1: "behandeld", 0: "controle"}
WEAK_OVERLAP = 0.05        # more than 5 % of the observations needed clipped propensities
METHOD = ("AIPW, dubbel robuust (augmented inverse probability weighting; Robins, Rotnitzky & Zhao 1994; "
          "Glynn & Quinn 2010): logistisch propensitymodel (statsmodels Logit) en lineaire uitkomstmodellen per "
          "groep (statsmodels TreatmentEffect.aipw); standaardfout uit de influence function (Lunceford & "
          "Davidian 2004), geclusterd per huishouden (Liang & Zeger 1986); propensity begrensd op [0,01; 0,99]")
ESTIMAND = ("ATE: het gemiddelde effect over alle leerling-jaren in de analyse (behandeld en controle), "
            "niet alleen over de behandelden (ATT)")
# treatment datasets the linked frame knows: dataset → (frame variable, pseudonym column it links on)
TREATMENTS = {"ddd_trajecten": ("traject", "pseudo_id_ouder")}


@dataclass
class EffectResult:
    estimate: float | None
    ci: tuple[float, float] | None
    method: str
    n_treated: int | None
    n_control: int | None
    outcome: str
    treatment: str
    confounders: list[str]
    by: str | None = None
    groups: list[dict[str, Any]] = field(default_factory=list)
    balance: list[dict[str, Any]] = field(default_factory=list)
    naive: dict[str, Any] = field(default_factory=dict)
    overlap: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    caveat: str = ""
    status: str = ESTIMATED
    simulated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "ci": list(self.ci) if self.ci else None, "method": self.method,
                "estimand": ESTIMAND, "n_treated": self.n_treated, "n_control": self.n_control,
                "eenheid_aantallen": ("leerling-jaren per arm (door de publicatiepoort); een groep met minder dan "
                                      f"{self.provenance.get('min_cell', DEFAULT_MIN_CELL)} unieke leerlingen in "
                                      "een arm wordt geweigerd"),
                "outcome": self.outcome, "treatment": self.treatment, "confounders": self.confounders,
                "by": self.by, "status": self.status, "groups": self.groups, "balance": self.balance,
                "naive": self.naive, "overlap": self.overlap, "provenance": self.provenance,
                "caveat": self.caveat, "tekst": self.sentence(), "gesimuleerd": self.simulated}

    def sentence(self) -> str:
        """One Dutch line for the page and the CLI."""
        if self.estimate is None:
            return f"Geen schatting: {self.status}."
        lo, hi = self.ci
        s = (f"Geschat effect van een gestart buurtteamtraject op {self.outcome}: {_nl(self.estimate)} "
             f"(95 %-interval {_nl(lo)} tot {_nl(hi)})")
        if self.naive.get("estimate") is not None:
            s += f"; het eenvoudige verschil zonder correctie is {_nl(self.naive['estimate'])}"
        return s + "."


def _nl(x: float) -> str:
    return f"{x:+.2f}".replace(".", ",").replace("-", "−")


def parse_treatment(spec: str) -> str:
    """``ddd_trajecten[:pseudo_id_ouder]`` (or the frame variable ``traject``) → the frame's variable."""
    name, _, column = spec.partition(":")
    if name in {v for v, _ in TREATMENTS.values()} and not column:
        return name
    if name not in TREATMENTS:
        raise AnalysisError(f"behandeling '{spec}' is onbekend", hint="toegestaan: " + ", ".join(
            f"{d}:{c} (variabele {v})" for d, (v, c) in TREATMENTS.items()))
    var, link = TREATMENTS[name]
    if column and column != link:
        raise AnalysisError(f"'{name}' koppelt in de gekoppelde tabel op '{link}' (het huishouden), niet op '{column}'",
                            hint=f"gebruik --treatment {name}:{link}")
    return var


def estimate_on_frame(frame, *, outcome: str, treatment: str, confounders: list[str], by: str | None = None,
                      min_cell: int = DEFAULT_MIN_CELL, scope: dict[str, Any] | None = None) -> EffectResult:
    """The estimate on an Ibis table shaped like the linked frame (no access check, no audit: the caller's)."""
    scope = design.check_scope(frame, scope)
    spec = design.materialise(design.resolve(frame, outcome=outcome, treatment=treatment, confounders=confounders,
                                             by=by, scope=scope))
    try:
        gate = _gate(*design.cell_counts(spec), by, min_cell, scope)
        data = design.matrix(spec, levels=list(gate["levels"]))
    finally:
        design.release(spec)
    result = EffectResult(None, None, METHOD, gate["total"].get(1), gate["total"].get(0), outcome, treatment,
                          list(confounders), by=by, provenance={"publicatiepoort": gate["provenance"],
                                                               "min_cell": min_cell, "scope": scope or None})
    if gate["total_refused"]:
        result.status = REFUSED
    else:
        fit = _fit(data, None)
        if fit is None:
            result.status = "geen schatting: het model is niet te schatten op deze gegevens"
        else:
            _fill(result, fit, min_cell)
    for code, label in enumerate(gate["levels"]):
        if label in gate["refused"]:
            result.groups.append({"field": by, "value": label, "status": REFUSED})
            continue
        fit = _fit(data, code)
        row: dict[str, Any] = {"field": by, "value": label, "n_treated": gate["cells"][label][1],
                               "n_control": gate["cells"][label][0]}
        if fit is None:
            row.update(status="geen schatting: het model is niet te schatten in deze groep", estimate=None, ci=None)
        else:
            row.update(status=ESTIMATED, estimate=fit.ate, ci=[fit.ci[0], fit.ci[1]], naive=fit.naive,
                       max_abs_smd_na_weging=round(max((abs(b.smd_after) for b in fit.balance
                                                        if b.n_level_min >= min_cell), default=0.0), 3),
                       aandeel_begrensd=round(fit.clipped_share, 4), caveat=_caveat(fit, spec.confounder_labels))
        result.groups.append(row)
    return result


def _fit(data: dict[str, np.ndarray], code: int | None) -> AIPWFit | None:
    sel = slice(None) if code is None else data["g"] == code
    try:
        return aipw(data["y"][sel], data["t"][sel], data["X"][sel], data["names"], clusters=data["c"][sel])
    except (ValueError, np.linalg.LinAlgError):
        return None


def _fill(result: EffectResult, fit: AIPWFit, min_cell: int) -> None:
    result.estimate, result.ci = fit.ate, (fit.ci[0], fit.ci[1])
    result.naive = {"estimate": fit.naive, "ci": [fit.naive_ci[0], fit.naive_ci[1]],
                    "tekst": "verschil van gemiddelden behandeld − controle, zonder correctie voor verstoring"}
    result.overlap = {"regel": (f"propensity begrensd op [{CLIP:g}; {1 - CLIP:g}] (gewichten hoogstens {1 / CLIP:g}); "
                                "afgekapt: behandeld met een lagere, controle met een hogere kans").replace(".", ","),
                      "aandeel_begrensd": round(fit.clipped_share, 4),
                      "zwak": fit.clipped_share > WEAK_OVERLAP,
                      "propensity_bereik": {k: [round(a, 4), round(b, 4)] for k, (a, b) in fit.propensity_range.items()}}
    for b in fit.balance:
        shown = b.n_level_min >= min_cell
        result.balance.append({"kenmerk": b.column,
                               "smd_voor": round(b.smd_before, 3) if shown else None,
                               "smd_na": round(b.smd_after, 3) if shown else None,
                               "onbalans": b.imbalanced if shown else None,
                               "status": "" if shown else "onderdrukt (te weinig personen)"})
    result.caveat = _caveat(fit, result.confounders)


def _caveat(fit: AIPWFit, confounders: list[str]) -> str:
    weak = []
    if fit.max_abs_smd_after > SMD_FLAG:
        weak.append(f"na weging verschillen behandelden en controles nog op de gekozen kenmerken "
                    f"(grootste gestandaardiseerd verschil {fit.max_abs_smd_after:.2f} > {SMD_FLAG:g})".replace(".", ","))
    if fit.clipped_share > WEAK_OVERLAP:
        weak.append(f"voor {100 * fit.clipped_share:.0f} % van de leerling-jaren is de kans op een traject bijna 0 "
                    "of 1: er is weinig vergelijkbaars")
    zero = fit.ci[0] <= 0 <= fit.ci[1]
    tail = " Het interval bevat 0: een effect is niet aangetoond." if zero else ""
    if weak:
        return "Samenhang, geen bewijs van oorzaak: " + "; ".join(weak) + "." + tail
    return ("Gecorrigeerd voor " + ", ".join(confounders) + ". Dit is alleen een effect als er geen onbekende "
            "verstorende factoren zijn: kenmerken die zowel de kans op een traject als de uitkomst beïnvloeden en "
            "die hier niet zijn meegenomen. Anders blijft het samenhang, geen bewijs van oorzaak." + tail)


def _gate(counts, overall, by: str | None, min_cell: int, scope: dict[str, str] | None = None) -> dict[str, Any]:
    """Pupil-years per group × arm through the publication gate. Pupil-years are additive — every row is in
    one group and one arm — so totals are the same whatever ``by`` is, and no two queries differ by a small
    number (distinct pupils are not: a pupil who changes school type would sit in two groups). A group is
    refused when the gate suppresses one of its cells, or when an arm has fewer than ``min_cell`` distinct
    pupils (withholding more than the gate certified is always safe; the pupil counts never leave).

    A partner's ``scope`` is a dimension of the protected table — the whole table is protected first and then
    sliced to the partner's school or wijk (as ``release_aggregate`` does), so the partner's figures are
    the same cells everybody else's tables hold and cannot be differenced against them."""
    scope = scope or {}
    sdims = [design.scope_dim(c) for c in scope if c != by]     # --by school for a school: one dimension
    df = counts.copy()
    df["arm"] = df["t"].map(ARMS)
    dims = [*sdims, "arm"] if by is None else [*sdims, "g", "arm"]
    df = df.groupby(dims, as_index=False)["n"].sum()
    # zeros are published (the gate's default, docs/adr/0001): a group without treated pupils is refused by
    # the person rule below anyway, and structural zeros (a school outside a wijk) need no protection
    pt = protect(df[[*dims, "n"]], count="n", dims=dims, min_cell=min_cell, zeros="publish")
    out = pt.to_pandas(public=True)
    for c, v in scope.items():
        out = out[out["g" if c == by else design.scope_dim(c)] == v]
        counts = counts[counts[design.scope_dim(c)] == v]
    inv = {v: k for k, v in ARMS.items()}
    cells: dict[str, dict[int, int | None]] = {}
    total: dict[int, int | None] = {}
    for r in out.itertuples(index=False):
        if r.arm == TOTAL:
            continue
        value = None if r.suppressed else int(r.n)
        if by is None or r.g == TOTAL:
            total[inv[r.arm]] = value
        else:
            cells.setdefault(r.g, {})[inv[r.arm]] = value
    if by in scope:
        total = dict(cells.get(scope[by], {}))
    pupils = {} if by is None else {g: p for g, p in counts.groupby("g")["p"]}
    few = set() if by is None else {g for g in cells if g not in pupils or len(pupils[g]) < 2
                                    or int(pupils[g].min()) < min_cell}
    persons = dict(zip(overall["t"], overall["p"]))
    levels = sorted(cells) if by is not None else []
    refused = {g for g, c in cells.items() if c.get(0) is None or c.get(1) is None} | few
    return {"cells": cells, "total": total, "levels": levels, "refused": refused,
            "total_refused": total.get(0) is None or total.get(1) is None
                             or min(int(persons.get(0, 0)), int(persons.get(1, 0))) < min_cell,
            "provenance": {k: pt.provenance[k] for k in ("algorithm", "min_cell", "method")}}


# Finished results (aggregates only, already gated) per workspace, pinned source versions and question: a page
# reload or a second user with the same scope gets the same figures without refitting. Access is still checked
# and every read still audited per call; a new version of any source is a new key.
_CACHE: OrderedDict[tuple, EffectResult] = OrderedDict()
_CACHE_SIZE = 32


def _remember(key: tuple, result: EffectResult) -> None:
    _CACHE[key] = copy.deepcopy(result)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def clear_cache() -> None:
    _CACHE.clear()


def estimate_effect(wh, catalog, *, user: User, purpose: str | None, audit: AuditLog, outcome: str, treatment: str,
                    confounders: list[str], by: str | None = None, route: str = "cli:effect",
                    dataset: str = "ddd_verzuim") -> EffectResult:
    """Access check on every linked source → estimate in the lab → gated aggregates → audit per source."""
    from stadslab.analyses.sociaal import linked

    sources = linked.linked_sources(catalog, wh)        # {dataset: current version}, pinned below
    if dataset not in sources:
        raise AnalysisError(f"'{dataset}' is geen bron van de gekoppelde tabel",
                            hint="uitkomsten komen uit: " + ", ".join(sources))
    entries = {d: catalog.get(d) for d in sources}
    perms = {d: check(e, user, purpose) for d, e in entries.items()}
    scope = getattr(user, "scope", None) or None
    params = {"uitkomst": outcome, "behandeling": treatment, "confounders": list(confounders), "by": by,
              "scope": scope, "bronnen": sources}
    role = ",".join(user.roles)

    def log(allowed: bool, reason: str, rows: int | None) -> None:
        for d in sources:
            p = perms[d]
            audit.append(AuditEntry(user.id, role, purpose, d, sources[d], route if d == dataset else route + ":koppeling",
                                    params, rows if d == dataset else None, allowed=allowed and p.allowed,
                                    reason=p.reason if not p.allowed or allowed else reason))
    refused = [d for d, p in perms.items() if not p.allowed]
    if refused:
        log(False, "", None)
        perms[refused[0]].require(entries[refused[0]])
    try:
        # a role that may read only some fields of a source does not get an estimate over the whole linked frame
        partial = [d for d, p in perms.items() if p.fields is not None]
        if partial:
            raise PrivacyError(f"uw rol mag niet alle velden van {', '.join(partial)} lezen; de effectschatting "
                               "gebruikt het gekoppelde bestand als geheel",
                               hint="vraag een analist met volledige toegang tot de gekoppelde bronnen")
        var = parse_treatment(treatment)
        min_cell = max(min_cell_for(e) for e in entries.values())
        key = (str(getattr(wh, "path", id(wh))), tuple(sorted(sources.items())), outcome, var, tuple(confounders), by,
               tuple(sorted((scope or {}).items())), min_cell)
        result = _CACHE.get(key)
        if result is None:
            result = estimate_on_frame(linked.linked_frame(wh, catalog, versions=sources), outcome=outcome,
                                       treatment=var, confounders=confounders, by=by, min_cell=min_cell, scope=scope)
            _remember(key, result)
        result = copy.deepcopy(result)
    except StadslabError as exc:
        log(False, f"geweigerd: {exc.message}"[:500], None)
        raise
    result.simulated = any(bool(getattr(e, "simulated", False)) for e in entries.values())
    result.provenance.update(bronnen=sources, route=route, gesimuleerd=result.simulated)
    if result.simulated:
        result.caveat = "GESIMULEERDE gegevens. " + result.caveat
    log(True, "", 1 + len(result.groups))
    return result


__all__ = [
    "REFUSED",
    "AccessDenied",
    "EffectResult",
    "PrivacyError",
    "estimate_effect",
    "estimate_on_frame",
    "parse_treatment",
]
