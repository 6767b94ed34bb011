"""Keeping the station index current with climate.onebuilding.org's listings: check them, rebuild from them.

`listing_changes` sends one HEAD request per listing file and compares its ``Last-Modified`` with the date
the index recorded. `refresh_index` downloads every listing, builds a new index and publishes it in
epcloud's cache with one rename, so a failed refresh leaves the previous index in place.
`StationIndex.load()` prefers that refreshed index over the bundled one unless the bundled one is newer.
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import os
import socket
import struct
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from os import PathLike
from pathlib import Path
from typing import Any

from epcloud._version import __version__
from epcloud.cachedir import cache_dir as _cache_dir
from epcloud.errors import WeatherDownloadError, WeatherFormatError
from epcloud.weather.indexbuild import build_table, entries_from_listing
from epcloud.weather.indexfile import StationTable
from epcloud.weather.listing import LISTING_FILES, listing_url, parse_kml
from epcloud.weather.stations import ONEBUILDING_URL

__all__ = [
    "BASE_URL_ENV",
    "REFRESHED_INDEX",
    "ListingChange",
    "listing_changes",
    "read_table",
    "refresh_index",
    "refreshed_index_path",
    "resolve_base_url",
]

logger = logging.getLogger(__name__)

#: The environment variable naming a site laid out like climate.onebuilding.org (a mirror, a test server).
BASE_URL_ENV = "EPCLOUD_WEATHER_BASE_URL"
#: The refreshed index's file name in the weather cache folder.
REFRESHED_INDEX = "stations.bin.gz"
_MAX_LISTING_BYTES = 512 * 1024 * 1024  # the largest listing (USA) is tens of MB
_CHUNK = 256 * 1024


def resolve_base_url(base_url: str | None = None) -> str:
    """``base_url``, else ``$EPCLOUD_WEATHER_BASE_URL``, else https://climate.onebuilding.org."""
    chosen = base_url or os.environ.get(BASE_URL_ENV) or ONEBUILDING_URL
    if urllib.parse.urlsplit(chosen).scheme not in ("http", "https"):
        source = "base_url" if base_url else BASE_URL_ENV
        raise ValueError(f"{source} must be an http:// or https:// URL, got {chosen!r}")
    return chosen.rstrip("/")


def refreshed_index_path(cache_dir: str | PathLike[str] | None = None) -> Path:
    """Where `refresh_index` writes: ``<cache_dir>/stations.bin.gz`` (default: the cache's weather folder)."""
    return (Path(cache_dir) if cache_dir is not None else _cache_dir("weather")) / REFRESHED_INDEX


def read_table(path: Path) -> StationTable:
    """An index file's table.

    Raises:
        WeatherFormatError: naming the file and saying how to replace it, when it is not an index.
    """
    try:
        return StationTable.from_bytes(path.read_bytes())
    except (ValueError, EOFError, gzip.BadGzipFile, struct.error, KeyError, json.JSONDecodeError) as exc:
        raise WeatherFormatError(
            f"not a readable station index ({exc}); rebuild it with StationIndex.refresh() or "
            "`epcloud weather refresh`, or delete it to use the bundled index",
            source=str(path),
        ) from exc


@dataclass(frozen=True)
class ListingChange:
    """A listing file whose date differs from the one the index was built from (None: not recorded)."""

    filename: str
    url: str
    indexed: str | None
    current: str


def listing_changes(
    last_modified: dict[str, str], base_url: str | None = None, timeout: float = 30.0
) -> list[ListingChange]:
    """The listing files changed since an index recording these ``Last-Modified`` dates was built.

    One HEAD request per listing file; a file without a recorded date counts as changed.

    Raises:
        WeatherDownloadError: naming the URL, when the site cannot be reached, answers with an error, or
            sends no ``Last-Modified`` to compare.
    """
    base = resolve_base_url(base_url)
    changes = []
    for filename in LISTING_FILES:
        url = listing_url(filename, base)
        with _open(url, "HEAD", timeout) as response:
            current = response.headers.get("Last-Modified")
        if not current:
            raise WeatherDownloadError(
                "the server sent no Last-Modified date, so the listing cannot be compared with the index; "
                "refresh the index instead",
                url=url,
            )
        indexed = last_modified.get(filename)
        if indexed is None or not _same_date(indexed, current):
            changes.append(ListingChange(filename, url, indexed, current))
    return changes


def refresh_index(
    cache_dir: str | PathLike[str] | None = None, base_url: str | None = None, timeout: float = 60.0
) -> tuple[StationTable, Path]:
    """Download every listing file, build an index of them and publish it at `refreshed_index_path`.

    Returns:
        The new index's table and the path it was written to.

    Raises:
        WeatherDownloadError: naming the URL of a listing that cannot be downloaded.
        WeatherFormatError: naming the URL (and line) of a listing that does not parse.
        OSError: when the index cannot be written; in every case the previous index file is left as it was.
    """
    base = resolve_base_url(base_url)
    dest = refreshed_index_path(cache_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)  # checked before anything is downloaded
    if not os.access(dest.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the station index into {dest.parent}: choose another cache_dir")
    entries: list[dict[str, Any]] = []
    dates: dict[str, str] = {}
    for filename in LISTING_FILES:
        url = listing_url(filename, base)
        data, modified = _download(url, timeout)
        try:
            found = entries_from_listing(parse_kml(data, url))
        except ValueError as exc:
            if isinstance(exc, WeatherFormatError):
                raise
            raise WeatherFormatError(str(exc), source=url) from None
        logger.info("%s: %d weather files (%d bytes)", url, len(found), len(data))
        entries.extend(found)
        if modified:
            dates[filename] = modified
    meta = {
        "built_at": datetime.now(timezone.utc).isoformat(),
        "source": "climate.onebuilding.org station listings",
        "listing_url": base,
        "last_modified": dates,
    }
    table = build_table(entries, meta)
    _write_atomically(dest, table.to_bytes())
    logger.info("wrote the refreshed station index %s (%d stations)", dest, table.location_count)
    return table, dest


# ---------------------------------------------------------------- internals


def _same_date(first: str, second: str) -> bool:
    try:
        return parsedate_to_datetime(first) == parsedate_to_datetime(second)
    except (TypeError, ValueError):
        return first.strip() == second.strip()


def _open(url: str, method: str, timeout: float) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, method=method, headers={"User-Agent": f"epcloud/{__version__}"})
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        hint = " (the site may have moved its listings; check base_url)" if exc.code == 404 else ""
        raise WeatherDownloadError(f"HTTP {exc.code} {exc.reason}{hint}", url=url) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            host = urllib.parse.urlsplit(url).hostname
            reason = f"cannot resolve {host} ({reason.strerror})"
        raise WeatherDownloadError(
            f"cannot reach the site: {reason}; check the network connection and try again", url=url
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise WeatherDownloadError(f"cannot reach the site: {exc}; try again", url=url) from None
    return response


def _download(url: str, timeout: float) -> tuple[bytes, str | None]:
    """A listing file's bytes and its Last-Modified date."""
    with _open(url, "GET", timeout) as response:
        declared = response.headers.get("Content-Length")
        expected = int(declared) if declared and declared.isdigit() else None
        chunks: list[bytes] = []
        received = 0
        try:
            while chunk := response.read(_CHUNK):
                received += len(chunk)
                if received > _MAX_LISTING_BYTES:
                    raise WeatherDownloadError(
                        f"the listing is larger than {_MAX_LISTING_BYTES} bytes", url=url
                    )
                chunks.append(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise WeatherDownloadError(
                f"the connection broke after {received} bytes ({exc}); try again", url=url
            ) from None
        modified = response.headers.get("Last-Modified")
    if expected is not None and received != expected:
        raise WeatherDownloadError(
            f"the connection closed after {received} of {expected} bytes; try again", url=url
        )
    return b"".join(chunks), modified


def _write_atomically(dest: Path, data: bytes) -> None:
    """Write ``dest`` through a temporary file in its folder and one rename: readers see old or new, whole."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, dest)
    finally:
        temporary.unlink(missing_ok=True)
