"""Issue 10, item 10: the password without a terminal, `versions` and its error note, Dutch formats."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from stadslab.formatting import nl_date, nl_datetime, nl_number, nl_pct, shorten
from tests.conftest import VENV_BIN, run_cli

FILE = "data/groningen/fietsdiefstal/fietsdiefstallen_groningen_2013_2017.csv"


def test_password_variable_is_in_the_help():
    out = run_cli("aggregate", "--help", env={"COLUMNS": "200"}).stdout
    assert "STADSLAB_PASSWORD" in out


def test_without_a_terminal_the_prompt_stops_in_dutch(demo_ws):
    env = {k: v for k, v in os.environ.items() if k != "STADSLAB_PASSWORD"}
    proc = subprocess.run([str(VENV_BIN / "stadslab"), "aggregate", "sociaal_uitkeringen", "--by", "wijk_code",
                           "--user", "analist", "--purpose", "sociaal_domein", "-w", str(demo_ws)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 11, out                      # AccessDenied (stadslab/errors.py)
    assert "geen wachtwoord voor 'analist'" in out and "STADSLAB_PASSWORD" in out
    assert "Warning" not in out and "Aborted" not in out and "Traceback" not in out


def test_versions_shows_a_failed_load_only_while_it_matters(demo_ws, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_ws, ws)
    src = ws / FILE
    original = src.read_bytes()
    src.write_bytes(original.replace(b"Diefstal Fiets", b"Diefstal Fiets!", 1))
    assert run_cli("refresh", "-w", str(ws), check=False).returncode == 4
    shown = run_cli("versions", "groningen_fietsdiefstal", "-w", str(ws), env={"COLUMNS": "250"}).stdout
    assert "mislukte laadpoging" in shown and "Diefstal Fiets!" in shown
    note = shown[shown.index("mislukte laadpoging"):].strip()
    assert note.endswith(("…", ".", ")", "'")) or note[-1].isalnum()
    src.write_bytes(original)                               # the bronhouder fixes the file
    shown = run_cli("versions", "groningen_fietsdiefstal", "-w", str(ws), env={"COLUMNS": "250"}).stdout
    assert "mislukte laadpoging" not in shown
    assert "1" in shown and "15.947" in shown              # rows in Dutch format


def test_dutch_formats():
    assert nl_number(374238) == "374.238" and nl_number(12.5, 1) == "12,5" and nl_number(None) == "–"
    assert nl_number(float("nan")) == "–" and nl_pct(0.1234) == "12,3 %"
    assert nl_date("2017-01-06T00:00:00") == "06-01-2017"
    t = datetime(2026, 12, 6, 3, 5, 19, 123456, tzinfo=timezone.utc)
    assert nl_datetime(t) == "06-12-2026 04:05"                # local time, no seconds or microseconds
    text = "de catalogus kent 'Diefstal Fiets!' niet in kolom incidentsoort " * 20
    short = shorten(text, 100)
    assert len(short) <= 100 and short.endswith("…") and short[:-2].split()[-1] in text.split()


@pytest.mark.parametrize("cmd", [["predict", "backtest", "--help"], ["predict", "demand", "--help"]])
def test_long_commands_document_their_speed_options(cmd):
    out = run_cli(*cmd, env={"COLUMNS": "200"}).stdout
    assert ("--reuse" in out) if cmd[1] == "backtest" else ("--no-refit" in out and "--jobs" in out)
