"""Optional gzip of large outputs on their way to a store, and the transparent way back.

A packed output keeps its name with ``.gz`` added (``eplusout.eso.gz``), so any tool recognises it; the
result readers unpack it on first use into the local cache, so ``result.path("eso")`` still gives a plain
file.
"""

from __future__ import annotations

import gzip
import shutil
import zlib
from pathlib import Path

from epcloud.errors import CorruptResultError
from epcloud.storage.localio import write_atomically

__all__ = ["GZ", "TEXT_OUTPUTS", "gunzip_to", "gzip_in_place"]

GZ = ".gz"
# EnergyPlus's text outputs: the large ones (.eso, .mtr, CSVs, tabular reports) shrink 5-10 times.
TEXT_OUTPUTS = ("*.eso", "*.mtr", "*.csv", "*.htm", "*.tab", "*.txt", "*.xml", "*.eio", "*.audit", "*.err")
_CHUNK = 1 << 20


def gzip_in_place(path: Path, level: int = 5) -> Path:
    """Replace ``path`` by ``path.gz``, written atomically (no timestamp inside: equal files pack alike)."""
    target = path.with_name(path.name + GZ)

    def fill(tmp: str) -> None:
        with (
            path.open("rb") as source,
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename=path.name, mode="wb", compresslevel=level, fileobj=raw, mtime=0) as out,
        ):
            shutil.copyfileobj(source, out, _CHUNK)

    write_atomically(target, fill)
    path.unlink()
    return target


def gunzip_to(packed: Path, target: Path) -> Path:
    """Unpack ``packed`` into ``target`` once (atomically); a damaged archive raises `CorruptResultError`."""
    if target.is_file():
        return target

    def fill(tmp: str) -> None:
        with gzip.open(packed, "rb") as source, open(tmp, "wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)

    try:
        write_atomically(target, fill)
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptResultError(f"{packed.name}: not a complete gzip file ({exc})") from exc
    return target
