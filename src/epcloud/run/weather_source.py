"""Weather from anywhere: a local file, an ``s3://`` or ``https://`` URL, or a path in the run's store.

Remote weather is fetched once into a local cache shared by every run on the machine; concurrent runs in
one process wait for the same download instead of repeating it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.cachedir import cache_dir
from epcloud.errors import StorageNotFoundError, WeatherFileNotFoundError

if TYPE_CHECKING:
    from epcloud.storage import AsyncFileSystem, FileInfo, FileSystem

__all__ = ["async_fetch_weather", "fetch_weather", "weather_cache_dir"]

WeatherInput = str | os.PathLike[str] | None
_HTTP_TIMEOUT = 60.0
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def weather_cache_dir() -> Path:
    """Remote weather files by URL and version: the ``weather-inputs`` folder of epcloud's cache."""
    return cache_dir("weather-inputs")


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _cached(identity: str, name: str) -> Path:
    """Cache slot for one remote file version (URL + ETag, or URL + size/mtime)."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:40]
    return weather_cache_dir() / digest[:2] / digest / name


def _store_slot(url: str, info: FileInfo, path: str) -> Path:
    """Cache slot of one version of a weather file in a store."""
    return _cached(f"{url}\n{info.version}", Path(path).name)


def _is_url(text: str) -> bool:
    return text.startswith(("s3://", "https://", "http://"))


def _download_http(url: str, target: Path) -> None:
    import urllib.error  # here: a run with local weather never needs the HTTP client
    import urllib.request

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".weather-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_HTTP_TIMEOUT) as response:
            shutil.copyfileobj(response, out)
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        raise WeatherFileNotFoundError(f"{url} (HTTP {exc.code})") from exc
    except OSError as exc:
        raise WeatherFileNotFoundError(f"{url} ({exc})") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


def _from_store(fs: FileSystem, path: str, shown: str) -> Path:
    try:
        info = fs.stat(path)
    except StorageNotFoundError as exc:
        raise WeatherFileNotFoundError(shown) from exc
    target = _store_slot(fs.url(path), info, path)
    with _lock_for(str(target)):
        if not target.is_file():
            fs.download_file(path, target)
    return target


def fetch_weather(weather: WeatherInput, fs: FileSystem | None = None) -> WeatherInput:
    """A local path for ``weather``: local files pass through; URLs and store paths are fetched once."""
    if weather is None:
        return None
    text = os.fspath(weather)
    if text.startswith("s3://"):
        from epcloud.storage import open_fs

        store_url, _, name = text.rpartition("/")
        return _from_store(open_fs(store_url), name, text)
    if text.startswith(("https://", "http://")):
        target = _cached(text, Path(text.split("?", 1)[0]).name or "weather.epw")
        with _lock_for(str(target)):
            if not target.is_file():
                _download_http(text, target)
        return target
    if fs is not None and not Path(text).expanduser().is_file():
        return _from_store(fs, text, fs.url(text))
    return weather


async def async_fetch_weather(weather: WeatherInput, fs: AsyncFileSystem | None = None) -> WeatherInput:
    """The coroutine twin of `fetch_weather` for runs whose store is an AsyncFileSystem."""
    import asyncio

    if weather is None or fs is None or _is_url(os.fspath(weather)) or Path(weather).expanduser().is_file():
        return await asyncio.to_thread(fetch_weather, weather)
    path = os.fspath(weather)
    try:
        info = await fs.stat(path)
    except StorageNotFoundError as exc:
        raise WeatherFileNotFoundError(fs.url(path)) from exc
    target = _store_slot(fs.url(path), info, path)
    if not target.is_file():
        await fs.download_file(path, target)
    return target
