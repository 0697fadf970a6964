"""Response renderers shared by the API routes: JSON/GeoJSON (NaN → null) and CSV with provenance."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from fastapi.responses import Response

from stadslab.web.data.provenance import bron_header


def _default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        f = float(o)
        return None if math.isnan(f) else f
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    if hasattr(o, "__dataclass_fields__"):
        return {k: getattr(o, k) for k in o.__dataclass_fields__}
    return str(o)


def _clean(o: Any) -> Any:
    """Replace float NaN by None (JSON has no NaN; a missing value must read as missing, never as 0)."""
    if isinstance(o, float):
        return None if math.isnan(o) else o
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_clean(v) for v in o]
    return o


def dumps(data: Any) -> bytes:
    try:
        text = json.dumps(data, ensure_ascii=False, default=_default, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_clean(data), ensure_ascii=False, default=_default, separators=(",", ":"))
    return text.encode("utf-8")


def json_response(data: Any, *, media_type: str = "application/json", status_code: int = 200) -> Response:
    return Response(dumps(data), media_type=media_type, status_code=status_code)


def cached_json(state, key: tuple, build) -> bytes:
    """The serialised answer for ``key`` (which must include ``state.generation``), built once."""
    return state.cache.get_or_compute(("json",) + key, lambda: dumps(build()))


def bytes_response(body: bytes, media_type: str = "application/json") -> Response:
    return Response(body, media_type=media_type)


def csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), delimiter=";", lineterminator="\r\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_value(v) for k, v in r.items()})
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    # semicolon-separated with decimal comma opens correctly in Dutch Excel
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}".replace(".", ",")
    if isinstance(v, bool):
        return "ja" if v else "nee"
    return v


def csv_response(rows: list[dict[str, Any]], block: dict[str, Any] | None, *, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if block is not None:
        headers["X-Stadslab-Bron"] = bron_header(block)
    return Response(("\ufeff" + csv_text(rows)).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=headers)
