"""Live figures for the project register, read from stored results (never typed into a record by hand).

A project names stored results (``uses.results``, evidence of hypotheses, the results of its own analyses)
and public-value indicators computed from them (``result``, ``column``, ``agg``, ``where``). This module reads
the newest stored version of each, with its provenance (inputs, method, time), so the register shows what the
warehouse holds now — "alleen presentaties waarin je kunt terugzoeken" (001).
"""

from __future__ import annotations

from typing import Any

from stadslab.projects.model import Project
from stadslab.warehouse.store import qident

_AGG = {"sum": "sum", "mean": "avg", "min": "min", "max": "max", "count": "count"}


def stored_result_names(wh: Any) -> set[str]:
    try:
        return {r[0] for r in wh.con.execute("SELECT DISTINCT name FROM stadslab.results").fetchall()}
    except Exception:  # a warehouse that never stored a result has no results table yet
        return set()


def latest_results(wh: Any, names: list[str]) -> dict[str, dict[str, Any]]:
    """name → metadata of its newest stored version (absent names are left out)."""
    out: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(names):
        rows = wh.results(name)
        if rows:
            r = rows[-1]
            out[name] = {"name": name, "version": r["version"], "kind": r["kind"], "rows": r["rows"],
                         "created_at": r["created_at"], "method": r["method"], "inputs": r["inputs"],
                         "params": r["params"], "table": r["table_name"]}
    return out


def indicator_value(wh: Any, meta: dict[str, Any], ind: dict[str, Any]) -> Any:
    """One figure from a stored result: ``agg`` of ``column`` over the rows matching ``where``."""
    table = f"results.{qident(meta['table'])}"
    agg = ind.get("agg", "last")
    column = ind.get("column")
    where = ind.get("where") or {}
    cond = " AND ".join(f"{qident(k)} = ?" for k in where) or "TRUE"
    params = list(where.values())
    if agg == "count" and not column:
        sql = f"SELECT count(*) FROM {table} WHERE {cond}"
    elif agg in _AGG:
        sql = f"SELECT {_AGG[agg]}({qident(column)}) FROM {table} WHERE {cond}"
    else:  # first / last row in stored order
        order = "DESC" if agg == "last" else "ASC"
        sql = (f"SELECT {qident(column)} FROM (SELECT *, row_number() OVER () AS __r FROM {table} WHERE {cond}) "
               f"ORDER BY __r {order} LIMIT 1")
    row = wh.con.execute(sql, params).fetchone()
    return None if row is None else row[0]


def project_figures(wh: Any, project: Project) -> dict[str, Any]:
    """Stored results and measured indicators of one project, with provenance."""
    names = project.uses("results") + [a.result for a in project.analyses]
    names += [e["result"] for h in project.hypotheses for e in h.evidence if e.get("result")]
    names += [a["result"] for a in project.algorithm_register if a.get("result")]
    indicators = []
    for side, body in project.public_value.items():
        for ind in (body or {}).get("indicators", []) if isinstance(body, dict) else []:
            if ind.get("result"):
                names.append(ind["result"])
            indicators.append((side, ind))
    results = latest_results(wh, names) if wh is not None else {}
    measured = []
    for side, ind in indicators:
        entry = {"side": side, "label": ind["label"], "unit": ind.get("unit", ""), "value": ind.get("value"),
                 "source": "opgegeven in het projectrecord" if "value" in ind else None}
        meta = results.get(ind.get("result", ""))
        if meta is not None and ind.get("column") or (meta is not None and ind.get("agg") == "count"):
            try:
                entry["value"] = indicator_value(wh, meta, ind)
                entry["source"] = f"resultaat {meta['name']} v{meta['version']} ({meta['method']})"
            except Exception as exc:  # a renamed column must not take the page down; say what happened
                entry["source"] = f"niet te berekenen uit {meta['name']}: {type(exc).__name__}"
        elif ind.get("result"):
            entry["source"] = f"resultaat {ind['result']} is nog niet berekend"
        measured.append(entry)
    return {"results": results, "missing": [n for n in dict.fromkeys(names) if n not in results],
            "indicators": measured}
