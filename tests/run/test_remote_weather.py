"""Weather from an s3:// URL, an https:// URL or a path in the run's store: fetched once, same results."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from epcloud.errors import WeatherFileNotFoundError
from epcloud.model import IDFDocument, Shoebox, load_idf
from epcloud.run.simulate import simulate
from epcloud.run.weather_source import fetch_weather
from epcloud.storage import S3FileSystem
from fixtures_s3 import count_requests

DRYBULB = "Site Outdoor Air Drybulb Temperature"


def _january_model() -> IDFDocument:
    """The shoebox over January only: weather-file driven, and quick."""
    doc = load_idf(Shoebox().to_idf())
    period = doc["RunPeriod"].one()
    period.end_month = 1
    period.end_day_of_month = 31
    return doc


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def s3_env(s3_options: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the standard AWS chain at the test server, as a worker's environment would."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_s3_weather_url_gives_same_results(
    s3_env: None, s3_client: Any, s3_bucket: str, chicago_epw: Path, tmp_path: Path
) -> None:
    s3_client.upload_file(str(chicago_epw), s3_bucket, f"weather/{chicago_epw.name}")
    url = f"s3://{s3_bucket}/weather/{chicago_epw.name}"
    with (
        simulate(_january_model(), url, output_dir=tmp_path / "s3") as remote,
        simulate(_january_model(), chicago_epw, output_dir=tmp_path / "local") as local,
    ):
        assert remote.success and local.success
        assert remote.status.weather_sha256 == local.status.weather_sha256
        values = remote.sql.get_timeseries(DRYBULB).values
        assert len(values) >= 24 * 31
        assert values == local.sql.get_timeseries(DRYBULB).values


def test_weather_path_in_the_store_fetched_once(s3_fs: S3FileSystem, chicago_epw: Path) -> None:
    s3_fs.upload_file(chicago_epw, "inputs/chicago.epw")
    first = fetch_weather("inputs/chicago.epw", s3_fs)
    with count_requests(s3_fs) as counts:
        second = fetch_weather("inputs/chicago.epw", s3_fs)
    assert first == second and Path(first).read_bytes() == chicago_epw.read_bytes()
    assert counts["GetObject"] == 0  # only the HEAD that checks the version
    result = simulate(_january_model(), "inputs/chicago.epw", output_dir="runs/jan", fs=s3_fs)
    assert result.success and result.status.weather_name == "chicago.epw"


@pytest.fixture
def http_weather(chicago_epw: Path) -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            if not self.path.endswith(".epw"):
                self.send_error(404)
                return
            body = chicago_epw.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def test_https_weather_downloaded_once(http_weather: tuple[str, list[str]], chicago_epw: Path) -> None:
    base, requests = http_weather
    first = fetch_weather(f"{base}/w/chicago.epw")
    second = fetch_weather(f"{base}/w/chicago.epw")
    assert first == second and Path(first).read_bytes() == chicago_epw.read_bytes()
    assert requests == ["/w/chicago.epw"]


def test_missing_remote_weather_is_a_clear_error(
    http_weather: tuple[str, list[str]], s3_env: None, s3_bucket: str, s3_fs: S3FileSystem
) -> None:
    base, _ = http_weather
    with pytest.raises(WeatherFileNotFoundError, match="HTTP 404"):
        fetch_weather(f"{base}/missing.zip")
    with pytest.raises(WeatherFileNotFoundError, match=r"nope\.epw"):
        fetch_weather(f"s3://{s3_bucket}/weather/nope.epw")
    with pytest.raises(WeatherFileNotFoundError, match=r"absent\.epw"):
        simulate(_january_model(), "absent.epw", output_dir="x", fs=s3_fs)
