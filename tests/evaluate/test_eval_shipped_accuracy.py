"""Each shipped model reproduces the PrivateTest accuracy its recipe records, within 0.1 pp (issue 9's "done when"),
through the same command a user runs: ``edgefer val --weights W --data fer2013=... --split PrivateTest``."""

import json

import pytest

from edgefer.cli.main import main
from edgefer.weights import shipped_models, shipped_weights


@pytest.mark.parametrize("name", shipped_models())
def test_shipped_model_reproduces_its_recorded_privatetest_accuracy(name, shared_datasets, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path / "cache"))
    shipped = shipped_weights(name)
    recorded = shipped.recipe["metrics"]["PrivateTest"]
    out = tmp_path / "val"
    data = f"fer2013={shared_datasets / 'fer2013'}"
    args = ["val", "--weights", str(shipped.path), "--data", data, "--split", "PrivateTest"]
    assert main([*args, "--out", str(out), "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["n_images"] == recorded["n_images"] == 3589
    assert abs(report["accuracy"] - recorded["accuracy"]) <= 0.001
