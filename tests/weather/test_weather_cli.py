"""`epcloud weather ...`: search, nearest and download through the command line."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

import pytest
from weather_http import Reply, WeatherServer

from epcloud.cli import main
from epcloud.weather import WeatherStation


def test_search_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather", "search", "chicago", "--json", "--limit", "3"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 3
    first = results[0]
    assert (first["wmo"], first["matched"], first["score"]) == ("725300", "name", 80.0)
    assert first["display_name"] == "Chicago OHare Intl AP, IL, USA"
    assert first["file_stem"] == "USA_IL_Chicago.OHare.Intl.AP.725300_TMYx.2011-2025"
    assert first["url"].endswith(first["file_stem"] + ".zip")


def test_search_table_and_country(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather", "search", "london", "--country", "CAN"]) == 0
    out = capsys.readouterr().out
    assert "716230" in out and "London Intl AP" in out and "GBR" not in out


def test_search_without_match(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather", "search", "qqqzzzxxx"]) == 1
    assert "no weather station matches 'qqqzzzxxx'" in capsys.readouterr().err
    assert main(["weather", "search", "qqqzzzxxx", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == []


def test_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather", "nearest", "41.98", "-87.9", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["wmo"] == "725300"
    assert [r["distance_km"] for r in results] == sorted(r["distance_km"] for r in results)
    assert main(["weather", "nearest", "41.98", "-87.9", "--limit", "2"]) == 0
    assert "Chicago OHare Intl AP" in capsys.readouterr().out


def test_download(
    capsys: pytest.CaptureFixture[str],
    weather_server: WeatherServer,
    ohare: WeatherStation,
    chicago_zip: bytes,
    tmp_path: Path,
) -> None:
    weather_server.serve(urllib.parse.urlsplit(ohare.url).path, Reply(body=chicago_zip))
    args = ["weather", "download", "725300", "--cache-dir", str(tmp_path), "--base-url", weather_server.url]
    assert main([*args, "--json"]) == 0
    files = json.loads(capsys.readouterr().out)
    assert Path(files["epw"]).is_file() and Path(files["ddy"]).is_file() and Path(files["stat"]).is_file()
    assert files["station"]["wmo"] == "725300"
    assert main(["weather", "download", "chicago", "ohare", *args[3:]]) == 0  # a query; now from the cache
    assert f"epw  {tmp_path / ohare.file_stem / ohare.file_stem}.epw" in capsys.readouterr().out
    assert weather_server.total_hits == 1


def test_download_unknown_station(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["weather", "download", "qqqzzzxxx", "--cache-dir", str(tmp_path)]) == 2
    assert "no weather station matches 'qqqzzzxxx'" in capsys.readouterr().err
    assert main(["weather", "download", "725300", "--dataset", "TMY3", "--cache-dir", str(tmp_path)]) == 2
    assert "has no 'TMY3' weather file" in capsys.readouterr().err


def test_weather_without_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weather"]) == 2
    assert "search" in capsys.readouterr().out
