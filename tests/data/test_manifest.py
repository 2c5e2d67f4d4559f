import shutil

import numpy as np
import pytest

from edgefer.data import Sample, manifest_hash, read_dataset, read_manifest, write_manifest
from edgefer.errors import DatasetError


def test_round_trip_with_relative_paths(fer_folder, tmp_path):
    samples = read_dataset("fer2013", fer_folder)
    manifest = write_manifest(tmp_path / "runs" / "train.csv", samples)
    lines = manifest.read_text().splitlines()
    assert lines[0] == "path,label,subject,split"
    assert lines[1].startswith("../fer2013/test/") and ",happy,," in lines[1]
    assert read_manifest(manifest) == samples
    assert manifest_hash(read_manifest(manifest)) == manifest_hash(samples)


def test_manifest_follows_the_data_when_moved_together(fer_folder, tmp_path):
    samples = read_dataset("fer2013", fer_folder)
    write_manifest(tmp_path / "split.csv", samples)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(fer_folder, moved / "fer2013")
    shutil.move(tmp_path / "split.csv", moved / "split.csv")
    relocated = read_manifest(moved / "split.csv")
    assert all(str(moved) in s.path for s in relocated)
    assert manifest_hash(relocated) == manifest_hash(samples)  # the hash does not depend on where data lies


def test_hash_changes_with_labels_order_and_membership():
    samples = [Sample("/d/a.png", 0, "S1", "train"), Sample("/d/b.png", 3, "S2", "test")]
    base = manifest_hash(samples)
    assert len(base) == 16
    assert manifest_hash([samples[0], Sample("/d/b.png", 4, "S2", "test")]) != base
    assert manifest_hash(samples[::-1]) != base
    assert manifest_hash(samples[:1]) != base


def test_csv_rows_get_their_pixels_back(fer_csv, tmp_path):
    samples = read_dataset("fer2013", fer_csv)
    manifest = write_manifest(tmp_path / "m.csv", samples[1:3])
    back = read_manifest(manifest)
    assert back == samples[1:3]
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(back, samples[1:3], strict=True))


@pytest.mark.parametrize(
    ("text", "message"), [("path,label\n/x/a.png,bored\n", "line 2"), ("file,emotion\n", "lacks the column")]
)
def test_manifest_errors_name_the_problem(tmp_path, text, message):
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message):
        read_manifest(path)


def test_labels_may_be_indices(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("path,label\n/x/a.png,7\n")
    assert read_manifest(path) == [Sample("/x/a.png", 7)]
