"""Travel matrices: the straight-line default and a supplied CSV with clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from stadslab.analyses.routing import read_matrix_csv, straight_line_matrix
from stadslab.errors import ReaderError

IDS = ["depot", "a", "b"]


def test_straight_line_times_circuity_and_speed():
    m = straight_line_matrix(np.array([[0.0, 0.0], [3000.0, 4000.0]]), circuity=1.3, speed_kmh=20)
    assert m.distance_m[0, 1] == 6500 and m.distance_m[1, 0] == 6500 and m.distance_m[0, 0] == 0
    assert m.duration_s[0, 1] == round(6500 / (20 / 3.6))
    assert "1.3" in m.source


def _write(tmp_path, text):
    p = tmp_path / "reistijden.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_a_complete_matrix(tmp_path):
    rows = ["van,naar,afstand_m,reistijd_s"] + [f"{a},{b},{100 * (i + 1)},{10 * (i + 1)}"
                                                  for i, (a, b) in enumerate((a, b) for a in IDS for b in IDS if a != b)]
    m = read_matrix_csv(_write(tmp_path, "\n".join(rows)), IDS)
    assert m.distance_m.shape == (3, 3) and m.distance_m[0, 1] == 100 and m.duration_s[2, 1] == 60
    assert np.all(np.diag(m.distance_m) == 0)


@pytest.mark.parametrize("text, row, column, words", [
    ("van,naar,afstand_m\ndepot,a,1\n", None, "reistijd_s", "kolom ontbreekt"),
    ("van,naar,afstand_m,reistijd_s\ndepot,a,1,1\ndepot,x,1,1\n", 3, "naar", "onbekend punt 'x'"),
    ("van,naar,afstand_m,reistijd_s\ndepot,a,1,1\ndepot,b,-5,1\n", 3, "afstand_m", "geen getal"),
    ("van,naar,afstand_m,reistijd_s\ndepot,a,1,1\ndepot,a,2,2\n", 3, None, "meer dan eens"),
    ("van,naar,afstand_m,reistijd_s\ndepot,a,1,1\n", None, None, "paren ontbreken"),
])
def test_errors_name_file_row_column(tmp_path, text, row, column, words):
    with pytest.raises(ReaderError) as exc:
        read_matrix_csv(_write(tmp_path, text), IDS)
    e = exc.value
    assert "reistijden.csv" in str(e) and words in str(e)
    assert e.row == row and e.column == column
