import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tinymodels import write_ckplus48

from edgefer.errors import ConfigError, DatasetError, ModelError, OutputError
from edgefer.train.crossval import run_crossval


def _write_folder_set(root: Path, per_class: int = 6) -> Path:
    """A plain one-folder-per-class data set with neutral and no contempt (like FER2013's label set)."""
    rng = np.random.default_rng(1)
    for label, emotion in enumerate(("angry", "happy", "surprise", "neutral")):
        (root / emotion).mkdir(parents=True)
        for index in range(per_class):
            image = rng.integers(0, 60, (12, 12)).astype(np.uint8)
            image[min(label, 2) * 4 : min(label, 2) * 4 + 4] += 150
            cv2.imwrite(str(root / emotion / f"{index}.png"), image)
    return root


def test_matrix_trains_on_each_set_and_tests_on_every_set_with_shared_classes(make_recipe, tmp_path):
    ck = write_ckplus48(tmp_path / "ck", subjects=5)
    (ck / "contempt").mkdir()
    cv2.imwrite(str(ck / "contempt" / "S010_009_00000001.png"), np.zeros((12, 12), np.uint8))
    other = _write_folder_set(tmp_path / "plain")
    recipe = make_recipe("train.epochs=1", "name=matrix", "data.n_folds=3")
    result = run_crossval(recipe, [("ckplus48", ck), ("folder", other)], show_progress=False, figures=False)
    assert result["classes"] == ["angry", "happy", "surprise"]  # contempt and neutral are not shared
    assert result["protocols"] == {"ckplus48": "subject_kfold", "folder": "stratified_60_20_20"}
    for source in ("ckplus48", "folder"):
        assert set(result["accuracy"][source]) == {"ckplus48", "folder"}
        assert all(0 <= value <= 1 for value in result["accuracy"][source].values())
    # the folder set's test split is 20 % of its 6 images of each shared class; neutral images are left out
    assert result["test_images"]["folder"] == 3 * round(6 * 0.2)
    run_dir = recipe.run_dir
    saved = json.loads((run_dir / "crossval.json").read_text())
    assert saved["accuracy"] == result["accuracy"]
    markdown = (run_dir / "crossval.md").read_text()
    assert "| ckplus48 |" in markdown and "angry, happy, surprise" in markdown
    assert (run_dir / "crossval.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((run_dir / "train_ckplus48" / "test_on_folder" / "report.json").read_text())
    assert report["accuracy"] == result["accuracy"]["ckplus48"]["folder"]
    # the finished matrix is not trained over: refused before its recipe is rewritten
    recorded = (run_dir / "recipe.yaml").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run; continue it with --resume"):
        run_crossval(make_recipe("train.epochs=2", "name=matrix"), [("ckplus48", ck), ("folder", other)])
    assert (run_dir / "recipe.yaml").read_bytes() == recorded


def test_matrix_needs_two_different_data_sets(make_recipe, tmp_path):
    with pytest.raises(ConfigError, match="at least two different data sets"):
        run_crossval(make_recipe(), [("folder", tmp_path), ("folder", tmp_path)])
    with pytest.raises(ConfigError, match="give at most one manifest, the other data sets as NAME=PATH"):
        run_crossval(make_recipe(), [("manifest", tmp_path / "a.csv"), ("manifest", tmp_path / "b.csv")])


def test_matrix_refuses_a_training_manifest_and_checks_named_files_before_reading(make_recipe, tmp_path):
    datasets = [("folder", tmp_path / "a"), ("ckplus48", tmp_path / "b")]  # neither exists: reading them would fail
    with pytest.raises(ConfigError, match=r"data\.train_manifest .* lists one data set's training images"):
        run_crossval(make_recipe(f"data.train_manifest={tmp_path / 'clean.csv'}"), datasets)
    with pytest.raises(ModelError, match=r"missing\.pt"):
        run_crossval(make_recipe(f"model.init={tmp_path / 'missing.pt'}"), datasets)


def test_resume_with_nothing_to_resume_is_refused_before_reading(make_recipe, tmp_path):
    datasets = [("folder", tmp_path / "a"), ("ckplus48", tmp_path / "b")]  # neither exists: reading them would fail
    with pytest.raises(ConfigError, match="nothing to resume in"):
        run_crossval(make_recipe("name=typo"), datasets, resume=True)


def test_cli_a_missing_data_set_path_says_so(tmp_path, capsys):
    from edgefer.cli.main import main

    config = tmp_path / "tiny.yaml"
    config.write_text("name: tiny\nmodel:\n  name: train_test_tiny\n", encoding="utf-8")
    assert main(["crossval", "--config", str(config), "--data", "garbage", "--data", "folder=x"]) == 2
    err = capsys.readouterr().err
    assert "data set path 'garbage' does not exist; check the path" in err and err.count("\n") == 1


def test_a_matrix_whose_test_split_is_empty_is_refused_before_training(make_recipe, tmp_path):
    ck = write_ckplus48(tmp_path / "ck", subjects=5)
    one_each = _write_folder_set(tmp_path / "folder", per_class=1)  # 60/20/20 of one image: all of it trains
    recipe = make_recipe("train.epochs=1", "name=empty_test", "data.n_folds=3")
    with pytest.raises(DatasetError, match=r"folder's test split \(stratified_60_20_20 protocol\) holds no image"):
        run_crossval(recipe, [("ckplus48", ck), ("folder", one_each)], show_progress=False, figures=False)
    assert not recipe.run_dir.exists()  # nothing trained: what the failed matrix wrote is taken back


def test_a_failed_matrix_leaves_nothing_that_would_refuse_its_retry(make_recipe, tmp_path):
    ck, other = write_ckplus48(tmp_path / "ck", subjects=5), _write_folder_set(tmp_path / "folder")
    (tmp_path / "runs" / "retry").mkdir(parents=True)  # an empty folder is a place to start a run in
    with pytest.raises(ConfigError, match="kfold needs between 3 and"):
        run_crossval(
            make_recipe("name=retry", "data.n_folds=50"),
            [("ckplus48", ck), ("folder", other)],
            protocols={"folder": "kfold"},
            show_progress=False,
            figures=False,
        )
    assert list((tmp_path / "runs" / "retry").iterdir()) == []


def test_a_matrix_refuses_a_folder_holding_other_files(make_recipe, tmp_path):
    run_dir = tmp_path / "runs" / "mine"
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("keep me")
    datasets = [("folder", tmp_path / "a"), ("ckplus48", tmp_path / "b")]  # refused before reading them
    with pytest.raises(OutputError, match=r"holds files that are not an edgefer run's \(notes\.txt\)"):
        run_crossval(make_recipe("name=mine"), datasets)
    assert (run_dir / "notes.txt").read_text() == "keep me"
