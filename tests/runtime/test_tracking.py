import numpy as np
import pytest
from runtime_media import moving_face_frames, write_video

from edgefer.runtime.tracking import IouTracker, iou


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_ids_persist_while_a_face_moves_and_new_faces_get_new_ids():
    tracker = IouTracker()
    ids = [tracker.update([(100 + 5 * i, 100, 80, 80)])[0].face_id for i in range(10)]
    assert ids == [0] * 10
    first, second = tracker.update([(150, 100, 80, 80), (400, 100, 80, 80)])
    assert (first.face_id, second.face_id) == (0, 1)


def test_a_track_survives_a_short_miss_then_ends():
    tracker = IouTracker(max_missed=2)
    tracker.update([(100, 100, 80, 80)])
    tracker.update([])
    tracker.update([])
    assert tracker.update([(102, 100, 80, 80)])[0].face_id == 0  # back after 2 missed rounds: same face
    for _ in range(3):
        tracker.update([])
    assert tracker.update([(102, 100, 80, 80)])[0].face_id == 1  # gone for 3 rounds: a new face


def test_ema_smoothing_damps_flicker_and_keeps_a_distribution():
    tracker = IouTracker(smoothing=0.3)
    track = tracker.update([(0, 0, 10, 10)])[0]
    a, b = np.array([0.9, 0.1], np.float32), np.array([0.1, 0.9], np.float32)
    smoothed = [tracker.smooth(track, a if i % 2 == 0 else b) for i in range(20)]
    assert all(abs(s.sum() - 1.0) < 1e-5 for s in smoothed)
    late = np.array([s[0] for s in smoothed[10:]])
    assert late.max() - late.min() < 0.4  # raw scores swing by 0.8 every frame


def test_stream_keeps_one_id_on_a_moving_face_and_smooths_its_scores(recognizer, sample_bgr, tmp_path):
    frames = moving_face_frames(sample_bgr, 12, step=6)
    video = write_video(tmp_path / "moving.mp4", frames)
    results = list(recognizer.stream(video))
    assert len(results) == 12
    assert all(len(r.faces) == 1 for r in results)
    assert {r.faces[0].face_id for r in results} == {0}
    xs = [r.faces[0].box[0] for r in results]
    assert xs[-1] - xs[0] > 40  # boxes follow the face (it moves 66 px)
    for result in results:
        assert result.faces[0].scores.sum() == pytest.approx(1.0, abs=1e-5)
    raw = recognizer.classify(frames[5], recognizer.detect(frames[5], max_width=320))[0].scores
    assert not np.allclose(results[5].faces[0].scores, raw, atol=1e-4)  # the stream's scores are the EMA
