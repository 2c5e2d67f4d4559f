from collections import Counter

import pytest

from edgefer.data import PROTOCOLS, Sample, draw_samples, fold_count, split_samples
from edgefer.data.splits import seed_ignored_because
from edgefer.errors import ConfigError, DatasetError


def make_samples(subjects=12, per_class=2, classes=7, split=None):
    return [
        Sample(f"/d/S{s:03d}_{c}_{i}.png", c, subject=f"S{s:03d}", split=split)
        for s in range(subjects)
        for c in range(classes)
        for i in range(per_class)
    ]


def paths(parts):
    return {role: [s.path for s in samples] for role, samples in parts.items()}


def assert_partition(samples, parts):
    assert set(parts) == {"train", "val", "test"}
    everything = [s for part in parts.values() for s in part]
    assert sorted(everything, key=lambda s: s.path) == sorted(samples, key=lambda s: s.path)


def test_official_fer2013_roles():
    samples = [
        Sample(f"/f/{split}_{i}.jpg", i % 7, split=split)
        for split in ("Training", "PublicTest", "PrivateTest")
        for i in range(5)
    ]
    parts = split_samples(samples, "official")
    assert {role: {s.split for s in part} for role, part in parts.items()} == {
        "train": {"Training"},
        "val": {"PublicTest"},
        "test": {"PrivateTest"},
    }


def test_official_rafdb_carves_stratified_val_from_train_by_seed():
    samples = [Sample(f"/r/train_{i:05d}.jpg", i % 7, split="train") for i in range(700)]
    samples += [Sample(f"/r/test_{i:04d}.jpg", i % 7, split="test") for i in range(70)]
    parts = split_samples(samples, "official", seed=3)
    assert_partition(samples, parts)
    assert len(parts["test"]) == 70 and all(s.split == "test" for s in parts["test"])
    assert Counter(s.label for s in parts["val"]) == dict.fromkeys(range(7), 10)
    assert paths(split_samples(samples, "official", seed=3)) == paths(parts)
    assert paths(split_samples(samples, "official", seed=4))["val"] != paths(parts)["val"]


def _official_samples(splits):
    return [
        Sample(f"/o/{split}_{i:03d}.jpg", i % 7, subject=f"S{i % 12:03d}", split=split)
        for split in splits
        for i in range(84)
    ]


@pytest.mark.parametrize(
    "samples",
    [
        _official_samples(("Training", "PublicTest", "PrivateTest")),  # FER2013: a validation split of its own
        _official_samples(("train", "test")),  # RAF-DB: val drawn from train with the seed
    ],
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("part", ["train", "val", "test", None])
def test_a_seed_is_called_ignored_exactly_where_no_seed_changes_the_part(samples, protocol, part):
    n_folds = 3 if protocol in ("kfold", "subject_kfold") else None
    parts = [paths(split_samples(samples, protocol, seed=seed, n_folds=n_folds)) for seed in range(4)]
    roles = [part] if part else ["train", "val", "test"]
    changed = any(other[role] != parts[0][role] for other in parts[1:] for role in roles)
    assert (seed_ignored_because(samples, protocol, part) is None) == changed


def test_official_without_split_names_the_alternatives():
    fix = r"choose another protocol \(--protocol, or data.protocol in a recipe\): stratified_60_20_20, kfold"
    with pytest.raises(DatasetError, match=f"168 of 168 images have none; {fix}"):
        split_samples(make_samples(), "official")
    with pytest.raises(DatasetError, match=f"found holdout; {fix}"):
        split_samples(make_samples(subjects=1, split="holdout"), "official")


def test_stratified_60_20_20_proportions_and_seed():
    samples = make_samples(subjects=10)  # 20 images per class
    parts = split_samples(samples, "stratified_60_20_20", seed=0)
    assert_partition(samples, parts)
    for role, share in (("train", 12), ("val", 4), ("test", 4)):
        assert Counter(s.label for s in parts[role]) == dict.fromkeys(range(7), share)
    assert paths(split_samples(list(reversed(samples)), "stratified_60_20_20", seed=0)) == paths(parts)
    assert paths(split_samples(samples, "stratified_60_20_20", seed=1)) != paths(parts)


def test_kfold_is_stratified_and_each_image_is_tested_once():
    samples = make_samples(subjects=10)
    tested = []
    for fold in range(5):
        parts = split_samples(samples, "kfold", fold=fold, n_folds=5)
        assert_partition(samples, parts)
        assert Counter(s.label for s in parts["test"]) == dict.fromkeys(range(7), 4)
        next_test = split_samples(samples, "kfold", fold=(fold + 1) % 5, n_folds=5)["test"]
        assert parts["val"] == next_test
        tested += parts["test"]
    assert sorted(s.path for s in tested) == sorted(s.path for s in samples)


def test_subject_kfold_puts_no_subject_in_two_folds():
    samples = make_samples(subjects=23)
    assert fold_count(samples, "subject_kfold") == 10
    seen: dict[str, int] = {}
    for fold in range(10):
        parts = split_samples(samples, "subject_kfold", seed=7, fold=fold)
        assert_partition(samples, parts)
        subjects = {role: {s.subject for s in part} for role, part in parts.items()}
        assert not subjects["train"] & subjects["test"] and not subjects["train"] & subjects["val"]
        assert not subjects["val"] & subjects["test"]
        for subject in subjects["test"]:
            assert subject not in seen, f"{subject} is tested in folds {seen[subject]} and {fold}"
            seen[subject] = fold
        assert 2 * 14 <= len(parts["test"]) <= 3 * 14  # folds balanced to within one subject
    assert len(seen) == 23
    again = split_samples(samples, "subject_kfold", seed=7, fold=4)
    assert paths(again) == paths(split_samples(samples, "subject_kfold", seed=7, fold=4))
    assert paths(again) != paths(split_samples(samples, "subject_kfold", seed=8, fold=4))


def test_loso_leaves_exactly_one_subject_out():
    samples = make_samples(subjects=5, per_class=1)
    assert fold_count(samples, "loso") == 5
    for fold in range(5):
        parts = split_samples(samples, "loso", fold=fold)
        assert {s.subject for s in parts["test"]} == {f"S{fold:03d}"}
        assert {s.subject for s in parts["val"]} == {f"S{(fold + 1) % 5:03d}"}
        assert len({s.subject for s in parts["train"]}) == 3


def test_fold_count_and_bad_arguments():
    samples = make_samples(subjects=4)
    assert fold_count(samples, "official") == fold_count(samples, "stratified_60_20_20") == 1
    assert fold_count(samples, "kfold", 5) == 5
    with pytest.raises(ConfigError, match="between 3 and the number of subjects \\(4\\)"):
        fold_count(samples, "subject_kfold")
    with pytest.raises(ConfigError, match="got 0; choose n_folds"):  # 0 is not "the default"
        fold_count(samples, "kfold", 0)
    with pytest.raises(ConfigError, match="got 0; choose n_folds"):
        split_samples(samples, "subject_kfold", n_folds=0)
    with pytest.raises(ConfigError, match="fold 5 is out of range"):
        split_samples(samples, "kfold", fold=5, n_folds=5)
    with pytest.raises(ConfigError, match="known protocols: " + ", ".join(PROTOCOLS)):
        split_samples(samples, "random")
    with pytest.raises(DatasetError, match="needs a subject id"):
        split_samples([Sample("/a.png", 0), Sample("/b.png", 1), Sample("/c.png", 2)], "loso")


def test_draw_samples_is_seeded_without_replacement_and_keeps_the_original_order():
    samples = make_samples(subjects=3)
    drawn = draw_samples(samples, 10, seed=5)
    assert len(drawn) == len(set(s.path for s in drawn)) == 10
    positions = [samples.index(s) for s in drawn]
    assert positions == sorted(positions)
    assert draw_samples(samples, 10, seed=5) == drawn
    assert draw_samples(samples, 10, seed=6) != drawn
    assert draw_samples(samples, 10_000) == samples
