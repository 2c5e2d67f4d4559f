"""Claiming output paths before any work starts: never replace earlier results unasked, never fail late.

Every command that writes files claims its outputs first. A path that names the wrong kind of thing (a file where
a folder is wanted, or the other way round), a folder that cannot be created or written in, or earlier results that
``--force`` has not released each stop the command with one line naming the path and the fix. Claiming creates
nothing: a missing folder is made, and a probe file written in it, and both are removed again to prove it can be; the
writer makes it when it has something to write, so a command that fails later leaves no empty folder behind.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from edgefer.errors import OutputError


def claim_output_file(path: str | Path, force: bool) -> Path:
    """``path`` ready to be written: its folder can be created; an existing file is replaced only with ``force``."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{str(path)!r} is a folder; give a file path to write")
    if path.exists() and not force:
        raise OutputError(f"{str(path)!r} exists; pass --force to replace it or choose another path")
    check_writable_folder(path.parent)
    return path


def claim_output_folder(path: str | Path, products: Iterable[str], force: bool) -> Path:
    """``path`` can be created; ``products`` (names inside it) already there are replaced only with ``force``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{str(path)!r} is a file; give a folder to write into")
    if not force:
        found = sorted(name for name in products if (path / name).exists())
        if found:
            raise OutputError(
                f"{str(path)!r} already holds {', '.join(found)} from an earlier run; "
                "pass --force to replace them or choose another folder"
            )
    check_writable_folder(path)
    return path


def make_folder(path: Path) -> list[Path]:
    """Make ``path`` (and its parents); return the folders this made, deepest first, for ``remove_folders``."""
    made = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        remove_folders(made)
        raise OutputError(
            f"cannot create the folder {str(path)!r} ({error.strerror or error}); choose a writable path"
        ) from None
    return made


def remove_folders(folders: Iterable[Path]) -> None:
    """Remove ``folders`` (deepest first) where they are still empty: what a failed command made and did not fill."""
    for folder in folders:
        with suppress(OSError):  # absent (never made) or filled meanwhile
            folder.rmdir()


def check_writable_folder(path: str | Path) -> None:
    """Prove that files can be written in the folder ``path``: make its missing folders, write and delete a probe file
    in it, and remove the folders again. Permissions alone do not tell (root, /proc, read-only mounts)."""
    path = Path(path)
    made = make_folder(path)
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise OutputError(
            f"cannot write files in {str(path)!r} ({error.strerror or error}); choose a writable path"
        ) from None
    finally:
        remove_folders(made)
