"""One cache folder for every part of epcloud, `EPCLOUD_CACHE_DIR` first, and the documented layout."""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs
import pytest

from epcloud.cachedir import CACHE_AREAS, cache_dir
from epcloud.engine import _cache_file
from epcloud.model.schema import _user_cache_dir
from epcloud.results.runfiles import cache_root
from epcloud.run.cache import default_cache_dir as simulations_dir
from epcloud.run.folder import unsent_dir
from epcloud.run.weather_source import weather_cache_dir
from epcloud.study.fetch import _inputs_dir
from epcloud.weather.download import default_cache_dir as downloads_dir

RESOLVERS = {
    "simulations": simulations_dir,
    "results": cache_root,
    "weather": downloads_dir,
    "weather-inputs": weather_cache_dir,
    "study-inputs": _inputs_dir,
    "schema": _user_cache_dir,
    "unsent": unsent_dir,
    "engine-versions": lambda: _cache_file().parent,
}


def test_every_area_has_a_resolver_and_a_row_in_the_docs() -> None:
    assert set(RESOLVERS) == set(CACHE_AREAS)
    docs = (Path(__file__).parents[1] / "docs" / "installation.md").read_text()
    assert {f"`{area}/`" for area in CACHE_AREAS} <= set(re.findall(r"`[a-z-]+/`", docs))


def test_the_override_wins_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    for area, resolve in RESOLVERS.items():
        assert resolve() == tmp_path / "mine" / area


def test_without_override_the_platform_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EPCLOUD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = Path(platformdirs.user_cache_dir("epcloud", appauthor=False))
    assert cache_dir() == expected
    for area, resolve in RESOLVERS.items():
        assert resolve() == expected / area
    if expected.is_relative_to(tmp_path):  # Linux: XDG_CACHE_HOME is honoured
        assert expected == tmp_path / "xdg" / "epcloud"


def test_tilde_in_the_override_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", "~/epc")
    assert cache_dir("results") == Path.home() / "epc" / "results"
