"""Hand a pilot to another municipality: export the demo's hotspot pilot (Groningen), import it in a fresh
workspace for Utrecht, deliver Utrecht's own incident file, and run the pilot there."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import yaml

from tests.conftest import UTRECHT_BUURTEN_RD, run_cli
from tests.web.synthetic import STATION_RD, _inside, buurt_polygons

GRONINGEN_HEADER = None  # read from the exported catalog entry: the receiver follows the package's README


def _write_bvh_file(path: Path, entry: dict, n: int = 900, seed: int = 3) -> int:
    """A synthetic police export for Utrecht in the same BVH layout as Groningen's (made at test time)."""
    rng = np.random.default_rng(seed)
    polys = buurt_polygons(UTRECHT_BUURTEN_RD)
    codes = sorted(polys)
    pts = []
    for code in codes[:60]:
        pts += _inside(rng, polys[code], n // 120)
    pts += [(STATION_RD[0] + rng.normal(0, 100), STATION_RD[1] + rng.normal(0, 100)) for _ in range(n // 2)]
    start = datetime(2024, 1, 1)
    days = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
    fields = entry["fields"]
    rows = []
    for i, (x, y) in enumerate(pts):
        t = start + timedelta(hours=int(rng.integers(0, 24 * 360)))
        value = {
            "incident_id": f"PL0900_BVH_{100000 + i}", "bronregistratie": f"R{i}", "incidentsoort_code": "A72",
            "incidentsoort": "Diefstal Fiets", "straat": "Stationsplein", "huisnummer": "", "postcode": "",
            "plaats": "Utrecht", "gemeente": "Utrecht", "provincie": "Utrecht", "wijk_naam": "Binnenstad",
            "buurt_naam": "Centrum", "subbuurt_naam": "", "begin_dag": days[t.weekday()], "begin_dagdeel": "middag",
            "begin_tijd": t.strftime("%Y-%m-%d %H:%M:%S"), "eind_dag": days[t.weekday()], "eind_dagdeel": "middag",
            "eind_tijd": t.strftime("%Y-%m-%d %H:%M:%S"), "kennisname_dag": days[t.weekday()],
            "kennisname_dagdeel": "middag", "kennisname_tijd": t.strftime("%Y-%m-%d %H:%M:%S"), "aangifte": "J",
            "poging": "N", "verdachten": "0", "aanhoudingen": "0", "opgehelderd": "N", "object": "Openbare Weg/-Water",
            "projecten": "", "temperatuur": "", "weer": "", "x": f"{x:.0f}", "y": f"{y:.0f}",
        }
        rows.append([value.get(f["name"], "") for f in fields])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([f["source"] for f in fields])
        w.writerows(rows)
    return len(rows)


def test_export_import_and_run_on_the_receivers_data(projects_ws, builder, tmp_path):
    package = tmp_path / "hotspots.zip"
    manifest = json.loads(run_cli("project", "export", "hotspotaanpak", "-w", str(projects_ws), "--out", str(package),
                                  "--json").stdout)
    assert manifest["datasets"] == ["groningen_fietsdiefstal"]           # area divisions stay with the sender
    assert set(manifest["area_divisions"]) == {"groningen_buurten_2017", "groningen_wijken_2017"}
    assert manifest["municipality"] == "Groningen"
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        record = yaml.safe_load(zf.read("project.yaml"))
        readme = zf.read("README.md").decode()
    assert {"manifest.json", "project.yaml", "README.md", "catalog/groningen_fietsdiefstal.yaml"} == names
    assert not any(n.startswith("data/") for n in names)                  # descriptions, no data
    assert "text" not in record["phases"]["dataverzameling"]              # closed phase: reason only
    assert record["phases"]["dataverzameling"]["reason"]
    assert "Pleegstraatnaam" in readme and "data/groningen/fietsdiefstal/" in readme

    receiver = builder.with_utrecht_buurten()                             # Utrecht: its own 2024 buurten
    rep = json.loads(run_cli("project", "import", str(package), "-w", str(receiver.root), "--division-year", "2024",
                             "--json").stdout)
    assert rep["installed"] == ["groningen_fietsdiefstal"]
    assert rep["missing_files"] == {"groningen_fietsdiefstal":
                                    "data/groningen/fietsdiefstal/fietsdiefstallen_groningen_2013_2017.csv"}
    assert {"groningen_fietsdiefstal.plaats", "groningen_fietsdiefstal.gemeente"} <= set(rep["relaxed_codes"])
    imported = yaml.safe_load((receiver.root / "projects" / "hotspotaanpak.yaml").read_text(encoding="utf-8"))
    assert imported["status"] == "pilot" and imported["origin"]["municipality"] == "Groningen"
    assert "evaluations" not in imported and all(h["status"] == "open" for h in imported["hypotheses"])

    # before the receiver delivers its file, the pilot cannot run — and says what is missing
    proc = run_cli("project", "run", "hotspotaanpak", "-w", str(receiver.root), check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr

    entry = yaml.safe_load((receiver.root / "catalog" / "groningen_fietsdiefstal.yaml").read_text(encoding="utf-8"))
    n = _write_bvh_file(receiver.root / rep["missing_files"]["groningen_fietsdiefstal"], entry)
    run_cli("refresh", "-w", str(receiver.root))
    done = json.loads(run_cli("project", "run", "hotspotaanpak", "-w", str(receiver.root), "--json").stdout)
    by_name = {d["result"]: d for d in done}
    assert by_name["hotspots_fietsdiefstal"]["rows"] > 0 and by_name["fietsdiefstal_per_buurt_maand"]["rows"] > 0
    shown = json.loads(run_cli("project", "show", "hotspotaanpak", "-w", str(receiver.root), "--json").stdout)
    values = {i["label"]: i["value"] for i in shown["figures"]["indicators"]}
    assert values["Incidenten in het afgelopen jaar"] > 0.5 * n
    assert values["Cellen aangewezen als hotspot"] >= 1                   # the planted station cluster
    assert json.loads(run_cli("project", "check", "-w", str(receiver.root), "--json").stdout)["ok"]


def test_a_changed_package_is_refused(projects_ws, builder, tmp_path):
    package = tmp_path / "p.zip"
    run_cli("project", "export", "hotspotaanpak", "-w", str(projects_ws), "--out", str(package))
    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "project.yaml":
                data = data.replace(b"status: pilot", b"status: structureel")
            dst.writestr(name, data)
    proc = run_cli("project", "import", str(tampered), "-w", str(builder.with_utrecht_buurten().root), check=False)
    assert proc.returncode == 2 and "sha256" in proc.stderr and "Traceback" not in proc.stderr
