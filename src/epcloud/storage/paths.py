"""Store paths: `/`-separated relative keys that can never leave a store's root or prefix."""

from __future__ import annotations

import os
import re
from pathlib import PurePath

from epcloud.errors import StoragePathError

StorePath = str | os.PathLike[str]
"""A path inside a store: a `str` or a path object, always `/`-separated once normalised."""

_DRIVE = re.compile(r"^[A-Za-z]:")


def as_posix(path: StorePath) -> str:
    """The path as a string, with a path object's own separators turned into `/`."""
    if isinstance(path, PurePath):
        return path.as_posix()
    return os.fspath(path)


def normalize_path(path: StorePath, *, allow_root: bool = False) -> str:
    """The path, validated, without a trailing `/`; StoragePathError for anything that could leave the store.

    Refused: absolute paths, drive letters, backslashes, `.`/`..`/empty segments, control characters;
    the root (`""`) passes only where `allow_root` says a folder is meant (listings, makedirs).
    """
    text = as_posix(path)
    if not isinstance(text, str):
        raise StoragePathError(f"store paths are text, got {type(text).__name__}")
    shown = text
    if text.endswith("/") and text != "/":
        text = text[:-1]
    if text in ("", "."):
        if allow_root:
            return ""
        raise StoragePathError("an empty path names no file in the store")
    problem = _problem(text)
    if problem:
        raise StoragePathError(f"invalid store path {shown!r}: {problem}")
    return text


def _problem(text: str) -> str:
    """Why `text` is not a safe relative key, or "" when it is."""
    if text.startswith("/"):
        return "absolute paths are not allowed; use a path relative to the store"
    if "\\" in text:
        return "backslashes are not allowed; separate folders with '/'"
    if _DRIVE.match(text):
        return "drive letters are not allowed; use a path relative to the store"
    if any(ord(char) < 32 or char == "\x7f" for char in text):
        return "control characters are not allowed"
    for segment in text.split("/"):
        if segment == "":
            return "empty path segments ('//') are not allowed"
        if segment in (".", ".."):
            return f"'{segment}' segments are not allowed; the path must stay inside the store"
    return ""


def normalize_prefix(prefix: str) -> str:
    """A store prefix without leading or trailing `/`, validated like a path."""
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    problem = _problem(stripped)
    if problem:
        raise StoragePathError(f"invalid prefix {prefix!r}: {problem}")
    return stripped


def join_path(base: str, name: str) -> str:
    """`base/name`; `name` alone when `base` is the root, `base` alone when `name` is."""
    if not base or not name:
        return base or name
    return f"{base}{name}" if base.endswith("/") else f"{base}/{name}"


def relative_path(base: str, path: str) -> str:
    """The part of `path` below the folder `base` (the inverse of join_path)."""
    if not base:
        return path
    head = base if base.endswith("/") else f"{base}/"
    return path[len(head) :] if path.startswith(head) else path
