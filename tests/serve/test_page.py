"""The web page, end to end in headless Chromium driven over the DevTools protocol: upload a photo and see
boxes and scores drawn; watch the live stream and its per-class timeline. Saves a screenshot.

The screenshot goes to the test's tmp folder, and also to $EDGEFER_SCREENSHOT_DIR when that is set.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from serve_helpers import wait_for

from edgefer.assets import SAMPLE_IMAGE
from edgefer.runtime.results import FrameResult
from edgefer.serve import ServeConfig, create_app

TOKEN = "page-test-token"
CHROMIUM = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands on one page target."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "--window-size=1280,1100",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        assert wait_for(lambda: port_file.is_file() and port_file.read_text().strip(), 30), "Chromium did not start"
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        from websockets.sync.client import connect

        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: object) -> dict:
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == message_id:
                assert "error" not in message, message["error"]
                return message["result"]

    def evaluate(self, expression: str) -> object:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does it)")
    devtools = DevTools(CHROMIUM, tmp_path / "profile")
    yield devtools
    devtools.close()


class LoopingCamera:
    """A live source for the page: the sample photo, shifted a little each frame, recognised for real."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer

    def stream(self, source: object, keep_frames: bool = False) -> Iterator[FrameResult]:
        photo = cv2.resize(cv2.imread(str(SAMPLE_IMAGE)), (320, 320))
        for index in itertools.count():
            frame = np.roll(photo, 6 * (index % 8) - 24, axis=1)
            yield FrameResult(index, index / 10, self.recognizer.predict(frame), "loop", frame if keep_frames else None)
            time.sleep(0.08)


def test_page_upload_and_live_view(browser: DevTools, run_server, real_recognizer, real_weights, tmp_path) -> None:
    from edgefer import Recognizer

    live = LoopingCamera(Recognizer(real_weights, backend="torch"))
    app = create_app(real_recognizer, ServeConfig(thing_id="page-test", token=TOKEN, source="loop"), live)
    with run_server(app) as base:
        browser.call("Page.enable")
        browser.call("Page.navigate", url=base + "/")
        assert wait_for(lambda: browser.evaluate("document.getElementById('thing').textContent") == "page-test")
        browser.evaluate(f"document.getElementById('token').value = {TOKEN!r}")
        root = browser.call("DOM.getDocument")["root"]["nodeId"]
        file_input = browser.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        browser.call("DOM.setFileInputFiles", nodeId=file_input, files=[str(SAMPLE_IMAGE)])
        assert wait_for(lambda: browser.evaluate("document.body.dataset.state") in ("done", "error"), 30)
        status = browser.evaluate("document.getElementById('status').textContent")
        assert browser.evaluate("document.body.dataset.state") == "done", status
        assert status.startswith("1 face(s)")
        # the box is drawn: the canvas has the box colour of the label where the box's edge is
        face = real_recognizer.predict(SAMPLE_IMAGE)[0]
        x, y, _, h = face.box
        edge = browser.evaluate(
            f"Array.from(document.getElementById('canvas').getContext('2d').getImageData({x}, {y + h // 2}, 1, 1).data)"
        )
        colour = browser.evaluate(f"COLOURS[{face.label!r}]")
        assert "#{:02x}{:02x}{:02x}".format(*edge[:3]) == colour
        assert browser.evaluate("document.querySelectorAll('#scores tr').length") == 1 + len(face.classes)
        # live: annotated frames and a growing timeline
        assert browser.evaluate("document.getElementById('live').hidden") is False
        assert wait_for(lambda: int(browser.evaluate("document.body.dataset.live || '0'")) >= 8, 30)
        assert wait_for(lambda: browser.evaluate("document.getElementById('live-frame').naturalWidth") == 320, 10)
        screenshot = browser.call("Page.captureScreenshot", format="png")["data"]
    import base64

    path = tmp_path / "page.png"
    path.write_bytes(base64.b64decode(screenshot))
    if os.environ.get("EDGEFER_SCREENSHOT_DIR"):
        shutil.copy(path, Path(os.environ["EDGEFER_SCREENSHOT_DIR"]) / "serve_page.png")
    assert path.stat().st_size > 10_000
