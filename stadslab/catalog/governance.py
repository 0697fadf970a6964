"""Meaning checks on a catalog entry's ``governance:`` block (issue 13: convenant, bewaartermijn, DPIA).

The structure is in metaschema.yaml; here: the retention field exists and is a date, a datetime or a
school-year string (``jjjj/jj``, applied from 31 July of its second year; stadslab/ingest/retention.py),
and the agreement's dates are dates in the right order. Called from catalog/checks.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

RETENTION_TYPES = ("date", "datetime", "string")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def governance_problems(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    gov = d.get("governance")
    if not gov:
        return
    fields = {f["name"]: f for f in d.get("fields") or []}
    term = gov.get("bewaartermijn")
    if term:
        f = fields.get(term.get("field", ""))
        if f is None:
            yield "governance.bewaartermijn.field", f"veld '{term.get('field')}' staat niet in fields"
        elif f.get("type") not in RETENTION_TYPES:
            yield ("governance.bewaartermijn.field",
                   f"'{f['name']}' is {f.get('type')}: een bewaartermijn loopt vanaf een datum of een schooljaar (jjjj/jj)")
    conv = gov.get("convenant") or {}
    dates = {}
    for key in ("ondertekend", "geldig_tot"):
        if key in conv:
            dates[key] = _date(conv[key])
            if dates[key] is None:
                yield f"governance.convenant.{key}", f"'{conv[key]}' is geen datum (jjjj-mm-dd)"
    if dates.get("ondertekend") and dates.get("geldig_tot") and dates["geldig_tot"] < dates["ondertekend"]:
        yield "governance.convenant.geldig_tot", "het convenant loopt af vóór het is ondertekend"
