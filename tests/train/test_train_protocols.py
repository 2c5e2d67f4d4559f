import csv
import json
import shutil
from pathlib import Path

import pytest
from tinymodels import TINY_WIDE, write_ckplus48

from edgefer.cli.main import main
from edgefer.data import read_dataset
from edgefer.data.manifest import read_manifest, write_manifest
from edgefer.errors import ConfigError, DatasetError, ModelError, OutputError
from edgefer.labels import EMOTIONS
from edgefer.models import create_model, load_weights, save_weights
from edgefer.train.recipe import dump_recipe
from edgefer.train.run import run_recipe


def _subjects(manifest: Path) -> set[str]:
    with open(manifest, newline="", encoding="utf-8") as handle:
        return {row["subject"] for row in csv.DictReader(handle)}


def test_subject_kfold_trains_every_fold_from_scratch_and_reports_mean_and_std(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=6)
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3", "train.epochs=1"
    )
    summary = run_recipe(recipe, show_progress=False, figures=False)
    assert summary["folds"] == 3 and [r["fold"] for r in summary["results"]] == [0, 1, 2]
    tested: set[str] = set()
    for fold in range(3):
        fold_dir = recipe.run_dir / f"fold_{fold:02d}"
        train, val, test = (_subjects(fold_dir / "manifests" / f"{part}.csv") for part in ("train", "val", "test"))
        assert not (train & test) and not (train & val) and not (val & test)
        tested |= test
        report = json.loads((fold_dir / "test" / "report.json").read_text())
        assert report["n_images"] == summary["results"][fold]["n_test"] > 0
        meta = load_weights(fold_dir / "best.pt").weights_meta
        assert meta["metrics"]["test"]["accuracy"] == report["accuracy"]
        assert set(meta["manifest_sha256"]) == {"train", "val", "test"} and meta["fold"] == fold
    assert len(tested) == 6  # every subject is tested exactly once over the folds
    accuracies = [r["test"]["accuracy"] for r in summary["results"]]
    assert summary["accuracy"]["mean"] == pytest.approx(sum(accuracies) / 3)
    assert "± " in (recipe.run_dir / "summary.md").read_text()
    assert (recipe.run_dir / "recipe.yaml").is_file()


def test_training_one_fold_of_a_kfold_run_keeps_the_other_folds_in_the_summary(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=6)
    common = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")
    first = run_recipe(make_recipe(*common, "data.fold=0", "train.epochs=1"), show_progress=False, figures=False)
    assert first["folds"] == 1
    recipe = make_recipe(*common, "data.fold=2", "train.epochs=1")
    summary = run_recipe(recipe, resume=True, show_progress=False, figures=False)
    assert summary["folds"] == 2 and [r["fold"] for r in summary["results"]] == [0, 2]
    assert summary["results"][0] == first["results"][0]
    accuracies = [r["test"]["accuracy"] for r in summary["results"]]
    assert summary["accuracy"]["mean"] == pytest.approx(sum(accuracies) / 2)
    assert json.loads((recipe.run_dir / "summary.json").read_text())["folds"] == 2
    (recipe.run_dir / "fold_00" / "result.json").write_text('{"fold": 0, "te')  # cut short by a crash
    with pytest.warns(UserWarning, match=r"fold_00.result\.json cannot be read .* leaves fold 0 out"):
        summary = run_recipe(make_recipe(*common, "data.fold=1", "train.epochs=1"), resume=True, show_progress=False)
    assert [r["fold"] for r in summary["results"]] == [1, 2]


def test_resuming_with_another_recipe_is_refused_so_that_no_summary_mixes_two_recipes(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=6)
    common = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")
    first = make_recipe(*common, "data.fold=0", "train.epochs=1")
    run_recipe(first, show_progress=False, figures=False)
    before = {path: path.read_bytes() for path in first.run_dir.rglob("*") if path.is_file()}
    other_lr = make_recipe(*common, "data.fold=1", "train.epochs=1", "train.lr=0.5")
    with pytest.raises(ConfigError, match=r"was started with train\.lr=0\.01, this command gives 0\.5; resume with"):
        run_recipe(other_lr, resume=True, show_progress=False, figures=False)
    longer = make_recipe(*common, "data.fold=1", "train.epochs=2", "train.lr=0.5")
    with pytest.raises(ConfigError, match=r"train\.epochs=1, this command gives 2 \(and 1 other setting\(s\)\)"):
        run_recipe(longer, resume=True, show_progress=False, figures=False)
    assert {path: path.read_bytes() for path in first.run_dir.rglob("*") if path.is_file()} == before
    # speed settings and the fold may change
    faster = make_recipe(*common, "data.fold=1", "train.epochs=1", "train.threads=2", "train.eval_batch_size=7")
    assert run_recipe(faster, resume=True, show_progress=False, figures=False)["folds"] == 2


def test_each_fold_distils_from_the_teacher_trained_on_its_own_split(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=6)
    common = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")
    teachers = make_recipe(*common, "name=teachers", f"model.name={TINY_WIDE}", "train.epochs=1")
    run_recipe(teachers, show_progress=False, figures=False)
    per_fold = str(teachers.run_dir / "{fold}" / "best.pt")
    student = make_recipe(*common, "name=student", f"distill.teacher={per_fold}", "train.epochs=1")
    summary = run_recipe(student, show_progress=False, figures=False)
    assert summary["folds"] == 3
    for fold in range(3):
        used = load_weights(student.run_dir / f"fold_{fold:02d}" / "best.pt").weights_meta["recipe"]["distill"]
        assert used["teacher"] == str(teachers.run_dir / f"fold_{fold:02d}" / "best.pt")
    assert "{fold}" in (student.run_dir / "recipe.yaml").read_text()  # the command as given

    (teachers.run_dir / "fold_01" / "best.pt").unlink()  # a missing fold's teacher fails before any training
    again = make_recipe(*common, "name=again", f"distill.teacher={per_fold}", "train.epochs=1")
    with pytest.raises(ModelError, match="fold_01"):
        run_recipe(again, show_progress=False, figures=False)
    assert not again.run_dir.exists()
    single = make_recipe(*common[:2], "data.protocol=stratified_60_20_20", f"distill.teacher={per_fold}")
    no_folds = r"names a teacher per fold \(\{fold\}\), but this run has no folds; .* files without \{fold\}$"
    with pytest.raises(ConfigError, match=no_folds):
        run_recipe(single, show_progress=False, figures=False)


def test_loso_has_one_fold_per_subject(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=4, per_class=1)
    recipe = make_recipe("data.dataset=ckplus48", f"data.root={root}", "data.protocol=loso", "train.epochs=1")
    summary = run_recipe(recipe, show_progress=False, figures=False)
    assert summary["folds"] == 4
    assert [len(_subjects(recipe.run_dir / f"fold_{f:02d}" / "manifests" / "test.csv")) for f in range(4)] == [1] * 4


def test_a_manifest_trains_on_the_same_split_as_the_data_set_it_lists(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=4, per_class=1)
    listed = write_manifest(tmp_path / "all.csv", read_dataset("ckplus48", root))
    split = ("data.protocol=subject_kfold", "data.n_folds=3", "data.fold=0", "train.epochs=1")
    runs = {}
    for name, dataset, data_root in (("direct", "ckplus48", root), ("listed", "manifest", listed)):
        recipe = make_recipe(f"name={name}", f"data.dataset={dataset}", f"data.root={data_root}", *split)
        assert run_recipe(recipe, show_progress=False, figures=False)["folds"] == 1
        runs[name] = [
            sorted(s.path for s in read_manifest(recipe.run_dir / "fold_00" / "manifests" / f"{part}.csv"))
            for part in ("train", "val", "test")
        ]
    assert runs["listed"] == runs["direct"] and all(runs["direct"])


def test_single_split_protocol_writes_into_the_run_folder_and_refuses_to_overwrite(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=stratified_60_20_20", "train.epochs=1"
    )
    summary = run_recipe(recipe, show_progress=False, figures=False)
    assert summary["folds"] == 1 and (recipe.run_dir / "best.pt").is_file()
    with pytest.raises(ConfigError, match="already holds a run; continue it with --resume"):
        run_recipe(recipe, show_progress=False, figures=False)
    assert run_recipe(recipe, resume=True, show_progress=False, figures=False)["results"] == summary["results"]


def test_a_refused_run_writes_nothing_and_resume_needs_something_to_resume(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    base = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=stratified_60_20_20", "train.epochs=1")
    recipe = make_recipe(*base)
    run_recipe(recipe, show_progress=False, figures=False)
    before = {path: path.read_bytes() for path in recipe.run_dir.rglob("*") if path.is_file()}
    with pytest.raises(ConfigError, match="already holds a run; continue it with --resume"):
        run_recipe(make_recipe(*base, "train.lr=0.5"), show_progress=False, figures=False)
    assert {path: path.read_bytes() for path in recipe.run_dir.rglob("*") if path.is_file()} == before
    typo = make_recipe(*base, "name=tinny")
    with pytest.raises(ConfigError, match=r"nothing to resume in .*tinny: .*; drop --resume to start a new run"):
        run_recipe(typo, resume=True, show_progress=False, figures=False)
    assert not typo.run_dir.exists()
    # a run that stopped before its first checkpoint (only its recipe written) is refused afresh, resumed by --resume
    stopped = make_recipe(*base, "name=stopped")
    dump_recipe(stopped, stopped.run_dir / "recipe.yaml")
    with pytest.raises(ConfigError, match="already holds a run"):
        run_recipe(stopped, show_progress=False, figures=False)
    assert run_recipe(stopped, resume=True, show_progress=False, figures=False)["folds"] == 1


def test_a_new_run_that_fails_before_its_first_checkpoint_leaves_nothing_that_blocks_the_fixed_retry(
    make_recipe, tmp_path
):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    base = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")
    teacher = save_weights(tmp_path / "t.pt", create_model(TINY_WIDE, num_classes=7), EMOTIONS)
    wrong_teacher = make_recipe(*base, "train.epochs=1", f"distill.teacher={teacher}")  # fails once classes are known
    with pytest.raises(ModelError, match="but the student is trained on"):
        run_recipe(wrong_teacher, show_progress=False, figures=False)
    assert not wrong_teacher.run_dir.exists()
    wrong_teacher.run_dir.mkdir(parents=True)  # an empty folder that was there before: kept, and emptied again
    with pytest.raises(ModelError, match="but the student is trained on"):
        run_recipe(wrong_teacher, show_progress=False, figures=False)
    assert wrong_teacher.run_dir.is_dir() and list(wrong_teacher.run_dir.iterdir()) == []
    assert run_recipe(make_recipe(*base, "train.epochs=1", "data.fold=0"), show_progress=False)["folds"] == 1


def test_a_new_run_that_fails_keeps_the_folder_when_another_process_checkpointed_a_fold_in_it(
    make_recipe, tmp_path, monkeypatch
):
    from edgefer.train import run

    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3", "data.fold=0"
    )
    other = recipe.run_dir / "fold_01" / "checkpoint.pt"

    def fold_1_checkpointed_meanwhile(*args, **kwargs):  # by `--set data.fold=1 --resume` in another process
        other.parent.mkdir(parents=True)
        other.write_bytes(b"fold 1")
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_fold", fold_1_checkpointed_meanwhile)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, show_progress=False, figures=False)
    assert other.read_bytes() == b"fold 1" and (recipe.run_dir / "recipe.yaml").is_file()


def test_a_new_run_that_fails_takes_back_only_its_own_fold_when_another_fold_started_meanwhile(
    make_recipe, tmp_path, monkeypatch
):
    from edgefer.train import run

    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    recipe_args = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")
    recipe = make_recipe(*recipe_args)  # every fold, this process starting with fold 0
    other = recipe.run_dir / "fold_01" / "train.log"

    def fold_1_started_meanwhile(*args, **kwargs):  # `--set data.fold=1 --resume` elsewhere, before its checkpoint
        other.parent.mkdir(parents=True)
        other.write_text("epoch 1")
        (recipe.run_dir / "fold_00").mkdir()
        (recipe.run_dir / "fold_00" / "train.log").write_text("epoch 1")
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_fold", fold_1_started_meanwhile)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, show_progress=False, figures=False)
    assert other.read_text() == "epoch 1" and (recipe.run_dir / "recipe.yaml").is_file()
    assert not (recipe.run_dir / "fold_00").exists()

    alone = make_recipe(*recipe_args, "name=alone")

    def fold_0_started(*args, **kwargs):
        (alone.run_dir / "fold_00").mkdir()
        (alone.run_dir / "fold_00" / "train.log").write_text("epoch 1")
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_fold", fold_0_started)
    with pytest.raises(KeyboardInterrupt):  # alone, it takes back the whole folder it made
        run_recipe(alone, show_progress=False, figures=False)
    assert not alone.run_dir.exists()


def test_a_failed_run_whose_folder_is_gone_reports_its_own_error(make_recipe, tmp_path, monkeypatch):
    from edgefer.train import run

    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    recipe = make_recipe("data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3")

    def folder_removed_then_stopped(*args, **kwargs):
        shutil.rmtree(recipe.run_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "train_fold", folder_removed_then_stopped)
    with pytest.raises(KeyboardInterrupt):  # not a FileNotFoundError from taking back what is already gone
        run_recipe(recipe, show_progress=False, figures=False)


def test_a_run_stopped_after_its_first_checkpoint_keeps_its_folder_to_resume(make_recipe, tmp_path, monkeypatch):
    from edgefer.train import run

    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3", "train.epochs=1"
    )
    train_fold = run.train_fold

    def stopped_in_fold_1(*args, **kwargs):
        if args[5] == 1:
            raise KeyboardInterrupt
        return train_fold(*args, **kwargs)

    monkeypatch.setattr(run, "train_fold", stopped_in_fold_1)
    with pytest.raises(KeyboardInterrupt):
        run_recipe(recipe, show_progress=False, figures=False)
    assert (recipe.run_dir / "recipe.yaml").is_file() and (recipe.run_dir / "fold_00" / "result.json").is_file()


def test_resume_redoes_what_a_fold_interrupted_before_its_result_misses(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=subject_kfold", "data.n_folds=3", "data.fold=0"
    )
    first = run_recipe(recipe, show_progress=False, figures=False)["results"]
    fold_dir = recipe.run_dir / "fold_00"
    history = (fold_dir / "history.json").read_bytes()
    for cut_short in ("", '{"fold": 0, "te'):  # interrupted before result.json was written, or while it was
        if cut_short:
            (fold_dir / "result.json").write_text(cut_short)
        else:
            (fold_dir / "result.json").unlink()
        assert (fold_dir / "test" / "report.json").is_file()
        assert run_recipe(recipe, resume=True, show_progress=False, figures=False)["results"] == first
        assert json.loads((fold_dir / "result.json").read_text()) == first[0]
        assert (fold_dir / "history.json").read_bytes() == history  # tested again, not trained again


def test_a_checkpoint_that_cannot_be_read_names_the_fix_that_works(make_recipe, tmp_path, capsys):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    config = _write_config(tmp_path, dataset="ckplus48", root=str(root), protocol="subject_kfold", n_folds="3")
    command = ["train", "--config", str(config), "--quiet", "--set", "data.fold=1"]
    assert main([*command, "--set", "data.fold=0"]) == 0
    checkpoint = tmp_path / "runs" / "tiny" / "fold_01" / "checkpoint.pt"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"PK\x03\x04 cut short")
    capsys.readouterr()
    assert main([*command, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot read checkpoint" in err and "delete it and run the same command with --resume: " in err
    checkpoint.unlink()
    assert main([*command, "--resume"]) == 0
    assert "Test accuracy over 2 fold(s)" in capsys.readouterr().out


def test_an_unknown_model_fails_before_the_data_set_is_read(make_recipe, tmp_path, monkeypatch):
    import dataclasses

    from edgefer.errors import ModelError
    from edgefer.train import run

    with pytest.raises(ModelError, match=r"model\.name: unknown model 'tiny_typo'"):
        make_recipe("model.name=tiny_typo")
    recipe = make_recipe(f"data.root={tmp_path}")
    recipe = dataclasses.replace(recipe, model=dataclasses.replace(recipe.model, name="tiny_typo"))  # unvalidated
    monkeypatch.setattr(run, "read_dataset", lambda *args: pytest.fail("the data set was read first"))
    with pytest.raises(ModelError, match="unknown model 'tiny_typo'"):
        run.run_recipe(recipe, show_progress=False)
    assert not recipe.run_dir.exists()
    bad_kwargs = make_recipe(f"data.root={tmp_path}", "model.kwargs={no_such_option: 3}")
    with pytest.raises(ConfigError, match=r"cannot be built from the recipe's model section .*fix model\.kwargs"):
        run.run_recipe(bad_kwargs, show_progress=False)
    assert not bad_kwargs.run_dir.exists()


def test_train_manifest_filters_training_only(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    base = ("data.dataset=ckplus48", f"data.root={root}", "data.protocol=stratified_60_20_20", "train.epochs=1")
    full = make_recipe(*base, "name=full")
    run_recipe(full, show_progress=False, figures=False)
    parts = {part: read_manifest(full.run_dir / "manifests" / f"{part}.csv") for part in ("train", "val", "test")}
    kept = parts["train"][::2] + parts["test"][:1]  # a "clean" list: half the training images and a test image
    write_manifest(tmp_path / "clean.csv", kept)
    cleaned = make_recipe(*base, "name=cleaned", f"data.train_manifest={tmp_path / 'clean.csv'}")
    run_recipe(cleaned, show_progress=False, figures=False)
    for part in ("train", "val", "test"):
        got = [s.path for s in read_manifest(cleaned.run_dir / "manifests" / f"{part}.csv")]
        assert got == [s.path for s in (parts["train"][::2] if part == "train" else parts[part])]
    write_manifest(tmp_path / "other.csv", parts["test"])
    with pytest.raises(DatasetError, match=r"lists none of the \d+ training images"):
        run_recipe(make_recipe(*base, "name=none", f"data.train_manifest={tmp_path / 'other.csv'}"))


def _write_config(tmp_path: Path, **data: str) -> Path:
    body = "\n".join(f"  {key}: {value}" for key, value in data.items())
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"name: tiny\nmodel:\n  name: train_test_tiny\ndata:\n{body}\ntrain:\n  epochs: 1\n  threads: 1\n  lr: 1e-2\n",
        encoding="utf-8",
    )
    return config


def test_cli_trains_and_prints_the_summary(tmp_path, capsys):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    config = _write_config(tmp_path, dataset="ckplus48", root=str(root), protocol="stratified_60_20_20")
    assert main(["train", "--config", str(config), "--quiet", "--set", "augment.erasing=0.5"]) == 0
    out = capsys.readouterr().out
    assert "Test accuracy over 1 fold(s)" in out and "outputs in runs/tiny" in out
    for figure in ("curves.png", "test/confusion_matrix.png"):
        assert (tmp_path / "runs" / "tiny" / figure).read_bytes()[:4] == b"\x89PNG"


def test_fold_field_is_replaced_in_each_file_of_an_ensemble_teacher(make_recipe):
    from edgefer.train.run import fold_recipe

    recipe = make_recipe('distill.teacher=["t/{fold}/best.pt", shared.pt]')  # YAML: quote a name with braces
    assert fold_recipe(recipe, 2).distill.teacher == ["t/fold_02/best.pt", "shared.pt"]
    assert fold_recipe(make_recipe("distill.teacher=t/{fold}/best.pt"), 0).distill.teacher == "t/fold_00/best.pt"


def test_a_teacher_named_twice_once_the_fold_is_filled_in_is_refused(make_recipe):
    from edgefer.train.run import fold_recipe

    recipe = make_recipe('distill.teacher=["t/{fold}/best.pt", t/fold_01/best.pt]')
    assert fold_recipe(recipe, 0).distill.teacher == ["t/fold_00/best.pt", "t/fold_01/best.pt"]
    with pytest.raises(ConfigError, match=r"in fold 1, one file twice, .*; name each teacher once in every fold$"):
        fold_recipe(recipe, 1)


def test_cli_repeated_teacher_names_an_ensemble_and_each_file_is_checked_before_training(tmp_path, capsys):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    config = _write_config(tmp_path, dataset="ckplus48", root=str(root), protocol="subject_kfold", n_folds="3")
    teacher = save_weights(tmp_path / "t.pt", create_model(TINY_WIDE, num_classes=7), EMOTIONS)
    assert main(["train", "--config", str(config), "--quiet", "--teacher", "gone.pt", "--teacher", str(teacher)]) == 2
    err = capsys.readouterr().err
    assert "weights file 'gone.pt' does not exist" in err and not (tmp_path / "runs" / "tiny" / "fold_00").exists()
    twice = ["--teacher", str(teacher), "--teacher", str(teacher)]
    assert main(["train", "--config", str(config), "--quiet", *twice]) == 2
    assert "names a file twice" in capsys.readouterr().err  # --teacher is checked like distill.teacher


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "train.epochs=two"], "'train.epochs' must be of type int"),
        (["--set", "data.root=missing"], "data set folder 'missing' does not exist"),
        (["--set", "data.fold=7"], "data.fold 7 is out of range"),
        (["--resume"], "nothing to resume in runs/tiny: "),
        (["--set", "model.name=lightcn"], "model.name: unknown model 'lightcn'; did you mean lightcnn"),
        (["--set", "train.weight_decay=-1"], "train.weight_decay must be 0 (off) or positive"),
        (["--set", "train.optimizer=sgd", "--set", "train.momentum=-1"], "train.momentum (SGD) must be in [0, 1)"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=1)
    config = _write_config(tmp_path, dataset="ckplus48", root=str(root), protocol="subject_kfold", n_folds="3")
    assert main(["train", "--config", str(config), "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "runs" / "tiny").exists()


def test_a_new_run_refuses_a_folder_holding_other_files_and_overwrites_nothing(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    recipe = make_recipe("data.dataset=ckplus48", f"data.root={root}", "data.protocol=stratified_60_20_20")
    recipe.run_dir.mkdir(parents=True)
    (recipe.run_dir / "best.pt").write_bytes(b"precious")
    with pytest.raises(OutputError, match=r"tiny holds files that are not an edgefer run's \(best\.pt\)"):
        run_recipe(recipe, show_progress=False, figures=False)
    assert (recipe.run_dir / "best.pt").read_bytes() == b"precious"


def test_classes_the_training_images_do_not_have_are_named_as_the_problem(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)  # anger, happy and surprise only
    recipe = make_recipe(
        "data.dataset=ckplus48", f"data.root={root}", "data.protocol=stratified_60_20_20", "data.classes=[fear, sad]"
    )
    with pytest.raises(DatasetError, match=r"none of the \d+ training images is of the classes fear, sad; set"):
        run_recipe(recipe, show_progress=False, figures=False)
    assert not recipe.run_dir.exists()


def test_a_run_folder_that_cannot_be_made_is_refused_before_training(make_recipe, tmp_path):
    root = write_ckplus48(tmp_path / "ck", subjects=5, per_class=4)
    (tmp_path / "afile").write_text("")
    recipe = make_recipe(
        "data.dataset=ckplus48",
        f"data.root={root}",
        "data.protocol=stratified_60_20_20",
        f"output_dir={tmp_path}/afile",
    )
    with pytest.raises(OutputError, match=r"cannot create the folder .*afile/tiny.*; choose a writable path"):
        run_recipe(recipe, show_progress=False, figures=False)
