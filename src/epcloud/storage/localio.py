"""Local-disk helpers shared by the stores: atomic file creation and OS-error translation."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from epcloud.errors import StorageError, StorageNotFoundError, StoragePermissionError

TMP_SUFFIX = ".epcloud-tmp"
"""Suffix of the temporary files atomic writes rename into place; listings skip them."""


def temporary_beside(target: Path) -> str:
    """Create an empty temporary file in `target`'s folder (creating the folder) and return its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TMP_SUFFIX)
    os.close(handle)
    return tmp


def write_atomically(target: Path, fill: Callable[[str], object]) -> None:
    """Create `target` by letting `fill` write a temporary file beside it, then renaming it into place."""
    tmp = temporary_beside(target)
    try:
        fill(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def os_errors_translated(action: str, where: object) -> Iterator[None]:
    """Turn OS errors raised inside the block into the storage errors every backend raises."""
    try:
        yield
    except StorageError:
        raise
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise StorageNotFoundError(f"cannot {action} {where}: no such file") from exc
    except PermissionError as exc:
        raise StoragePermissionError(f"cannot {action} {where}: permission denied") from exc
    except OSError as exc:
        raise StorageError(f"cannot {action} {where}: {exc.strerror or exc}") from exc
