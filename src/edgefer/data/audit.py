"""Data audit: class counts per split, pixel-identical images (within a split, across splits, with conflicting
labels), near-blank images, suspected placeholder graphics and unreadable files, and a cleaned sample list without
the leaks and conflicts."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgefer.data.images import read_grey
from edgefer.data.parallel import progress_map
from edgefer.data.records import Sample
from edgefer.data.splits import OFFICIAL_ROLES
from edgefer.errors import EdgeferError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT

# A pixel standard deviation below this is a constant image up to JPEG noise (FER2013's black and flat-grey frames
# have 0.0 and 0.65; its darkest real image with content has 4.1).
BLANK_STD = 2.0
# A photograph has shading everywhere; a graphic has a flat background. An image with at least this fraction of its
# pixels within ±2 grey levels of its most common value (and not blank) is reported as a suspected placeholder:
# FER2013's "image not available" frames, warning icons and "this person moved or deleted this image" texts score
# 0.60-0.94 on it, and its first real faces (stylised drawings) from about 0.6 down; no CK+48 image exceeds 0.41.
PLACEHOLDER_FLAT_FRACTION = 0.6
NO_SPLIT = "all"
_ROLE_RANK = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True)
class AuditReport:
    """What the audit found. Groups are lists of indices into ``samples``, each group sorted, groups sorted."""

    samples: tuple[Sample, ...]
    duplicate_groups: tuple[tuple[int, ...], ...]
    blank: tuple[tuple[int, float], ...]
    unreadable: tuple[tuple[int, str], ...]
    blank_std: float
    placeholders: tuple[tuple[int, float], ...] = ()  # (index, flat fraction)

    def split_of(self, index: int) -> str:
        return self.samples[index].split or NO_SPLIT

    @property
    def cross_split_groups(self) -> tuple[tuple[int, ...], ...]:
        return tuple(g for g in self.duplicate_groups if len({self.split_of(i) for i in g}) > 1)

    @property
    def conflicting_groups(self) -> tuple[tuple[int, ...], ...]:
        return tuple(g for g in self.duplicate_groups if len({self.samples[i].label for i in g}) > 1)

    def within_split_groups(self) -> dict[str, int]:
        """Per split, how many groups have two or more members inside that split."""
        counts: Counter[str] = Counter()
        for group in self.duplicate_groups:
            per_split = Counter(self.split_of(i) for i in group)
            counts.update(split for split, n in per_split.items() if n > 1)
        return {split: counts.get(split, 0) for split in self.split_counts()}

    def split_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.split_of(i) for i in range(len(self.samples))).items(), key=_split_order))

    def class_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for index, sample in enumerate(self.samples):
            counts[self.split_of(index)][EMOTIONS_WITH_CONTEMPT[sample.label]] += 1
        return {
            split: dict(sorted(counts[split].items(), key=lambda kv: EMOTIONS_WITH_CONTEMPT.index(kv[0])))
            for split in self.split_counts()
        }

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary; groups list their images as {path, label, split}."""
        return {
            "images": len(self.samples),
            "splits": self.split_counts(),
            "subjects": len({s.subject for s in self.samples if s.subject is not None}),
            "class_counts": self.class_counts(),
            "duplicate_groups": [self._group_json(g) for g in self.duplicate_groups],
            "duplicate_images": sum(len(g) for g in self.duplicate_groups),
            "within_split_duplicate_groups": self.within_split_groups(),
            "cross_split_duplicate_groups": [self._group_json(g) for g in self.cross_split_groups],
            "conflicting_label_groups": [self._group_json(g) for g in self.conflicting_groups],
            "blank_std_threshold": self.blank_std,
            "blank_images": [{"path": self.samples[i].path, "std": round(std, 3)} for i, std in self.blank],
            "placeholder_flat_fraction": PLACEHOLDER_FLAT_FRACTION,
            "suspected_placeholders": [
                {"path": self.samples[i].path, "flat_fraction": round(flat, 3)} for i, flat in self.placeholders
            ],
            "unreadable_files": [{"path": self.samples[i].path, "reason": reason} for i, reason in self.unreadable],
        }

    def _group_json(self, group: tuple[int, ...]) -> list[dict[str, object]]:
        return [
            {
                "path": self.samples[i].path,
                "label": EMOTIONS_WITH_CONTEMPT[self.samples[i].label],
                "split": self.samples[i].split,
            }
            for i in group
        ]


def audit_samples(samples: Sequence[Sample], blank_std: float = BLANK_STD, workers: int | None = None) -> AuditReport:
    """Decode every image at its native size once and report duplicates, blanks, placeholders, unreadable files."""
    samples = tuple(samples)
    by_digest: dict[bytes, list[int]] = defaultdict(list)
    blank, placeholders, unreadable = [], [], []
    for index, result in enumerate(progress_map(_fingerprint, samples, "auditing images", workers)):
        if isinstance(result, str):
            unreadable.append((index, result))
            continue
        digest, std, flat = result
        by_digest[digest].append(index)
        if std < blank_std:
            blank.append((index, std))
        elif flat >= PLACEHOLDER_FLAT_FRACTION:
            placeholders.append((index, flat))
    groups = sorted(tuple(sorted(g)) for g in by_digest.values() if len(g) > 1)
    return AuditReport(samples, tuple(groups), tuple(blank), tuple(unreadable), blank_std, tuple(placeholders))


def clean_samples(report: AuditReport, drop_blank: bool = False) -> list[Sample]:
    """The samples without unreadable files, without every member of a conflicting-label group, and with each
    cross-split group kept only in its most held-out split (test over val over train), so no image leaks from
    training into evaluation and the test sets lose as little as possible. Near-blank images go too if asked."""
    dropped = {i for i, _ in report.unreadable}
    for group in report.conflicting_groups:
        dropped.update(group)
    for group in report.cross_split_groups:
        keep = max((report.split_of(i) for i in group), key=_held_out_rank)
        dropped.update(i for i in group if report.split_of(i) != keep)
    if drop_blank:
        dropped.update(i for i, _ in report.blank)
    return [sample for index, sample in enumerate(report.samples) if index not in dropped]


def _fingerprint(sample: Sample) -> tuple[bytes, float, float] | str:
    """Worker: a digest of the decoded pixels (with their shape), their standard deviation and the fraction of
    them within ±2 grey levels of the most common value; or why the image could not be read."""
    try:
        pixels = np.ascontiguousarray(read_grey(sample))
    except EdgeferError as error:
        return str(error)
    digest = hashlib.blake2b(f"{pixels.shape}".encode() + pixels.tobytes(), digest_size=16).digest()
    mode = int(np.bincount(pixels.ravel(), minlength=256).argmax())
    flat = float((np.abs(pixels.astype(np.int16) - mode) <= 2).mean())
    return digest, float(pixels.std()), flat


def _held_out_rank(split: str) -> tuple[int, str]:
    return (_ROLE_RANK.get(OFFICIAL_ROLES.get(split.lower(), ""), -1), split)


def _split_order(item: tuple[str, int]) -> tuple[tuple[int, str], str]:
    return (_held_out_rank(item[0]), item[0])
