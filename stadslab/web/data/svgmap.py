"""A static SVG map for print (the briefing pack): no WebGL and no JavaScript, so it prints and renders to
PDF exactly. Lon/lat are projected equirectangularly with x scaled by cos(mid latitude), which is
accurate to well under a percent at city scale."""

from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable

COUNT_COLOURS = ("#f7f7f7", "#fde0c5", "#facba6", "#f59e72", "#e8683f", "#b63a1f")


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    if not geometry:
        return
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for poly in geometry["coordinates"]:
            yield from poly


def classes(values: list[float], k: int = 5) -> list[float]:
    """Upper bounds of k quantile classes over the positive values (0 gets its own class)."""
    pos = sorted(v for v in values if v and v > 0)
    if not pos:
        return []
    return sorted({pos[min(len(pos) - 1, int(math.ceil(len(pos) * (i + 1) / k)) - 1)] for i in range(k)})


def legend(bounds: list[float]) -> list[tuple[str, str]]:
    """(colour, label) per class for integer counts: 0, then 1–b1, b1+1–b2, …"""
    out = [(COUNT_COLOURS[0], "0")]
    lo = 1
    for i, b in enumerate(bounds):
        hi = int(b)
        out.append((COUNT_COLOURS[min(i + 1, len(COUNT_COLOURS) - 1)], str(hi) if lo >= hi else f"{lo}–{hi}"))
        lo = hi + 1
    return out


def colour(value: float | None, bounds: list[float]) -> str:
    if value is None or value != value:
        return "#d9d9d9"
    if value <= 0:
        return COUNT_COLOURS[0]
    for i, b in enumerate(bounds):
        if value <= b:
            return COUNT_COLOURS[min(i + 1, len(COUNT_COLOURS) - 1)]
    return COUNT_COLOURS[-1]


def render(areas: list[dict[str, Any]], cells: list[dict[str, Any]], *, width: int = 640,
           title: str = "") -> str:
    """``areas``: [{geometry, fill, label, hot}] ; ``cells``: [{geometry}] drawn as hotspot squares."""
    xs, ys = [], []
    for a in areas:
        for ring in _rings(a["geometry"]):
            for x, y in ring:
                xs.append(x)
                ys.append(y)
    if not xs:
        return '<p class="leeg">Geen kaart: er zijn geen gebieden.</p>'
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    kx = math.cos(math.radians((y0 + y1) / 2))
    scale = width / max((x1 - x0) * kx, 1e-9)
    height = int((y1 - y0) * scale) + 1

    def path(geometry: dict[str, Any]) -> str:
        parts = []
        for ring in _rings(geometry):
            pts = " ".join(f"{(x - x0) * kx * scale:.1f},{(y1 - y) * scale:.1f}" for x, y in ring)
            parts.append(f"M{pts}Z")
        return "".join(parts)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
           f'role="img" aria-label="{escape(title)}" class="printkaart">', f"<title>{escape(title)}</title>"]
    for a in areas:
        stroke = ' stroke="#000" stroke-width="2.2"' if a.get("hot") else ' stroke="#666" stroke-width="0.6"'
        out.append(f'<path d="{path(a["geometry"])}" fill="{a["fill"]}"{stroke}>'
                   f'<title>{escape(a.get("label", ""))}</title></path>')
    for c in cells:
        out.append(f'<path d="{path(c["geometry"])}" fill="#7b1fa2" fill-opacity="0.85" stroke="none"/>')
    out.append("</svg>")
    return "".join(out)
