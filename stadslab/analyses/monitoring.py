"""Monitoring (ladder level 1): counts of events per area and category — Ibis only, so the same
expression runs on DuckDB and on Spark."""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir


def counts_per_area(events: ir.Table, by: Sequence[str] = ("buurt_code",), *,
                    time_column: str | None = None, start=None, end=None) -> ir.Table:
    """Number of events per combination of ``by`` columns, optionally within [start, end).

    Events without an area code are kept as their own group (NULL), so totals always add up."""
    t = events
    if time_column and start is not None:
        t = t.filter(t[time_column] >= start)
    if time_column and end is not None:
        t = t.filter(t[time_column] < end)
    return t.group_by(list(by)).aggregate(n=ibis._.count()).order_by(list(by))
