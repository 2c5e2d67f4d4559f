import importlib.util

import cv2
import numpy as np
import pytest
from runtime_media import SAMPLE_FACE_BOX

from edgefer.errors import ConfigError, MissingExtraError
from edgefer.faces import Detection, create_detector, crop_face, eye_angle
from edgefer.runtime.tracking import iou


def test_haar_finds_the_face_in_the_sample_photo(sample_bgr):
    detections = create_detector("haar").detect(sample_bgr)
    assert len(detections) == 1
    assert iou(detections[0].box, SAMPLE_FACE_BOX) > 0.8


def test_haar_finds_nothing_in_a_blank_image():
    assert create_detector("haar").detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_none_detector_is_the_whole_image():
    (detection,) = create_detector("none").detect(np.zeros((30, 40, 3), np.uint8))
    assert detection.box == (0, 0, 40, 30)


def test_detection_scales_back_to_the_full_frame():
    detection = Detection((10, 20, 30, 40), 0.9, np.array([[12.0, 30.0], [30.0, 30.0]]))
    scaled = detection.scaled(2.0)
    assert scaled.box == (20, 40, 60, 80)
    assert scaled.landmarks.tolist() == [[24.0, 60.0], [60.0, 60.0]]


def test_crop_has_the_margin_and_the_requested_size():
    image = np.zeros((100, 100), np.uint8)
    image[40:60, 40:60] = 255  # the "face" box, 20 px
    crop = crop_face(image, Detection((40, 40, 20, 20)), (40, 40), margin=0.5, align=False)
    assert crop.shape == (40, 40)
    # Side = 20 * (1 + 2 * 0.5) = 40 px: the face fills the middle half of the crop.
    assert crop[10:30, 10:30].min() == 255 and crop[:8].max() == 0


def test_alignment_levels_tilted_eyes():
    image = np.zeros((200, 200), np.uint8)
    left, right = (70.0, 80.0), (130.0, 120.0)  # eyes on a line tilted by atan(40/60) ≈ 33.7°
    for x, y in (left, right):
        cv2.circle(image, (int(x), int(y)), 6, 255, -1)
    landmarks = np.array([left, right], np.float32)
    assert eye_angle(landmarks) == pytest.approx(33.69, abs=0.01)
    crop = crop_face(image, Detection((50, 50, 100, 100), landmarks=landmarks), (120, 120), margin=0.1, align=True)
    ys, xs = np.nonzero(crop > 128)
    blobs = [ys[xs < 60].mean(), ys[xs >= 60].mean()]
    assert abs(blobs[0] - blobs[1]) < 2.0  # level after alignment (they were 40 px apart)


def test_unknown_detector_name():
    with pytest.raises(ConfigError, match="unknown face detector 'yolo'"):
        create_detector("yolo")


def test_onnx_face_model_path_that_is_missing_or_not_a_face_model(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        create_detector(str(tmp_path / "yunet.onnx"))
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="FaceDetectorYN cannot run"):
        create_detector(str(bogus))


def test_a_valid_onnx_that_is_not_a_face_model_is_one_line_without_opencv_log_noise(tmp_path, capfd):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.zeros((3, 2), np.float32), "weight")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "weight"], ["output"])],
        "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2])],
        [weight],
    )
    path = tmp_path / "linear.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ConfigError, match="FaceDetectorYN cannot run"):
        create_detector(str(path))
    assert capfd.readouterr().err == ""  # OpenCV logs the failed shape inference at ERROR level unless silenced


@pytest.mark.skipif(importlib.util.find_spec("dlib") is not None, reason="dlib is installed")
def test_dlib_without_its_extra_names_the_install_command():
    with pytest.raises(MissingExtraError, match=r"pip install 'edgefer\[dlib\]'"):
        create_detector("dlib")


@pytest.mark.skipif(importlib.util.find_spec("mediapipe") is not None, reason="mediapipe is installed")
def test_mediapipe_without_its_extra_names_the_install_command():
    with pytest.raises(MissingExtraError, match=r"pip install 'edgefer\[mediapipe\]'"):
        create_detector("mediapipe")


def test_dlib_finds_the_face_in_the_sample_photo(sample_bgr):
    pytest.importorskip("dlib", reason="the dlib extra is not installed")
    (detection,) = create_detector("dlib").detect(sample_bgr)
    assert iou(detection.box, SAMPLE_FACE_BOX) > 0.5
