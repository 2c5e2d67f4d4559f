import warnings

import cv2
import numpy as np
import pytest
from runtime_media import cut_video, moving_face_frames, write_video

from edgefer.errors import ImageError, SourceError
from edgefer.runtime.sources import SourceWarning, open_source


@pytest.fixture
def photo_folder(tmp_path, sample_bgr):
    """Two good images (one nested), a corrupt one and a non-image file."""
    (tmp_path / "nested").mkdir()
    cv2.imwrite(str(tmp_path / "a.jpg"), sample_bgr)
    cv2.imwrite(str(tmp_path / "nested" / "b.png"), np.full((60, 80, 3), 30, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    return tmp_path


def test_folder_is_recursive_and_skips_bad_files_with_a_report(recognizer, photo_folder):
    errors = []
    results = list(recognizer.stream(photo_folder, on_error=lambda name, error: errors.append((name, error))))
    assert [r.source.split("/")[-1] for r in results] == ["a.jpg", "b.png"]
    assert [len(r.faces) for r in results] == [1, 0]
    assert len(errors) == 1 and errors[0][0].endswith("broken.jpg") and isinstance(errors[0][1], ImageError)
    with pytest.raises(ImageError, match=r"broken\.jpg"):
        list(recognizer.stream(photo_folder))  # without on_error the bad file is raised


def test_glob_and_single_image(recognizer, photo_folder):
    source = open_source(str(photo_folder / "**" / "*.png"))
    assert (source.kind, source.total) == ("glob", 1)
    (result,) = recognizer.stream(str(photo_folder / "a.jpg"), keep_frames=True)
    assert result.frame.shape == (512, 512, 3) and len(result.faces) == 1


def test_video_file_frames_in_order_with_timestamps(recognizer, sample_video):
    source = open_source(sample_video)
    assert (source.kind, source.total) == ("video", 12) and source.fps == pytest.approx(25.0)
    results = list(recognizer.stream(source))
    assert [r.index for r in results] == list(range(12))
    assert results[-1].timestamp == pytest.approx(11 / 25, abs=0.05)


def test_a_video_cut_at_its_head_is_timed_from_zero_onwards(sample_video, tmp_path):
    """Such a file's container reports negative positions (-0.44 s, -0.40 s, ...); the frame rate times it."""
    timestamps = [frame.timestamp for frame in open_source(cut_video(sample_video, tmp_path / "c.mp4", "tail"))]
    assert len(timestamps) > 1 and timestamps[0] == 0.0
    assert timestamps == sorted(set(timestamps))  # rising, never repeating


def test_a_video_that_ends_short_of_its_frame_count_warns(sample_bgr, tmp_path):
    whole = write_video(tmp_path / "whole.avi", moving_face_frames(sample_bgr, 20), fourcc="MJPG")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SourceWarning)
        assert len(list(open_source(whole))) == 20
    cut = cut_video(whole, tmp_path / "cut.avi", "head")
    with pytest.warns(SourceWarning, match=r"cut\.avi: decoding stopped after 10 of its 20 frames"):
        frames = list(open_source(cut))
    assert len(frames) == 10


def test_an_empty_source_is_refused_not_taken_as_the_working_folder(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((8, 8, 3), np.uint8))
    monkeypatch.chdir(tmp_path)
    for empty in ("", " "):
        with pytest.raises(SourceError, match=r"the source is empty; give an image, a folder \('\.' for"):
            open_source(empty)


def test_bad_sources(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "absent.mp4")
    with pytest.raises(SourceError, match="holds no images"):
        open_source(tmp_path)
    with pytest.raises(SourceError, match="matches no images"):
        open_source(str(tmp_path / "*.jpg"))
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 255, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError, match=r"clip\.mp4"):
        list(open_source(garbage))
    with pytest.raises(SourceError, match="camera '97' will not open"):
        open_source(97)
    (tmp_path / "data.bin").write_bytes(b"\x00")
    with pytest.raises(SourceError, match="neither an image"):
        open_source(tmp_path / "data.bin")


def test_stream_url(recognizer, sample_video):
    """A video served over HTTP plays as a live stream; a URL nobody answers is a one-line SourceError."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(sample_video.parent))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{sample_video.name}"
        source = open_source(url)
        assert (source.kind, source.live) == ("stream", True)
        results = list(recognizer.stream(source))
        assert results and all(len(r.faces) == 1 for r in results)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SourceError, match="will not open"):
        open_source(f"http://127.0.0.1:{server.server_address[1]}/{sample_video.name}")
