"""Pick one named split of a data set: train/val/test of a protocol, or one of the data set's official splits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgefer.data.records import Sample
from edgefer.data.splits import split_samples
from edgefer.errors import DatasetError

PROTOCOL_SPLITS: tuple[str, ...] = ("train", "val", "test")


def default_protocol(samples: Sequence[Sample]) -> str:
    """``official`` where every sample has an official split, else the seeded stratified 60/20/20 split."""
    return "official" if all(sample.split for sample in samples) else "stratified_60_20_20"


def draw_samples(samples: Sequence[Sample], count: int, seed: int = 0) -> list[Sample]:
    """``count`` of ``samples`` (all of them if fewer) drawn without replacement by a seeded permutation, kept in
    their original order: the same seed draws the same images wherever a subset for calibration or a check is taken.
    """
    order = np.random.default_rng(seed).permutation(len(samples))[:count]
    return [samples[i] for i in sorted(order)]


def select_split(
    samples: Sequence[Sample],
    split: str,
    protocol: str = "official",
    seed: int = 0,
    fold: int = 0,
    n_folds: int | None = None,
    how: str = "e.g. --protocol subject_kfold --split test",
) -> tuple[list[Sample], str]:
    """The samples of ``split`` and a label saying which they are.

    ``split`` is train/val/test of ``protocol`` (with its seed and fold), ``all`` (every sample: the test set of a
    model that never saw this data set, as in cross-data-set testing), or else an official split name of the data
    set in any case (``PrivateTest``, ``privatetest``). ``how`` tells, in an unknown split's error, how the caller's
    command names a split of a protocol (the default is ``edgefer val``'s options).
    """
    if split == "all":
        return list(samples), "all images"
    if split in PROTOCOL_SPLITS:
        chosen = split_samples(list(samples), protocol, seed, fold, n_folds)[split]
        label = f"{split} of {protocol}"
        if protocol != "official":
            label += f" (fold {fold}, split seed {seed})"
    else:
        official = sorted({sample.split for sample in samples if sample.split})
        by_lower = {name.lower(): name for name in official}
        if split.lower() not in by_lower:
            protocol_splits = f"{'/'.join(PROTOCOL_SPLITS)} of a protocol ({how}), or all"
            if not official:
                raise DatasetError(
                    f"unknown split {split!r}: this data set has no official splits; use {protocol_splits}"
                )
            raise DatasetError(
                f"unknown split {split!r}; use one of the data set's official splits ({', '.join(official)}) "
                f"or {protocol_splits}"
            )
        label = by_lower[split.lower()]
        chosen = [sample for sample in samples if sample.split == label]
    if not chosen:
        raise DatasetError(f"split {label!r} has no images; pick another split, protocol or fold")
    return chosen, label
