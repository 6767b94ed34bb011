"""Downloading a station's weather files: its ZIP over HTTPS, unpacked into a cache, atomically.

The cache holds one folder per weather file, ``<cache_dir>/<file stem>/<file stem>.epw|.ddy|.stat``,
published with one rename once complete, so an interrupted download never leaves a partial file where
the cache looks. To test against a local server or use a mirror laid out like climate.onebuilding.org,
pass ``base_url="http://127.0.0.1:8000/mirror"`` (or set ``$EPCLOUD_WEATHER_BASE_URL``): it replaces the
scheme and host of station URLs.
"""

from __future__ import annotations

import http.client
import logging
import os
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud._version import __version__
from epcloud.cachedir import cache_dir
from epcloud.errors import StationNotFoundError, WeatherDownloadError
from epcloud.weather.refresh import BASE_URL_ENV
from epcloud.weather.stations import WeatherStation

if TYPE_CHECKING:
    from epcloud.weather.stations import StationIndex

__all__ = [
    "DEFAULT_MAX_BYTES",
    "PartialWeatherFiles",
    "WeatherDownloader",
    "WeatherFiles",
    "default_cache_dir",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a climate.onebuilding.org ZIP is 1-3 MB
_MAX_MEMBER_BYTES = 200 * 1024 * 1024  # an unpacked EPW is about 1.7 MB; this only stops ZIP bombs
_CHUNK = 64 * 1024
_EXTENSIONS = (".epw", ".ddy", ".stat")


@dataclass(frozen=True)
class WeatherFiles:
    """The unpacked weather files of a station; ``ddy`` and ``stat`` are None when the ZIP lacks them.

    ``zip_path`` is the downloaded ZIP, kept next to them (None for a folder cached by an epcloud that
    did not keep it).
    """

    epw: Path
    ddy: Path | None
    stat: Path | None
    station: WeatherStation
    zip_path: Path | None = None


#: idfkit's name for what ``download(station, only=...)`` returns; in epcloud it is a `WeatherFiles`.
PartialWeatherFiles = WeatherFiles


def default_cache_dir() -> Path:
    """Downloaded weather: the ``weather`` folder of epcloud's cache (see `epcloud.cachedir`)."""
    return cache_dir("weather")


class _TransientError(Exception):
    """A failure worth retrying: a 5xx answer, a refused or broken connection, a timeout."""


class WeatherDownloader:
    """Downloads and caches station weather files; a cached station makes no request.

    Args:
        cache_dir: where the files are kept (default: epcloud's cache, see `default_cache_dir`).
        base_url: a mirror replacing the scheme and host of station URLs (default
            ``$EPCLOUD_WEATHER_BASE_URL``, else none).
        timeout: seconds to wait for the server.
        max_bytes: the largest ZIP accepted.
        retries: further attempts after a transient failure (5xx, broken connection, timeout).
        backoff: the first retry's delay in seconds, doubled each time.
        max_age: cached files older than this (a `timedelta` or seconds) are downloaded again.
    """

    def __init__(
        self,
        cache_dir: str | PathLike[str] | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = 3,
        backoff: float = 0.5,
        max_age: timedelta | float | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        base_url = base_url or os.environ.get(BASE_URL_ENV)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff = backoff
        self.max_age = max_age.total_seconds() if isinstance(max_age, timedelta) else max_age
        if self.max_age is not None and self.max_age < 0:
            raise ValueError(f"max_age must be zero or more seconds, got {max_age!r}")

    def url_for(self, station: WeatherStation) -> str:
        """The URL the station's ZIP is fetched from, after the ``base_url`` rewrite."""
        if not self.base_url:
            return station.url
        parts = urllib.parse.urlsplit(station.url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}{parts.path}{query}"

    def cached(self, station: WeatherStation) -> WeatherFiles | None:
        """The station's files if they are in the cache (and younger than ``max_age``), else None."""
        folder = self.cache_dir / station.file_stem
        epw = folder / f"{station.file_stem}.epw"
        if not epw.is_file():
            return None
        if self.max_age is not None and time.time() - epw.stat().st_mtime > self.max_age:
            logger.debug("cached weather files of %s are older than max_age", station.file_stem)
            return None
        return _files_in(folder, station)

    def download(self, station: WeatherStation, *, only: Iterable[str] | None = None) -> WeatherFiles:
        """The station's .epw/.ddy/.stat, from the cache or downloaded into it.

        Args:
            station: the station (one weather file of it) to download.
            only: suffixes that must be there (``{".epw", ".ddy"}``, as idfkit spells it): a ZIP lacking
                one raises `WeatherDownloadError`. All three files are always unpacked; they are small.
        """
        wanted = _suffixes(only)
        files = self.cached(station)
        if files is not None:
            logger.debug("weather files of %s are cached in %s", station.file_stem, files.epw.parent)
            return _require(files, wanted, self.url_for(station))
        url = self.url_for(station)
        stem = station.file_stem
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=f".{stem}.") as tmp:
            archive = Path(tmp) / "download.zip"
            self._fetch(url, archive)
            unpacked = Path(tmp) / stem
            _unpack(archive, unpacked, stem, url)
            os.replace(archive, unpacked / f"{stem}.zip")
            self._publish(unpacked, self.cache_dir / stem, Path(tmp) / "stale")
        files = _files_in(self.cache_dir / stem, station)
        logger.info("downloaded %s into %s", url, files.epw.parent)
        return _require(files, wanted, url)

    @staticmethod
    def _publish(unpacked: Path, target: Path, stale: Path) -> None:
        """Move a complete folder into the cache with one rename; a finished folder already there wins
        unless it is older than ``max_age`` (then it is moved to ``stale`` first, to go with the temp dir)."""
        if target.exists() and not (target / f"{target.name}.epw").is_file():
            shutil.rmtree(target)  # an incomplete folder someone else left: not a cache entry
        elif target.exists():
            os.replace(target, stale)  # only reached when `cached()` found it too old
        try:
            os.replace(unpacked, target)
        except OSError:
            if not (target / f"{target.name}.epw").is_file():
                raise

    # -- idfkit names (docs/idfkit.md) --------------------------------------------------------------

    def get_epw(self, station: WeatherStation) -> Path:
        """The station's .epw, downloaded if needed (idfkit's shortcut for ``download(station).epw``)."""
        return self.download(station).epw

    def get_ddy(self, station: WeatherStation) -> Path:
        """The station's .ddy, downloaded if needed; a ZIP without one raises `WeatherDownloadError`."""
        ddy = self.download(station, only=(".ddy",)).ddy
        assert ddy is not None  # _require checked it
        return ddy

    def get_epw_by_filename(self, filename: str, *, index: StationIndex | None = None) -> Path:
        """The .epw of the weather file with this name (``USA_IL_Chicago...725300_TMYx.2011-2025``)."""
        return self.get_epw(_station_named(filename, index))

    def get_ddy_by_filename(self, filename: str, *, index: StationIndex | None = None) -> Path:
        """The .ddy of the weather file with this name."""
        return self.get_ddy(_station_named(filename, index))

    def clear_cache(self) -> None:
        """Remove every downloaded station folder from ``cache_dir`` (other files there are left alone)."""
        if not self.cache_dir.is_dir():
            return
        for folder in self.cache_dir.iterdir():
            if folder.is_dir() and (folder / f"{folder.name}.epw").is_file():
                shutil.rmtree(folder)
                logger.debug("removed cached weather files %s", folder)

    # -- internals ------------------------------------------------------------------------------------

    def _fetch(self, url: str, dest: Path) -> None:
        attempt = 0
        while True:
            try:
                self._fetch_once(url, dest)
                return
            except _TransientError as exc:
                if attempt >= self.retries:
                    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                    raise WeatherDownloadError(
                        f"{exc} (gave up after {tries}). Check the network connection, or download the ZIP "
                        "yourself and pass the .epw path instead of a station.",
                        url=url,
                    ) from exc
                delay = self.backoff * 2**attempt
                attempt += 1
                logger.warning(
                    "downloading %s failed (%s); retry %d of %d in %.1f s",
                    url,
                    exc,
                    attempt,
                    self.retries,
                    delay,
                )
                time.sleep(delay)

    def _fetch_once(self, url: str, dest: Path) -> None:
        request = urllib.request.Request(url, headers={"User-Agent": f"epcloud/{__version__}"})
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500 or exc.code == 429:
                raise _TransientError(f"HTTP {exc.code} {exc.reason}") from exc
            hint = ""
            if exc.code == 404:
                hint = " (the station index may be out of date, or the mirror lacks this file)"
            raise WeatherDownloadError(f"HTTP {exc.code} {exc.reason}{hint}", url=url) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, socket.gaierror):  # no DNS: offline, or a wrong base_url
                host = urllib.parse.urlsplit(url).hostname
                raise WeatherDownloadError(
                    f"cannot resolve {host} ({exc.reason.strerror}); check the network connection, or "
                    "download the ZIP yourself and pass the .epw path instead of a station",
                    url=url,
                ) from exc
            raise _TransientError(f"cannot connect: {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise _TransientError(f"cannot connect: {exc}") from exc
        with response:
            declared = response.headers.get("Content-Length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > self.max_bytes:
                raise WeatherDownloadError(
                    f"the file is {expected} bytes, more than the limit of {self.max_bytes} (max_bytes)",
                    url=url,
                )
            received = 0
            try:
                with open(dest, "wb") as out:
                    while chunk := response.read(_CHUNK):
                        received += len(chunk)
                        if received > self.max_bytes:
                            raise WeatherDownloadError(
                                f"the download exceeds the limit of {self.max_bytes} bytes (max_bytes)",
                                url=url,
                            )
                        out.write(chunk)
            except (OSError, http.client.HTTPException) as exc:
                raise _TransientError(f"the connection broke after {received} bytes: {exc}") from exc
        if expected is not None and received != expected:
            raise _TransientError(f"the connection closed after {received} of {expected} bytes")


def _files_in(folder: Path, station: WeatherStation) -> WeatherFiles:
    ddy, stat, zipped = (folder / f"{station.file_stem}{ext}" for ext in (".ddy", ".stat", ".zip"))
    epw = folder / f"{station.file_stem}.epw"
    return WeatherFiles(
        epw,
        ddy if ddy.is_file() else None,
        stat if stat.is_file() else None,
        station,
        zipped if zipped.is_file() else None,
    )


def _suffixes(only: Iterable[str] | None) -> frozenset[str]:
    """``{"EPW", ".ddy"}`` -> ``{".epw", ".ddy"}``; a suffix the ZIPs never hold raises ValueError."""
    if only is None:
        return frozenset()
    if isinstance(only, str):
        only = (only,)
    wanted = frozenset("." + suffix.strip().lower().lstrip(".") for suffix in only)
    unknown = sorted(wanted.difference(_EXTENSIONS))
    if unknown:
        raise ValueError(f"only= names {', '.join(unknown)}; a station's files are {', '.join(_EXTENSIONS)}")
    return wanted


def _require(files: WeatherFiles, wanted: frozenset[str], url: str) -> WeatherFiles:
    for suffix in sorted(wanted):
        if getattr(files, suffix[1:]) is None:
            raise WeatherDownloadError(f"the station's ZIP has no {suffix} file", url=url)
    return files


def _station_named(filename: str, index: StationIndex | None) -> WeatherStation:
    from epcloud.weather.stations import StationIndex

    found = (index if index is not None else StationIndex.load()).get_by_filename(filename)
    if not found:
        raise StationNotFoundError(
            f"no weather file named {filename!r} in the station index; "
            "search by name with StationIndex.search() or `epcloud weather search NAME`"
        )
    return found[0]


def _unpack(archive: Path, folder: Path, stem: str, url: str) -> None:
    """Extract the .epw (required), .ddy and .stat of a ZIP into ``folder`` under the canonical stem."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
            folder.mkdir()
            for ext in _EXTENSIONS:
                info = _pick(members, ext, stem)
                if info is None:
                    if ext == ".epw":
                        names = ", ".join(i.filename for i in members) or "nothing"
                        raise WeatherDownloadError(f"the ZIP has no .epw file (it holds {names})", url=url)
                    continue
                if info.file_size > _MAX_MEMBER_BYTES:
                    raise WeatherDownloadError(
                        f"{info.filename} unpacks to {info.file_size} bytes, more than {_MAX_MEMBER_BYTES}",
                        url=url,
                    )
                with zf.open(info) as src, open(folder / f"{stem}{ext}", "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise WeatherDownloadError(f"the download is not a valid ZIP archive ({exc})", url=url) from exc
    with open(folder / f"{stem}.epw", "rb") as epw:
        if not epw.read(11).lstrip(b"\xef\xbb\xbf").upper().startswith(b"LOCATION"):
            raise WeatherDownloadError("the ZIP's .epw file does not start with a LOCATION line", url=url)


def _pick(members: list[zipfile.ZipInfo], ext: str, stem: str) -> zipfile.ZipInfo | None:
    """The member with this extension, preferring the one named after the station's file stem."""
    found = sorted((i for i in members if i.filename.lower().endswith(ext)), key=lambda i: i.filename)
    for info in found:
        if Path(info.filename).name.lower() == f"{stem}{ext}".lower():
            return info
    return found[0] if found else None
