"""Weather fixtures: the bundled station index, ZIPs of the engine's real weather files, a local server."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from weather_http import WeatherServer

from epcloud.engine import EnergyPlusConfig
from epcloud.weather import StationIndex, WeatherStation

CHICAGO_STEM = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3"


@pytest.fixture(scope="session")
def station_index() -> StationIndex:
    return StationIndex.load()


@pytest.fixture(scope="session")
def ohare(station_index: StationIndex) -> WeatherStation:
    return station_index.get("725300")


@pytest.fixture(scope="session")
def chicago_files(energyplus: EnergyPlusConfig) -> dict[str, Path]:
    """The engine's real Chicago O'Hare .epw/.ddy/.stat."""
    return {ext: energyplus.weather_dir / f"{CHICAGO_STEM}.{ext}" for ext in ("epw", "ddy", "stat")}


@pytest.fixture(scope="session")
def chicago_zip(chicago_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A ZIP like climate.onebuilding.org's, holding the engine's Chicago files under their own names."""
    path = tmp_path_factory.mktemp("zips") / "chicago.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in chicago_files.values():
            zf.write(file, file.name)
        zf.writestr("README.txt", "not extracted")
    return path.read_bytes()


@pytest.fixture
def weather_server() -> Iterator[WeatherServer]:
    server = WeatherServer()
    server.start()
    yield server
    server.stop()
