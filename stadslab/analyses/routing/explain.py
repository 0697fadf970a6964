"""Why a stop cannot be (or was not) served, in Dutch words for the planner.

Before solving (``precheck``): per vehicle type, with numpy over all stops at once, the checks any
single-stop route must pass — demand within capacity, the time window reachable from the start of
the shift, back at the end site (via a dump where the vehicle must unload) before the shift ends,
and out-and-back within the maximum shift length. A stop that fails for every vehicle type can
never be served; it is left out of the solver and reported with the reason of the first type.

After solving (``explain_unserved``): required stops the solver had to leave out (fleet too small
for the day: total demand, total time) and optional stops it chose not to visit.
"""

from __future__ import annotations

import numpy as np

from .model import Route, RoutingProblem, Stop, Unserved

CODES = {
    "capaciteit": "vraag groter dan de laadruimte",
    "tijdvenster": "tijdvenster niet bereikbaar",
    "dienst_einde": "niet terug voor het einde van de dienst",
    "dienstduur": "heen en terug langer dan de dienst",
    "vloot_vol": "past niet meer in de ritten van de vloot",
    "optioneel": "optioneel, niet gekozen",
}


def hhmm(seconds: int | float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _minutes(seconds: int | float) -> str:
    return f"{int(round(seconds / 60))} min"


def precheck(problem: RoutingProblem, dist: np.ndarray, dur: np.ndarray, site_idx: dict[str, int],
             extra_keys: list[tuple[int, tuple[int, ...]]], n_real: int) -> tuple[list[Unserved], np.ndarray]:
    """Stops no vehicle type can serve on its own, with the reason; and the mask of the others."""
    stops = problem.stops
    n_sites = len(problem.sites)
    if not stops:
        return [], np.zeros(0, dtype=bool)
    pts = n_sites + np.arange(len(stops))
    demand = np.array([s.demand for s in stops], dtype=np.int64)
    service = np.array([s.service_s for s in stops], dtype=np.int64)
    early = np.array([s.tw_early for s in stops], dtype=np.int64)
    late = np.array([s.tw_late for s in stops], dtype=np.int64)
    release = np.array([s.release_s for s in stops], dtype=np.int64)
    ok = np.zeros(len(stops), dtype=bool)
    first_reason: list[str | None] = [None] * len(stops)
    first_code: list[str | None] = [None] * len(stops)
    for v in problem.vehicles:
        start = site_idx[v.start_site] if v.start_site else 0
        end = site_idx[v.end_site] if v.end_site else start
        end_col = end
        if v.unload_before_end and v.reload_sites:
            key = (end, tuple(site_idx[r] for r in v.reload_sites))
            end_col = n_real + extra_keys.index(key)
        out = dur[start, pts]
        back = dur[pts, end_col]
        arrive = np.maximum(v.shift_start_s, release) + out
        finish = np.maximum(arrive, early) + service
        checks = [
            ("capaciteit", demand > v.capacity),
            ("tijdvenster", arrive > late),
            ("dienst_einde", finish + back > v.shift_end_s),
        ]
        if v.max_shift_s is not None:
            checks.append(("dienstduur", out + service + back > v.max_shift_s))
        fail = np.zeros(len(stops), dtype=bool)
        for code, bad in checks:
            new = bad & ~fail & ~ok
            for i in np.flatnonzero(new):
                if first_code[i] is None:
                    first_code[i] = code
                    first_reason[i] = _reason(code, stops[i], v.name, v.capacity, int(arrive[i]),
                                              int(finish[i] + back[i]), v.shift_end_s,
                                              int(out[i] + service[i] + back[i]), v.max_shift_s)
            fail |= bad
        ok |= ~fail
    excluded = [Unserved(stops[i].id, stops[i].required, first_reason[i] or "onbekend", first_code[i] or "")
                for i in np.flatnonzero(~ok)]
    return excluded, ok


def _reason(code: str, stop: Stop, vehicle: str, capacity: int, arrive: int, back: int,
            shift_end: int, round_trip: int, max_shift: int | None) -> str:
    if code == "capaciteit":
        return f"vraag {stop.demand} is groter dan de laadruimte van {vehicle} ({capacity})"
    if code == "tijdvenster":
        return (f"tijdvenster sluit om {hhmm(stop.tw_late)}, maar {vehicle} kan er op zijn vroegst om "
                f"{hhmm(arrive)} zijn")
    if code == "dienst_einde":
        return (f"{vehicle} is na deze stop op zijn vroegst om {hhmm(back)} terug, na het einde van de "
                f"dienst ({hhmm(shift_end)})")
    return (f"heen en terug duurt al {_minutes(round_trip)}, langer dan de dienst van {vehicle} "
            f"({_minutes(max_shift or 0)})")


def explain_unserved(problem: RoutingProblem, left: list[Stop], routes: list[Route]) -> list[Unserved]:
    """Reasons for stops the solver left out although each could be served on its own."""
    if not left:
        return []
    req = [s for s in problem.stops if s.required]
    demand = sum(s.demand for s in req)
    trips_cap = 0
    shift_total = 0
    for v in problem.vehicles:
        trips = 1 + (v.max_reloads if v.max_reloads is not None else (10**6 if v.reload_sites else 0))
        trips_cap += v.count * v.capacity * min(trips, 10**6)
        span = v.shift_end_s - v.shift_start_s
        shift_total += v.count * (min(span, v.max_shift_s) if v.max_shift_s else span)
    service = sum(s.service_s for s in req)
    if demand > trips_cap:
        why = (f"de verplichte stops vragen samen {demand}, meer dan de vloot kan laden "
               f"({trips_cap} met alle toegestane stortritten)")
    elif service > shift_total:
        why = (f"de verplichte stops vragen samen {_minutes(service)} werk aan de stop, meer dan de "
               f"diensten samen ({_minutes(shift_total)})")
    else:
        used = len(routes)
        total = sum(v.count for v in problem.vehicles)
        why = (f"de {used} van {total} ingezette voertuigen hebben geen tijd of laadruimte meer over in "
               f"hun dienst (rijtijd, stortritten en tijdvensters samen)")
    out = []
    for s in left:
        if s.required:
            out.append(Unserved(s.id, True, f"verplicht maar niet ingepland: {why}", "vloot_vol"))
        else:
            out.append(Unserved(s.id, False, f"optioneel en niet gekozen: de opbrengst ({s.prize}) weegt "
                                             "niet op tegen de omweg, of de ritten zitten vol", "optioneel"))
    return out
