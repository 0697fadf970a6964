"""The demo's profile settings on the real demo workspace (init --demo + refresh): 'buurtniveau: nee' keeps the
wijk figures readable (with the buurt level the gate hid 9 of 10 wijken on the demo, docs/sociaal.md)."""

from __future__ import annotations

import json
import re

from tests.conftest import run_cli

ENV = {"STADSLAB_PASSWORD": "analist-demo"}
HEX32 = re.compile(r"\b[0-9a-f]{32}\b")   # a pseudonym; the profile's sha256 is 64 long


def test_demo_publishes_most_wijk_figures_and_no_buurt_level(demo_ws):
    proc = run_cli("profiel", "tel", "verzuim_hoog", "--niveau", "wijk", "--schooljaar", "2023/24", "--user",
                   "analist", "--purpose", "sociaal_domein", "-w", str(demo_ws), "--json", env=ENV)
    rows = [r for r in json.loads(proc.stdout)["rows"] if r["wijk_code"] != "Totaal"]
    shown = [r for r in rows if r["suppressed"] == ""]
    assert len(rows) == 10 and len(shown) >= 5, rows
    assert all(r["aantal"] >= 15 for r in shown) and not HEX32.search(proc.stdout)
    refused = run_cli("profiel", "tel", "verzuim_hoog", "--niveau", "buurt", "--user", "analist", "--purpose",
                      "sociaal_domein", "-w", str(demo_ws), env=ENV, check=False)
    assert refused.returncode != 0 and "buurtniveau" in refused.stdout + refused.stderr
