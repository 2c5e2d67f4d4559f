from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from datagen import write_fer_csv, write_image

from edgefer.data import DATASETS, DataWarning, detect_dataset, parse_data_spec, read_dataset
from edgefer.errors import DatasetError
from edgefer.labels import EMOTIONS_WITH_CONTEMPT, label_index


def names(samples):
    return [EMOTIONS_WITH_CONTEMPT[s.label] for s in samples]


def test_fer2013_folder_takes_split_from_file_name(fer_folder):
    samples = read_dataset("fer2013", fer_folder)
    assert Counter(s.split for s in samples) == {"Training": 3, "PublicTest": 1, "PrivateTest": 2}
    by_file = {Path(s.path).name: EMOTIONS_WITH_CONTEMPT[s.label] for s in samples}
    assert by_file == {
        "Training_1.jpg": "angry",
        "Training_2.jpg": "happy",
        "Training_3.jpg": "neutral",
        "PublicTest_4.jpg": "sad",
        "PrivateTest_5.jpg": "happy",
        "PrivateTest_6.jpg": "surprise",
    }


def test_fer2013_folder_without_prefix_uses_split_folder(tmp_path):
    write_image(tmp_path / "train" / "fear" / "im0.png")
    write_image(tmp_path / "test" / "disgust" / "im1.png")
    assert sorted(s.split for s in read_dataset("fer2013", tmp_path)) == ["test", "train"]


def test_fer2013_csv_rows_carry_pixels_and_row_paths(fer_csv):
    for source in (fer_csv, fer_csv.parent):  # the file, or the folder holding fer2013.csv
        samples = read_dataset("fer2013", source)
        assert [s.label for s in samples] == [0, 3, 6, 4]
        assert [s.split for s in samples] == ["Training", "Training", "PublicTest", "PrivateTest"]
        assert samples[2].path == f"{fer_csv}#2"
        assert samples[0].pixels.shape == (4, 4) and samples[0].pixels.dtype == np.uint8


def test_fer2013_csv_icml_variant_with_spaced_column_names(tmp_path):
    path = write_fer_csv(tmp_path / "icml_face_data.csv", [(5, "Training")], header=("emotion", " Usage", " pixels"))
    (sample,) = read_dataset("fer2013", path)
    assert sample.label == 5


def test_fer2013_csv_missing_columns_names_them(tmp_path):
    path = write_fer_csv(tmp_path / "fer2013.csv", [(1, "Training")], header=("emotion", "Usage"))
    with pytest.raises(DatasetError, match=r"lacks the column\(s\) pixels.*emotion, pixels and Usage"):
        read_dataset("fer2013", path)


@pytest.mark.parametrize(
    ("emotion", "pixels"), [("9", "1 2 3 4"), ("1", "1 2 3"), ("x", "1 2 3 4"), ("1", "1 2 3 999")]
)
def test_fer2013_csv_bad_row_names_the_row(tmp_path, emotion, pixels):
    path = tmp_path / "fer2013.csv"
    path.write_text(f"emotion,pixels,Usage\n{emotion},{pixels},Training\n")
    with pytest.raises(DatasetError, match="row 2"):
        read_dataset("fer2013", path)


def test_ckplus_release_reads_last_frames_of_labelled_sequences(ckplus_release):
    samples = read_dataset("ckplus", ckplus_release)
    assert len(samples) == 6 and names(samples) == ["disgust"] * 3 + ["surprise"] * 3
    assert [Path(s.path).name[-6:-4] for s in samples] == ["03", "04", "05"] * 2
    assert {s.subject for s in samples} == {"S005", "S010"}
    with_neutral = read_dataset("ckplus", ckplus_release, frames=1, neutral_first_frame=True)
    assert names(with_neutral) == ["neutral", "disgust", "neutral", "surprise"]
    assert Path(with_neutral[0].path).name == "S005_001_00000001.png"


def test_ckplus_release_bad_code_and_missing_images(ckplus_release):
    label_file = next((ckplus_release / "Emotion").rglob("*_emotion.txt"))
    label_file.write_text("9.0")
    with pytest.raises(DatasetError, match="not a CK\\+ emotion code"):
        read_dataset("ckplus", ckplus_release)
    with pytest.raises(DatasetError, match="lacks cohn-kanade-images"):
        read_dataset("ckplus", ckplus_release / "Emotion")


def test_ckplus48_subject_from_file_name(tmp_path):
    write_image(tmp_path / "anger" / "S010_004_00000017.png")
    write_image(tmp_path / "contempt" / "S011_002_00000010.png")
    samples = read_dataset("ckplus48", tmp_path)
    assert [(s.subject, EMOTIONS_WITH_CONTEMPT[s.label]) for s in samples] == [("S010", "angry"), ("S011", "contempt")]
    write_image(tmp_path / "anger" / "face.png")
    with pytest.raises(DatasetError, match="subject id"):
        read_dataset("ckplus48", tmp_path)


def test_jaffe_subject_and_expression_codes(jaffe_dir):
    samples = read_dataset("jaffe", jaffe_dir)
    assert [(s.subject, EMOTIONS_WITH_CONTEMPT[s.label]) for s in samples] == [
        ("KA", "angry"),
        ("KA", "happy"),
        ("YM", "neutral"),
        ("YM", "surprise"),
    ]


def test_jaffe_warns_about_unparseable_image_names(jaffe_dir):
    write_image(jaffe_dir / "holiday.tiff")
    with pytest.warns(DataWarning, match=r"skipped 1 file\(s\).*holiday.tiff"):
        assert len(read_dataset("jaffe", jaffe_dir)) == 4


def test_kdef_frontal_by_default_pose_selectable(kdef_dir):
    frontal = read_dataset("kdef", kdef_dir)
    assert len(frontal) == 6 and all(Path(s.path).stem.endswith("S") for s in frontal)
    assert Counter(s.subject for s in frontal) == {"F01": 4, "M02": 2}  # sessions A and B are one person
    assert set(names(frontal)) == {"fear", "happy"}
    assert len(read_dataset("kdef", kdef_dir, poses=("S", "HL", "FR"))) == 18
    with pytest.raises(DatasetError, match="poses must be"):
        read_dataset("kdef", kdef_dir, poses=("UP",))


def test_rafdb_codes_splits_and_image_kind(rafdb_dir):
    samples = read_dataset("rafdb", rafdb_dir)
    assert [(Path(s.path).name, s.split, EMOTIONS_WITH_CONTEMPT[s.label]) for s in samples] == [
        ("train_00001_aligned.jpg", "train", "surprise"),
        ("train_00002_aligned.jpg", "train", "happy"),
        ("train_00003_aligned.jpg", "train", "happy"),
        ("test_0001_aligned.jpg", "test", "neutral"),
        ("test_0002_aligned.jpg", "test", "angry"),
    ]
    assert Path(read_dataset("rafdb", rafdb_dir, aligned=False)[0].path).name == "train_00001.jpg"


def test_rafdb_missing_image_is_warned_not_dropped_silently(rafdb_dir):
    (rafdb_dir / "Image" / "aligned" / "train_00002_aligned.jpg").unlink()
    with pytest.warns(DataWarning, match="train_00002_aligned.jpg"):
        assert len(read_dataset("rafdb", rafdb_dir)) == 4


def test_rafd_frontal_camera_and_gaze_by_default(rafd_dir):
    samples = read_dataset("rafd", rafd_dir)
    assert [(s.subject, EMOTIONS_WITH_CONTEMPT[s.label]) for s in samples] == [
        ("01", "angry"),
        ("01", "contempt"),
        ("02", "surprise"),
    ]
    assert all("Rafd090" in s.path and s.path.endswith("_frontal.jpg") for s in samples)
    assert len(read_dataset("rafd", rafd_dir, angles=(45, 90), gazes=("frontal", "left"))) == 12


def test_mug_subjects_and_middle_frames(mug_dir):
    samples = read_dataset("mug", mug_dir)
    assert len(samples) == 20 and {s.subject for s in samples} == {"001", "002"}
    assert set(names(samples)) == {"angry", "happy"}
    middle = read_dataset("mug", mug_dir, frames=1)
    assert len(middle) == 4 and all(s.path.endswith("img_0002.jpg") for s in middle)


def test_generic_folder_with_label_map(tmp_path):
    for folder in ("joy", "grumpy", "other"):
        write_image(tmp_path / folder / "a.png")
    samples = read_dataset("folder", tmp_path, label_map={"joy": "happiness", "grumpy": 0, "other": None})
    assert names(samples) == ["angry", "happy"]
    with pytest.raises(DatasetError, match="'other' to it"):
        read_dataset("folder", tmp_path, label_map={"joy": "happy", "grumpy": "angry"})
    with pytest.raises(DatasetError, match="not an expression name"):
        read_dataset("folder", tmp_path)


def test_every_reader_rejects_an_empty_folder_naming_its_layout(tmp_path):
    for name in DATASETS:
        with pytest.raises(DatasetError, match="expected"):
            read_dataset(name, tmp_path)


def test_missing_folder_unknown_name_and_unknown_option(tmp_path, jaffe_dir):
    with pytest.raises(DatasetError, match="does not exist; expected the layout"):
        read_dataset("kdef", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="unknown data set 'affectnet'; known data sets: fer2013, ckplus"):
        read_dataset("affectnet", tmp_path)
    with pytest.raises(DatasetError, match="unknown option"):
        read_dataset("jaffe", jaffe_dir, poses="S")


def test_detect_and_parse_data_spec(fer_folder, fer_csv, ckplus_release, rafdb_dir, jaffe_dir, kdef_dir, mug_dir):
    detected = {
        path: detect_dataset(path)
        for path in (fer_folder, fer_csv, ckplus_release, rafdb_dir, jaffe_dir, kdef_dir / "AF01", mug_dir)
    }
    assert list(detected.values()) == ["fer2013", "fer2013", "ckplus", "rafdb", "jaffe", "kdef", "mug"]
    assert parse_data_spec(f"jaffe={jaffe_dir}") == ("jaffe", jaffe_dir)
    assert parse_data_spec(str(fer_folder)) == ("fer2013", fer_folder)
    with pytest.raises(DatasetError, match="unknown data set 'fer'"):
        parse_data_spec("fer=somewhere")
    with pytest.raises(DatasetError, match="nowhere' does not exist; check the path"):
        detect_dataset(kdef_dir.parent / "nowhere")
    with pytest.raises(DatasetError, match="does not exist"):
        parse_data_spec(str(kdef_dir.parent / "nowhere"))
    (kdef_dir.parent / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty' is an empty folder; give the folder that holds the data set's"):
        detect_dataset(kdef_dir.parent / "empty")
    (kdef_dir.parent / "other").mkdir()
    (kdef_dir.parent / "other" / "notes.txt").write_text("not a data set", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"cannot tell which data set .* name it as NAME="):
        detect_dataset(kdef_dir.parent / "other")
    with pytest.raises(DatasetError, match="holds; name it with --dataset NAME, NAME one of"):
        detect_dataset(kdef_dir.parent / "other", naming="name it with --dataset NAME")


def test_an_empty_data_set_path_is_refused_not_taken_as_the_working_folder(fer_folder, monkeypatch):
    monkeypatch.chdir(fer_folder)  # a data set that "" would otherwise be read as
    for spec in ("fer2013=", "fer2013= ", ""):
        with pytest.raises(DatasetError, match=r"names no path; give it as NAME=PATH, e\.g\. fer2013="):
            parse_data_spec(spec)
    with pytest.raises(DatasetError, match=r"the data set path is empty; give the data set's folder or file"):
        read_dataset("fer2013", "")
    with pytest.raises(DatasetError, match=r"the data set path is empty"):
        detect_dataset("")


def test_label_index_matches_canonical_order():
    assert label_index("contemptuous") == 7
