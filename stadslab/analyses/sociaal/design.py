"""From the linked frame (Ibis) to what the effect estimate needs: names checked, counts, design matrix.

Everything here runs in the warehouse as Ibis expressions; what comes back into the process is either
a count table (pupil-years and distinct pupils per group × arm, for the publication gate) or the purely
numeric design matrix (outcome, treatment 0/1, group number, confounder columns). No pseudonym, code or name reaches
Python: categories are turned into 0/1 columns in the warehouse and groups into numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np

from stadslab.errors import AnalysisError, PrivacyError

PERSON = "pseudo_id"
HOUSEHOLD = "pseudo_id_ouder"
NOT_MEASURED = "niet gemeten"
UNKNOWN = "onbekend"
# never a confounder, outcome or group: identifiers, the treatment itself and what happens after it
EXCLUDED = {"pseudo_id", "pseudo_id_ouder", "traject", "traject_lopend", "gesimuleerd"}
SUFFIXES = ("_volgend", "_verandering")
MAX_LEVELS = 200


@dataclass
class Spec:
    frame: Any                       # Ibis table: rows with an outcome, columns _y, _t, _g (+ confounders)
    outcome: str
    treatment: str
    by: str | None
    confounders: list[str]
    categorical: list[str]
    numeric: list[str]
    scope: dict[str, str]          # a partner's slice: counted over everything, estimated on the slice only

    @property
    def confounder_labels(self) -> list[str]:
        return list(self.confounders)


def check_scope(frame, scope: dict[str, Any] | None) -> dict[str, str]:
    """A partner's scope (e.g. {school: S003}) must be a column of the analysis, else the request is refused."""
    for col, value in (scope or {}).items():
        if col not in frame.columns or col in EXCLUDED:
            raise PrivacyError(f"uw toegang is beperkt tot {col} = {value}, en die indeling kent deze analyse niet",
                               hint="vraag een analist met toegang tot de hele gemeente")
    return {str(k): str(v) for k, v in (scope or {}).items()}


def scope_dim(col: str) -> str:
    return f"_s_{col}"


def _is_categorical(frame, name: str) -> bool:
    return name.startswith("zrm_") and name != "zrm_gemeten" or frame[name].type().is_string() \
        or frame[name].type().is_boolean()


def variables(frame) -> dict[str, list[str]]:
    """What the user may name: confounders, outcomes and groups."""
    cols = [c for c in frame.columns if c not in EXCLUDED and not c.startswith("_")]
    numeric = [c for c in cols if frame[c].type().is_numeric()]
    outcomes = [c for c in numeric if c.endswith("_volgend")]
    outcomes += [f"{c}_verandering" for c in numeric if not c.endswith(SUFFIXES)]
    outcomes += [f"{c}_volgend" for c in numeric if not c.endswith(SUFFIXES) and f"{c}_volgend" not in cols]
    return {"confounders": [c for c in cols if not c.endswith(SUFFIXES)],
            "outcomes": outcomes,
            "groups": [c for c in cols if _is_categorical(frame, c) and not c.endswith(SUFFIXES)]}


def _start_year(col):
    return col.substr(0, 4).cast("int64")


def _with_outcome(frame, outcome: str):
    """``x_volgend`` as it is, or derived in the warehouse from the same pupil's next school year."""
    if outcome in frame.columns:
        return frame.mutate(_y=frame[outcome].cast("float64"))
    base = outcome.removesuffix("_verandering").removesuffix("_volgend")
    f = frame.mutate(_jaar=_start_year(frame.schooljaar))
    nxt = f.select(_pid=f[PERSON], _jaar_vorig=f._jaar - 1, _v=f[base].cast("float64"))
    j = f.left_join(nxt, [f[PERSON] == nxt._pid, f._jaar == nxt._jaar_vorig])
    y = j._v - j[base].cast("float64") if outcome.endswith("_verandering") else j._v
    return j.mutate(_y=y).drop("_pid", "_jaar_vorig", "_v", "_jaar")


def resolve(frame, *, outcome: str, treatment: str, confounders: list[str], by: str | None,
            scope: dict[str, str] | None = None) -> Spec:
    names = variables(frame)
    if outcome not in names["outcomes"]:
        raise AnalysisError(f"uitkomst '{outcome}' is geen variabele van de gekoppelde tabel",
                            hint="toegestaan: " + ", ".join(names["outcomes"]))
    if treatment not in frame.columns:
        raise AnalysisError(f"behandeling '{treatment}' staat niet in de gekoppelde tabel")
    if not confounders:
        raise AnalysisError("noem minstens één kenmerk om voor te corrigeren (--confounders)",
                            hint="toegestaan: " + ", ".join(names["confounders"]))
    unknown = [c for c in confounders if c not in names["confounders"]]
    if unknown or len(set(confounders)) != len(confounders):
        raise AnalysisError(f"onbekend of dubbel kenmerk: {', '.join(unknown) or 'dubbel genoemd'}",
                            hint="toegestaan: " + ", ".join(names["confounders"]))
    if by is not None and by not in names["groups"]:
        raise AnalysisError(f"'{by}' is geen indeling van de gekoppelde tabel",
                            hint="toegestaan: " + ", ".join(names["groups"]))
    f = _with_outcome(frame, outcome)
    f = f.filter(f._y.notnull() & f[treatment].notnull())
    t = f[treatment]
    t01 = (t == "ja") if t.type().is_string() else (t.cast("int64") == 1)
    f = f.mutate(_t=t01.cast("int64"))
    if by is not None:
        f = f.mutate(_by=f[by].cast("string").fill_null(UNKNOWN))
    cat = [c for c in confounders if _is_categorical(frame, c)]
    # only what the estimate needs, computed once in the warehouse (a temporary table, released by the caller)
    scoped = {scope_dim(c): f[c].cast("string").fill_null(UNKNOWN) for c in scope or {}}
    # the cluster for the standard error: the household where the frame has one (siblings, repeated years)
    household = HOUSEHOLD if HOUSEHOLD in f.columns else PERSON
    f = f.select(PERSON, "_y", "_t", *(["_by"] if by is not None else []), *confounders, **scoped,
                 _hh=f[household])
    return Spec(f, outcome, treatment, by, list(confounders), cat, [c for c in confounders if c not in cat],
                dict(scope or {}))


def materialise(spec: Spec) -> Spec:
    """The narrow frame as a temporary table in the warehouse engine: the linked frame's joins run once,
    not once per query below. ``release(spec)`` drops it."""
    spec.frame = spec.frame.cache()
    return spec


def release(spec: Spec) -> None:
    spec.frame.release()


def cell_counts(spec: Spec) -> tuple[Any, Any]:
    """Per group × arm: pupil-years ``n`` (the published, additive count) and distinct pupils ``p`` (the
    threshold on persons); and distinct pupils per arm over all groups. Both computed in the warehouse."""
    f = spec.frame
    dims = [scope_dim(c) for c in spec.scope]
    keys = [*dims, "_t"] if spec.by is None else [*dims, "_by", "_t"]
    out = f.group_by(keys).aggregate(n=f.count(), p=f[PERSON].nunique()).to_pandas()
    out = out.rename(columns={"_t": "t", "_by": "g"})
    if spec.by is not None and out["g"].nunique() > MAX_LEVELS:
        raise AnalysisError(f"'{spec.by}' heeft meer dan {MAX_LEVELS} groepen; kies een grovere indeling")
    mine = f
    for c, v in spec.scope.items():
        mine = mine.filter(mine[scope_dim(c)] == v)
    overall = mine.group_by("_t").aggregate(p=mine[PERSON].nunique()).to_pandas().rename(columns={"_t": "t"})
    return out, overall


def _levels(f, col: str) -> list[str]:
    """Levels of a categorical confounder (largest first: the first is the reference, left out)."""
    expr = _cat(f, col)
    lv = f.mutate(_lv=expr).group_by("_lv").aggregate(_n=ibis._.count()).order_by([ibis.desc("_n"), "_lv"])
    values = [str(v) for v in lv.to_pandas()["_lv"]]
    if len(values) > MAX_LEVELS:
        raise AnalysisError(f"kenmerk '{col}' heeft meer dan {MAX_LEVELS} categorieën")
    return values


def _cat(f, col: str):
    return f[col].cast("string").fill_null(NOT_MEASURED)


def matrix(spec: Spec, levels: list[str]) -> dict[str, Any]:
    """The numeric design matrix: y, t, g (group number, -1 outside ``levels``), X and column names —
    of the partner's slice only, when there is a scope."""
    f = spec.frame
    for c, v in spec.scope.items():
        f = f.filter(f[scope_dim(c)] == v)
    # households as numbers (dense rank in the warehouse): the pseudonym itself never reaches Python
    cols: dict[str, Any] = {"_y": f._y, "_t": f._t, "_c": ibis.dense_rank().over(ibis.window(order_by=f._hh))}
    if spec.by is not None and levels:
        cols["_g"] = ibis.cases(*[(f._by == lv, i) for i, lv in enumerate(levels)], else_=-1)
    names: list[str] = []
    for c in spec.numeric:
        cols[f"_x{len(names)}"] = f[c].cast("float64")
        names.append(c)
    for c in spec.categorical:
        expr = _cat(f, c)
        for lv in _levels(f, c)[1:]:
            cols[f"_x{len(names)}"] = (expr == lv).cast("int8")
            names.append(f"{c}={lv}")
    df = f.select(**cols).to_pyarrow()
    X = np.column_stack([df.column(f"_x{j}").to_numpy(zero_copy_only=False).astype(float)
                         for j in range(len(names))]) if names else np.zeros((df.num_rows, 0))
    # a missing numeric confounder: the mean plus an indicator column (counts stay independent of the choice)
    extra, extra_names = [], []
    for j, name in enumerate(list(names)):
        miss = np.isnan(X[:, j])
        if miss.any():
            X[miss, j] = np.nanmean(X[:, j]) if (~miss).any() else 0.0
            extra.append(miss.astype(float))
            extra_names.append(f"{name}={NOT_MEASURED}")
    if extra:
        X = np.column_stack([X, *extra])
        names += extra_names
    g = df.column("_g").to_numpy(zero_copy_only=False) if "_g" in cols else np.full(df.num_rows, -1)
    return {"c": df.column("_c").to_numpy(zero_copy_only=False).astype(np.int64),
            "y": df.column("_y").to_numpy(zero_copy_only=False).astype(float),
            "t": df.column("_t").to_numpy(zero_copy_only=False).astype(float), "g": g, "X": X, "names": names}
