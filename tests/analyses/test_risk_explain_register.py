"""Dutch explanations per cell and the Algoritmeregister entry."""

from __future__ import annotations

import json

import ibis
import numpy as np
import pandas as pd
import pytest

from stadslab.analyses.risk.explain import contributions_table, label
from stadslab.analyses.risk.features import FeatureConfig
from stadslab.analyses.risk.models import predict_risk
from stadslab.analyses.risk.register import evaluation_text, register_entry, to_json, to_markdown


def test_labels_in_dutch():
    assert label("n28_cell", 12) == "12 incidenten in de afgelopen 28 dagen in deze cel"
    assert label("n7_cell", 1) == "1 incident in de afgelopen 7 dagen in deze cel"
    assert "8 omliggende cellen" in label("n91_3x3", 4)
    assert label("month", 10) == "seizoen: oktober"
    assert label("n365_buurt", 30, buurt="BU00140000").endswith("in de buurt BU00140000")
    assert label("kde", 0.3, 0.5).startswith("veel incidenten in de omgeving")
    assert label("kde", 0.0, -0.5).startswith("weinig")
    assert "binnen 200 m" in label("near_repeat", 2)
    assert label("ctx_bev_dich", 8500) == "bevolkingsdichtheid van de buurt (inw./km²): 8500"
    assert label("days_since_last", 730, max_window=730) == "geen incident in deze cel in de afgelopen 730 dagen"
    assert label("season365_cell", 3) == "3 incidenten in dezelfde weken vorig jaar in deze cel"
    assert "onbekend" in label("n28_buurt", float("nan"))


def test_contributions_add_up_to_prediction(risk_small):
    cfg = FeatureConfig(windows=(14, 28, 365), decay_days=(30.0,), season_lags=())
    pred = predict_risk(ibis.memtable(risk_small), "2021-06-04", config=cfg, train_periods=20)
    fs, o = pred.features, len(pred.features.origins) - 1
    contrib, names = pred.model.contributions(fs, o)
    # TreeSHAP: bias + contributions = log of the expected count
    np.testing.assert_allclose(np.exp(contrib.sum(axis=1)), pred.model.predict(fs, o), rtol=1e-6)
    t = contributions_table(pred.model, fs, o, top=3)
    assert len(t) == 3 * len(fs.cells)
    top_cell = pred.table.iloc[0]
    reasons = t[t.cell_id == top_cell.cell_id]
    assert (reasons.contribution.abs().diff().dropna() <= 1e-12).all()  # largest first
    assert top_cell.toelichting.count("verwachting ×") == 3


@pytest.fixture
def bt_result():
    base = {"hit_rate": {"0.03": 0.55, "0.05": 0.67}, "pai": {"0.03": 18.3, "0.05": 13.4},
            "pei": {"0.03": 0.55, "0.05": 0.67}}
    model = {"hit_rate": {"0.03": 0.56, "0.05": 0.66}, "pai": {"0.03": 18.6, "0.05": 13.2},
             "pei": {"0.03": 0.56, "0.05": 0.66}}
    return {"periods": 17, "period_days": 14, "start": "2017-01-06T00:00:00", "end": "2017-09-15T00:00:00",
            "model": "gbm_poisson", "best_baseline": "last_365d", "model_beats_best_baseline": False,
            "models": {"gbm_poisson": model, "last_365d": base},
            "comparison": {f: {"ratio": model["hit_rate"][f] / base["hit_rate"][f], "periods_won": 8,
                               "periods_lost": 9} for f in ("0.03", "0.05")},
            "calibration": {"total_predicted": 1100.0, "total_observed": 1000.0, "ratio_predicted_observed": 1.1}}


def test_register_entry_is_honest(bt_result):
    e = register_entry(bt_result, organisatie="Gemeente Groningen", dataset="groningen_fietsdiefstal",
                       dataset_version=3, code_url="https://example.org/stadslab")
    for key in ("naam", "organisatie", "doel", "status", "publieke_waarde_impact", "data_bronnen",
                "methode_werking", "evaluatie", "menselijke_tussenkomst", "risicos_en_bias",
                "juridische_grondslag", "links"):
        assert e[key], key
    assert "praktisch even goed" in e["evaluatie"] and "last_365d" in e["evaluatie"]   # 56 vs 55 %: a tie
    assert "55,0%" in e["evaluatie"] and "56,0%" in e["evaluatie"]
    assert any("Terugkoppeling" in r for r in e["risicos_en_bias"])
    assert any("Meldingsbereidheid" in r for r in e["risicos_en_bias"])
    assert e["links"]["broncode"] == "https://example.org/stadslab/stadslab/analyses/risk/"
    md = to_markdown(e)
    assert md.startswith("# Risicokaart fietsdiefstal")
    assert "## Risico's en bias" in md and "| langetermijnkaart" in md
    assert json.loads(to_json(e))["evaluatie_cijfers"]["model_beats_best_baseline"] is False


def test_register_says_when_model_wins(bt_result):
    bt_result["model_beats_best_baseline"] = True
    assert "praktisch even goed" in evaluation_text(bt_result)  # ratio 1.02 and no p-value: a tie
    for f, hr in (("0.03", 0.66), ("0.05", 0.80)):          # clearly better, beyond chance: the verdict 'wint'
        bt_result["models"]["gbm_poisson"]["hit_rate"][f] = hr
        bt_result["comparison"][f].update(ratio=hr / bt_result["models"]["last_365d"]["hit_rate"][f], sign_test_p=0.01)
    assert "duidelijk beter dan de beste eenvoudige kaart" in evaluation_text(bt_result)
    assert "NIET" not in evaluation_text(bt_result)
    assert "Nog niet getoetst" in register_entry(None, organisatie="X", dataset="d")["evaluatie"]
