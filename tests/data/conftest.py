"""Tiny data sets generated in each published layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from datagen import write_fer_csv, write_image


@pytest.fixture
def fer_folder(tmp_path: Path) -> Path:
    """FER2013 image folders: 3 Training, 1 PublicTest, 2 PrivateTest images."""
    root = tmp_path / "fer2013"
    for name in (
        "train/angry/Training_1.jpg",
        "train/happy/Training_2.jpg",
        "train/neutral/Training_3.jpg",
        "test/sad/PublicTest_4.jpg",
        "test/happy/PrivateTest_5.jpg",
        "test/surprise/PrivateTest_6.jpg",
    ):
        write_image(root / name)
    return root


@pytest.fixture
def fer_csv(tmp_path: Path) -> Path:
    return write_fer_csv(
        tmp_path / "fer2013.csv", [(0, "Training"), (3, "Training"), (6, "PublicTest"), (4, "PrivateTest")]
    )


@pytest.fixture
def ckplus_release(tmp_path: Path) -> Path:
    """Original CK+ layout: two subjects, three sequences (one unlabelled), five frames each."""
    root = tmp_path / "CK+"
    codes = {("S005", "001"): 3, ("S010", "002"): 7, ("S010", "004"): None}
    for (subject, sequence), code in codes.items():
        for frame in range(1, 6):
            write_image(root / "cohn-kanade-images" / subject / sequence / f"{subject}_{sequence}_{frame:08d}.png")
        if code is not None:
            label_dir = root / "Emotion" / subject / sequence
            label_dir.mkdir(parents=True)
            (label_dir / f"{subject}_{sequence}_00000005_emotion.txt").write_text(f"   {code:.7e}\n")
    return root


@pytest.fixture
def jaffe_dir(tmp_path: Path) -> Path:
    root = tmp_path / "jaffe"
    for name in ("KA.AN1.39.tiff", "KA.HA2.30.tiff", "YM.SU1.58.tiff", "YM.NE3.51.tiff"):
        write_image(root / name)
    (root / "README").write_text("The Japanese Female Facial Expression database")
    return root


@pytest.fixture
def kdef_dir(tmp_path: Path) -> Path:
    root = tmp_path / "KDEF"
    for person in ("AF01", "BF01", "AM02"):
        for expression in ("AF", "HA"):
            for pose in ("S", "HL", "FR"):
                write_image(root / person / f"{person}{expression}{pose}.JPG")
    return root


@pytest.fixture
def rafdb_dir(tmp_path: Path) -> Path:
    root = tmp_path / "RAF-DB" / "basic"
    lines = ["train_00001.jpg 1", "train_00002.jpg 4", "train_00003.jpg 4", "test_0001.jpg 7", "test_0002.jpg 6"]
    (root / "EmoLabel").mkdir(parents=True)
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    for line in lines:
        stem = line.split()[0][:-4]
        write_image(root / "Image" / "aligned" / f"{stem}_aligned.jpg")
        write_image(root / "Image" / "original" / f"{stem}.jpg")
    return root


@pytest.fixture
def rafd_dir(tmp_path: Path) -> Path:
    root = tmp_path / "RaFD"
    for angle in ("090", "045"):
        for person, expression in (("01", "angry"), ("01", "contemptuous"), ("02", "surprised")):
            for gaze in ("frontal", "left"):
                write_image(root / f"Rafd{angle}_{person}_Caucasian_female_{expression}_{gaze}.jpg")
    return root


@pytest.fixture
def mug_dir(tmp_path: Path) -> Path:
    root = tmp_path / "mug"
    for subject in ("001", "002"):
        for expression in ("anger", "happiness"):
            for frame in range(5):
                write_image(root / subject / expression / "take000" / f"img_{frame:04d}.jpg")
    return root
