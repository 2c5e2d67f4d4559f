"""The readers and the audit on the real data sets in ../shared/datasets (skipped where they are absent)."""

from collections import Counter

import pytest

from edgefer.data import audit_samples, read_dataset, split_samples
from edgefer.labels import EMOTIONS_WITH_CONTEMPT

pytestmark = pytest.mark.shared_data

# Per class (Training, PublicTest, PrivateTest), from ../shared/datasets/README.md.
FER2013_COUNTS = {
    "angry": (3995, 467, 491),
    "disgust": (436, 56, 55),
    "fear": (4097, 496, 528),
    "happy": (7215, 895, 879),
    "neutral": (4965, 607, 626),
    "sad": (4830, 653, 594),
    "surprise": (3171, 415, 416),
}
CKPLUS48_COUNTS = {"angry": 135, "contempt": 54, "disgust": 177, "fear": 75, "happy": 207, "sad": 84, "surprise": 249}


@pytest.fixture(scope="module")
def fer2013(shared_datasets):
    return read_dataset("fer2013", shared_datasets / "fer2013")


@pytest.fixture(scope="module")
def ckplus48(shared_datasets):
    return read_dataset("ckplus48", shared_datasets / "ckplus48")


def test_fer2013_folder_counts_per_split_and_class(fer2013):
    counts = Counter((EMOTIONS_WITH_CONTEMPT[s.label], s.split) for s in fer2013)
    for name, per_split in FER2013_COUNTS.items():
        assert tuple(counts[name, split] for split in ("Training", "PublicTest", "PrivateTest")) == per_split
    parts = split_samples(fer2013, "official")
    assert [len(parts[role]) for role in ("train", "val", "test")] == [28709, 3589, 3589]


def test_ckplus48_counts_subjects_and_subject_folds(ckplus48):
    assert len(ckplus48) == 981 and len({s.subject for s in ckplus48}) == 118
    assert Counter(EMOTIONS_WITH_CONTEMPT[s.label] for s in ckplus48) == CKPLUS48_COUNTS
    tested = set()
    for fold in range(10):
        parts = split_samples(ckplus48, "subject_kfold", fold=fold)
        test_subjects = {s.subject for s in parts["test"]}
        assert not test_subjects & {s.subject for s in parts["train"] + parts["val"]}
        assert not test_subjects & tested
        tested |= test_subjects
    assert len(tested) == 118


def test_fer2013_audit_finds_the_known_problems(fer2013):
    report = audit_samples(fer2013).to_json()
    assert report["splits"] == {"Training": 28709, "PublicTest": 3589, "PrivateTest": 3589}
    assert len(report["duplicate_groups"]) == 1516 and report["duplicate_images"] == 3369
    assert len(report["cross_split_duplicate_groups"]) == 557
    assert len(report["conflicting_label_groups"]) == 57
    assert len(report["blank_images"]) == 13
    # "image not available" frames, warning icons, "moved or deleted" texts (34 measured with the rule in audit.py)
    assert len(report["suspected_placeholders"]) == 34
    assert report["unreadable_files"] == []


def test_ckplus48_audit(ckplus48):
    report = audit_samples(ckplus48).to_json()
    assert report["splits"] == {"all": 981}
    assert report["subjects"] == 118 and report["class_counts"]["all"] == CKPLUS48_COUNTS
    # The three last frames of a sequence are near-identical, but no two images are pixel-identical.
    assert report["duplicate_groups"] == [] and report["unreadable_files"] == [] and report["blank_images"] == []
    assert report["suspected_placeholders"] == []
