"""edgefer: facial expression recognition small and fast enough for edge, IoT and Web-of-Things devices."""

from typing import Any

from edgefer.labels import EMOTIONS

__version__ = "0.1.0"

__all__ = ["EMOTIONS", "Recognizer", "__version__"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `import edgefer` (and `edgefer --help`) stays free of torch and OpenCV.
    if name == "Recognizer":
        from edgefer.recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'edgefer' has no attribute {name!r}")
