"""The record every reader returns, and the warning category of the data layer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DataWarning(UserWarning):
    """Something in a data set was skipped (an unreadable image, an unparseable file name); the message names it."""


@dataclass(frozen=True)
class Sample:
    """One labelled image of a data set.

    ``label`` indexes ``edgefer.labels.EMOTIONS_WITH_CONTEMPT`` (0..6 are ``EMOTIONS``, 7 is contempt).
    ``split`` is the data set's own official split name ("Training", "PublicTest", "train", ...) or None.
    ``pixels`` holds the uint8 H×W greyscale image for data sets that ship pixels instead of files
    (``fer2013.csv``); ``path`` then names the row as ``<file.csv>#<row>`` so that manifests can point at it.
    ``pixels`` takes no part in equality or hashing.
    """

    path: str | None
    label: int
    subject: str | None = None
    split: str | None = None
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)
