"""Dutch number and date formats, one place for the CLI, the web app and the portal.

No dependencies beyond the standard library, so every layer may import it (the web's
``stadslab/web/formatting.py`` re-exports ``nl_number``). Formats follow Dutch government usage:
a dot groups thousands and a comma separates decimals (374.238; 12,5), dates are DD-MM-JJJJ and times
are local (Europe/Amsterdam, or the machine's zone) to the minute, without microseconds.
"""

from __future__ import annotations

import math
import textwrap
from datetime import date, datetime, timezone
from typing import Any


def nl_number(value: Any, decimals: int = 0) -> str:
    """374238 → '374.238'; 12.5 → '12,5'; missing or NaN → '–' (never 0)."""
    if value is None or value == "":
        return "–"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f or math.isinf(f):  # NaN / inf
        return "–"
    text = f"{f:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def nl_pct(share: Any, decimals: int = 1) -> str:
    """0.1234 → '12,3 %'; missing → '–'."""
    if share is None:
        return "–"
    try:
        f = float(share)
    except (TypeError, ValueError):
        return str(share)
    return "–" if f != f else f"{nl_number(100 * f, decimals)} %"


def _local(t: datetime) -> datetime:
    if t.tzinfo is None:       # DuckDB TIMESTAMP without zone: stored as UTC by the warehouse
        t = t.replace(tzinfo=timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        return t.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:          # no tz database on this machine: the machine's own zone
        return t.astimezone()


def _parsed(value: Any) -> Any:
    """ISO text → datetime (other text as it is); None or '' → None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def nl_date(value: Any) -> str:
    """date, datetime or ISO text → 'DD-MM-JJJJ'; missing → '–'."""
    value = _parsed(value)
    if value is None:
        return "–"
    if isinstance(value, datetime) and value.tzinfo:
        value = _local(value)
    return value.strftime("%d-%m-%Y") if isinstance(value, (date, datetime)) else str(value)


def nl_datetime(value: Any) -> str:
    """datetime or ISO text → 'DD-MM-JJJJ HH:MM' in local time (no seconds, no microseconds)."""
    value = _parsed(value)
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return _local(value).strftime("%d-%m-%Y %H:%M")
    return value.strftime("%d-%m-%Y") if isinstance(value, date) else str(value)


def shorten(text: str, width: int = 400) -> str:
    """Shorten at a word boundary with '…' (never mid-word); whitespace collapsed."""
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" …")
