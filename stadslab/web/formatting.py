"""Dutch number formatting shared by the web app's and the portal's templates."""

from __future__ import annotations

from typing import Any


def nl_number(value: Any, decimals: int = 0) -> str:
    """374238 → '374.238'; 12.5 → '12,5'; missing or NaN → '–' (never 0)."""
    if value is None or value == "":
        return "–"
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f:  # NaN
        return "–"
    text = f"{f:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
