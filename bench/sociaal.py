"""Dynamisch Data Dashboard at scale (issue 13): a dashboard view and an effect estimate on big linked data.

Builds (once; cached under ``--cache``, default /tmp/stadslab-bench-sociaal) a workspace with the
SIMULATED DDD sources of ``stadslab.demo.synthetic_ddd`` at a scale of about ``--persons`` persons in
total (Utrecht's population, scale 1 = 374 200), through the real chain: holders pseudonymise, the data
lab re-keys, ``refresh`` loads (with the area registry for wijk codes). Then it times, in one process:

(a) a dashboard view: ``stadslab.analyses.sociaal.profiles.profile_view`` (helper B; counts, shares and
    trend per wijk × school year, every figure through the publication gate) for the first declared
    profile — target ≤ 3 s on 2 cores. Without that function: a gated ``release_aggregate`` of
    ddd_verzuim per wijk with the three other sources linked on the parent (said in the output);
(b) an effect estimate, ``stadslab.analyses.sociaal.effect.estimate_effect`` (access, linked frame,
    gate, AIPW, audit) over the pupils of a second workspace of about ``--effect-persons`` persons —
    target ≤ 20 s.

Each timing is the best of ``--repeat`` runs after one warm-up (the first run pays the import of
statsmodels and DuckDB's first scan). The machine is shared: the load average is printed with the figures.
Last line: ``sociaal view_s=X effect_s=Y``.

Usage: .venv/bin/python bench/sociaal.py [--persons 1000000] [--effect-persons 200000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
UTRECHT_PERSONS = 374_200
AREAS = ("utrecht_buurten_2024", "utrecht_wijken_2024")
CONFOUNDERS = ["bijstand", "zrm_financien", "verzuim_pct", "schoolsoort"]


def build(root: Path, scale: float) -> Path:
    """A workspace with only the area registry and the DDD sources, loaded; reused when complete."""
    from stadslab.demo.ddd_pipeline import ddd_workspace

    done = root / ".bench-klaar"
    if done.exists() and json.loads(done.read_text()).get("key") == _cache_key(scale):
        return root
    if root.exists():
        shutil.rmtree(root)
    for side in (root.parent / f"{root.name}-bronhouders", root.parent / f"{root.name}-datalab",
                 root.parent / f"{root.name}-audit"):
        shutil.rmtree(side, ignore_errors=True)
    t0 = time.perf_counter()
    ddd_workspace(root, scale=scale)
    t1 = time.perf_counter()
    subprocess.run([str(REPO / ".venv/bin/stadslab"), "refresh", "-w", str(root), "--json"], check=True,
                   capture_output=True, text=True)
    t2 = time.perf_counter()
    done.write_text(json.dumps({"key": _cache_key(scale), "scale": scale, "generate_s": round(t1 - t0, 1), "refresh_s": round(t2 - t1, 1)}))
    print(f"werkruimte {root}: genereren + pseudonimiseren {t1 - t0:.1f} s, refresh {t2 - t1:.1f} s", flush=True)
    return root


def _cache_key(scale: float) -> str:
    """Scale plus the generator, the chain and the catalog entries: a changed generator rebuilds the cache."""
    import hashlib

    h = hashlib.sha256(str(scale).encode())
    for p in sorted([REPO / "stadslab/demo/synthetic_ddd.py", REPO / "stadslab/demo/ddd_pipeline.py",
                     *(REPO / "stadslab/demo/catalog_ddd").glob("*.yaml")]):
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def timed(fn, repeat: int) -> tuple[float, object]:
    out = fn()                                         # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def view(root: Path, repeat: int) -> float:
    from stadslab.privacy.access import AccessConfig
    from stadslab.privacy.audit import AuditLog
    from stadslab.workspace import Workspace

    w = Workspace(root)
    shutil.copytree(REPO / "stadslab/demo/profielen", root / "profielen", dirs_exist_ok=True)   # as init --demo
    user = AccessConfig.from_config(w.config).user("analist")
    audit = AuditLog(root / "audit" / "audit.jsonl")
    catalog = w.catalog()
    with w.warehouse(read_only=True) as wh:
        try:
            from stadslab.analyses.sociaal.profiles import load_profiles, profile_view
        except ImportError:
            profile_view = None
        if profile_view is not None and load_profiles(root):
            pid = load_profiles(root)[0].id
            s, rel = timed(lambda: profile_view(wh, catalog, root, user=user, purpose="sociaal_domein", audit=audit,
                                                profile_id=pid, level="wijk_code", route="bench:sociaal"), repeat)
            print(f"(a) profile_view '{pid}' per wijk: {s:.2f} s, {len(rel.frame)} rijen", flush=True)
            return s
        from stadslab.privacy.release import release_aggregate

        base = catalog.get("ddd_verzuim")
        links = [catalog.get(d) for d in ("ddd_uitkeringen", "ddd_zrm", "ddd_trajecten")]
        s, rel = timed(lambda: release_aggregate(
            wh, base, user=user, purpose="sociaal_domein", by=["wijk_code"], audit=audit, route="bench:sociaal",
            link=links, link_on={d.id: "pseudo_id_ouder" for d in links}), repeat)
        print(f"(a) profile_view ontbreekt (helper B): in plaats daarvan release_aggregate ddd_verzuim per wijk met "
              f"3 gekoppelde bronnen: {s:.2f} s, {len(rel.frame)} rijen", flush=True)
        return s


def effect(root: Path, repeat: int) -> float:
    from stadslab.analyses.sociaal.effect import clear_cache, estimate_effect
    from stadslab.privacy.access import AccessConfig
    from stadslab.privacy.audit import AuditLog
    from stadslab.workspace import Workspace

    w = Workspace(root)
    user = AccessConfig.from_config(w.config).user("analist")
    catalog = w.catalog()
    with w.warehouse(read_only=True) as wh:
        def run():
            clear_cache()                     # time the computation, not the result cache
            return estimate_effect(wh, catalog, user=user, purpose="sociaal_domein",
                                   audit=AuditLog(root / "audit" / "audit.jsonl"), outcome="verzuim_pct_volgend",
                                   treatment="ddd_trajecten:pseudo_id_ouder", confounders=CONFOUNDERS,
                                   route="bench:sociaal")
        s, r = timed(run, repeat)
    d = r.to_dict()
    print(f"(b) effect op verzuim_pct_volgend: {s:.2f} s; schatting {d['estimate']:.3f} "
          f"[{d['ci'][0]:.3f}, {d['ci'][1]:.3f}], naïef {d['naive']['estimate']:.3f}; "
          f"leerling-jaren behandeld {d['n_treated']}, controle {d['n_control']}", flush=True)
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--effect-persons", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cache", default="/tmp/stadslab-bench-sociaal")
    ap.add_argument("--build-only", action="store_true", help="alleen de werkruimten maken (cache vullen)")
    a = ap.parse_args()
    cache = Path(a.cache)
    cache.mkdir(parents=True, exist_ok=True)
    big = build(cache / "ws-view", round(a.persons / UTRECHT_PERSONS, 3))
    small = build(cache / "ws-effect", round(a.effect_persons / UTRECHT_PERSONS, 3))
    for root in (big, small):
        m = json.loads((root / "data" / "ddd" / "manifest.json").read_text(encoding="utf-8"))
        print(f"{root.name}: schaal {m['scale']}, {m['counts']['persons']} personen, "
              f"{m['counts']['households']} huishoudens (GESIMULEERD)", flush=True)
    if a.build_only:
        return
    view_s = view(big, a.repeat)
    effect_s = effect(small, a.repeat)
    print(f"belasting (uptime): {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"cores: {os.cpu_count()}")
    print(f"sociaal view_s={view_s:.2f} effect_s={effect_s:.2f}")


if __name__ == "__main__":
    main()
