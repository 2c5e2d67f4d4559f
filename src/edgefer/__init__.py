"""edgefer: facial expression recognition small and fast enough for edge, IoT and Web-of-Things devices."""

from edgefer.labels import EMOTIONS

__version__ = "0.1.0"

__all__ = ["EMOTIONS", "__version__"]
