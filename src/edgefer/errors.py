"""Errors a user can cause. Each message names the problem and the fix; the CLI prints it and exits non-zero."""


class EdgeferError(Exception):
    """Base class of every error edgefer raises on purpose (bad input, bad configuration, missing extras)."""


class DatasetError(EdgeferError):
    """A data set is missing, empty, in the wrong layout or names an unknown data set."""


class ImageError(EdgeferError):
    """An image cannot be read: missing, corrupt, not an image, or too large."""


class ModelError(EdgeferError):
    """An unknown model name, or weights that do not fit the model."""


class ConfigError(EdgeferError):
    """A recipe or command-line option with an unknown key, a wrong type or an impossible value."""


class SourceError(EdgeferError):
    """A video, camera or stream that will not open."""


class ExportError(EdgeferError):
    """An export that cannot be done: unknown format, missing optional extra, unsupported operator."""


class MissingExtraError(EdgeferError):
    """An optional dependency is not installed; the message gives the exact `pip install edgefer[...]`."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package '{package}', which is not installed; "
            f"install it with: pip install 'edgefer[{extra}]'"
        )


class OutputError(EdgeferError):
    """An output path that cannot be written, or whose writing would replace earlier results unasked."""


def first_line(error: BaseException) -> str:
    """The first non-blank line of a third-party error's message, or its type's name where the message is empty,
    for quoting it inside a one-line EdgeferError (converters raise errors with many-line or empty messages)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
