"""Count series from warehouse tables, in statsforecast's long format (``unique_id``, ``ds``, ``y``).

The aggregation is one Ibis expression (group by key and the time truncated to the frequency), so it
runs in the warehouse backend (DuckDB, or PySpark for large tables); only the aggregated series —
a few thousand rows — come to pandas.

Missing periods
---------------
A forecasting model needs a regular grid. A month that has no row means different things:

* counting rows (``value=None``, every row is one event, e.g. one bicycle theft): no row = zero events.
  Missing periods are filled with 0.
* summing a value column that the catalog marks as a count (an ``integer`` field, or ``unit: aantal``,
  not a measurement unit such as euro or m; see :func:`fill_policy`): a source that publishes counts
  per month leaves out zero months, so they are filled with 0 too.
* any other value column: a missing month is unknown, not zero. With ``fill="error"`` the builder
  refuses and names the first gaps.

The grid of every series runs from the first to the last period seen in the whole table (or
``start``/``end`` when given), so a category that starts later gets leading zeros: a crime type with
no registrations in 2012 had zero registrations, not missing ones.
"""

from __future__ import annotations

from typing import Any, Literal

import ibis
import pandas as pd

from stadslab.errors import AnalysisError

# Our frequency code → (Ibis truncate unit, pandas/statsforecast frequency, season length).
FREQUENCIES: dict[str, tuple[str, str, int]] = {
    "M": ("M", "MS", 12),      # month start
    "W": ("W", "W-MON", 52),   # ISO week, starting Monday (DuckDB/Spark date_trunc('week'))
    "D": ("D", "D", 7),
}
COUNT_UNITS = frozenset({"count", "counts", "aantal", "aantallen", "stuks", "n"})
MEASURE_UNITS = frozenset({"m", "km", "m2", "m²", "ha", "km2", "euro", "eur", "€", "%", "procent", "kg", "ton",
                           "°c", "c", "graden", "jaar", "jaren", "uur", "minuten", "s", "kwh", "liter", "l", "m3"})
NULL_KEY = "(onbekend)"


def frequency(freq: str) -> tuple[str, str, int]:
    """(Ibis unit, pandas frequency, season length) for ``M``, ``W`` or ``D``."""
    try:
        return FREQUENCIES[freq.upper()]
    except KeyError:
        raise AnalysisError(f"onbekende frequentie '{freq}'",
                            hint="kies M (maand), W (week) of D (dag)") from None


def fill_policy(dataset: Any, value: str | None) -> Literal["zero", "error"]:
    """Whether missing periods are zeros, read from the catalog entry (a ``stadslab.catalog.Dataset``).

    * counting rows (``value`` None) → ``"zero"``;
    * the field's ``unit`` is a count word (``aantal``, ``count``, ``stuks``) → ``"zero"``;
    * the unit is a measurement (m, km, ha, euro, %, kg, °C, …) → ``"error"``;
    * otherwise an ``integer`` field counts things (``unit: misdrijven``) → ``"zero"``;
    * anything else (a ``number`` without a count unit) → ``"error"``: a missing period of a measured
      value is unknown, not zero.
    """
    if value is None:
        return "zero"
    try:
        fld = dataset.field(value)
    except (KeyError, AttributeError):
        return "error"
    unit = (fld.unit or "").strip().lower()
    if unit in COUNT_UNITS or unit.startswith("aantal"):
        return "zero"
    if unit in MEASURE_UNITS:
        return "error"
    return "zero" if fld.type == "integer" else "error"


def build_series(table: ibis.Table, *, time: str, key: str | None = None, value: str | None = None,
                 freq: str = "M", fill: Literal["zero", "error"] = "zero",
                 start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Aggregate a table to one count series per key.

    Parameters
    ----------
    table : ibis.Table
        E.g. ``wh.table("groningen_fietsdiefstal")`` or ``ibis.memtable(df)``.
    time : str
        Date or timestamp column; truncated to the period start (time-zone aware timestamps are
        truncated in their own zone, then the zone is dropped).
    key : str, optional
        Column whose values become ``unique_id`` (cast to text; NULL → ``"(onbekend)"``). Without a
        key there is one series ``"totaal"``.
    value : str, optional
        Column to sum per period. Without it, rows are counted.
    freq : {"M", "W", "D"}
    fill : {"zero", "error"}
        What a missing period is (see the module docstring and :func:`fill_policy`).
    start, end : optional
        Keep periods in [start, end] and complete the grid to exactly this range. Use ``end`` to
        drop a last period that is still incomplete.

    Returns
    -------
    pandas.DataFrame
        ``unique_id`` (str), ``ds`` (datetime64[ns]), ``y`` (float), sorted. ``attrs`` holds
        ``rows_without_time`` (rows left out because the time is NULL), ``filled`` (periods added as 0),
        ``freq`` and ``last_period_incomplete`` (the newest time lies before the end of the last period,
        e.g. data up to 21 September: September is partial and would pull the forecast down).
    """
    unit, pd_freq, _ = frequency(freq)
    columns = set(table.columns)
    for role, col in (("time", time), ("key", key), ("value", value)):
        if col is not None and col not in columns:
            raise AnalysisError(f"kolom '{col}' ({role}) bestaat niet in de tabel",
                                hint=f"beschikbare kolommen: {', '.join(table.columns)}")
    ttype = table[time].type()
    if not (ttype.is_timestamp() or ttype.is_date()):
        raise AnalysisError(f"kolom '{time}' is van type {ttype}, verwacht: datum of tijdstip",
                            hint="kies de tijdkolom met role: time uit de catalogus")
    if value is not None and not table[value].type().is_numeric():
        raise AnalysisError(f"kolom '{value}' is van type {table[value].type()}, verwacht: getal")

    ds = table[time].truncate(unit)
    uid = table[key].cast("string").fill_null(NULL_KEY) if key else ibis.literal("totaal")
    grouped = table.filter(table[time].notnull()).mutate(unique_id=uid, ds=ds).group_by(["unique_id", "ds"])
    agg = grouped.aggregate(y=ibis._[value].sum() if value else ibis._.count())
    as_literal = (lambda ts: pd.Timestamp(ts).date()) if ttype.is_date() else (lambda ts: pd.Timestamp(ts).to_pydatetime())
    if start is not None:
        agg = agg.filter(agg.ds >= as_literal(_period_start(pd.Timestamp(start), pd_freq)))
    if end is not None:
        agg = agg.filter(agg.ds <= as_literal(end))
    out = agg.to_pandas()
    rows_without_time = int(table.filter(table[time].isnull()).count().to_pandas())
    latest = table[time].max().to_pandas()

    out["ds"] = _naive(out["ds"])
    out["y"] = out["y"].astype(float)
    if out.empty:
        raise AnalysisError("er zijn geen rijen met een tijd in de gekozen periode",
                            hint="controleer de tijdkolom en --start/--end")
    grid_start = pd.Timestamp(start) if start is not None else out["ds"].min()
    grid_end = pd.Timestamp(end) if end is not None else out["ds"].max()
    periods = pd.date_range(_period_start(grid_start, pd_freq), grid_end, freq=pd_freq)
    full = pd.MultiIndex.from_product([sorted(out["unique_id"].unique()), periods], names=["unique_id", "ds"])
    series = out.set_index(["unique_id", "ds"])["y"].reindex(full)
    missing = series.isna()
    if missing.any() and fill == "error":
        gaps = series[missing].index[:5]
        shown = ", ".join(f"{u} {d:%Y-%m-%d}" for u, d in gaps)
        raise AnalysisError(
            f"{int(missing.sum())} perioden zonder waarde in kolom '{value}' (bijv. {shown}); "
            "een ontbrekende periode is hier onbekend, niet nul",
            hint="geef de kolom een telling-eenheid in de catalogus (unit: aantal) als ontbreken nul betekent, "
                 "of kies --start/--end binnen de periode met gegevens")
    result = series.fillna(0.0).reset_index()
    result.attrs.update({"rows_without_time": rows_without_time, "filled": int(missing.sum()), "freq": freq.upper(),
                         "last_period_incomplete": _incomplete(latest, periods[-1], pd_freq) if end is None else False})
    return result


def _incomplete(latest: object, last_period: pd.Timestamp, pd_freq: str) -> bool:
    """True when the newest time in the data lies before the last day of the last period.

    Only a warning: in sparse data a complete month can end with a quiet week, so nothing is dropped;
    the user decides with ``end``. Data already stored per period (times equal to period starts) is
    not judged.
    """
    if latest is None or pd.isna(latest):
        return False
    ts = pd.Timestamp(latest)
    ts = ts.tz_localize(None) if ts.tzinfo else ts
    if ts == last_period:   # data already per period (e.g. 2022-07-01 for July): nothing to judge
        return False
    last_day = last_period + pd.tseries.frequencies.to_offset(pd_freq) - pd.Timedelta(days=1)
    return ts.normalize() < last_day.normalize()


def _naive(col: pd.Series) -> pd.Series:
    col = pd.to_datetime(col)
    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_localize(None)
    return col.astype("datetime64[ns]")


def _period_start(ts: pd.Timestamp, pd_freq: str) -> pd.Timestamp:
    """The start of the period containing ``ts`` (so a ``start`` mid-month still gives month starts)."""
    return pd.Period(ts, freq={"MS": "M", "W-MON": "W-SUN", "D": "D"}[pd_freq]).start_time
