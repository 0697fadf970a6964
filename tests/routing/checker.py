"""An independent checker for routing plans: recomputes travel from the coordinates (its own
formula, not stadslab's travel module), then walks every returned route and checks capacity,
time windows, release times, shift window and length, reload visits and the reported figures.

Returns a list of violations (empty = valid)."""

from __future__ import annotations

import math

from stadslab.analyses.routing import Plan, RoutingProblem


def _travel(problem: RoutingProblem):
    pts = {pid: (x, y) for pid, x, y in problem.points()}
    ids = [pid for pid, _, _ in problem.points()]
    pos = {pid: i for i, pid in enumerate(ids)}
    if problem.travel is not None:
        dm, tm = problem.travel.distance_m, problem.travel.duration_s
        return (lambda a, b: int(dm[pos[a], pos[b]])), (lambda a, b: int(tm[pos[a], pos[b]]))

    def metres(a: str, b: str) -> float:
        (xa, ya), (xb, yb) = pts[a], pts[b]
        return math.hypot(xa - xb, ya - yb) * problem.circuity

    return (lambda a, b: round(metres(a, b))), (lambda a, b: round(metres(a, b) * 3.6 / problem.speed_kmh))


def check_plan(problem: RoutingProblem, plan: Plan) -> list[str]:
    dist, dur = _travel(problem)
    stops = {s.id: s for s in problem.stops}
    sites = {s.id: s for s in problem.sites}
    errors: list[str] = []
    seen: list[str] = []
    per_vehicle: dict[int, int] = {}
    for r in plan.routes:
        v = problem.vehicles[r.vehicle_index]
        per_vehicle[r.vehicle_index] = per_vehicle.get(r.vehicle_index, 0) + 1
        ev = r.events
        tag = r.vehicle
        if ev[0].kind != "start" or ev[0].ref != (v.start_site or problem.sites[0].id):
            errors.append(f"{tag}: begint niet op de startlocatie")
        end_site = v.end_site or v.start_site or problem.sites[0].id
        if ev[-1].kind != "end" or ev[-1].ref != end_site:
            errors.append(f"{tag}: eindigt niet op de eindlocatie")
        if v.unload_before_end and v.reload_sites and ev[-1].via not in v.reload_sites:
            errors.append(f"{tag}: lost niet bij een stortplaats voor het einde")
        load, total_m, reloads, trip_release, trip_leave = 0, 0, 0, 0, ev[0].departure_s
        for prev, e in zip(ev, ev[1:]):
            if e.kind == "end" and e.via:
                leg_m = dist(prev.ref, e.via) + dist(e.via, e.ref)
                leg_s = dur(prev.ref, e.via) + sites[e.via].service_s + dur(e.via, e.ref)
            else:
                leg_m, leg_s = dist(prev.ref, e.ref), dur(prev.ref, e.ref)
            total_m += leg_m
            if e.arrival_s != prev.departure_s + leg_s:
                errors.append(f"{tag}: aankomst bij {e.ref} {e.arrival_s} ≠ vertrek {prev.departure_s} + reistijd {leg_s}")
            if e.start_s < e.arrival_s:
                errors.append(f"{tag}: begint bij {e.ref} voor aankomst")
            if e.kind == "stop":
                s = stops[e.ref]
                seen.append(s.id)
                load += s.demand
                trip_release = max(trip_release, s.release_s)
                if not (s.tw_early <= e.start_s <= s.tw_late):
                    errors.append(f"{tag}: {s.id} begint om {e.start_s}, buiten venster {s.tw_early}-{s.tw_late}")
                if e.departure_s != e.start_s + s.service_s:
                    errors.append(f"{tag}: {s.id} vertrekt {e.departure_s}, verwacht {e.start_s + s.service_s}")
                if load > v.capacity:
                    errors.append(f"{tag}: lading {load} > laadruimte {v.capacity} bij {s.id}")
                if e.load != load:
                    errors.append(f"{tag}: gemelde lading {e.load} ≠ herberekend {load} bij {s.id}")
            else:
                if e.kind == "reload":
                    reloads += 1
                    if e.ref not in v.reload_sites:
                        errors.append(f"{tag}: lost bij {e.ref}, geen stortplaats van dit voertuig")
                    site = sites[e.ref]
                    if e.departure_s < e.start_s + site.service_s:
                        errors.append(f"{tag}: lossen bij {e.ref} korter dan {site.service_s} s")
                    if not (site.open_s <= e.start_s <= site.close_s):
                        errors.append(f"{tag}: {e.ref} is dicht om {e.start_s}")
                if trip_leave < trip_release:
                    errors.append(f"{tag}: rit vertrekt {trip_leave} vóór vrijgavetijd {trip_release}")
                load, trip_release, trip_leave = 0, 0, e.departure_s
        if v.max_reloads is not None and reloads > v.max_reloads:
            errors.append(f"{tag}: {reloads} keer lossen > max {v.max_reloads}")
        start, end = ev[0].departure_s, ev[-1].arrival_s
        if start < v.shift_start_s or end > v.shift_end_s:
            errors.append(f"{tag}: dienst {start}-{end} buiten {v.shift_start_s}-{v.shift_end_s}")
        if v.max_shift_s is not None and end - start > v.max_shift_s:
            errors.append(f"{tag}: dienst duurt {end - start} s > {v.max_shift_s} s")
        if total_m != r.distance_m:
            errors.append(f"{tag}: afstand {r.distance_m} ≠ herberekend {total_m}")
        if sum(t.load for t in r.trips) != sum(stops[s].demand for s in r.stops):
            errors.append(f"{tag}: ritladingen tellen niet op")
    for i, n in per_vehicle.items():
        if n > problem.vehicles[i].count:
            errors.append(f"{problem.vehicles[i].name}: {n} routes, maar {problem.vehicles[i].count} voertuigen")
    if len(seen) != len(set(seen)):
        errors.append("een stop wordt meer dan eens bezocht")
    unserved = {u.stop for u in plan.unserved}
    if set(seen) & unserved:
        errors.append("een stop staat zowel in een route als bij niet-bediend")
    missing = set(stops) - set(seen) - unserved
    if missing:
        errors.append(f"stops zonder route en zonder reden: {sorted(missing)[:5]}")
    if any(not u.reason for u in plan.unserved):
        errors.append("niet-bediende stop zonder reden")
    return errors
