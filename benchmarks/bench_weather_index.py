"""How fast the station index loads, answers and refreshes: python benchmarks/bench_weather_index.py

The refresh rows serve full-size KML listings, written from every weather file of the bundled index (the
format of tests/weather/listing_kml.py), from a local HTTP server, so they measure epcloud's download,
parsing and build, not the network to climate.onebuilding.org.
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from epcloud.weather import StationIndex, WeatherStation
from epcloud.weather.listing import LISTING_FILES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "weather"))
from listing_kml import kml  # the tests' listing writer


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def listing_of(station: WeatherStation) -> str:
    """The regional listing a file belongs in (files at the site's top level go with their region's)."""
    region = station.url.split("/")[3]
    number = (
        region.split("_")[2] if region.startswith("WMO_Region_") else {"ATA": "7"}.get(station.country, "1")
    )
    if station.country == "RUS":
        return LISTING_FILES[2]
    if number == "4":
        return LISTING_FILES[{"USA": 4, "CAN": 5}.get(station.country, 6)]
    return LISTING_FILES[{"1": 0, "2": 1, "3": 3, "5": 7, "6": 8, "7": 9}[number]]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request log."""


def refresh_rows(index: StationIndex, repeat: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        root, cache = Path(folder) / "site", Path(folder) / "cache"
        (root / "sources").mkdir(parents=True)
        groups: dict[str, list[WeatherStation]] = {name: [] for name in LISTING_FILES}
        for station in index.stations:
            groups[listing_of(station)].append(station)
        for name, stations in groups.items():
            (root / "sources" / name).write_bytes(kml(stations, region=name))
        size = sum(path.stat().st_size for path in (root / "sources").iterdir())
        handler = functools.partial(_Quiet, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            refreshed = StationIndex.refresh(cache_dir=cache, base_url=url)
            same = refreshed.stations == index.stations
            assert refreshed.path is not None
            written = refreshed.path.stat().st_size / 1e6
            verdict = "the same files and facts" if same else "DIFFERENT files or facts"
            print(
                f"local listings: {size / 1e6:.1f} MB of KML; refreshed index {written:.2f} MB, "
                f"{len(refreshed)} stations, {verdict} as the bundled index"
            )
            rows = {
                "refresh (10 KMLs, local server)": timed(
                    lambda: StationIndex.refresh(cache_dir=cache, base_url=url), 3
                ),
                "check_for_updates (10 HEAD)": timed(
                    lambda: refreshed.check_for_updates(base_url=url), repeat
                ),
                "load, refreshed index present": timed(lambda: StationIndex.load(cache_dir=cache), repeat),
            }
        finally:
            server.shutdown()
            server.server_close()
    return rows


def main(repeat: int = 20) -> int:
    size = len(resources.files("epcloud").joinpath("data/stations.bin.gz").read_bytes())
    index = StationIndex.load()
    print(f"bundled index: {size / 1e6:.2f} MB, {len(index)} stations")
    first_search = timed(lambda: StationIndex.load().search("chicago"), 5)  # load + search keys + query
    rows = {
        "load": timed(StationIndex.load, repeat),
        "load + first search": first_search,
        "search 'chicago' (warm)": timed(lambda: index.search("chicago"), repeat),
        "search '725300' (warm)": timed(lambda: index.search("725300"), repeat),
        "nearest (warm)": timed(lambda: index.nearest(41.98, -87.9), repeat),
        "get('725300')": timed(lambda: index.get("725300"), repeat),
    }
    if os.environ.get("EPCLOUD_BENCH_QUICK") != "1":
        rows.update(refresh_rows(index, repeat))
    width = max(map(len, rows))
    print(f"{'':{width}}  {'median ms':>10}  {'min ms':>8}")
    for name, times in rows.items():
        print(f"{name:{width}}  {statistics.median(times):10.2f}  {min(times):8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
