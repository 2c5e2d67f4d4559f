"""Deterministic train / val / test splits, free of subject leakage where the protocol promises it.

Every protocol sorts the samples by (path, label, subject, split) first, so the same samples in any order and
the same seed give the same split. Save the result with ``write_manifest`` to re-run an experiment exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from edgefer.data.records import Sample
from edgefer.errors import ConfigError, DatasetError

PROTOCOLS: tuple[str, ...] = ("official", "stratified_60_20_20", "kfold", "subject_kfold", "loso")
FOLD_PROTOCOLS: tuple[str, ...] = ("kfold", "subject_kfold", "loso")
DEFAULT_FOLDS = 10
# A data set's own split names → the role they play. FER2013: select models on PublicTest, report PrivateTest.
OFFICIAL_ROLES = {
    "training": "train",
    "train": "train",
    "publictest": "val",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "privatetest": "test",
    "test": "test",
}


def split_samples(
    samples: Sequence[Sample],
    protocol: str,
    seed: int = 0,
    fold: int = 0,
    n_folds: int | None = None,
    val_fraction: float = 0.1,
) -> dict[str, list[Sample]]:
    """Split ``samples`` into ``{"train": [...], "val": [...], "test": [...]}`` by ``protocol``.

    How each protocol chooses the parts:

    - ``official``: the data set's own split (``Sample.split``). FER2013: Training / PublicTest / PrivateTest
      are train / val / test. Where the data set has no validation part (RAF-DB train/test), val is a
      stratified ``val_fraction`` of train drawn with ``seed``.
    - ``stratified_60_20_20``: per class, a ``seed``-shuffled 60 % / 20 % / 20 % into train / val / test.
    - ``kfold``: stratified k-fold over images (``n_folds``, default 10): test is fold ``fold``, val is the next
      fold (``fold + 1`` mod k), train the other k - 2 folds.
    - ``subject_kfold``: k folds of whole subjects (no subject in two folds; folds balanced by image count;
      default 10 as in the CK+ protocol): test is fold ``fold``, val the next fold, train the rest.
    - ``loso``: leave one subject out: test is the ``fold``-th subject in sorted order, val the next subject,
      train all others (``fold_count`` gives the number of subjects).
    """
    ordered = sorted(samples, key=_sort_key)
    if protocol == "official":
        return _official(ordered, seed, val_fraction)
    if protocol == "stratified_60_20_20":
        return _stratified(ordered, seed)
    if protocol in FOLD_PROTOCOLS:
        count = fold_count(ordered, protocol, n_folds)
        if not 0 <= fold < count:
            raise ConfigError(f"fold {fold} is out of range for {protocol} with {count} folds; use 0..{count - 1}")
        if protocol == "kfold":
            assignment = _stratified_folds(ordered, count, seed)
        elif protocol == "subject_kfold":
            assignment = _subject_folds(ordered, count, seed)
        else:
            position = {subject: i for i, subject in enumerate(sorted({s.subject for s in ordered}))}  # type: ignore[type-var]
            assignment = np.array([position[sample.subject] for sample in ordered])
        return _fold_parts(ordered, assignment, fold, count)
    raise ConfigError(f"unknown split protocol {protocol!r}; known protocols: {', '.join(PROTOCOLS)}")


def seed_ignored_because(samples: Sequence[Sample], protocol: str, part: str | None = None) -> str | None:
    """Why a split seed would leave ``part`` (train, val or test; None: all three) of ``protocol`` on ``samples``
    unchanged, or None where the seed changes it: commands refuse a seed they would silently ignore."""
    if protocol == "loso":
        return "loso takes subjects in sorted order"
    if protocol != "official":
        return None
    if part == "test":
        return "the official test part is the data set's own"
    if not _official_draws_val(samples):
        return "the data set has its own validation split, so the official protocol draws nothing at random"
    return None


def fold_count(samples: Sequence[Sample], protocol: str, n_folds: int | None = None) -> int:
    """How many folds ``protocol`` has on ``samples``: 1 for single splits, the subject count for ``loso``."""
    if protocol in ("official", "stratified_60_20_20"):
        return 1
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown split protocol {protocol!r}; known protocols: {', '.join(PROTOCOLS)}")
    if protocol == "kfold":
        count, units = DEFAULT_FOLDS if n_folds is None else n_folds, len(samples)
    else:
        subjects = _subjects(samples, protocol)
        if protocol == "loso":
            count = len(subjects)
            if n_folds is not None and n_folds != count:
                raise ConfigError(f"loso has one fold per subject ({count} here), not {n_folds}; drop n_folds")
        else:
            count = DEFAULT_FOLDS if n_folds is None else n_folds
        units = len(subjects)
    if count < 3 or count > units:
        what = "subjects" if protocol != "kfold" else "samples"
        raise ConfigError(
            f"{protocol} needs between 3 and the number of {what} ({units}) folds, got {count}; choose n_folds in "
            "that range (train, val and test each take at least one fold)"
        )
    return count


def _sort_key(sample: Sample) -> tuple[str, int, str, str]:
    return (sample.path or "", sample.label, sample.subject or "", sample.split or "")


def _subjects(samples: Sequence[Sample], protocol: str) -> set[str]:
    if any(sample.subject is None for sample in samples):
        raise DatasetError(
            f"{protocol} needs a subject id on every sample, and this data set has none; use kfold or "
            "stratified_60_20_20 instead"
        )
    return {sample.subject for sample in samples}  # type: ignore[misc]


def _by_label(samples: Sequence[Sample]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for index, sample in enumerate(samples):
        groups[sample.label].append(index)
    return dict(sorted(groups.items()))


def _official(samples: list[Sample], seed: int, val_fraction: float) -> dict[str, list[Sample]]:
    parts: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    without = sum(1 for s in samples if not s.split)
    unknown = sorted({s.split for s in samples if s.split and s.split.lower() not in OFFICIAL_ROLES})
    if without or unknown:
        found = f"{without} of {len(samples)} images have none" if without else f"found {', '.join(unknown[:5])}"
        raise DatasetError(
            f"the official protocol needs an official split on every image, {found}; "
            "choose another protocol (--protocol, or data.protocol in a recipe): "
            "stratified_60_20_20, kfold, subject_kfold or loso"
        )
    for sample in samples:
        parts[OFFICIAL_ROLES[sample.split.lower()]].append(sample)  # type: ignore[union-attr]
    if _official_draws_val(samples) and parts["train"]:
        if not 0 < val_fraction < 1:
            raise ConfigError(f"val_fraction must lie between 0 and 1, got {val_fraction}")
        rng = np.random.default_rng(seed)
        train = parts["train"]
        chosen = set()
        for indices in _by_label(train).values():
            order = rng.permutation(indices)
            chosen.update(order[: round(len(order) * val_fraction)].tolist())
        parts["val"] = [s for i, s in enumerate(train) if i in chosen]
        parts["train"] = [s for i, s in enumerate(train) if i not in chosen]
    return parts


def _official_draws_val(samples: Sequence[Sample]) -> bool:
    """Whether the official protocol draws val from train (with the seed): only where no image is in a val part."""
    return not any(OFFICIAL_ROLES.get((sample.split or "").lower()) == "val" for sample in samples)


def _stratified(samples: list[Sample], seed: int) -> dict[str, list[Sample]]:
    rng = np.random.default_rng(seed)
    role = np.empty(len(samples), dtype=object)
    for indices in _by_label(samples).values():
        order = rng.permutation(indices)
        n_train, n_val = round(len(order) * 0.6), round(len(order) * 0.2)
        role[order[:n_train]] = "train"
        role[order[n_train : n_train + n_val]] = "val"
        role[order[n_train + n_val :]] = "test"
    return {part: [s for s, r in zip(samples, role, strict=True) if r == part] for part in ("train", "val", "test")}


def _stratified_folds(samples: list[Sample], n_folds: int, seed: int) -> np.ndarray:
    """Deal each class's shuffled images round-robin over the folds, continuing the count across classes."""
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(samples), dtype=np.int64)
    dealt = 0
    for indices in _by_label(samples).values():
        order = rng.permutation(indices)
        assignment[order] = (dealt + np.arange(len(order))) % n_folds
        dealt += len(order)
    return assignment


def _subject_folds(samples: list[Sample], n_folds: int, seed: int) -> np.ndarray:
    """Whole subjects to folds: shuffled by ``seed``, largest first, each into the fold with fewest images."""
    sizes: dict[str, int] = defaultdict(int)
    for sample in samples:
        sizes[sample.subject] += 1  # type: ignore[index]
    subjects = list(np.random.default_rng(seed).permutation(sorted(sizes)))
    subjects.sort(key=lambda subject: -sizes[subject])  # stable: equal sizes keep their shuffled order
    load = [0] * n_folds
    fold_of: dict[str, int] = {}
    for subject in subjects:
        target = load.index(min(load))
        fold_of[subject] = target
        load[target] += sizes[subject]
    return np.array([fold_of[sample.subject] for sample in samples])  # type: ignore[index]


def _fold_parts(samples: list[Sample], assignment: np.ndarray, fold: int, n_folds: int) -> dict[str, list[Sample]]:
    val_fold = (fold + 1) % n_folds
    parts: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    for sample, assigned in zip(samples, assignment.tolist(), strict=True):
        role = "test" if assigned == fold else "val" if assigned == val_fold else "train"
        parts[role].append(sample)
    return parts


def fold_folder(fold: int) -> str:
    """The folder name of fold ``fold`` of a k-fold protocol, in split manifests and training runs alike."""
    return f"fold_{fold:02d}"
