"""WeatherDownloader against a local HTTP server serving ZIPs of the engine's real weather files."""

from __future__ import annotations

import socket
import time
import urllib.parse
from pathlib import Path

import pytest
from weather_http import Reply, WeatherServer, make_zip

from epcloud.errors import WeatherDownloadError
from epcloud.weather import WeatherDownloader, WeatherStation, default_cache_dir


def _path(station: WeatherStation) -> str:
    return urllib.parse.urlsplit(station.url).path


def _downloader(server: WeatherServer, cache: Path, **options: object) -> WeatherDownloader:
    options = {"retries": 2, "backoff": 0.0, "timeout": 5.0, **options}
    return WeatherDownloader(cache_dir=cache, base_url=server.url, **options)  # type: ignore[arg-type]


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_unpacks_the_zip_under_the_canonical_stem(
    weather_server: WeatherServer,
    ohare: WeatherStation,
    chicago_zip: bytes,
    chicago_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    weather_server.serve(_path(ohare), Reply(body=chicago_zip))
    files = _downloader(weather_server, tmp_path).download(ohare)

    stem = ohare.file_stem
    assert files.epw == tmp_path / stem / f"{stem}.epw"
    assert files.ddy == tmp_path / stem / f"{stem}.ddy"
    assert files.stat == tmp_path / stem / f"{stem}.stat"
    assert files.station == ohare
    assert files.epw.read_bytes() == chicago_files["epw"].read_bytes()
    assert files.ddy is not None and files.ddy.read_bytes() == chicago_files["ddy"].read_bytes()
    assert weather_server.hits[_path(ohare)] == 1
    assert _leftovers(tmp_path) == [stem]  # no temp folder or stray ZIP left behind


def test_second_download_is_a_cache_hit_with_no_request(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_zip: bytes, tmp_path: Path
) -> None:
    weather_server.serve(_path(ohare), Reply(body=chicago_zip))
    first = _downloader(weather_server, tmp_path).download(ohare)
    second = _downloader(weather_server, tmp_path).download(ohare)  # a new downloader shares only the disk
    assert second == first
    assert weather_server.total_hits == 1


def test_zip_without_ddy_and_stat_gives_only_the_epw(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_files: dict[str, Path], tmp_path: Path
) -> None:
    body = make_zip({"x/weather.epw": chicago_files["epw"].read_bytes()})
    weather_server.serve(_path(ohare), Reply(body=body))
    files = _downloader(weather_server, tmp_path).download(ohare)
    assert files.epw.is_file() and files.ddy is None and files.stat is None


def test_retries_on_503_then_succeeds(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_zip: bytes, tmp_path: Path
) -> None:
    weather_server.serve(_path(ohare), Reply(503), Reply(503), Reply(body=chicago_zip))
    files = _downloader(weather_server, tmp_path, retries=3).download(ohare)
    assert files.epw.is_file()
    assert weather_server.hits[_path(ohare)] == 3


def test_gives_up_after_the_retries(
    weather_server: WeatherServer, ohare: WeatherStation, tmp_path: Path
) -> None:
    weather_server.serve(_path(ohare), Reply(503))
    with pytest.raises(WeatherDownloadError, match=r"HTTP 503.*gave up after 3 attempts"):
        _downloader(weather_server, tmp_path, retries=2).download(ohare)
    assert weather_server.hits[_path(ohare)] == 3
    assert _leftovers(tmp_path) == []


def test_404_is_not_retried(weather_server: WeatherServer, ohare: WeatherStation, tmp_path: Path) -> None:
    with pytest.raises(WeatherDownloadError, match="HTTP 404") as caught:
        _downloader(weather_server, tmp_path, retries=3).download(ohare)
    assert caught.value.url == f"{weather_server.url}{_path(ohare)}"
    assert weather_server.total_hits == 1


def test_interrupted_download_leaves_no_file(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_zip: bytes, tmp_path: Path
) -> None:
    weather_server.serve(_path(ohare), Reply(body=chicago_zip, truncate_at=len(chicago_zip) // 2))
    downloader = _downloader(weather_server, tmp_path, retries=1)
    with pytest.raises(WeatherDownloadError, match=r"closed after \d+ of \d+ bytes"):
        downloader.download(ohare)
    assert weather_server.hits[_path(ohare)] == 2
    assert _leftovers(tmp_path) == []
    assert downloader.cached(ohare) is None


def test_truncated_body_without_length_is_a_bad_zip(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_zip: bytes, tmp_path: Path
) -> None:
    weather_server.serve(_path(ohare), Reply(body=chicago_zip[:5000], declare_length=False))
    with pytest.raises(WeatherDownloadError, match="not a valid ZIP"):
        _downloader(weather_server, tmp_path).download(ohare)
    assert _leftovers(tmp_path) == []


def test_offline_fails_quickly_with_a_clear_error(ohare: WeatherStation, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    downloader = WeatherDownloader(
        cache_dir=tmp_path, base_url=f"http://127.0.0.1:{port}", retries=2, backoff=0.01, timeout=2.0
    )
    started = time.monotonic()
    with pytest.raises(WeatherDownloadError, match=r"cannot connect.*gave up after 3 attempts.*network"):
        downloader.download(ohare)
    assert time.monotonic() - started < 5
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("declare_length", [True, False])
def test_oversized_download_is_refused(
    weather_server: WeatherServer,
    ohare: WeatherStation,
    chicago_zip: bytes,
    tmp_path: Path,
    declare_length: bool,
) -> None:
    weather_server.serve(_path(ohare), Reply(body=chicago_zip, declare_length=declare_length))
    with pytest.raises(WeatherDownloadError, match="limit of 100000"):
        _downloader(weather_server, tmp_path, max_bytes=100_000).download(ohare)
    assert weather_server.total_hits == 1  # a size problem is not retried
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>maintenance</html>", "not a valid ZIP"),
        (make_zip({"readme.txt": b"no weather here"}), r"no \.epw file \(it holds readme.txt\)"),
        (make_zip({"a.epw": b"<html>not an epw</html>"}), "does not start with a LOCATION line"),
    ],
    ids=["not-a-zip", "zip-without-epw", "epw-not-epw"],
)
def test_bad_archives_are_clear_errors(
    weather_server: WeatherServer, ohare: WeatherStation, tmp_path: Path, body: bytes, message: str
) -> None:
    weather_server.serve(_path(ohare), Reply(body=body))
    with pytest.raises(WeatherDownloadError, match=message):
        _downloader(weather_server, tmp_path).download(ohare)
    assert weather_server.total_hits == 1
    assert _leftovers(tmp_path) == []


def test_incomplete_cache_folder_is_replaced(
    weather_server: WeatherServer, ohare: WeatherStation, chicago_zip: bytes, tmp_path: Path
) -> None:
    stale = tmp_path / ohare.file_stem
    stale.mkdir()
    (stale / "junk.part").write_bytes(b"half")
    weather_server.serve(_path(ohare), Reply(body=chicago_zip))
    files = _downloader(weather_server, tmp_path).download(ohare)
    assert sorted(p.name for p in stale.iterdir()) == sorted(
        f"{ohare.file_stem}{ext}" for ext in (".ddy", ".epw", ".stat", ".zip")
    )
    assert files.epw.is_file()


def test_base_url_replaces_scheme_and_host(ohare: WeatherStation) -> None:
    downloader = WeatherDownloader(base_url="http://127.0.0.1:8000/mirror/")
    assert downloader.url_for(ohare) == "http://127.0.0.1:8000/mirror" + _path(ohare)
    assert WeatherDownloader().url_for(ohare) == ohare.url


def test_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    weather_server: WeatherServer,
    ohare: WeatherStation,
    chicago_zip: bytes,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("EPCLOUD_WEATHER_BASE_URL", weather_server.url)
    weather_server.serve(_path(ohare), Reply(body=chicago_zip))
    files = WeatherDownloader(cache_dir=tmp_path).download(ohare)
    assert files.epw.is_file() and weather_server.hits[_path(ohare)] == 1
    assert (
        WeatherDownloader(base_url="http://127.0.0.1:1/other")
        .url_for(ohare)
        .startswith("http://127.0.0.1:1/")
    )


def test_default_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "weather"
    assert WeatherDownloader().cache_dir == tmp_path / "weather"
    monkeypatch.delenv("EPCLOUD_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "epcloud" / "weather"


def test_unresolvable_host_is_not_retried(
    monkeypatch: pytest.MonkeyPatch, ohare: WeatherStation, tmp_path: Path
) -> None:
    lookups = []

    def no_dns(*args: object, **kwargs: object) -> None:
        lookups.append(args[0])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    downloader = WeatherDownloader(cache_dir=tmp_path, base_url="http://mirror.example", retries=3, backoff=5)
    with pytest.raises(WeatherDownloadError, match=r"cannot resolve mirror\.example .*check the network"):
        downloader.download(ohare)
    assert lookups == ["mirror.example"]
