"""One recipe, end to end: read the data set, split it by the recipe's protocol, train every fold from scratch,
test each fold's best weights on its test split, and summarise the folds (mean ± std).

Layout of ``runs/<name>/``: ``recipe.yaml`` (resolved), then per fold (directly in the run folder when the
protocol has a single split, in ``fold_XX/`` otherwise) ``manifests/{train,val,test}.csv``, the trainer's files,
and ``test/report.json`` + ``test/confusion_matrix.png``; ``summary.json``/``summary.md`` over all folds.

Protocols (the splits themselves are the data layer's ``split_samples``): FER2013 ``official`` selects on
PublicTest and reports PrivateTest; CK+ ``subject_kfold`` (10 folds of whole subjects); JAFFE ``loso`` (one fold
per subject); ``stratified_60_20_20``. Folds of k-fold protocols use the next fold as val, so best.pt is selected
on data neither trained on nor reported.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from edgefer.data.cache import load_arrays
from edgefer.data.manifest import manifest_hash, read_manifest, write_manifest
from edgefer.data.readers import read_dataset
from edgefer.data.records import Sample
from edgefer.data.splits import fold_count, fold_folder, split_samples
from edgefer.errors import ConfigError, DatasetError, OutputError
from edgefer.evaluate.inference import predict_probs
from edgefer.evaluate.metrics import classification_report
from edgefer.evaluate.report import mean_std_percent, write_report
from edgefer.labels import EMOTIONS_WITH_CONTEMPT, canonical_name
from edgefer.models.registry import model_entry
from edgefer.models.weights import load_weights, save_weights
from edgefer.outputs import check_writable_folder
from edgefer.train.distributed import DistContext, barrier
from edgefer.train.finetune import check_init
from edgefer.train.recipe import RESUMABLE_SETTINGS, Recipe, dump_recipe, load_recipe, recipe_changes
from edgefer.train.trainer import ArraySplit, Trainer

CHECKPOINT = "checkpoint.pt"  # the trainer's state after each epoch: a fold that has one has started
RECIPE_FILE = "recipe.yaml"  # the resolved recipe, written into a run's folder before anything else
RESULT_FILE = "result.json"  # a fold's result, written last: a fold that has a readable one has finished


class RunWarning(UserWarning):
    """Part of a run's earlier output cannot be used (the summary leaves it out)."""


def git_commit() -> str | None:
    """The commit of the source tree edgefer runs from (``-dirty`` when it has uncommitted changes), or None."""
    where = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def resolve_classes(recipe: Recipe, train: Sequence[Sample]) -> tuple[str, ...]:
    """``data.classes`` in canonical order, or (when unset) the classes present in the training split."""
    if recipe.data.classes is not None:
        names = {canonical_name(name) for name in recipe.data.classes}
    else:
        names = {EMOTIONS_WITH_CONTEMPT[sample.label] for sample in train}
    if len(names) < 2:
        raise ConfigError(f"training needs at least 2 classes, got {sorted(names)}; check data.classes and the data")
    return tuple(name for name in EMOTIONS_WITH_CONTEMPT if name in names)


def keep_classes(samples: Sequence[Sample], classes: Sequence[str]) -> list[Sample]:
    """The samples whose label is one of ``classes`` (the others are left out of training and testing)."""
    wanted = {EMOTIONS_WITH_CONTEMPT.index(name) for name in classes}
    return [sample for sample in samples if sample.label in wanted]


def to_split(
    samples: Sequence[Sample], classes: Sequence[str], image_size: tuple[int, int], progress: bool = True
) -> ArraySplit:
    """Cached uint8 arrays of ``samples``, labels re-indexed into ``classes``."""
    if not samples:
        return ArraySplit(np.zeros((0, *image_size), np.uint8), np.zeros(0, np.int64))
    images, labels = load_arrays(samples, image_size, progress=progress)
    lookup = np.full(len(EMOTIONS_WITH_CONTEMPT), -1, np.int64)
    lookup[[EMOTIONS_WITH_CONTEMPT.index(name) for name in classes]] = np.arange(len(classes))
    return ArraySplit(images, lookup[labels])


def listed_paths(manifest: str) -> set[str]:
    """The resolved image paths a manifest lists (``data.train_manifest``), read once per run."""
    return {os.path.realpath(sample.path) for sample in read_manifest(manifest) if sample.path}


FOLD_FIELD = "{fold}"  # in a distill.teacher file name: each fold's folder name


def fold_recipe(recipe: Recipe, fold: int | None) -> Recipe:
    """``recipe`` as fold ``fold`` trains it: ``{fold}`` in ``distill.teacher`` replaced by the fold's folder."""
    teachers = recipe.distill.teacher_files()
    if not any(FOLD_FIELD in teacher for teacher in teachers):
        return recipe
    if fold is None:
        raise ConfigError(
            f"distill.teacher {recipe.distill.teacher!r} names a teacher per fold ({FOLD_FIELD}), but this run has no "
            f"folds; use a k-fold protocol (subject_kfold, kfold, loso) or name teacher files without {FOLD_FIELD}"
        )
    folded = [teacher.replace(FOLD_FIELD, fold_folder(fold)) for teacher in teachers]
    if len(set(folded)) < len(folded):
        raise ConfigError(
            f"distill.teacher {recipe.distill.teacher!r} names {folded} in fold {fold}, one file twice, which would "
            "weigh it double; name each teacher once in every fold"
        )
    teacher = folded[0] if isinstance(recipe.distill.teacher, str) else folded
    return replace(recipe, distill=replace(recipe.distill, teacher=teacher))


def check_fold_teachers(recipe: Recipe, folds: Iterable[int | None]) -> None:
    """Read the teachers of each of ``folds`` that ``distill.teacher`` names per fold (``fold_recipe``); those named
    once are read by ``check_named_files``."""
    named = recipe.distill.teacher_files()
    if any(FOLD_FIELD in teacher for teacher in named):
        for fold in folds:
            folded = fold_recipe(recipe, fold).distill.teacher_files()  # refuses a fold of None: a run without folds
            for teacher, path in zip(named, folded, strict=True):
                if FOLD_FIELD in teacher:
                    load_weights(path)


def check_named_files(recipe: Recipe) -> set[str] | None:
    """Read the files a recipe names besides the data set before any image is decoded, so that a wrong one fails at
    once with its own error: ``model.init`` must fit the recipe's model, ``distill.teacher`` and
    ``data.train_manifest`` must be readable (a teacher per fold is checked by ``check_fold_teachers`` once the
    folds are known; whether the teacher predicts the training classes is only known once the data set is read:
    ``Teacher.load`` checks it). Returns the training manifest's paths (None without one). ``model.name`` must be a
    registered model (``recipe_from_dict`` checks it too; a recipe built otherwise may not have been), and the model
    must build with ``model.kwargs``, ``in_chans`` and ``img_size``."""
    model_entry(recipe.model.name)
    if recipe.model.init:
        check_init(recipe.model)
    else:
        try:
            recipe.model.build(num_classes=len(EMOTIONS_WITH_CONTEMPT))
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"model {recipe.model.name!r} cannot be built from the recipe's model section ({error}); "
                "fix model.kwargs, model.in_chans or model.img_size"
            ) from None
    for teacher in recipe.distill.teacher_files():
        if FOLD_FIELD not in teacher:
            load_weights(teacher)
    return listed_paths(recipe.data.train_manifest) if recipe.data.train_manifest else None


def restrict_training(parts: dict[str, list[Sample]], listed: set[str], manifest: str) -> dict[str, list[Sample]]:
    """``parts`` with the training split reduced to the ``listed`` paths of ``manifest`` (val and test untouched)."""
    train = [sample for sample in parts["train"] if sample.path and os.path.realpath(sample.path) in listed]
    if not train:
        raise DatasetError(
            f"data.train_manifest {manifest!r} lists none of the {len(parts['train'])} training images; "
            "write it from the same data set folder (edgefer data audit DATA --clean-manifest FILE)"
        )
    return {**parts, "train": train}


def model_image_size(recipe: Recipe) -> tuple[int, int]:
    size = recipe.model.img_size or model_entry(recipe.model.name).default_img_size
    return size, size


def test_model(
    weights: Path,
    test: ArraySplit,
    classes: Sequence[str],
    out_dir: Path,
    batch_size: int,
    title: str,
    figures: bool = True,
) -> dict[str, Any]:
    """Report of ``weights`` on the test split, written to ``out_dir`` (report.json, confusion_matrix.png)."""
    model = load_weights(weights)
    probs = predict_probs(model, np.asarray(test.images), batch_size=batch_size)
    report = classification_report(test.labels, probs.argmax(axis=1), list(classes))
    if figures:
        write_report(report, out_dir, title=title)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def train_fold(
    recipe: Recipe,
    parts: dict[str, list[Sample]],
    out_dir: Path,
    resume: bool,
    context: DistContext,
    fold: int | None = None,
    classes: Sequence[str] | None = None,
    show_progress: bool = True,
    figures: bool = True,
) -> dict[str, Any]:
    """Train one split from scratch (or resume it), test best.pt, and return the fold's result.

    ``figures=False`` skips the PNGs (curves, confusion matrix; ~1 s each here), e.g. for many LOSO folds."""
    classes = tuple(classes or resolve_classes(recipe, parts["train"]))
    kept = {name: keep_classes(samples, classes) for name, samples in parts.items()}
    if parts["train"] and not kept["train"]:
        raise DatasetError(
            f"none of the {len(parts['train'])} training images is of the classes {', '.join(classes)}; set "
            "data.classes to classes the data set has, or to null for all of them"
        )
    parts = kept
    finished = _finished_result(out_dir) if resume else None
    if finished is not None:
        return finished
    checkpoint = out_dir / CHECKPOINT  # a new run over an earlier one was refused by check_run_folder
    hashes = {name: manifest_hash(samples) for name, samples in parts.items()}
    size = model_image_size(recipe)
    # Rank 0 fills the tensor cache first, so that ranks never decode the same images at once.
    if context.is_main:
        for name, samples in parts.items():
            write_manifest(out_dir / "manifests" / f"{name}.csv", samples)
        splits = {name: to_split(samples, classes, size, show_progress) for name, samples in parts.items()}
    barrier(context)
    if not context.is_main:
        splits = {name: to_split(samples, classes, size, show_progress) for name, samples in parts.items()}
    meta = {
        "dataset": recipe.data.dataset,
        "protocol": recipe.data.protocol,
        "fold": fold,
        "manifest_sha256": hashes,
        "commit": git_commit(),
    }
    trainer = Trainer(recipe, classes, out_dir, context, meta, show_progress=show_progress, write_curves=figures)
    if resume and checkpoint.exists():
        trainer.resume()
    trainer.fit(splits["train"], splits["val"] if len(splits["val"]) else None)
    result: dict[str, Any] = {
        "fold": fold,
        "classes": list(classes),
        "best_epoch": trainer.best_epoch,
        "val_accuracy": trainer.history[trainer.best_epoch - 1]["val_acc"],
        "n_train": len(splits["train"]),
        "n_val": len(splits["val"]),
        "n_test": len(splits["test"]),
        "test": None,
    }
    if context.is_main and len(splits["test"]):
        report = test_model(
            out_dir / "best.pt",
            splits["test"],
            classes,
            out_dir / "test",
            recipe.train.eval_batch_size,
            f"{recipe.name} test",
            figures,
        )
        result["test"] = {key: report[key] for key in ("accuracy", "macro_f1", "n_images")}
        best = load_weights(out_dir / "best.pt")  # its classes and meta as written, read once
        save_weights(out_dir / "best.pt", best, best.classes, {**best.weights_meta, "metrics": result})
    if context.is_main:
        (out_dir / RESULT_FILE).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    barrier(context)
    return result


def _finished_result(out_dir: Path) -> dict[str, Any] | None:
    """The result of a fold that finished, or None. A fold interrupted before its result was written whole (e.g.
    between its test report and its result) is not finished: resuming it redoes from its last checkpoint only what
    is missing (the test, when every epoch was trained)."""
    try:
        return json.loads((out_dir / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation (sample std, n − 1; 0 for one fold) of test accuracy and macro-F1 over folds."""
    tested = [result["test"] for result in results if result["test"]]
    summary: dict[str, Any] = {"folds": len(results), "results": list(results)}
    for key in ("accuracy", "macro_f1"):
        values = [test[key] for test in tested]
        if values:
            summary[key] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            }
    return summary


def summary_markdown(recipe: Recipe, summary: dict[str, Any]) -> str:
    lines = [
        f"# {recipe.name}: {recipe.model.name} on {recipe.data.dataset}, protocol {recipe.data.protocol}",
        "",
        "| fold | best epoch | val acc | test acc | test macro-F1 | test images |",
        "|---|---|---|---|---|---|",
    ]
    for result in summary["results"]:
        test = result["test"] or {}
        val = result["val_accuracy"]
        lines.append(
            f"| {result['fold'] if result['fold'] is not None else '-'} | {result['best_epoch']} | "
            f"{'-' if val is None else f'{100 * val:.2f}%'} | "
            + (
                f"{100 * test['accuracy']:.2f}% | {100 * test['macro_f1']:.2f}% | {test['n_images']} |"
                if test
                else "- | - | 0 |"
            )
        )
    for key, label in (("accuracy", "accuracy"), ("macro_f1", "macro-F1")):
        if key in summary:
            lines.append(
                f"\nTest {label} over {summary['folds']} fold(s): "
                + mean_std_percent(summary[key]["mean"], summary[key]["std"])
            )
    return "\n".join(lines) + "\n"


def check_run_folder(run_dir: Path, fold_dirs: Sequence[Path], resume: bool, recipe: Recipe) -> None:
    """Refuse a new run where an earlier one is (its ``recipe.yaml``, written first, or a fold's checkpoint), unless
    ``resume``; ``resume`` where there is no earlier run (a mistyped name); a new run in a folder that holds anything
    else (which it would overwrite); and ``resume`` with another recipe than the earlier one's (only
    ``RESUMABLE_SETTINGS`` may change): so that none of them writes anything before failing. A run that stopped
    before its first checkpoint resumes by starting again."""
    earlier_recipe = run_dir / RECIPE_FILE
    earlier = earlier_recipe.is_file() or any((out_dir / CHECKPOINT).exists() for out_dir in fold_dirs)
    if earlier and not resume:
        raise ConfigError(
            f"{run_dir} already holds a run; continue it with --resume, or start a new one with "
            "--set name=<another name>"
        )
    if resume and not earlier:
        raise ConfigError(
            f"nothing to resume in {run_dir}: no run was started there; drop --resume to start a new run, or check "
            "the run's name (--set name=...) and output_dir"
        )
    if run_dir.is_file():
        raise OutputError(f"{run_dir} is a file; start the run under another name with --set name=<another name>")
    others = sorted(entry.name for entry in run_dir.iterdir()) if run_dir.is_dir() and not earlier else []
    if others:
        raise OutputError(
            f"{run_dir} holds files that are not an edgefer run's ({', '.join(others[:3])}"
            f"{', ...' if len(others) > 3 else ''}), which a new run would overwrite; move them away or start the "
            "run under another name with --set name=<another name>"
        )
    changes = recipe_changes(load_recipe(earlier_recipe), recipe) if resume and earlier_recipe.is_file() else []
    if changes:
        key, before, after = changes[0]
        more = f" (and {len(changes) - 1} other setting(s))" if len(changes) > 1 else ""
        raise ConfigError(
            f"{run_dir} was started with {key}={before!r}, this command gives {after!r}{more}; resume with the "
            f"recipe in {earlier_recipe} (only {', '.join(RESUMABLE_SETTINGS)} may change), or start a new run "
            "with --set name=<another name>"
        )


@contextmanager
def recipe_written(recipe: Recipe, resume: bool, context: DistContext) -> Iterator[list[Path]]:
    """Write the run's ``recipe.yaml`` for the block, which lists in the yielded list each folder it starts writing
    into. A new run that fails or is stopped in the block before any first checkpoint in its folder takes back what
    it wrote (the folder was absent or empty: ``check_run_folder``): nothing was trained, and a recipe left behind
    would have the retry refused (a new run as one to --resume, --resume with the fixed recipe as another recipe).
    It takes back only the folders it listed, then the recipe and the run folder if nothing else is left in them:
    another process may have started another fold of the run with --resume meanwhile. A checkpoint anywhere in the
    run folder keeps everything."""
    run_dir = recipe.run_dir
    created = not run_dir.exists()
    if context.is_main:
        check_writable_folder(run_dir)  # a one-line refusal, not an OSError from the first file written
        dump_recipe(recipe, run_dir / RECIPE_FILE)
    started: list[Path] = []
    try:
        yield started
    except BaseException:
        trained = (run_dir / CHECKPOINT).exists() or any(run_dir.glob(f"*/{CHECKPOINT}"))
        if context.is_main and not resume and not trained:
            try:
                _take_back(run_dir, started, created)
            except OSError as error:  # the failure that got here is the one to report
                warnings.warn(f"could not remove what the failed run wrote in {run_dir}: {error}", RunWarning, 2)
        raise


def _take_back(run_dir: Path, started: Sequence[Path], created: bool) -> None:
    """Remove what a new run that trained nothing wrote: the folders it started (all of ``run_dir`` where it trains
    there), then its recipe and ``run_dir`` (if it made it) once nothing another process wrote is left beside them."""
    if not run_dir.is_dir():
        return
    for folder in started:
        if folder == run_dir:
            for entry in run_dir.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if {entry.name for entry in run_dir.iterdir()} <= {RECIPE_FILE}:
        (run_dir / RECIPE_FILE).unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # written into meanwhile: keep it
                run_dir.rmdir()


def run_recipe(
    recipe: Recipe,
    resume: bool = False,
    context: DistContext | None = None,
    show_progress: bool = True,
    figures: bool = True,
) -> dict[str, Any]:
    """Train and test every fold the recipe asks for; return (and write) the summary."""
    context = context or DistContext()
    root = Path(recipe.data.root)
    if not root.exists():
        raise DatasetError(
            f"data set folder {str(root)!r} does not exist; set data.root to where "
            f"{recipe.data.dataset} lies (--set data.root=PATH)"
        )
    listed = check_named_files(recipe)
    samples = read_dataset(recipe.data.dataset, root)
    n_folds = None if recipe.data.protocol == "loso" else recipe.data.n_folds
    count = fold_count(samples, recipe.data.protocol, n_folds)
    folds = [recipe.data.fold] if recipe.data.fold is not None else list(range(count))
    if any(fold >= count for fold in folds):
        raise ConfigError(
            f"data.fold {recipe.data.fold} is out of range: {recipe.data.protocol} has {count} "
            f"fold(s) here; use 0..{count - 1} or null for all"
        )
    fold_ids = {fold: fold if count > 1 else None for fold in folds}
    check_fold_teachers(recipe, fold_ids.values())
    run_dir = recipe.run_dir
    fold_dirs = {fold: run_dir / fold_folder(fold) if count > 1 else run_dir for fold in folds}
    check_run_folder(run_dir, list(fold_dirs.values()), resume, recipe)  # before anything is written into it
    barrier(context)  # every process has checked the folder before the main one writes the recipe into it
    results = []
    with recipe_written(recipe, resume, context) as started:
        for fold in folds:
            started.append(fold_dirs[fold])
            parts = split_samples(samples, recipe.data.protocol, recipe.data.seed, fold, n_folds)
            if listed is not None:
                parts = restrict_training(parts, listed, recipe.data.train_manifest)
            results.append(
                train_fold(
                    fold_recipe(recipe, fold_ids[fold]),
                    parts,
                    fold_dirs[fold],
                    resume,
                    context,
                    fold_ids[fold],
                    show_progress=show_progress,
                    figures=figures,
                )
            )
    if count > 1 and recipe.data.fold is not None:  # one fold of a k-fold run: summarise it with the others
        results = _with_earlier_folds(run_dir, count, results)
    summary = summarize(results)
    if context.is_main:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (run_dir / "summary.md").write_text(summary_markdown(recipe, summary), encoding="utf-8")
    return summary


def _with_earlier_folds(run_dir: Path, count: int, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``results`` and the results other folds of this run left in their folders, in fold order, so that training
    one fold (``data.fold``) does not shrink the run's summary to that fold."""
    by_fold = {result["fold"]: result for result in results}
    for fold in range(count):
        path = run_dir / fold_folder(fold) / RESULT_FILE
        if fold not in by_fold and path.is_file():
            try:
                by_fold[fold] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                warnings.warn(
                    f"{path} cannot be read ({error}); the summary leaves fold {fold} out", RunWarning, stacklevel=2
                )
    return [by_fold[fold] for fold in sorted(by_fold)]
