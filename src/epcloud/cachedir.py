"""epcloud's one local cache folder and its sub-folders (the layout docs/installation.md documents).

`$EPCLOUD_CACHE_DIR` wins; otherwise the platform's user cache folder from platformdirs
(`~/.cache/epcloud` or `$XDG_CACHE_HOME/epcloud` on Linux, `~/Library/Caches/epcloud` on macOS,
`%LOCALAPPDATA%\\epcloud\\Cache` on Windows). Every part of epcloud that caches asks here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

__all__ = ["CACHE_AREAS", "CacheArea", "cache_dir"]

CacheArea = Literal[
    "simulations",
    "results",
    "weather",
    "weather-inputs",
    "study-inputs",
    "schema",
    "unsent",
    "engine-versions",
]

# What each sub-folder holds, for `epcloud doctor` and the docs.
CACHE_AREAS: dict[str, str] = {
    "simulations": "the default SimulationCache: finished runs by content key",
    "results": "outputs of runs in stores, fetched once and reused (keyed by location and version)",
    "weather": "weather files downloaded by WeatherDownloader, one folder per station file, and the "
    "station index `epcloud weather refresh` rebuilt (stations.bin.gz)",
    "weather-inputs": "remote weather given to simulate (s3://, https://, store paths), by URL and version",
    "study-inputs": "a worker's copies of a study's models and weather, by content hash",
    "unsent": "finished runs whose upload to a store failed, kept until `epcloud upload` sends them",
    "engine-versions": "the version of an engine install without an IDD, asked once (path, mtime)",
    "schema": "a compact copy of each engine's Energy+.schema.epJSON, read faster than the original",
}


def cache_dir(area: CacheArea | None = None) -> Path:
    """The cache root, or one of its sub-folders (not created here)."""
    override = os.environ.get("EPCLOUD_CACHE_DIR")
    if override:
        root = Path(override).expanduser()
    else:
        import platformdirs

        root = Path(platformdirs.user_cache_dir("epcloud", appauthor=False))
    return root / area if area else root
