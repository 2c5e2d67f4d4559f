import os
from pathlib import Path

import numpy as np
import pytest
from datagen import write_image

from edgefer.data import DataWarning, Sample, load_arrays, load_cached, parallel, read_dataset
from edgefer.data.cache import cache_key
from edgefer.errors import ConfigError, DatasetError


@pytest.fixture
def images(tmp_path):
    pixels = [np.full((16, 12), 10 * i, dtype=np.uint8) for i in range(4)]
    paths = [write_image(tmp_path / "data" / f"{i}.png", p) for i, p in enumerate(pixels)]
    return [Sample(str(path), i) for i, path in enumerate(paths)], pixels


def entries(cache_dir):
    return sorted(p.name for p in (cache_dir / "arrays").iterdir())


def test_load_resizes_to_uint8_and_labels_to_int64(images, tmp_path):
    samples, pixels = images
    loaded, labels = load_arrays(samples, (8, 6), tmp_path / "cache")
    assert loaded.shape == (4, 8, 6) and loaded.dtype == np.uint8
    assert labels.tolist() == [0, 1, 2, 3] and labels.dtype == np.int64
    assert all(np.array_equal(image, original[:8, :6]) for image, original in zip(loaded, pixels, strict=True))


def test_decoding_shows_a_bar_unless_progress_is_off(images, tmp_path, capsys):
    samples, _ = images
    load_arrays(samples, (8, 6), tmp_path / "quiet", progress=False)
    assert "decoding images" not in capsys.readouterr().err
    load_arrays(samples, (8, 6), tmp_path / "shown")
    assert "decoding images" in capsys.readouterr().err


def test_second_load_is_memory_mapped_from_the_same_entry(images, tmp_path):
    samples, _ = images
    cache = tmp_path / "cache"
    first, _ = load_arrays(samples, (8, 8), cache)
    second, _ = load_arrays(samples, (8, 8), cache)
    assert isinstance(second, np.memmap) and np.array_equal(first, second)
    assert len(entries(cache)) == 1


def test_cache_is_invalidated_by_content_size_and_membership(images, tmp_path):
    samples, _ = images
    cache = tmp_path / "cache"
    load_arrays(samples, (8, 8), cache)
    write_image(Path(samples[2].path), np.full((16, 12), 200, dtype=np.uint8))  # same file, new content
    os.utime(samples[2].path, ns=(0, os.stat(samples[2].path).st_mtime_ns + 1_000_000))
    changed, _ = load_arrays(samples, (8, 8), cache)
    assert changed[2].max() == 200
    load_arrays(samples, (4, 4), cache)  # other preprocessing
    load_arrays(samples[:3], (8, 8), cache)  # other data
    assert len(entries(cache)) == 4


def test_key_covers_pixel_arrays(fer_csv):
    samples = read_dataset("fer2013", fer_csv)
    edited = [Sample(s.path, s.label, s.subject, s.split, s.pixels.copy()) for s in samples]
    assert cache_key(edited, (4, 4)) == cache_key(samples, (4, 4))
    edited[0].pixels[0, 0] ^= 1
    assert cache_key(edited, (4, 4)) != cache_key(samples, (4, 4))
    loaded, labels = load_arrays(samples, (4, 4), fer_csv.parent / "cache")
    assert np.array_equal(loaded[1], samples[1].pixels) and labels.tolist() == [0, 3, 6, 4]


def test_unreadable_images_are_skipped_counted_and_named(images, tmp_path):
    samples, _ = images
    with open(samples[1].path, "r+b") as handle:  # a truncated file
        handle.truncate(20)
    samples.append(Sample(str(tmp_path / "data" / "missing.png"), 5))
    truncated_jpeg = write_image(tmp_path / "data" / "cut.jpg", np.full((16, 16), 99, dtype=np.uint8))
    truncated_jpeg.write_bytes(truncated_jpeg.read_bytes()[:-40])
    samples.append(Sample(str(truncated_jpeg), 6))
    for _ in range(2):  # the warning comes from the decoding load and from the cached one
        with pytest.warns(DataWarning, match=r"skipped 3 of 6 images.*1\.png.*missing\.png.*cut\.jpg"):
            cached = load_cached(samples, (8, 8), tmp_path / "cache")
        assert cached.kept.tolist() == [0, 2, 3] and cached.labels.tolist() == [0, 2, 3]
        assert [os.path.basename(path) for path, _ in cached.skipped] == ["1.png", "missing.png", "cut.jpg"]


def test_nothing_readable_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="none of the 1 images"):
        load_arrays([Sample(str(tmp_path / "nope.png"), 0)], (8, 8), tmp_path / "cache")


def test_default_cache_dir_follows_environment(images, tmp_path, monkeypatch):
    samples, _ = images
    monkeypatch.setenv("EDGEFER_CACHE", str(tmp_path / "env-cache"))
    load_arrays(samples, (8, 8))
    assert len(entries(tmp_path / "env-cache")) == 1


def test_process_pool_gives_the_same_arrays(images, tmp_path, monkeypatch):
    samples, _ = images
    serial = load_cached(samples, (8, 8), tmp_path / "serial", workers=1)
    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_POOL", 0)
    pooled = load_cached(samples, (8, 8), tmp_path / "pooled", workers=2)
    assert np.array_equal(serial.images, pooled.images)


def test_damaged_entry_is_rebuilt(images, tmp_path):
    samples, _ = images
    cache = tmp_path / "cache"
    load_arrays(samples, (8, 8), cache)
    (entry,) = (cache / "arrays").iterdir()
    with open(entry / "images.u8", "r+b") as handle:
        handle.truncate(10)
    loaded, _ = load_arrays(samples, (8, 8), cache)
    assert loaded.shape == (4, 8, 8) and loaded[1].max() == 10


def test_unwritable_cache_names_the_fix(images, tmp_path):
    samples, _ = images
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="EDGEFER_CACHE"):
        load_arrays(samples, (8, 8), blocker)
